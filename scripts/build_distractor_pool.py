"""Build cases/tools/distractors-v1.json, the pool of distractor tools for tool-count sweeps.

How to run (from the repository root)::

    pip download --no-deps bfcl-eval==2026.3.23 -d /tmp/bfcl      # the wheel only, none of its deps
    python scripts/build_distractor_pool.py /tmp/bfcl/bfcl_eval-2026.3.23-py3-none-any.whl

The argument may also be the wheel unzipped (the folder holding ``bfcl_eval/``). Running it twice
gives the same bytes: no timestamps, files read in a fixed order, tools sorted by name.

Source: the Berkeley Function Calling Leaderboard data shipped in the ``bfcl-eval`` PyPI package,
version 2026.3.23 (Apache-2.0). It reads the ``function`` lists of these JSON-lines files under
``bfcl_eval/data/`` (see BFCL_FILES): BFCL_v4_simple_python, multiple, parallel, parallel_multiple,
irrelevance, live_simple, live_multiple, live_parallel, live_parallel_multiple, live_relevance,
live_irrelevance. The Java/JavaScript files (their types are Java/JS classes) and the multi-turn
class docs (stateful APIs with BFCL-specific preambles) are left out.

Conversion (BFCL's Python-flavoured schema → JSON Schema Draft 2020-12, OpenAI tool dicts):

- types: dict→object, float→number, tuple→array, any→no ``type`` (such tools are then left out); integer, boolean, string, array
  kept; ``items`` and nested ``properties`` converted recursively;
- keys: only standard JSON Schema keywords are kept (KEPT_KEYS); BFCL's ``optional`` is dropped;
  ``pattern`` is removed (see _convert); ``required`` keeps only names that are properties;
- an ``enum`` whose values contradict the declared type (BFCL has boolean ["True","False","dontcare"],
  integer ["1","2"]) takes the type of its values; an array with a scalar enum gets it on ``items``;
- a ``default`` is kept only when it is valid for its own schema (BFCL has defaults like "None");
- names: characters outside ``[A-Za-z0-9_-]`` become ``_`` (``math.factorial`` → ``math_factorial``),
  cut to 64, as the OpenAI API requires; the first tool of a name wins (files in BFCL_FILES order);
- every tool has a description (llama.cpp rejects tools without one);
- every parameters object passes ``Draft202012Validator.check_schema`` or the build fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

BFCL_VERSION = "2026.3.23"
BFCL_FILES = tuple(
    f"bfcl_eval/data/BFCL_v4_{name}.json"
    for name in (
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
)
OUTPUT = Path(__file__).resolve().parents[1] / "cases" / "tools" / "distractors-v1.json"
MAX_BYTES = 1_500_000
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what api.openai.com accepts for a function name
TYPES = {
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


def read_sources(source: Path) -> dict[str, bytes]:
    """The BFCL files' bytes, from the wheel (a zip) or an unzipped wheel; checks the version."""
    wanted = ("*.dist-info/METADATA", *BFCL_FILES)
    if source.is_file():
        with zipfile.ZipFile(source) as wheel:
            names = wheel.namelist()
            found = {w: next((n for n in names if Path(n).match(w)), None) for w in wanted}
            data = {w: wheel.read(n) for w, n in found.items() if n}
    else:
        data = {}
        for w in wanted:
            hits = sorted(source.glob(w))
            if hits:
                data[w] = hits[0].read_bytes()
    missing = [w for w in wanted if w not in data]
    if missing:
        sys.exit(f"{source}: not a bfcl-eval wheel (or unzipped wheel); missing {', '.join(missing)}")
    version = Parser().parsestr(data.pop(wanted[0]).decode()).get("Version")
    if version != BFCL_VERSION:
        sys.exit(
            f"{source}: bfcl-eval {version}, but this script is pinned to {BFCL_VERSION} for reproducible "
            f"output; download that version, or update BFCL_VERSION and review the diff"
        )
    return data


def _json_type(value: Any) -> str | None:
    return JSON_TYPE.get(type(value))


def _convert(schema: Any) -> dict[str, Any]:
    """One BFCL (sub)schema as JSON Schema; see the module docstring for the rules."""
    if not isinstance(schema, dict):
        return {}
    # Unknown keys are dropped, `pattern` among them: the local llama.cpp server (its grammar
    # converter) errors on, or crashes with, some regex patterns, and a distractor loses nothing
    # realistic without one.
    out: dict[str, Any] = {k: schema[k] for k in KEPT_KEYS if k in schema}
    if "type" in out:
        kind = TYPES.get(str(out["type"]))
        if kind is None:
            del out["type"]  # `any` (or a type JSON Schema has no name for): any value
        else:
            out["type"] = kind
    if "items" in out:
        out["items"] = _convert(out["items"])
    if "properties" in out:
        props = out["properties"] if isinstance(out["properties"], dict) else {}
        out["properties"] = {name: _convert(sub) for name, sub in props.items()}
    if "required" in out:
        req = out["required"] if isinstance(out["required"], list) else []
        out["required"] = [r for r in dict.fromkeys(req) if r in out.get("properties", {})]
    if isinstance(out.get("description"), str):
        out["description"] = out["description"].strip()
    _fix_enum(out)
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


def _name(raw: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)[:64]


def convert_tool(function: dict[str, Any]) -> dict[str, Any]:
    name = _name(str(function["name"]))
    description = str(function.get("description") or "").strip()
    if not description:
        description = f"Calls {function['name']}."  # llama.cpp rejects a tool without a description
    params = _convert(function.get("parameters") or {"type": "dict", "properties": {}})
    params["type"] = "object"
    params.setdefault("properties", {})
    params.pop("default", None)
    return {"type": "function", "function": {"name": name, "description": description, "parameters": params}}


def _untyped(schema: dict[str, Any]) -> bool:
    """Whether a property (at any depth) has neither a type nor an enum: valid JSON Schema, but
    llama.cpp's grammar converter answers HTTP 500 "Unrecognized schema" for the whole request."""
    subs = list((schema.get("properties") or {}).values())
    if isinstance(schema.get("items"), dict):
        subs.append(schema["items"])
    return any(("type" not in sub and "enum" not in sub) or _untyped(sub) for sub in subs)


def build(source: Path) -> dict[str, Any]:
    data = read_sources(source)
    tools: dict[str, dict[str, Any]] = {}
    untyped: set[str] = set()
    files = []
    for path in BFCL_FILES:
        raw = data[path]
        read = 0
        for line in raw.decode("utf-8").splitlines():
            if not line.strip():
                continue
            for function in json.loads(line).get("function") or []:
                read += 1
                tool = convert_tool(function)
                if _untyped(tool["function"]["parameters"]):
                    untyped.add(tool["function"]["name"])  # a distractor that breaks a server measures nothing
                    continue
                tools.setdefault(tool["function"]["name"], tool)  # first of a name wins
        files.append({"path": path, "sha256": hashlib.sha256(raw).hexdigest(), "functions_read": read})
    for name, tool in tools.items():
        if not NAME_PATTERN.match(name):
            sys.exit(f"bad tool name after conversion: {name!r}")
        try:
            Draft202012Validator.check_schema(tool["function"]["parameters"])
        except SchemaError as exc:
            sys.exit(f"{name}: converted parameters are not valid Draft 2020-12: {exc.message}")
    return {
        "version": 1,
        "source": {
            "package": "bfcl-eval",
            "version": BFCL_VERSION,
            "license": "Apache-2.0",
            "url": "https://github.com/ShishirPatil/gorilla/tree/main/berkeley-function-call-leaderboard",
            "files": files,
            "converted_by": "scripts/build_distractor_pool.py (modified: types converted, names sanitised, "
            "non-standard keys and `pattern` removed; see DISTRACTORS-NOTICE.md)",
            "left_out_untyped": sorted(untyped - set(tools)),
        },
        "tools": [tools[name] for name in sorted(tools)],
    }


def render(pool: dict[str, Any]) -> str:
    """One tool per line: a reviewable diff when the pool changes, and compact enough to ship."""
    head = json.dumps({k: v for k, v in pool.items() if k != "tools"}, indent=2, ensure_ascii=False)
    lines = [json.dumps(t, ensure_ascii=False, separators=(",", ":")) for t in pool["tools"]]
    return head[:-2] + ',\n  "tools": [\n    ' + ",\n    ".join(lines) + "\n  ]\n}\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="bfcl-eval wheel (.whl) or the folder it was unzipped into")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    pool = build(args.source)
    text = render(pool)
    assert json.loads(text) == pool  # the hand-made layout is still plain JSON
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        sys.exit(f"pool is {size} bytes, over the {MAX_BYTES} budget; read fewer files")
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: {len(pool['tools'])} tools, {size} bytes")


if __name__ == "__main__":
    main()
