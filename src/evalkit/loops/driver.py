"""The loop, written once: send, run the called tools, send their outputs back, until an answer.

Each API feeds outputs back its own way (role ``tool``; role ``function`` for legacy functions;
``function_call_output`` items for Responses; ``submit_tool_outputs`` for an Assistants run): that
is the :class:`Conversation` a provider gives. The loop does not know which API it drives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ..calls import Turn
from .outputs import ToolOutputs
from .trajectory import Step, Trajectory


class Conversation(Protocol):
    """One job's exchange with a model through one API."""

    def send(self) -> Turn:
        """Send the conversation so far; the reply as a Turn (errors included, never raised)."""
        ...

    def answer_calls(self, turn: Turn, outputs: Sequence[str]) -> None:
        """Add ``turn`` (the model's calls) and one output per call to the conversation."""
        ...

    def summary(self) -> dict[str, Any]:
        """What results.json keeps of the first request (messages sent, tool list id, options)."""
        ...


def run_loop(conversation: Conversation, outputs: ToolOutputs, *, max_steps: int) -> Trajectory:
    """Drive ``conversation`` for at most ``max_steps`` requests. The loop ends at the first reply
    without calls (an answer), at a reply that could not be read (an error), or when the last
    allowed reply still calls tools (its calls are kept; the tools are not run for them)."""
    steps: list[Step] = []
    for number in range(1, max_steps + 1):
        turn = conversation.send()
        if turn.error is not None:
            steps.append(Step(turn))
            return Trajectory(tuple(steps), "error")
        if not turn.calls:
            steps.append(Step(turn))
            return Trajectory(tuple(steps), "answer")
        if number == max_steps:  # no step left to send outputs in: the tools are not run
            steps.append(Step(turn))
            break
        sent = tuple(outputs.output_for(call).text for call in turn.calls)
        steps.append(Step(turn, sent))
        conversation.answer_calls(turn, sent)
    return Trajectory(tuple(steps), "max_steps")
