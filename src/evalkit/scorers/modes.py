"""The same reply under both modes (default and bfcl), and why their verdicts differ.

Every job is scored in the run's mode; for a BFCL suite (:func:`compared`) :func:`other_mode`
scores it in the other one too, so a report can put BFCL's verdict beside evalkit's without
re-scoring. A reply evalkit cannot read (a cut stream, ``finish_reason=tool_calls`` with no call)
is an error in both modes, never a difference. When the two differ, the
reason is one of REASONS, tried in this order:

- ``undecodable reply counted as no call`` — a no-call case whose reply holds a call with
  arguments that are not a JSON object: BFCL cannot decode it and counts it as no call (a pass);
  evalkit fails it (a call was made, not a refusal);
- ``call to a function not offered`` — an any-call case answered with an invented function: BFCL
  passes any call; evalkit fails it as hallucinated (an any-call reply whose arguments break the
  schema counts as ``schema-invalid arguments BFCL accepts``);
- ``greedy vs optimal matching`` — BFCL pairs expected calls greedily and fails a reply that an
  optimal pairing passes;
- ``int vs float`` — a float for an integer parameter (``10.0``: evalkit takes it by value, BFCL
  does not), or ints in a list of floats;
- ``schema-invalid arguments BFCL accepts`` — only the JSON Schema check fails (``None`` for an
  optional parameter, a value outside ``enum``, an upper-cased enum value…): not part of BFCL's pass;
- ``string normalisation`` — strings equal only after BFCL's normalisation (spaces, punctuation);
- ``argument the case does not name`` — evalkit ignores it (unless ``exact``); BFCL fails it;
- ``empty string for an argument to leave out`` — ``""`` where the case says ``absent``: BFCL reads
  ``""`` as "left out" (its marker for it normalises to itself);
- ``other: <failure kind>`` — anything else, named by the failing side's first failure kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..calls import Turn
from ..cases import Case
from ..cases.expected_values import BFCL_SUITE_PREFIX
from .base import SCHEMA_VIOLATION, WRONG_VALUE, Score
from .checks import analyse
from .matching import assign

SUITE_PREFIX = BFCL_SUITE_PREFIX  # the suites `evalkit import bfcl` writes


def compared(case: Case) -> bool:
    """Whether a job of ``case`` is scored in both modes: a single-reply case of a BFCL suite."""
    return case.suite.startswith(SUITE_PREFIX) and not case.expect.is_loop


REASONS = (
    "undecodable reply counted as no call",
    "call to a function not offered",
    "greedy vs optimal matching",
    "int vs float",
    "schema-invalid arguments BFCL accepts",
    "string normalisation",
    "argument the case does not name",
    "empty string for an argument to leave out",
)


def other_mode(
    case: Case,
    turn: Turn,
    offered_tools: Sequence[Mapping[str, Any]],
    *,
    bfcl: bool,
    status: str,
    scores: Sequence[Score],
    scorers: Sequence[str],
) -> dict[str, str | None]:
    """``{"default": status, "bfcl": status, "reason": None | one of REASONS}`` for one job, given
    its status and scores in the run's mode (``bfcl``)."""
    from . import score_job

    other_status, other_scores = score_job(case, turn, offered_tools, scorers=scorers, bfcl=not bfcl)
    default, in_bfcl = (other_status, status) if bfcl else (status, other_status)
    default_scores, bfcl_scores = (other_scores, scores) if bfcl else (scores, other_scores)
    reason = None
    if default != in_bfcl and "error" not in (default, in_bfcl):
        reason = difference_reason(case, turn, offered_tools, default_scores, bfcl_scores, default == "passed")
    return {"default": default, "bfcl": in_bfcl, "reason": reason}


def difference_reason(
    case: Case,
    turn: Turn,
    offered_tools: Sequence[Mapping[str, Any]],
    default_scores: Sequence[Score],
    bfcl_scores: Sequence[Score],
    default_passed: bool,
) -> str:
    """Why the two verdicts differ (see the module docstring)."""
    failing = bfcl_scores if default_passed else default_scores
    failures = [f for s in failing if s.applies and s.passed is False for f in s.failures]
    kinds = [f.kind for f in failures]
    text = " ".join(f.explanation for f in failures)
    if case.expect.no_call and not default_passed:  # BFCL passed it: it could not decode the call
        return REASONS[0]
    if case.expect.any_call and not default_passed and "hallucinated_function" in kinds:
        return REASONS[1]
    if default_passed:
        a = analyse(case, turn, offered_tools, bfcl=True)
        optimal = assign(len(a.expected), len(turn.calls), a.grade)
        if optimal.full == len(a.expected) == len(turn.calls) and a.assignment.full < len(a.expected):
            return REASONS[2]
        if "expected type integer" in text or "expected type float" in text or "of float" in text:
            return REASONS[3]
        if "not expected" in text:
            return REASONS[6]
    else:
        if kinds and all(k == SCHEMA_VIOLATION for k in kinds):
            return REASONS[4]
        if WRONG_VALUE in kinds and "must be absent, got ''" in text:
            return REASONS[7]
        if WRONG_VALUE in kinds and _strings_only(failures):
            return REASONS[5]
    return f"other: {kinds[0] if kinds else 'no failure'}"


def _strings_only(failures: Sequence[Any]) -> bool:
    # A wrong_value explanation reads "name: key: expected 'A', got 'a'" (or got ['a', …]): a string
    # is what was produced, alone or first in a list or object.
    wrong = [f.explanation for f in failures if f.kind == WRONG_VALUE]
    return bool(wrong) and all(re.search(r"got [\[{]*['\"]", w) for w in wrong)
