"""Argument validation alternatives on the BFCL replies: time per validation and disagreements with
jsonschema (Draft 2020-12, the definition evalkit keeps).

    pip install fastjsonschema==2.22.3        # only to measure it: not an evalkit dependency
    python bench/bench_validation.py

Variants, each over every (tool, decoded arguments) pair of bench_bfcl's replies (ground truth,
perturbations, recordings), validators built once per tool outside the timing:

- ``jsonschema_iter_errors``: what the validity scorer did before (sorted ``iter_errors``);
- ``jsonschema_is_valid``: jsonschema's verdict alone;
- ``fastjsonschema``: ``fastjsonschema.compile(schema, use_default=False, use_formats=False)``
  (it implements drafts 4, 6 and 7, not 2020-12; defaults would be written into the arguments);
- ``evalkit_compiled``: ``evalkit.validation.compile_schema`` (generated Python; None → jsonschema).

Writes nothing; prints a table. Ratios, not absolute times, carry across machines.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_bfcl import ROOT, build_replies
from jsonschema import Draft202012Validator

from evalkit.cases import load_cases
from evalkit.tools import tool_parameters, tools_by_name
from evalkit.validation import compile_schema


def pairs() -> list[tuple[dict[str, Any], Any]]:
    out = []
    for _, _, case, turn in build_replies(load_cases(ROOT / "cases" / "bfcl"), ROOT / "cassettes"):
        tools = tools_by_name(case.tools or ())
        for call in turn.calls:
            try:
                args = json.loads(call.arguments)
            except ValueError:
                continue
            if call.name in tools and isinstance(args, dict):
                out.append((tool_parameters(tools[call.name]), args))
    return out


def main() -> None:
    work = pairs()
    schemas = {id(s): s for s, _ in work}
    validators = {k: Draft202012Validator(s) for k, s in schemas.items()}
    compiled = {k: compile_schema(s) or validators[k].is_valid for k, s in schemas.items()}
    variants = {
        "jsonschema_iter_errors": lambda s, a: not sorted(validators[id(s)].iter_errors(a), key=lambda e: list(e.path)),
        "jsonschema_is_valid": lambda s, a: validators[id(s)].is_valid(a),
        "evalkit_compiled": lambda s, a: compiled[id(s)](a),
    }
    try:
        import fastjsonschema

        fast = {k: fastjsonschema.compile(s, use_default=False, use_formats=False) for k, s in schemas.items()}

        def fast_valid(s: Any, a: Any) -> bool:
            try:
                fast[id(s)](a)
            except fastjsonschema.JsonSchemaException:
                return False
            return True

        variants["fastjsonschema"] = fast_valid
    except ImportError:
        print("fastjsonschema not installed: pip install fastjsonschema==2.22.3 to include it")
    truth = [variants["jsonschema_is_valid"](s, a) for s, a in work]
    rows = []
    for name, check in variants.items():
        best = min(_timed(check, work) for _ in range(7))
        wrong = sum(check(s, a) != t for (s, a), t in zip(work, truth, strict=True))
        rows.append((name, best / len(work) * 1e6, wrong))
    base = rows[0][1]
    print(f"{len(work)} validations, {len(schemas)} schemas, {sum(not t for t in truth)} invalid")
    print(f"{'variant':<24} {'µs each':>8} {'× iter_errors':>14} {'≠ jsonschema':>13}")
    for name, us, wrong in rows:
        print(f"{name:<24} {us:>8.2f} {base / us:>13.1f}× {wrong:>13}")


def _timed(check: Any, work: list[tuple[dict[str, Any], Any]]) -> float:
    started = time.perf_counter()
    for schema, args in work:
        check(schema, args)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
