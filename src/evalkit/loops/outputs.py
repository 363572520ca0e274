"""What a tool returns inside a loop: canned outputs chosen by argument matchers, or a callable.

Per function, either a list of rules (the first whose ``when`` matcher accepts the arguments wins; a
rule without ``when`` is the default), or a Python callable ``module:function`` called with the
arguments as keyword arguments. What a real app would send back for a call it cannot serve is an
error *text*, and so is this: an unknown function, arguments that are not a JSON object, a callable
that raises. An output that is not a string is sent as JSON.

A callable runs user code (like ``pydantic:`` references) and must be deterministic: a replay sends
the outputs again, and a different output is a different request, so a cassette miss.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..calls import ToolCall
from ..matchers import Fields

UNKNOWN_FUNCTION = "error: unknown function {name!r}"


@dataclass(frozen=True)
class OutputRule:
    """``output`` when the arguments match ``when`` (always, when ``when`` is ``None``)."""

    output: Any
    when: Fields | None = None


@dataclass(frozen=True)
class ToolImplementation:
    """How one function answers: ``rules`` (first match wins) or ``function`` (a callable)."""

    rules: tuple[OutputRule, ...] = ()
    function: Callable[..., Any] | None = None
    reference: str = ""  # "module:function", for messages


@dataclass(frozen=True)
class ToolOutput:
    text: str  # what is sent back to the model
    error: bool = False  # the tool "failed": unknown function, bad arguments, a raising callable


@dataclass(frozen=True)
class ToolOutputs:
    """Every tool implementation of a case (suite defaults overridden per function by the case)."""

    implementations: Mapping[str, ToolImplementation] = field(default_factory=dict)
    unknown: str = UNKNOWN_FUNCTION  # sent for a function without an implementation ({name} is filled in)

    def __bool__(self) -> bool:
        return bool(self.implementations)

    def output_for(self, call: ToolCall) -> ToolOutput:
        """The output sent back for ``call``; never raises (user code's errors become error text)."""
        implementation = self.implementations.get(call.name)
        if implementation is None:
            # Filled in literally (not str.format): the text may hold braces, such as a JSON error object.
            text = self.unknown.replace("{name!r}", repr(call.name)).replace("{name}", call.name)
            return ToolOutput(text, error=True)
        try:
            arguments = call.decoded_arguments()
        except ValueError as exc:
            return ToolOutput(f"error: the arguments of {call.name} are not valid JSON ({exc})", error=True)
        if not isinstance(arguments, dict):
            return ToolOutput(f"error: the arguments of {call.name} must be a JSON object", error=True)
        if implementation.function is not None:
            return _call(implementation, call.name, arguments)
        for rule in implementation.rules:
            if rule.when is None or rule.when.mismatch(arguments) is None:
                return ToolOutput(as_text(rule.output))
        return ToolOutput(f"error: {call.name} has no output for these arguments", error=True)


def _call(implementation: ToolImplementation, name: str, arguments: dict[str, Any]) -> ToolOutput:
    assert implementation.function is not None
    try:
        return ToolOutput(as_text(implementation.function(**arguments)))
    except Exception as exc:  # noqa: BLE001 - the tool is user code: its failure is an error text, as an app would send
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return ToolOutput(f"error: {name} failed: {type(exc).__name__}{': ' + message if message else ''}", error=True)


def as_text(output: Any) -> str:
    """A tool output as the text a message carries: strings as they are, anything else as JSON."""
    if isinstance(output, str):
        return output
    return json.dumps(output, ensure_ascii=False, default=str)
