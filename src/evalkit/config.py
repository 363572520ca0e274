"""Configuration: ``[tool.evalkit]`` in pyproject.toml, or ``evalkit.toml``, merged with CLI options
into one typed :class:`RunConfig`.

    [tool.evalkit]
    models = ["gpt-4o-mini"]            # the models `evalkit run` uses when --model is not given
    allow_paths = ["../shared-tools"]   # folders outside the project that a tools_file may be in
                                        # (relative to this file); by default only the project
    [tool.evalkit.model."gpt-4o-mini"]
    model = "gpt-4o-mini"               # the id sent to the API (defaults to the table's name)
    base_url = "https://api.openai.com/v1"
    api_key_env = "OPENAI_API_KEY"
    stream = false
    legacy_functions = false            # send functions/function_call instead of tools/tool_calls
    params = {temperature = 0, parallel_tool_calls = true}

A model's name (the table's name) becomes the folder ``cassettes/<name>/``, so it may only hold
letters, digits, ``.``, ``_``, ``-`` and ``:`` (``/`` between parts); the id sent to the API (``model``)
may be anything.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError, UnknownNameError
from .paths import name_problem

OPENAI_BASE_URL = "https://api.openai.com/v1"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Price(_Spec):
    input: float = Field(ge=0)
    output: float = Field(ge=0)


class ModelSpec(_Spec):
    model: str | None = None
    api: Literal["chat", "responses", "azure", "assistants"] = "chat"
    # Responses loops: send the whole input again each step, or only the new items with
    # previous_response_id (the server keeps the conversation; needs store = true on OpenAI).
    history: Literal["input", "previous_response_id"] = "input"
    base_url: str | None = None
    api_key_env: str | None = None
    stream: bool = False
    legacy_functions: bool = False
    params: dict[str, Any] = Field(default_factory=dict)
    # Recording only (replay never retries and never waits): the SDK's own retries, with exponential
    # backoff and jitter, honouring Retry-After / retry-after-ms; seconds before a request times out.
    max_retries: int = Field(default=2, ge=0, le=20)
    timeout: float = Field(default=600.0, gt=0, le=3600)
    # USD per million tokens, for the cost columns of reports: {input = 0.15, output = 0.60}
    price: Price | None = None
    # Azure OpenAI: the deployment name goes in `model`.
    azure_endpoint: str | None = None
    api_version: str | None = None


class EvalkitSpec(_Spec):
    cases: str = "cases"
    cassettes: str = "cassettes"
    reports: str = "reports"
    models: list[str] = Field(default_factory=list)
    model: dict[str, ModelSpec] = Field(default_factory=dict)
    record_mode: str = "none"
    concurrency: int = Field(default=4, ge=1, le=64)
    tool_counts: list[int] | None = None
    seed: int = 0
    trials: int = Field(default=1, ge=1, le=100)
    distractors: str | None = None  # pool file; default cases/tools/distractors-v1.json
    scorers: list[str] | None = None
    bfcl: bool = False
    gate: dict[str, Any] = Field(default_factory=dict)
    allow_paths: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class ModelConfig:
    name: str  # the label in reports and the cassette folder
    model: str  # the id sent to the API
    api: str = "chat"
    base_url: str | None = None
    api_key_env: str | None = None
    stream: bool = False
    legacy_functions: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    max_retries: int = 2
    timeout: float = 600.0
    history: str = "input"
    price: tuple[float, float] | None = None  # USD per million (input, output) tokens
    azure_endpoint: str | None = None
    api_version: str | None = None

    def __post_init__(self) -> None:
        # Checked here, so every way a model is made (config table, `--model NAME --base-url`) is covered.
        if (problem := name_problem(self.name)) is not None:
            raise ConfigError(
                f"{problem}. Give the table a plain name and keep the API's id in `model`: "
                f'[tool.evalkit.model."my-model"] model = {_toml_string(self.name)}'
            )

    def summary(self) -> dict[str, Any]:
        """What results.json keeps to reproduce the run: never a key, a header value or a
        credential-like query parameter (see :mod:`evalkit.redaction`)."""
        from .redaction import redact_params, redact_url

        kept = {k: v for k, v in self.__dict__.items() if v not in (None, {}, False) or k in ("stream",)}
        for name in ("base_url", "azure_endpoint"):
            if kept.get(name):
                kept[name] = redact_url(kept[name])
        if kept.get("params"):
            kept["params"] = redact_params(kept["params"])
        return kept


@dataclass(frozen=True)
class RunConfig:
    root: Path
    cases: Path
    cassettes: Path
    reports: Path
    models: tuple[ModelConfig, ...]  # the ones this run uses
    defined: dict[str, ModelConfig] = field(default_factory=dict)  # every model the file defines
    record_mode: str = "none"
    concurrency: int = 4
    tool_counts: tuple[int, ...] | None = None
    seed: int = 0
    trials: int = 1
    distractors: Path | None = None
    scorers: tuple[str, ...] | None = None
    bfcl: bool = False
    gate: dict[str, Any] = field(default_factory=dict)
    allow_paths: tuple[Path, ...] = ()  # folders outside `root` that tools_file may read
    file: Path | None = None  # the configuration file read (None: none was found); named in hints
    # Past one machine (evalkit.scale): run shard k of n only; replay and score in this many processes;
    # record through the provider's Batch API, polling its status every batch_poll seconds.
    shard: tuple[int, int] | None = None
    workers: int = 1  # AUTO_WORKERS (0): chosen per run by evalkit.scale.workers.auto_workers
    batch: bool = False
    batch_poll: float = 30.0

    def with_options(self, **changes: Any) -> RunConfig:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


AUTO_WORKERS = 0  # `workers`: one process per CPU (up to 4) for a large replay, else one


def _toml_string(value: object) -> str:
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def find_config_file(start: Path) -> Path | None:
    """The nearest evalkit.toml, or pyproject.toml holding [tool.evalkit], at or above ``start``."""
    for folder in [start, *start.parents]:
        if (folder / "evalkit.toml").is_file():
            return folder / "evalkit.toml"
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.evalkit" in pyproject.read_text(encoding="utf-8"):
            return pyproject
    return None


def load_config(path: str | Path | None = None, *, start: Path | None = None) -> RunConfig:
    """Read the configuration file (found from ``start``, default the working directory)."""
    file = Path(path) if path else find_config_file((start or Path.cwd()).resolve())
    table = "tool.evalkit"
    if file is None:
        root, raw = (start or Path.cwd()).resolve(), dict[str, Any]()
    else:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read the configuration: {exc}") from None
        raw, table = _section(file, data)
        root = file.parent.resolve()
    try:
        spec = EvalkitSpec.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(file, table, exc)) from None
    _check_gate_keys(file, table, spec.gate)
    defined = {name: _model(name, m) for name, m in spec.model.items()}
    config = RunConfig(
        file=file,
        root=root,
        cases=root / spec.cases,
        cassettes=root / spec.cassettes,
        reports=root / spec.reports,
        models=tuple(defined.values()),
        defined=defined,
        record_mode=spec.record_mode,
        concurrency=spec.concurrency,
        tool_counts=tuple(spec.tool_counts) if spec.tool_counts else None,
        seed=spec.seed,
        trials=spec.trials,
        distractors=root / spec.distractors if spec.distractors else None,
        scorers=tuple(spec.scorers) if spec.scorers else None,
        bfcl=spec.bfcl,
        gate=spec.gate,
        allow_paths=tuple((root / p).resolve() for p in spec.allow_paths),
    )
    return select_models(config, spec.models) if spec.models else config


def project_paths(start: Path) -> tuple[Path, tuple[Path, ...]] | None:
    """The project root (the config file's folder) and the extra folders ``allow_paths`` lets case
    files read, for a case file in ``start``; ``None`` when no config file governs ``start``."""
    file = find_config_file(start.resolve())
    if file is None:
        return None
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read the configuration: {exc}") from None
    raw, _ = _section(file, data)
    allowed = raw.get("allow_paths", []) if isinstance(raw, dict) else []
    if not isinstance(allowed, list) or not all(isinstance(p, str) for p in allowed):
        raise ConfigError(f"{file}: [tool.evalkit] allow_paths must be a list of folder paths (got {allowed!r})")
    root = file.parent.resolve()
    return root, tuple((root / p).resolve() for p in allowed)


def select_models(config: RunConfig, names: list[str]) -> RunConfig:
    """Narrow ``config`` to the named models (``--model a,b``)."""
    for name in names:
        if name not in config.defined:
            raise UnknownNameError("model", name, config.defined, hint=define_model_hint(config, cli=True))
    return replace(config, models=tuple(config.defined[n] for n in names))


def define_model_hint(config: RunConfig, *, cli: bool) -> str:
    """Where to define a model, naming the configuration file in use (``cli``: mention --base-url)."""
    base_url = " or pass --base-url" if cli else ""
    if config.file is None:
        return (
            f'No configuration file was found at or above {config.root}: define it in [tool.evalkit.model."NAME"] '
            f"of a pyproject.toml (or an evalkit.toml){base_url}."
        )
    try:  # the table as that file spells it: [model."NAME"] at the top level of an evalkit.toml
        _, section = _section(config.file, tomllib.loads(config.file.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ConfigError):
        section = "tool.evalkit"
    table = f"{section}.model" if section else "model"
    return f'Define it in [{table}."NAME"] of {config.file}{base_url}.'


def _section(file: Path, data: dict[str, Any]) -> tuple[Any, str]:
    """The evalkit settings of a configuration file, and the table they sit in: ``[tool.evalkit]`` of a
    pyproject.toml; in an evalkit.toml either the same ``[tool.evalkit]`` tables (the README's block,
    copied as is) or the same keys at the top level."""
    if file.name == "pyproject.toml":
        return data.get("tool", {}).get("evalkit", {}), "tool.evalkit"
    nested = data.get("tool", {}).get("evalkit") if isinstance(data.get("tool"), dict) else None
    if nested is None:
        return data, ""
    others = sorted(k for k in data if k != "tool")
    if others:
        raise ConfigError(
            f"{file}: settings both at the top level ({', '.join(others)}) and under [tool.evalkit]; "
            "put them all in one place"
        )
    return nested, "tool.evalkit"


def _explain(file: Path | None, table: str, exc: ValidationError) -> str:
    """The first validation error as one line: where (the TOML table and key), what, and for an
    unknown key the valid ones and the closest match."""
    import difflib

    errors = exc.errors()
    # A misspelt key explains the "field required" error beside it: report the misspelling.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = [str(p) for p in error["loc"]]
    spec: type[BaseModel] = EvalkitSpec
    tables = [table] if table else []
    if len(loc) >= 2 and loc[0] == "model":  # [tool.evalkit.model."NAME"] …
        spec, tables, loc = ModelSpec, [*tables, f'model."{loc[1]}"'], loc[2:]
        if len(loc) >= 2 and loc[0] == "price":
            spec, tables, loc = Price, [*tables, "price"], loc[1:]
    where = f"{file}: [{'.'.join(tables)}]" if tables else f"{file}:"
    key = ".".join(loc)
    if error["type"] == "extra_forbidden" and len(loc) == 1:
        valid = sorted(spec.model_fields)
        close = difflib.get_close_matches(loc[0], valid, n=1)
        guess = f" Did you mean {close[0]!r}?" if close else ""
        return f"{where} {key!r} is not a setting. Valid keys: {', '.join(valid)}.{guess}"
    return f"{where} {key}: {error['msg']} (got {error.get('input')!r})"


def _check_gate_keys(file: Path | None, table: str, gate: dict[str, Any]) -> None:
    import difflib

    from .gating.gate import GATE_KEYS  # light: errors, results and stats only

    for key in gate:
        if key not in GATE_KEYS:
            close = difflib.get_close_matches(key, GATE_KEYS, n=1)
            guess = f" Did you mean {close[0]!r}?" if close else ""
            name = ".".join([table, "gate"] if table else ["gate"])
            raise ConfigError(
                f"{file}: [{name}] {key!r} is not a gate option. Valid keys: {', '.join(sorted(GATE_KEYS))}.{guess}"
            )


def _model(name: str, spec: ModelSpec) -> ModelConfig:
    if spec.api == "responses" and spec.legacy_functions:
        raise ConfigError(
            f'model {name!r}: the Responses API has no legacy functions; drop legacy_functions or use api = "chat"'
        )
    if spec.api == "azure" and not (spec.azure_endpoint and spec.api_version):
        raise ConfigError(f'model {name!r}: api = "azure" needs azure_endpoint and api_version')
    return ModelConfig(
        name=name,
        model=spec.model or name,
        api=spec.api,
        base_url=spec.base_url,
        api_key_env=spec.api_key_env,
        stream=spec.stream,
        legacy_functions=spec.legacy_functions,
        params=dict(spec.params),
        max_retries=spec.max_retries,
        timeout=spec.timeout,
        history=spec.history,
        price=(spec.price.input, spec.price.output) if spec.price else None,
        azure_endpoint=spec.azure_endpoint,
        api_version=spec.api_version,
    )
