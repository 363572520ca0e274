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

Conversion: ``evalkit.importers.bfcl.convert_tool`` (the one converter, shared with
``evalkit import bfcl``; its docstring lists the rules), with parameters of type ``any`` left
untyped. On top of it, the pool:

- leaves out tools with an untyped parameter (llama.cpp answers HTTP 500 for them);
- keeps the first tool of a name (files in BFCL_FILES order) and sorts by name;
- checks every name against the OpenAI pattern and every parameters object with
  ``Draft202012Validator.check_schema``, or the build fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from evalkit.importers.bfcl import (
    BFCL_URL,
    BFCL_VERSION,
    CATEGORIES,
    BfclSourceError,
    convert_tool,
    data_path,
)
from evalkit.importers.bfcl import read_sources as _read
from evalkit.importers.bfcl import untyped_property as _untyped

BFCL_FILES = tuple(data_path(name) for name in CATEGORIES)  # the same data `evalkit import bfcl` reads
OUTPUT = Path(__file__).resolve().parents[1] / "cases" / "tools" / "distractors-v1.json"
MAX_BYTES = 1_500_000
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what api.openai.com accepts for a function name


def read_sources(source: Path) -> dict[str, bytes]:
    """The BFCL files' bytes, from the wheel (a zip) or an unzipped wheel; checks the version."""
    try:
        return dict(_read(source, BFCL_FILES, pinned=True).files)
    except BfclSourceError as exc:
        sys.exit(str(exc))


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
            "url": BFCL_URL,
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
