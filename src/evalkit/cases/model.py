"""Suites and cases as the rest of evalkit sees them: frozen values, validated and compiled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..loops.expect import AnswerExpectation, TrajectoryExpectation
from ..loops.outputs import ToolOutputs
from ..matchers import Fields, describe_arguments


@dataclass(frozen=True)
class ExpectedCall:
    name: str
    arguments: Fields


@dataclass(frozen=True)
class Expectation:
    """What a case expects: of one reply (``calls``, or none), or of a loop (``steps``, each an
    Expectation of one reply; or a ``trajectory``; and/or checks on the ``answer``)."""

    calls: tuple[ExpectedCall, ...] = ()
    ordered: bool = False
    any_call: bool = False  # at least one call, to any offered function; `calls` is then empty
    steps: tuple[Expectation, ...] | None = None
    trajectory: TrajectoryExpectation | None = None
    answer: AnswerExpectation | None = None

    @property
    def is_loop(self) -> bool:
        return self.steps is not None or self.trajectory is not None or self.answer is not None

    @property
    def no_call(self) -> bool:
        """A single reply that must make no call."""
        return not self.calls and not self.any_call and not self.is_loop

    def describe(self) -> str:
        """``get_weather(location='Paris'), get_time()``, ``no call``, or a loop's expectation."""
        if self.steps is not None:
            return " → ".join(step.describe() for step in self.steps)
        if self.trajectory is not None:
            calls = ", ".join(_call(c) for c in self.trajectory.calls) or "any calls"  # type: ignore[arg-type]
            return f"{self.trajectory.mode}: {calls}" + (
                f" (at most {self.trajectory.max_calls})" if self.trajectory.max_calls is not None else ""
            )
        if self.answer is not None:
            return "an answer"
        if self.any_call:
            return "any call"
        if self.no_call:
            return "no call"
        return ", ".join(_call(c) for c in self.calls)


def _call(call: ExpectedCall) -> str:
    return f"{call.name}({describe_arguments(call.arguments)})"


@dataclass(frozen=True)
class Case:
    suite: str
    id: str
    messages: tuple[Mapping[str, Any], ...]
    expect: Expectation
    forbid: tuple[ExpectedCall, ...] = ()  # name "" forbids matching arguments in any call
    tags: tuple[str, ...] = ()
    file: str = ""
    tool_outputs: ToolOutputs = field(default_factory=ToolOutputs)  # what tools return in a loop
    max_steps: int = 5  # requests a loop may make
    tools: tuple[Mapping[str, Any], ...] | None = None  # the case's own tools (else the suite's)

    @property
    def key(self) -> str:
        return f"{self.suite}/{self.id}"


@dataclass(frozen=True)
class Suite:
    name: str
    file: str
    tools: tuple[Mapping[str, Any], ...]
    cases: tuple[Case, ...] = field(default=())
    description: str | None = None
