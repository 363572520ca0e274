"""Case files: the YAML format, its validation, and the in-memory :class:`Suite` / :class:`Case`.

Every file is validated completely before any model is called. Errors name the file, the case
id, the field path and the bad value, and list the valid choices (see ``docs/case-format.md``).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import CaseFileError
from .matchers import Fields, MatcherError, compile_arguments, describe_arguments
from .tools import function_to_tool, tool_from_pydantic, tool_name, tool_parameters, tool_problem

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"  # ids become cassette file names


# --- the file format (pydantic: this is where data crosses a file boundary) ----------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallSpec(_Spec):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    exact: bool = False


class ExpectSpec(_Spec):
    calls: list[CallSpec] | None = None
    no_call: bool = False
    any_call: bool = False  # at least one call, to any offered function (BFCL's "relevance")
    ordered: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> ExpectSpec:
        given = [
            k for k, v in (("calls", bool(self.calls)), ("no_call", self.no_call), ("any_call", self.any_call)) if v
        ]
        if len(given) != 1:
            both = f", not {' and '.join(given)}" if given else ""
            raise ValueError(f"give one of 'calls: [...]' (one or more), 'no_call: true' or 'any_call: true'{both}")
        return self


class ForbidSpec(_Spec):
    name: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)


class CaseSpec(_Spec):
    id: str = Field(pattern=ID_PATTERN)
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    system: str | None = None
    expect: ExpectSpec
    forbid: list[ForbidSpec] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    tools: list[dict[str, Any]] | None = None  # this case's own tools, instead of the suite's

    @model_validator(mode="after")
    def _one_input(self) -> CaseSpec:
        if (self.prompt is None) == (self.messages is None):
            both = ", not both" if self.prompt is not None else ""  # say which way it is wrong
            raise ValueError(f"give either 'prompt: ...' or 'messages: [...]'{both}")
        return self


class DefaultsSpec(_Spec):
    system: str | None = None
    tags: list[str] = Field(default_factory=list)


class SuiteSpec(_Spec):
    version: Literal[1]
    suite: str = Field(pattern=ID_PATTERN)
    description: str | None = None
    tools: list[dict[str, Any]] | None = None
    tools_file: str | None = None
    functions: list[dict[str, Any]] | None = None
    defaults: DefaultsSpec = Field(default_factory=DefaultsSpec)
    cases: list[CaseSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_tool_source(self) -> SuiteSpec:
        given = [k for k in ("tools", "tools_file", "functions") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of 'tools', 'tools_file' or 'functions' (got {given or 'none'})")
        return self


# --- what the rest of evalkit works with ---------------------------------------------------------


@dataclass(frozen=True)
class ExpectedCall:
    name: str
    arguments: Fields


@dataclass(frozen=True)
class Expectation:
    calls: tuple[ExpectedCall, ...] = ()
    ordered: bool = False
    any_call: bool = False  # at least one call, to any offered function; `calls` is then empty

    @property
    def no_call(self) -> bool:
        return not self.calls and not self.any_call

    def describe(self) -> str:
        """``get_weather(location='Paris'), get_time()``, ``no call`` or ``any call``."""
        if self.any_call:
            return "any call"
        if self.no_call:
            return "no call"
        return ", ".join(f"{c.name}({describe_arguments(c.arguments)})" for c in self.calls)


@dataclass(frozen=True)
class Case:
    suite: str
    id: str
    messages: tuple[Mapping[str, Any], ...]
    expect: Expectation
    forbid: tuple[ExpectedCall, ...] = ()  # name "" forbids matching arguments in any call
    tags: tuple[str, ...] = ()
    file: str = ""
    tools: tuple[Mapping[str, Any], ...] | None = None  # the case's own tools (else the suite's)

    @property
    def key(self) -> str:
        return f"{self.suite}/{self.id}"


@dataclass(frozen=True)
class Suite:
    name: str
    file: str
    tools: tuple[Mapping[str, Any], ...]
    cases: tuple[Case, ...] = field(default=())
    description: str | None = None


def load_cases(path: str | Path) -> list[Suite]:
    """Load and validate a case file, or every ``*.yaml``/``*.yml`` file under a directory.

    Under a directory, ``tools/`` folders (shared tools) and folders holding an EXPLICIT_MARKER file
    (suites that run only when named, such as ``cases/bfcl``) are left out."""
    root = Path(path)
    if not root.exists():
        raise CaseFileError(str(root), "no such file or directory; pass a case file or a folder of them")
    files = sorted(p for p in root.rglob("*.y*ml") if p.suffix in (".yaml", ".yml")) if root.is_dir() else [root]
    files = [f for f in files if not skipped_under(root, f)] if root.is_dir() else files
    suites: list[Suite] = []
    for file in files:
        _add_unique(suites, load_suite_file(file))
    if not suites:
        raise CaseFileError(str(root), "holds no case files (*.yaml); see the README for the format")
    return suites


EXPLICIT_MARKER = ".evalkit-explicit"


def skipped_under(root: Path, file: Path) -> bool:
    """Whether loading the folder ``root`` leaves ``file`` out: it sits in a ``tools/`` folder, or in
    a folder below ``root`` that holds EXPLICIT_MARKER (run it by naming that folder)."""
    folders = file.relative_to(root).parts[:-1]
    if "tools" in folders:
        return True
    return any((root.joinpath(*folders[: i + 1]) / EXPLICIT_MARKER).exists() for i in range(len(folders)))


def load_all(paths: Sequence[str | Path]) -> list[Suite]:
    """:func:`load_cases` for several files or folders; suite names must stay unique across them."""
    suites: list[Suite] = []
    for path in paths:
        for suite in load_cases(path):
            _add_unique(suites, suite)
    return suites


def _add_unique(suites: list[Suite], suite: Suite) -> None:
    # Suite names key cassette folders and results: two suites of one name would share them.
    clash = next((s for s in suites if s.name == suite.name), None)
    if clash is not None:
        raise CaseFileError(
            suite.file,
            f"suite name '{suite.name}' is already used by {clash.file}; suite names must be unique",
            field="suite",
        )
    suites.append(suite)


def load_suite_file(file: Path) -> Suite:
    name = str(file)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CaseFileError(name, f"is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return parse_suite(raw, file)


def parse_suite(raw: Any, file: Path) -> Suite:
    """Validate a suite already read into Python (``raw`` as a case file holds it); ``file`` names
    it in errors and anchors ``tools_file`` and ``pydantic`` references."""
    name = str(file)
    if not isinstance(raw, dict):
        raise CaseFileError(name, f"must be a mapping with version, suite, tools and cases; got {type(raw).__name__}")
    try:
        spec = SuiteSpec.model_validate(raw)
    except ValidationError as exc:
        raise _explain(name, raw, exc) from None
    return _build_suite(file, spec)


def _build_suite(file: Path, spec: SuiteSpec) -> Suite:
    name = str(file)
    tools = _suite_tools(file, spec)
    by_name = {tool_name(t): t for t in tools}
    ids: set[str] = set()
    cases = []
    for index, case in enumerate(spec.cases):
        if case.id in ids:
            raise CaseFileError(
                name, "duplicate case id; ids must be unique in a suite", case_id=case.id, field=f"cases[{index}].id"
            )
        ids.add(case.id)
        own = _case_tools(file, index, case)
        cases.append(_build_case(name, spec, index, case, by_name if own is None else _by_name(name, index, own), own))
    return Suite(spec.suite, name, tuple(tools), tuple(cases), spec.description)


def _case_tools(file: Path, index: int, case: CaseSpec) -> tuple[dict[str, Any], ...] | None:
    if case.tools is None:
        return None
    for i, tool in enumerate(case.tools):
        if (problem := tool_problem(tool)) is not None:
            raise CaseFileError(str(file), problem, case_id=case.id, field=f"cases[{index}].tools[{i}]")
    return tuple(case.tools)


def _by_name(file: str, index: int, tools: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    names = [tool_name(t) for t in tools]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise CaseFileError(
            file, f"tool names must be unique; repeated: {', '.join(dupes)}", field=f"cases[{index}].tools"
        )
    return dict(zip(names, tools, strict=True))


def _build_case(
    file: str,
    spec: SuiteSpec,
    index: int,
    case: CaseSpec,
    tools: Mapping[str, Any],
    own_tools: tuple[dict[str, Any], ...] | None = None,
) -> Case:
    here = f"cases[{index}]"
    for i, call in enumerate(case.expect.calls or ()):
        if not call.name:  # it would validate and then never match any call
            raise CaseFileError(
                file,
                f"expected call has an empty name; name one of the tools ({', '.join(sorted(tools)) or 'none'}), "
                "or write 'expect: {any_call: true}' for a call to any of them",
                case_id=case.id,
                field=f"{here}.expect.calls[{i}].name",
            )
    expected = tuple(
        _expected_call(file, case.id, f"{here}.expect.calls[{i}]", call, tools)
        for i, call in enumerate(case.expect.calls or ())
    )
    forbid = tuple(
        _expected_call(file, case.id, f"{here}.forbid[{i}]", CallSpec(name=f.name or "", arguments=f.arguments), tools)
        for i, f in enumerate(case.forbid)
    )
    system = case.system if case.system is not None else spec.defaults.system
    if case.messages is not None:
        messages = tuple(case.messages)
        _check_messages(file, case.id, f"{here}.messages", messages)
    else:
        messages = ({"role": "user", "content": case.prompt},)
    if system and messages[0].get("role") != "system":
        messages = ({"role": "system", "content": system}, *messages)
    tags = tuple(dict.fromkeys([*spec.defaults.tags, *case.tags]))
    expectation = Expectation(expected, case.expect.ordered, case.expect.any_call)
    return Case(spec.suite, case.id, messages, expectation, forbid, tags, file, own_tools)


def _expected_call(file: str, case_id: str, path: str, call: CallSpec, tools: Mapping[str, Any]) -> ExpectedCall:
    if call.name and call.name not in tools:
        raise CaseFileError(
            file,
            f"function {call.name!r} is not one of the suite's tools: {', '.join(sorted(tools))}",
            case_id=case_id,
            field=f"{path}.name",
        )
    try:
        matcher = compile_arguments(call.arguments, exact=call.exact, path=f"{path}.arguments")
    except MatcherError as exc:
        raise CaseFileError(
            file, f"{exc} (see 'Argument matchers' in the README)", case_id=case_id, field=exc.path
        ) from None
    if call.name:
        known = set(tool_parameters(tools[call.name]).get("properties") or {})
        for key, _ in matcher.fields:
            if key not in known:
                raise CaseFileError(
                    file,
                    f"{call.name!r} has no parameter {key!r}; its parameters: {', '.join(sorted(known)) or '(none)'}",
                    case_id=case_id,
                    field=f"{path}.arguments.{key}",
                )
    return ExpectedCall(call.name, matcher)


_ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def _check_messages(file: str, case_id: str, path: str, messages: tuple[Mapping[str, Any], ...]) -> None:
    if not messages:
        raise CaseFileError(file, "messages is empty; give at least one user message", case_id=case_id, field=path)
    for i, message in enumerate(messages):
        if message.get("role") not in _ROLES:
            raise CaseFileError(
                file,
                f"role {message.get('role')!r} is not valid. Valid roles: {', '.join(_ROLES)}",
                case_id=case_id,
                field=f"{path}[{i}].role",
            )


def _suite_tools(file: Path, spec: SuiteSpec) -> list[dict[str, Any]]:
    name = str(file)
    if spec.functions is not None:
        raw, where = [function_to_tool(f) for f in spec.functions], "functions"
    elif spec.tools_file is not None:
        tools_path = (file.parent / spec.tools_file).resolve()
        try:
            loaded = yaml.safe_load(tools_path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CaseFileError(
                name, f"cannot read tools_file {spec.tools_file!r}: {exc}", field="tools_file"
            ) from None
        loaded = loaded.get("tools") if isinstance(loaded, dict) else loaded
        if not isinstance(loaded, list):
            raise CaseFileError(
                name,
                f"tools_file {spec.tools_file!r} must hold a list of tools (or 'tools: [...]')",
                field="tools_file",
            )
        raw, where = loaded, "tools_file"
    else:
        raw, where = list(spec.tools or ()), "tools"
    tools = []
    for i, tool in enumerate(raw):
        if isinstance(tool, dict) and set(tool) == {"pydantic"}:
            tool = _pydantic_tool(file, tool["pydantic"], f"{where}[{i}].pydantic")
        if (problem := tool_problem(tool)) is not None:
            raise CaseFileError(name, problem, field=f"{where}[{i}]")
        tools.append(tool)
    names = [tool_name(t) for t in tools]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise CaseFileError(name, f"tool names must be unique; repeated: {', '.join(dupes)}", field=where)
    return tools


def _pydantic_tool(file: Path, ref: Any, path: str) -> dict[str, Any]:
    """``{pydantic: "module:Model"}``: a tool built by ``openai.pydantic_function_tool``. The module
    is ``module.py`` beside the case file if there is one, else an importable module."""
    if not isinstance(ref, str) or ":" not in ref:
        raise CaseFileError(str(file), f"expected 'module:ModelClass', got {ref!r}", field=path)
    module_name, _, attr = ref.partition(":")
    beside = file.parent / (module_name.replace(".", "/") + ".py")
    try:
        module = _module_from_file(beside) if beside.is_file() else importlib.import_module(module_name)
        model = getattr(module, attr)
    except (ImportError, AttributeError, SyntaxError) as exc:
        raise CaseFileError(str(file), f"cannot import {ref!r}: {exc}", field=path) from None
    return tool_from_pydantic(model)


def _module_from_file(path: Path) -> Any:
    # Loaded under a name made from its path, so two case folders with a tools.py each never
    # get each other's module from sys.modules, and a stdlib module cannot shadow it.
    name = "evalkit_case_module_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves annotations through the module
    spec.loader.exec_module(module)
    return module


def _explain(file: str, raw: dict[str, Any], exc: ValidationError) -> CaseFileError:
    """The first pydantic error as one line: file, case id, field path, bad value, valid choices."""
    error = exc.errors()[0]
    loc = error["loc"]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    case_id = None
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        cases = raw.get("cases") or []
        if loc[1] < len(cases) and isinstance(cases[loc[1]], dict):
            case_id = cases[loc[1]].get("id")
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        valid = ", ".join(model.model_fields) if model else ""
        message = f"unknown field {loc[-1]!r}. Valid fields: {valid}"
    elif error["type"] == "missing":
        message = f"required field {loc[-1]!r} is missing"
    elif error["type"] == "literal_error" and loc == ("version",):
        message = f"version {value!r} is not supported. Valid versions: 1"
    else:
        message = (
            f"{error['msg'].removeprefix('Value error, ')} (got {value!r})"
            if not isinstance(value, dict)
            else error["msg"].removeprefix("Value error, ")
        )
    return CaseFileError(file, message, case_id=case_id, field=path or None)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The spec model that owns the fields at ``loc`` (for listing valid field names)."""
    model: type[BaseModel] = SuiteSpec
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        nested = next(
            (
                a
                for a in getattr(annotation, "__args__", (annotation,))
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
        if nested is None:
            args = [getattr(a, "__args__", ()) for a in getattr(annotation, "__args__", ())]
            nested = next(
                (x for group in args for x in group if isinstance(x, type) and issubclass(x, BaseModel)), None
            )
        if nested is None:
            return None
        model = nested
    return model
