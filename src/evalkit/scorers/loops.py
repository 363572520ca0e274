"""Scores of a whole loop: the trajectory of calls, the final answer, and how the loop ended.

Pure functions of the :class:`~evalkit.loops.trajectory.Trajectory` and what the case expects
(:mod:`evalkit.loops.expect`). Matching a call against an expected call uses the same matchers as
single replies; pairing is optimal (Hungarian) for the unordered modes and an order-preserving
alignment for the ordered ones, as for ``ordered: true`` cases.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from ..calls import ToolCall
from ..loops.expect import AnswerExpectation, OutputReference, TrajectoryExpectation
from ..loops.trajectory import Trajectory
from ..matchers import describe_arguments
from ..patterns import PatternTimeout, search
from .base import (
    EXTRA_CALL,
    IGNORED_TOOL_OUTPUT,
    MAX_STEPS_EXCEEDED,
    MISSING_CALL,
    REPEATED_CALL,
    WRONG_ANSWER,
    WRONG_ORDER,
    WRONG_VALUE,
    Failure,
    Score,
)
from .matching import FULL, NAME, NONE, assign


def trajectory_score(expect: TrajectoryExpectation, trajectory: Trajectory) -> Score:
    """The share of expected calls the trajectory made (paired one to one); passes when the mode's
    rule holds and ``max_calls`` is kept."""
    made = trajectory.calls
    wanted: Sequence[Any] = expect.calls
    arguments = [_decoded(call) for call in made]

    def grade(e: int, p: int) -> int:
        call, expected = made[p], wanted[e]
        if call.name != expected.name:
            return NONE
        return FULL if arguments[p] is not None and expected.arguments.mismatch(arguments[p]) is None else NAME

    ordered = expect.mode in ("exact", "in_order")
    paired = assign(len(wanted), len(made), grade, ordered=ordered)
    matched = {e for e, p in paired.pairs if grade(e, p) == FULL}
    # Each problem once: a call made with wrong arguments is a wrong value (not also missing and
    # extra), a call made only out of order is a wrong order, a call never made is missing.
    loose = assign(len(wanted), len(made), grade) if ordered else paired
    in_any_order = {e for e, p in loose.pairs if grade(e, p) == FULL}
    failures = []
    for e, p in paired.pairs:
        if e not in matched:
            reason = (
                wanted[e].arguments.mismatch(arguments[p])
                if arguments[p] is not None
                else "arguments are not a JSON object"
            )
            failures.append(Failure(WRONG_VALUE, f"{wanted[e].name}: {reason}"))
    out_of_order = [e for e in range(len(wanted)) if e not in matched and e in in_any_order]
    if out_of_order:
        failures.append(Failure(WRONG_ORDER, f"the calls were made, but not in the order {_names(wanted)}"))
    named = {e for e, _ in paired.pairs}
    failures += [
        Failure(MISSING_CALL, f"the loop never made {wanted[e].name}({describe_arguments(wanted[e].arguments)})")
        for e in range(len(wanted))
        if e not in named and e not in out_of_order
    ]
    if expect.mode in ("exact", "any_order"):
        used = {p for _, p in paired.pairs} | ({p for _, p in loose.pairs} if out_of_order else set())
        if extra := [made[p].name for p in range(len(made)) if p not in used]:
            failures.append(
                Failure(EXTRA_CALL, f"calls beyond the expected trajectory ({expect.mode}): {', '.join(extra)}")
            )
    if expect.max_calls is not None and len(made) > expect.max_calls:
        failures.append(Failure(EXTRA_CALL, f"{len(made)} calls made, at most {expect.max_calls} allowed"))
    value = len(matched) / len(wanted) if wanted else float(not failures)
    return Score("trajectory", value, not failures, tuple(failures))


def answer_score(expect: AnswerExpectation, trajectory: Trajectory) -> Score:
    """The share of answer checks that pass, on the final reply's text."""
    text = trajectory.final.content or ""
    folded = text.casefold() if expect.ignore_case else text
    checks: list[Failure | None] = []
    for wanted in expect.contains:
        present = (wanted.casefold() if expect.ignore_case else wanted) in folded
        checks.append(None if present else Failure(WRONG_ANSWER, f"the answer does not say {wanted!r}: {_clip(text)}"))
    for unwanted in expect.not_contains:
        present = (unwanted.casefold() if expect.ignore_case else unwanted) in folded
        checks.append(Failure(WRONG_ANSWER, f"the answer says {unwanted!r}: {_clip(text)}") if present else None)
    if expect.regex is not None:
        checks.append(_regex_check(expect.regex, text, ignore_case=expect.ignore_case))
    for reference in expect.uses_output:
        checks.append(_uses_output(reference, trajectory, text))
    failures = tuple(f for f in checks if f is not None)
    return Score("answer", (len(checks) - len(failures)) / len(checks) if checks else 1.0, not failures, failures)


def loop_score(trajectory: Trajectory, *, max_steps: int) -> Score:
    """The loop ended with an answer within ``max_steps``, and never sent a call again after its
    output had come back (a model that does not use what its tools return repeats itself)."""
    failures = []
    if trajectory.ended == "max_steps":
        failures.append(
            Failure(MAX_STEPS_EXCEEDED, f"still calling tools after {max_steps} steps (max_steps); no answer")
        )
    failures += [Failure(REPEATED_CALL, why) for why in _repeats(trajectory)]
    return Score("loop", float(not failures), not failures, tuple(failures))


def _repeats(trajectory: Trajectory) -> Iterator[str]:
    """One line per call sent again after its output had come back (a model stuck in a loop may
    send the same call fifty times in one reply: that is one problem, said once, with its count)."""
    answered: dict[tuple[str, str], int] = {}  # (name, canonical arguments) -> step whose output came back
    again: dict[tuple[str, str], tuple[ToolCall, list[int]]] = {}  # -> (the call, the steps that re-sent it)
    for number, step in enumerate(trajectory.steps, start=1):
        for call in step.turn.calls:
            key = (call.name, _canonical(call))
            if key in answered:
                again.setdefault(key, (call, []))[1].append(number)
        for call in step.turn.calls:
            answered.setdefault((call.name, _canonical(call)), number)
    for key, (call, steps) in again.items():
        distinct = list(dict.fromkeys(steps))
        where = f"step {distinct[0]}" if len(distinct) == 1 else f"steps {', '.join(map(str, distinct))}"
        times = f" ({len(steps)} times)" if len(steps) > len(distinct) else ""
        yield (
            f"{call.name}({_clip(call.arguments, 60)}) sent again at {where}{times}; "
            f"its output came back at step {answered[key]}"
        )


def _uses_output(reference: OutputReference, trajectory: Trajectory, answer: str) -> Failure | None:
    outputs = trajectory.outputs_of(reference.function)
    where = reference.function + (f".{reference.path}" if reference.path else "")
    if not outputs:
        return Failure(
            IGNORED_TOOL_OUTPUT, f"{reference.function} was never called, so the answer cannot state what it returned"
        )
    values = [v for output in outputs for v in _values(output, reference.path)]
    if any(states(value, answer) for value in values):
        return None
    distinct = list(dict.fromkeys(map(repr, values)))  # a tool called four times returns the same date four times
    shown = ", ".join(distinct[:4]) + (", …" if len(distinct) > 4 else "") or "(nothing)"
    return Failure(IGNORED_TOOL_OUTPUT, f"the answer states none of what {where} returned ({shown}): {_clip(answer)}")


# A number as an answer writes it: 13,960,000 or 13960000, 49.00, -3 (not a digit inside a word).
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d])")


def states(value: Any, answer: str) -> bool:
    """Whether ``answer`` states ``value``: a number by value (``13960000`` is stated by "13,960,000",
    not by "113960000"), anything else as a whole word or phrase, ignoring case."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return any(abs(float(found.replace(",", "")) - value) < 1e-9 for found in _NUMBER.findall(answer))
    text = str(value).strip()
    if not text:
        return False
    return re.search(r"(?<!\w)" + re.escape(text) + r"(?!\w)", answer, re.IGNORECASE) is not None


def _values(output: str, path: str | None) -> list[Any]:
    """The scalar values in a tool output (JSON) at ``path``; the text itself when it is not JSON."""
    try:
        value: Any = json.loads(output)
    except ValueError:
        return [output.strip()] if path is None else []
    for part in (path or "").split(".") if path else ():
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return []
    return list(_leaves(value))


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield value


def _regex_check(pattern: str, text: str, *, ignore_case: bool) -> Failure | None:
    try:
        if search(pattern, text, ignore_case=ignore_case):
            return None
        return Failure(WRONG_ANSWER, f"the answer does not match /{pattern}/: {_clip(text)}")
    except PatternTimeout as exc:
        return Failure(WRONG_ANSWER, f"{exc}, so it does not count as a match")


def _decoded(call: ToolCall) -> Any:
    try:
        value = call.decoded_arguments()
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _canonical(call: ToolCall) -> str:
    decoded = _decoded(call)
    return json.dumps(decoded, sort_keys=True) if decoded is not None else call.arguments


def _names(calls: Sequence[Any]) -> str:
    return ", ".join(c.name for c in calls)


def _clip(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
