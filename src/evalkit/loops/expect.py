"""What a loop case expects beyond single replies: the whole trajectory of calls, and the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TrajectoryMode = Literal["exact", "in_order", "any_order", "contains"]
TRAJECTORY_MODES: tuple[TrajectoryMode, ...] = ("exact", "in_order", "any_order", "contains")


@dataclass(frozen=True)
class TrajectoryExpectation:
    """The calls of the whole loop, across steps, as one sequence.

    - ``exact``: exactly these calls, in this order, nothing else;
    - ``in_order``: these calls in this order, other calls allowed in between (a subsequence);
    - ``any_order``: exactly these calls, in any order, nothing else;
    - ``contains``: each of these calls somewhere, in any order, other calls allowed.

    ``max_calls`` bounds the number of calls in every mode."""

    calls: tuple[object, ...]  # ExpectedCall (evalkit.cases): kept loose here to avoid an import cycle
    mode: TrajectoryMode = "in_order"
    max_calls: int | None = None


@dataclass(frozen=True)
class OutputReference:
    """A value a tool returned: the whole output, or the field at ``path`` (``status``, ``items.0.name``)."""

    function: str
    path: str | None = None


@dataclass(frozen=True)
class AnswerExpectation:
    """Checks on the final answer's text. ``contains``: every string appears; ``not_contains``: none
    does; ``regex``: the pattern matches somewhere (Python syntax); ``uses_output``: the answer states
    a value that the named tool returned in this loop (a scalar of its JSON output, or the text)."""

    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    regex: str | None = None
    uses_output: tuple[OutputReference, ...] = ()
    ignore_case: bool = False
