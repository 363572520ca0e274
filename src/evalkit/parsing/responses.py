"""Responses API replies (``client.responses.create``): the response object, or its event stream.

Read into the Chat Completions vocabulary the scorers know: ``finish_reason`` is ``tool_calls`` when
the model called functions, ``stop`` when it answered, ``length`` when ``max_output_tokens`` cut it.
Only *function* (and custom) calls become :class:`~evalkit.calls.ToolCall`; built-in tools (web and
file search, code interpreter) are the platform's work, not a function the caller must run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..calls import HTTP_ERROR, MALFORMED_REPLY, RATE_LIMITED, TRUNCATED_STREAM, ToolCall, Turn, TurnError
from . import shape
from .chat import settle
from .sse import parse_events

_ENDS = ("response.completed", "response.incomplete", "response.failed")


def turn_from_responses(body: Any) -> Turn:
    """A ``response`` object; never raises."""
    try:
        return settle(_response(shape.mapping(body, "response")))
    except shape.Unreadable as exc:
        return Turn.failed(MALFORMED_REPLY, str(exc))


def _response(body: Mapping[str, Any]) -> Turn:
    if body.get("status") == "failed" or body.get("error"):
        return failed_reply(body.get("error") or {}, "response failed")
    output = body.get("output")
    if not isinstance(output, list):
        raise shape.Unreadable(f"response has no output list: {shape.short(body)}")
    calls = tuple(call for item in output if (call := _call(shape.mapping(item, "output item"))) is not None)
    text = "".join(_message_text(shape.mapping(item, "output item")) for item in output) or None
    reply_id = shape.optional_str(body.get("id"), "response id")
    return Turn(calls, text, _finish(body, calls), None, *shape.usage(body), reply_id=reply_id)


def turn_from_responses_events(events: Iterable[Any]) -> Turn:
    """Decoded stream events. ``response.completed`` carries the whole response and wins; the item
    and delta events are what is left when the stream stops before it."""
    items: dict[int, dict[str, Any]] = {}
    text: list[str] = []
    try:
        for raw in events:
            event = shape.mapping(raw, "stream event")
            kind = event.get("type")
            if kind in _ENDS:
                return settle(_final(shape.mapping(event.get("response") or {}, "response"), items, text))
            if kind == "error":
                return failed_reply(event.get("error") or event, "error event in stream")
            _add_event(kind, event, items, text)
        calls = _item_calls(items)
    except shape.Unreadable as exc:
        return Turn.failed(MALFORMED_REPLY, f"stream: {exc}")
    got = f"{len(calls)} partial call(s)" if calls else f"{len(''.join(text))} characters of text"
    error = TurnError(TRUNCATED_STREAM, f"stream ended without response.completed after {got}")
    return Turn(calls, "".join(text) or None, None, error)


def turn_from_responses_stream(text: str) -> Turn:
    """A streamed reply as its raw SSE body."""
    events = []
    for number, event in enumerate(parse_events(text).events, start=1):
        try:
            events.append(shape.loads(event.data))
        except ValueError:
            return Turn.failed(MALFORMED_REPLY, f"stream event {number} is not JSON: {shape.short(event.data)}")
    return turn_from_responses_events(events)


def _add_event(kind: Any, event: Mapping[str, Any], items: dict[int, dict[str, Any]], text: list[str]) -> None:
    index = shape.index(event.get("output_index"))
    slot = items.setdefault(index, {}) if index is not None else {}
    if kind in ("response.output_item.added", "response.output_item.done"):
        slot.update(shape.optional_mapping(event.get("item"), "output item") or {})
    elif kind == "response.function_call_arguments.delta":
        slot["arguments"] = shape.arguments_text(slot.get("arguments")) + _delta_text(event.get("delta"))
    elif kind == "response.function_call_arguments.done":
        slot["arguments"] = shape.arguments_text(event.get("arguments", slot.get("arguments")))
    elif kind == "response.output_text.delta":
        text.append(shape.optional_str(event.get("delta"), "output_text delta") or "")


def _delta_text(delta: Any) -> str:
    # An arguments delta is text; a server sending an object sends whole arguments.
    if isinstance(delta, Mapping):
        return json.dumps(delta, ensure_ascii=False)
    return shape.optional_str(delta, "arguments delta") or ""


def _final(final: Mapping[str, Any], items: dict[int, dict[str, Any]], text: list[str]) -> Turn:
    if isinstance(final.get("output"), list) and final["output"]:
        return _response(final)
    # A completed event with an empty output: the calls are the ones the item events built.
    done = _response({**final, "output": []})
    calls = _item_calls(items)
    finish = _finish(final, calls)
    return Turn(calls, "".join(text) or None, finish, done.error, *shape.usage(final), reply_id=done.reply_id)


def _item_calls(items: dict[int, dict[str, Any]]) -> tuple[ToolCall, ...]:
    return tuple(call for _, item in sorted(items.items()) if (call := _call(item)) is not None)


def _call(item: Mapping[str, Any]) -> ToolCall | None:
    kind = item.get("type")
    if kind not in ("function_call", "custom_tool_call"):
        return None
    call_id = shape.optional_str(item.get("call_id"), f"{kind} call_id")
    arguments = item.get("arguments" if kind == "function_call" else "input")
    return ToolCall(shape.name(item.get("name"), f"{kind} name"), shape.arguments_text(arguments), call_id)


def _message_text(item: Mapping[str, Any]) -> str:
    if item.get("type") != "message":
        return ""
    parts = []
    for part in shape.items(item.get("content"), "message content"):
        part = shape.mapping(part, "message content part")
        if part.get("type") == "output_text":
            parts.append(shape.optional_str(part.get("text"), "output_text") or "")
    return "".join(parts)


def _finish(body: Mapping[str, Any], calls: tuple[ToolCall, ...]) -> str | None:
    status = shape.optional_str(body.get("status"), "response status")
    if status == "incomplete":
        details = shape.optional_mapping(body.get("incomplete_details"), "incomplete_details") or {}
        reason = details.get("reason")
        return "length" if reason in ("max_output_tokens", None) else shape.short(reason, 40)
    if status in ("completed", None):
        return "tool_calls" if calls else "stop"
    return status


def failed_reply(error: Any, what: str) -> Turn:
    """A failure the server reported inside a 200 reply (a failed response or run, an error event)."""
    detail = error if isinstance(error, Mapping) else {"message": str(error)}
    code = str(detail.get("code") or "")
    kind = RATE_LIMITED if code in ("rate_limit_exceeded", "rate_limit_error") else HTTP_ERROR
    if not detail:  # a cancelled or expired run usually says nothing more
        return Turn.failed(kind, what)
    return Turn.failed(kind, f"{what}: {code + ': ' if code else ''}{shape.short(detail.get('message') or detail)}")
