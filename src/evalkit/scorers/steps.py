"""Scoring a loop job: the reply scorers step by step (``steps:``) or over every call (a trajectory),
plus the loop's own scores (:mod:`.loops`).

With ``steps:``, step *i* of the loop is scored against the *i*-th expected step exactly as a single
reply would be, and each scorer's value is the mean over the steps it applies to (it passes when it
passes at every one; each failure says its step). Without, the reply scorers that need no per-reply
expectation (hallucination, validity, forbidden, finish) look at every call of every step and at
the final reply; the calls are judged by ``trajectory`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..calls import Turn
from ..loops.trajectory import Trajectory
from ..words import plural
from .base import NOT_APPLICABLE, WRONG_STEP_COUNT, Failure, Score
from .checks import Analysis
from .loops import answer_score, loop_score, trajectory_score

# Scorers of one reply, which a loop job applies per step.
REPLY_SCORERS = ("selection", "hallucination", "validity", "correctness", "coverage", "no_call", "forbidden", "finish")


def flattened(trajectory: Trajectory) -> Turn:
    """The loop as one turn: every call of every step, the last reply's text and finish, the first
    error, tokens summed (for the reply scorers and for results.json). A step cut off by the token
    limit makes the whole turn's finish ``length``: its last call may be a fragment, and ``finish``
    and ``validity`` must say the reply was cut, whichever step it was."""
    steps = trajectory.steps
    error = next((s.turn.error for s in steps if s.turn.error is not None), None)
    final = trajectory.final

    def total(values: Sequence[int | None]) -> int | None:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    return Turn(
        trajectory.calls,
        final.content,
        "length" if any(s.turn.finish_reason == "length" for s in steps) else final.finish_reason,
        error,
        total([s.turn.prompt_tokens for s in steps]),
        total([s.turn.completion_tokens for s in steps]),
        sum(s.turn.server_seconds or 0.0 for s in steps) or None,
    )


def stepwise(analysis: Analysis, name: str, scorer: object) -> Score:
    """``scorer`` (a reply scorer) applied to each step against its expected step, combined."""
    assert analysis.trajectory is not None and analysis.case.expect.steps is not None
    made = analysis.trajectory.steps
    scores = []
    for number, expected in enumerate(analysis.case.expect.steps[: len(made)], start=1):
        step_case = replace(analysis.case, expect=expected)
        sub = Analysis(step_case, made[number - 1].turn, analysis.offered, analysis.bfcl)
        score = scorer(sub)  # type: ignore[operator]  # a reply scorer: (Analysis) -> Score
        scores.append((number, score))
    return combine(name, scores)


def combine(name: str, scores: Sequence[tuple[int, Score]]) -> Score:
    applying = [(n, s) for n, s in scores if s.applies]
    if not applying:
        return Score.not_applicable(name)
    value = sum(s.value or 0.0 for _, s in applying) / len(applying)
    failures = tuple(Failure(f.kind, f"step {n}: {f.explanation}") for n, s in applying for f in s.failures)
    return Score(name, value, all(s.passed for _, s in applying), failures)


def trajectory(a: Analysis) -> Score:
    """The calls of the whole loop against the expected trajectory (see :func:`.loops.trajectory_score`)."""
    if a.trajectory is None or a.case.expect.trajectory is None or a.turn.error:
        return NOT_APPLICABLE["trajectory"]
    return trajectory_score(a.case.expect.trajectory, a.trajectory)


def answer(a: Analysis) -> Score:
    """The final answer's checks (see :func:`.loops.answer_score`)."""
    if a.trajectory is None or a.case.expect.answer is None or a.turn.error:
        return NOT_APPLICABLE["answer"]
    return answer_score(a.case.expect.answer, a.trajectory)


def loop(a: Analysis) -> Score:
    """How the loop ended (an answer within ``max_steps``, no call repeated after its output came
    back) and, with ``steps:``, whether it took the expected number of steps."""
    if a.trajectory is None or a.turn.error:
        return NOT_APPLICABLE["loop"]
    score = loop_score(a.trajectory, max_steps=a.case.max_steps)
    expected = a.case.expect.steps
    made = len(a.trajectory.steps)
    if expected is None or made == len(expected):
        return score
    wanted = plural(len(expected), "step")
    if made < len(expected):
        extra = Failure(WRONG_STEP_COUNT, f"{wanted} expected; the loop ended after {made} ({a.trajectory.ended})")
    else:
        extra = Failure(WRONG_STEP_COUNT, f"{wanted} expected; the loop went on for {made}")
    return Score("loop", 0.0, False, (*score.failures, extra))
