"""BFCL data: finding the ``bfcl-eval`` wheel's files, and converting its schemas to JSON Schema.

The Berkeley Function Calling Leaderboard (Gorilla project, UC Berkeley; Apache-2.0) ships its data
inside the ``bfcl-eval`` PyPI wheel. Its dependency tree is several GB and the data needs none of
it, so the data is read from, in this order:

1. ``--source PATH``: the wheel (``.whl``) or the folder it was unzipped into;
2. an installed ``bfcl_eval`` package (whatever version it is; the version is recorded);
3. ``pip download --no-deps bfcl-eval==BFCL_VERSION`` into a temporary folder (the wheel alone).

Schema conversion (BFCL's Python-flavoured dialect → JSON Schema Draft 2020-12, OpenAI tool dicts),
shared by the importer and ``scripts/build_distractor_pool.py``:

- types: dict→object, float→number, tuple→array; integer, boolean, string, array kept; ``any`` (or
  no type) → no ``type`` by default, or ``untyped`` when given (BFCL sends such parameters to
  OpenAI-style models as ``string``, and its checker expects a string); ``items`` and nested
  ``properties`` converted recursively;
- keys: only standard JSON Schema keywords are kept (KEPT_KEYS); BFCL's ``optional`` is dropped,
  and so is ``pattern`` (llama.cpp's grammar converter errors on, or crashes with, some patterns);
  ``required`` keeps only names that are properties;
- an ``enum`` whose values contradict the declared type (BFCL has boolean ["True","False","dontcare"],
  integer ["1","2"]) takes the type of its values; an array with a scalar enum gets it on ``items``;
- a ``default`` is kept only when it is valid for its own schema (BFCL has defaults like "None");
- names: characters outside ``[A-Za-z0-9_-]`` become ``_`` (``math.factorial`` → ``math_factorial``),
  cut to 64, as the OpenAI API requires (and as BFCL itself renames them for OpenAI-style models);
- every tool has a description (llama.cpp rejects tools without one).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from ..errors import EvalkitError

BFCL_VERSION = "2026.3.23"
BFCL_PACKAGE = "bfcl-eval"
BFCL_URL = "https://github.com/ShishirPatil/gorilla/tree/main/berkeley-function-call-leaderboard"
# The AST categories evalkit can express: one user turn (or a short chat history), a function list,
# and either expected calls (possible_answer/), no call (irrelevance) or some call (relevance).
CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_relevance",
    "live_irrelevance",
)
MAX_NAME = 64
TYPES: dict[str, str | None] = {
    "dict": "object",
    "float": "number",
    "tuple": "array",
    "integer": "integer",
    "boolean": "boolean",
    "string": "string",
    "array": "array",
    "number": "number",
    "any": None,
}
KEPT_KEYS = (
    "type",
    "description",
    "enum",
    "default",
    "format",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "items",
    "properties",
    "required",
)
JSON_TYPE = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}


class BfclSourceError(EvalkitError):
    """The BFCL data cannot be found or read."""


def data_path(category: str) -> str:
    """``bfcl_eval/data/BFCL_v4_<category>.json``: the entries (question, function list)."""
    return f"bfcl_eval/data/BFCL_v4_{category}.json"


def answer_path(category: str) -> str:
    """``bfcl_eval/data/possible_answer/BFCL_v4_<category>.json``: the ground truth, when there is one."""
    return f"bfcl_eval/data/possible_answer/BFCL_v4_{category}.json"


def has_answers(category: str) -> bool:
    """Relevance and irrelevance entries have no ground-truth file: any call, or no call."""
    return "relevance" not in category


@dataclass(frozen=True)
class Source:
    """Where the data came from (for the notice) and the files read, by path inside the wheel."""

    where: str  # a wheel path, a folder, or "installed bfcl_eval at …"
    version: str
    files: Mapping[str, bytes]


def read_sources(
    source: Path | None, paths: tuple[str, ...], *, pinned: bool = False, say: Callable[[str], None] | None = None
) -> Source:
    """The named files' bytes, from a wheel, an unzipped wheel, or (``source`` None) an installed
    ``bfcl_eval``, else a ``pip download`` of the pinned wheel (announced through ``say``).
    ``pinned``: refuse another version than BFCL_VERSION.

    Raises :class:`BfclSourceError` (one line: what is missing and how to get it)."""
    if source is None:
        source = _installed() or _download(say)
    wanted = ("*.dist-info/METADATA", *paths)
    data: dict[str, bytes] = {}
    if source.is_file():
        try:
            with zipfile.ZipFile(source) as wheel:
                names = wheel.namelist()
                for w in wanted:
                    hit = next((n for n in names if Path(n).match(w)), None)
                    if hit:
                        data[w] = wheel.read(hit)
        except zipfile.BadZipFile:
            raise BfclSourceError(f"{source}: not a wheel (zip) file; pass the bfcl-eval .whl or its folder") from None
    elif source.is_dir():
        for w in wanted:
            hits = sorted(source.glob(w))
            if hits:
                data[w] = hits[0].read_bytes()
    else:
        raise BfclSourceError(f"{source}: no such file or directory; pass the bfcl-eval .whl or its unzipped folder")
    missing = [w for w in wanted if w not in data]
    if missing:
        raise BfclSourceError(
            f"{source}: not a bfcl-eval wheel (or unzipped wheel); missing {', '.join(missing)}. "
            f"Get one with: pip download --no-deps {BFCL_PACKAGE}=={BFCL_VERSION}"
        )
    version = Parser().parsestr(data.pop(wanted[0]).decode()).get("Version") or "?"
    if pinned and version != BFCL_VERSION:
        raise BfclSourceError(
            f"{source}: {BFCL_PACKAGE} {version}, but this is pinned to {BFCL_VERSION} for reproducible "
            f"output; download that version, or update BFCL_VERSION and review the diff"
        )
    return Source(str(source), version, data)


def _installed() -> Path | None:
    """The folder holding an installed ``bfcl_eval`` and its ``.dist-info``, without importing it
    (importing bfcl_eval pulls in its model handlers and their dependencies)."""
    import importlib.util

    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).parent


def _download(say: Callable[[str], None] | None) -> Path:
    target = Path(tempfile.mkdtemp(prefix="evalkit-bfcl-"))
    if say:
        say(
            f"no bfcl_eval installed and no --source given: running "
            f"pip download --no-deps {BFCL_PACKAGE}=={BFCL_VERSION} into {target}"
        )
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", f"{BFCL_PACKAGE}=={BFCL_VERSION}"]
    done = subprocess.run([*command, "-d", str(target)], capture_output=True, text=True, check=False)
    wheels = sorted(target.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise BfclSourceError(
            f"pip download of {BFCL_PACKAGE}=={BFCL_VERSION} failed ({last}); "
            "download the wheel elsewhere and pass it with --source PATH"
        )
    return wheels[0]


def read_jsonl(raw: bytes) -> list[dict[str, Any]]:
    """A BFCL data file: one JSON object per line (the last line has no newline)."""
    return [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]


# --- schema conversion --------------------------------------------------------------------------


def _json_type(value: Any) -> str | None:
    return JSON_TYPE.get(type(value))


def convert_schema(schema: Any, *, untyped: str | None = None, note: bool = False) -> dict[str, Any]:
    """One BFCL (sub)schema as JSON Schema; see the module docstring for the rules. ``untyped``:
    the type given to ``any`` and to properties without a type (None: leave them untyped).
    ``note``: where the enum overrides the declared type, keep BFCL's type as ``x-bfcl-type``
    (BFCL's checker types the value by the declaration: bfcl mode needs it)."""
    if not isinstance(schema, dict):
        return {}
    out: dict[str, Any] = {k: schema[k] for k in KEPT_KEYS if k in schema}
    if "type" in out:
        kind = TYPES.get(str(out["type"]))
        if kind is None and untyped is None:
            del out["type"]  # `any` (or a type JSON Schema has no name for): any value
        else:
            out["type"] = kind or untyped
    elif untyped is not None and "enum" not in schema:
        out = {"type": untyped, **out}
    if "items" in out:
        out["items"] = convert_schema(out["items"], untyped=untyped, note=note)
    if "properties" in out:
        props = out["properties"] if isinstance(out["properties"], dict) else {}
        out["properties"] = {name: convert_schema(sub, untyped=untyped, note=note) for name, sub in props.items()}
    if "required" in out:
        req = out["required"] if isinstance(out["required"], list) else []
        out["required"] = [r for r in dict.fromkeys(req) if r in out.get("properties", {})]
    if isinstance(out.get("description"), str):
        out["description"] = out["description"].strip()
    declared = out.get("type")
    _fix_enum(out)
    if note and declared is not None and out.get("type") != declared:
        out["x-bfcl-type"] = schema["type"]
    _fix_default(out)
    return out


def _fix_enum(out: dict[str, Any]) -> None:
    enum = out.get("enum")
    if not isinstance(enum, list) or not enum:
        out.pop("enum", None)
        return
    out["enum"] = list({json.dumps(v, sort_keys=True): v for v in enum}.values())  # no repeats
    kinds = {_json_type(v) for v in out["enum"]}
    kind = out.get("type")
    if kind == "array" and "array" not in kinds:
        out.setdefault("items", {})["enum"] = out.pop("enum")  # ["a","b"] meant "items from a, b"
        _fix_enum(out["items"])
    elif kind is not None and not kinds <= ({kind, "integer"} if kind == "number" else {kind}):
        if len(kinds) == 1:
            out["type"] = kinds.pop()  # the enum says what the values really are
        else:
            del out["type"]


def _fix_default(out: dict[str, Any]) -> None:
    if "default" not in out:
        return
    rest = {k: v for k, v in out.items() if k != "default"}
    if not Draft202012Validator(rest).is_valid(out["default"]):
        del out["default"]


def tool_name(raw: str) -> str:
    """A BFCL function name as an OpenAI-style tool name: ``math.factorial`` → ``math_factorial``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)[:MAX_NAME]


def convert_tool(function: Mapping[str, Any], *, untyped: str | None = None, note: bool = False) -> dict[str, Any]:
    """A BFCL function definition as an OpenAI tool dict (see the module docstring and
    :func:`convert_schema` for ``untyped`` and ``note``)."""
    name = tool_name(str(function["name"]))
    description = str(function.get("description") or "").strip()
    if not description:
        description = f"Calls {function['name']}."  # llama.cpp rejects a tool without a description
    params = convert_schema(
        function.get("parameters") or {"type": "dict", "properties": {}}, untyped=untyped, note=note
    )
    params["type"] = "object"
    params.setdefault("properties", {})
    params.pop("default", None)
    return {"type": "function", "function": {"name": name, "description": description, "parameters": params}}


def untyped_property(schema: Mapping[str, Any]) -> bool:
    """Whether a property (at any depth) has neither a type nor an enum: valid JSON Schema, but
    llama.cpp's grammar converter answers HTTP 500 "Unrecognized schema" for the whole request."""
    subs = list((schema.get("properties") or {}).values())
    if isinstance(schema.get("items"), dict):
        subs.append(schema["items"])
    return any(("type" not in sub and "enum" not in sub) or untyped_property(sub) for sub in subs)
