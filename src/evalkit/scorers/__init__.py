"""Scorers: pure functions of (case, turn, offered tools) that return a :class:`Score`.

``SCORERS`` maps each name to its function; ``score_job`` runs the selected ones and decides pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..calls import Turn
from ..cases import Case
from ..errors import UnknownNameError
from . import steps
from .base import Failure, Score
from .checks import (
    Analysis,
    analyse,
    correctness,
    coverage,
    finish,
    forbidden,
    hallucination,
    no_call,
    selection,
    validity,
)

Scorer = Callable[[Analysis], Score]

SCORERS: dict[str, Scorer] = {
    "selection": selection,
    "hallucination": hallucination,
    "validity": validity,
    "correctness": correctness,
    "coverage": coverage,
    "no_call": no_call,
    "forbidden": forbidden,
    "finish": finish,
    "trajectory": steps.trajectory,
    "answer": steps.answer,
    "loop": steps.loop,
}
DEFAULT_SCORERS = tuple(SCORERS)

# Reported in bfcl mode but not part of its pass: BFCL's checker ignores the JSON Schema, and
# passes a relevance entry on a call to any name.
BFCL_ADVISORY = frozenset({"validity", "hallucination"})


def resolve_scorers(names: Iterable[str] | None) -> tuple[str, ...]:
    chosen = tuple(names) if names else DEFAULT_SCORERS
    for name in chosen:
        if name not in SCORERS:
            raise UnknownNameError(
                "scorer", name, SCORERS, hint="Set `scorers` in [tool.evalkit] (or leave it out for every scorer)."
            )
    return chosen


def score_job(
    case: Case,
    turn: Turn,
    offered_tools: Sequence[Mapping[str, Any]],
    *,
    scorers: Sequence[str] = DEFAULT_SCORERS,
    bfcl: bool = False,
) -> tuple[str, tuple[Score, ...]]:
    """Run the scorers; return the job's status and the scores.

    The status is ``error`` when there is no complete, readable reply (any :class:`~evalkit.calls.TurnError`:
    an HTTP error, a cassette miss, a cut stream, a malformed body, a content filter): an unknown outcome is
    neither credited to the model nor blamed on it, and accuracy leaves it out. Otherwise ``passed`` when
    every applicable score passed (in ``bfcl`` mode, those in BFCL_ADVISORY are reported but not
    counted), else ``failed``."""
    return score_analysis(analyse(case, turn, offered_tools, bfcl=bfcl), scorers=scorers)


def score_analysis(analysis: Analysis, *, scorers: Sequence[str] = DEFAULT_SCORERS) -> tuple[str, tuple[Score, ...]]:
    """:func:`score_job` on an :class:`Analysis` already made (the runner also reads its alignment).
    A loop job with ``steps:`` scores each reply scorer step by step (:mod:`.steps`)."""
    if analysis.trajectory is not None and analysis.case.expect.steps is not None:
        scores = tuple(
            steps.stepwise(analysis, name, SCORERS[name]) if name in steps.REPLY_SCORERS else SCORERS[name](analysis)
            for name in scorers
        )
    else:
        scores = tuple([SCORERS[name](analysis) for name in scorers])  # a list first: faster than a generator
    if analysis.turn.error is not None:
        return "error", scores
    advisory = BFCL_ADVISORY if analysis.bfcl else _NONE
    for score in scores:
        # passed is None where a scorer does not apply
        if score.passed is not None and not score.passed and score.scorer not in advisory:
            return "failed", scores
    return "passed", scores


_NONE: frozenset[str] = frozenset()


# The order failures are explained in: the most specific first. `validity` precedes `correctness`:
# both report invalid_json, and only validity's explanation says the reply hit finish_reason=length.
_EXPLAIN_ORDER = (
    "finish",
    "loop",
    "no_call",
    "hallucination",
    "forbidden",
    "coverage",
    "validity",
    "correctness",
    "selection",
)


def failures_of(scores: Iterable[Score]) -> tuple[Failure, ...]:
    """Each problem once: a failure kind already explained by a more specific scorer is not
    repeated (``selection`` and ``coverage`` both see a missing call; ``coverage`` names it)."""
    ranked = sorted(
        scores, key=lambda s: _EXPLAIN_ORDER.index(s.scorer) if s.scorer in _EXPLAIN_ORDER else len(_EXPLAIN_ORDER)
    )
    kinds: set[str] = set()
    out: list[Failure] = []
    for score in ranked:
        fresh = [f for f in score.failures if f.kind not in kinds and f not in out]
        kinds.update(f.kind for f in fresh)
        out += fresh
    return tuple(out)


__all__ = [
    "BFCL_ADVISORY",
    "DEFAULT_SCORERS",
    "SCORERS",
    "Failure",
    "Score",
    "failures_of",
    "resolve_scorers",
    "score_job",
]
