"""One loop's record: each step's reply and the tool outputs sent back for its calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..calls import ToolCall, Turn

Ending = Literal["answer", "max_steps", "error"]


@dataclass(frozen=True)
class Step:
    """One request of a loop: the reply, and one output per call in it (none when it answered)."""

    turn: Turn
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trajectory:
    """The steps of a loop, in order, and how it ended: ``answer`` (a reply without calls),
    ``max_steps`` (still calling after the last allowed step), ``error`` (a reply that could not be read)."""

    steps: tuple[Step, ...]
    ended: Ending

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        """Every call of every step, in the order they were made."""
        return tuple(call for step in self.steps for call in step.turn.calls)

    @property
    def final(self) -> Turn:
        """The last reply (the answer, when the loop ended with one)."""
        return self.steps[-1].turn if self.steps else Turn()

    def outputs_of(self, function: str) -> tuple[str, ...]:
        """What ``function`` returned, every time it was called."""
        return tuple(
            output
            for step in self.steps
            for call, output in zip(step.turn.calls, step.outputs, strict=False)
            if call.name == function
        )

    def record(self) -> tuple[dict[str, Any], ...]:
        """The steps as results.json keeps them."""
        return tuple(
            {
                "calls": [{"name": c.name, "arguments": c.arguments, "id": c.id} for c in step.turn.calls],
                "outputs": list(step.outputs),
                "content": step.turn.content,
                "finish_reason": step.turn.finish_reason,
                "error": [step.turn.error.kind, step.turn.error.message] if step.turn.error else None,
            }
            for step in self.steps
        )
