"""Chat Completions replies: ``tool_calls`` and legacy ``function_call``, whole or streamed.

A Turn is one choice: with ``n`` > 1 the other choices are other answers, not parallel calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ..calls import CONTENT_FILTER, HTTP_ERROR, MALFORMED_REPLY, ToolCall, Turn, TurnError
from . import shape
from .sse import parse_events
from .stream import ChatStreamAggregator
from .text_calls import find_text_tool_call

_CALL_FINISHES = ("tool_calls", "function_call")


def turn_from_chat_completion(body: Any, *, choice: int = 0) -> Turn:
    """A non-streamed reply (the JSON object), as a Turn; never raises."""
    try:
        return settle(_completion(shape.mapping(body, "reply"), choice))
    except shape.Unreadable as exc:
        return Turn.failed(MALFORMED_REPLY, str(exc))


def _completion(body: Mapping[str, Any], choice: int) -> Turn:
    if body.get("error") and "choices" not in body:  # an error object in a 200 reply (gateways do this)
        return Turn.failed(HTTP_ERROR, f"error object in the reply: {shape.short(body['error'])}")
    choices = shape.items(body.get("choices"), "choices")
    if not choices:
        raise shape.Unreadable(f"reply has no choices: {shape.short(body)}")
    picked = None
    for position, raw in enumerate(choices):
        candidate = shape.mapping(raw, "choice")
        if (shape.index(candidate.get("index")) if "index" in candidate else position) == choice:
            picked = candidate
            break
    if picked is None:
        raise shape.Unreadable(f"reply has no choice {choice}: {shape.short(body)}")
    message = shape.mapping(picked.get("message"), "choice message")
    calls = [
        _tool_call(shape.mapping(raw, "tool call")) for raw in shape.items(message.get("tool_calls"), "tool_calls")
    ]
    if (legacy := shape.optional_mapping(message.get("function_call"), "function_call")) is not None:
        calls.append(ToolCall(shape.name(legacy.get("name"), "function_call name"), _arguments(legacy)))
    content = shape.content_text(message.get("content"), "message content")
    finish = shape.optional_str(picked.get("finish_reason"), "finish_reason")
    return Turn(tuple(calls), content, finish, None, *shape.usage(body), shape.server_seconds(body))


def _tool_call(raw: Mapping[str, Any]) -> ToolCall:
    call_id = shape.optional_str(raw.get("id"), "tool call id")
    if raw.get("type") == "custom":  # GPT-5 custom tools: free-form text input, not JSON arguments
        custom = shape.mapping(raw.get("custom"), "custom tool call")
        return ToolCall(
            shape.name(custom.get("name"), "custom tool name"), shape.arguments_text(custom.get("input")), call_id
        )
    function = shape.mapping(raw.get("function"), "tool call function")
    return ToolCall(shape.name(function.get("name"), "tool call function name"), _arguments(function), call_id)


def _arguments(function: Mapping[str, Any]) -> str:
    return shape.arguments_text(function.get("arguments"))


def turn_from_chat_chunks(chunks: Iterable[Any], *, choice: int = 0, done: bool = False) -> Turn:
    """Decoded stream chunks (the JSON of each ``data:`` line), joined by the one aggregator."""
    aggregator = ChatStreamAggregator(choice)
    try:
        for chunk in chunks:
            aggregator.add(chunk)
    except shape.Unreadable as exc:
        return Turn.failed(MALFORMED_REPLY, f"stream chunk {aggregator.chunks}: {exc}")
    return settle(aggregator.turn(done=done))


def turn_from_chat_stream(text: str, *, choice: int = 0) -> Turn:
    """A streamed reply as its raw SSE body (what the wire carried, live or recorded)."""
    stream = parse_events(text)
    chunks = []
    for number, event in enumerate(stream.events, start=1):
        try:
            chunks.append(shape.loads(event.data))
        except ValueError:
            return Turn.failed(MALFORMED_REPLY, f"stream event {number} is not JSON: {shape.short(event.data)}")
        if event.name == "error" and isinstance(chunks[-1], Mapping) and "error" not in chunks[-1]:
            chunks[-1] = {"error": chunks[-1]}  # `event: error` with the error object as data
    return turn_from_chat_chunks(chunks, choice=choice, done=stream.done)


def settle(turn: Turn) -> Turn:
    """Rules for every API once a reply is read: a content filter withheld the reply (an unknown
    outcome), and a reply that says it called a function yet holds no call (in calls or as text)
    is malformed, not a refusal."""
    if turn.error is not None:
        return turn
    if turn.finish_reason == CONTENT_FILTER:
        return replace(turn, error=TurnError(CONTENT_FILTER, "the provider's content filter stopped the reply"))
    if turn.finish_reason in _CALL_FINISHES and not turn.calls and find_text_tool_call(turn.content) is None:
        message = f"finish_reason is {turn.finish_reason!r} but the reply holds no readable call"
        return replace(turn, error=TurnError(MALFORMED_REPLY, message))
    return turn
