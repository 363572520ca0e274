"""Scorers: pure functions of (case, turn, offered tools) that return a :class:`Score`.

``SCORERS`` maps each name to its function; ``score_job`` runs the selected ones and decides pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..calls import CASSETTE_MISS, CONNECTION_ERROR, HTTP_ERROR, RATE_LIMITED, Turn
from ..cases import Case
from ..errors import UnknownNameError
from .base import Failure, Score
from .checks import Analysis, analyse, correctness, coverage, forbidden, hallucination, no_call, selection, validity

Scorer = Callable[[Analysis], Score]

SCORERS: dict[str, Scorer] = {
    "selection": selection,
    "hallucination": hallucination,
    "validity": validity,
    "correctness": correctness,
    "coverage": coverage,
    "no_call": no_call,
    "forbidden": forbidden,
}
DEFAULT_SCORERS = tuple(SCORERS)

# Reported in bfcl mode but not part of its pass: BFCL's checker ignores the JSON Schema, and
# passes a relevance entry on a call to any name.
BFCL_ADVISORY = frozenset({"validity", "hallucination"})

# Not the model's doing: such jobs are reported as errors and left out of accuracy.
INFRA_ERRORS = frozenset({HTTP_ERROR, RATE_LIMITED, CASSETTE_MISS, CONNECTION_ERROR})


def resolve_scorers(names: Iterable[str] | None) -> tuple[str, ...]:
    chosen = tuple(names) if names else DEFAULT_SCORERS
    for name in chosen:
        if name not in SCORERS:
            raise UnknownNameError("scorer", name, SCORERS, hint="Set `scorers` in [tool.evalkit] or --scorers.")
    return chosen


def score_job(
    case: Case,
    turn: Turn,
    offered_tools: Sequence[Mapping[str, Any]],
    *,
    scorers: Sequence[str] = DEFAULT_SCORERS,
    bfcl: bool = False,
) -> tuple[str, tuple[Score, ...]]:
    """Run the scorers; return the job's status (passed, failed or error) and the scores."""
    analysis = analyse(case, turn, offered_tools, bfcl=bfcl)
    scores = tuple([SCORERS[name](analysis) for name in scorers])
    if turn.error and turn.error.kind in INFRA_ERRORS:
        return "error", scores
    passed = turn.error is None
    for s in scores:
        if s.passed is False and not (bfcl and s.scorer in BFCL_ADVISORY):
            passed = False
            break
    return ("passed" if passed else "failed"), scores


# The order failures are explained in: the most specific first. `validity` precedes `correctness`:
# both report invalid_json, and only validity's explanation says the reply hit finish_reason=length.
_EXPLAIN_ORDER = ("no_call", "hallucination", "forbidden", "coverage", "validity", "correctness", "selection")


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
    "DEFAULT_SCORERS",
    "INFRA_ERRORS",
    "SCORERS",
    "Failure",
    "Score",
    "failures_of",
    "resolve_scorers",
    "score_job",
]
