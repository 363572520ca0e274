"""Expected and produced calls side by side, argument by argument, as the scorers paired them.

This is what a failure view shows: each expected call beside the produced call the optimal
assignment gave it (or beside nothing), then the produced calls nobody expected; per argument the
expectation, what came, and whether it matched. Pure and JSON-ready: results.json stores it.
"""

from __future__ import annotations

import json
from typing import Any

from ..matchers import Absent, Fields, Matcher, brief
from .checks import _NOT_JSON, Analysis
from .matching import FULL, NAME

MISSING = "<missing>"
NOT_EXPECTED = "<not expected>"


def alignment(a: Analysis) -> tuple[dict[str, Any], ...]:
    """One row per expected call and per unpaired produced call::

        {"name": "get_weather", "expected": 0, "produced": 1, "match": "full" | "name" | "missing" | "extra",
         "arguments": [{"name": "city", "expected": "'Paris'", "got": "'Lyon'", "ok": False}, ...]}

    ``expected`` / ``produced`` are indexes into the case's expected calls and the reply's calls (or
    ``None``); ``got`` is the produced value as JSON text, or ``<missing>``."""
    rows: list[dict[str, Any]] = []
    paired = dict(a.assignment.pairs)
    for e, expected in enumerate(a.expected):
        p = paired.get(e)
        grade = a.grade(e, p) if p is not None else None
        args = a.arguments[p] if p is not None else None
        rows.append(
            {
                "name": expected.name,
                "expected": e,
                "produced": p,
                "match": "full" if grade == FULL else "name" if grade == NAME else "missing",
                "arguments": _argument_rows(expected.arguments, args),
            }
        )
    for p, call in enumerate(a.turn.calls):
        if p in paired.values():
            continue
        args = a.arguments[p]
        rows.append(
            {
                "name": call.name,
                "expected": None,
                "produced": p,
                "match": "extra",
                "arguments": _unexpected_rows(args, call.arguments),
            }
        )
    return tuple(rows)


def _argument_rows(fields: Fields, got: Any) -> list[dict[str, Any]]:
    if got is _NOT_JSON or (got is not None and not isinstance(got, dict)):
        return [{"name": "(arguments)", "expected": "a JSON object", "got": _text(got), "ok": False}]
    values = got or {}
    rows = [_row(key, matcher, values) for key, matcher in fields.fields]
    named = {key for key, _ in fields.fields}
    for key, value in values.items():
        if key not in named:  # not part of the expectation: shown, ok unless the call is exact
            rows.append(
                {
                    "name": key,
                    "expected": NOT_EXPECTED if fields.exact else "(any)",
                    "got": _show(value),
                    "ok": not fields.exact,
                }
            )
    return rows


def _row(key: str, matcher: Matcher, values: dict[str, Any]) -> dict[str, Any]:
    shown = "<absent>" if isinstance(matcher, Absent) else brief(matcher)
    if key not in values:
        return {"name": key, "expected": shown, "got": MISSING, "ok": matcher.optional}
    return {"name": key, "expected": shown, "got": _show(values[key]), "ok": matcher.mismatch(values[key]) is None}


def _unexpected_rows(args: Any, raw: str) -> list[dict[str, Any]]:
    if not isinstance(args, dict):
        return [{"name": "(arguments)", "expected": NOT_EXPECTED, "got": _text(args, raw), "ok": False}]
    return [{"name": key, "expected": NOT_EXPECTED, "got": _show(value), "ok": False} for key, value in args.items()]


def _show(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(args: Any, raw: str = "") -> str:
    if args is _NOT_JSON:
        return f"not JSON: {raw[:200]}" if raw else "not JSON"
    return _show(args)
