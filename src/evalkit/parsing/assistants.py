"""Assistants API runs (``thread.run`` objects and their event streams).

A run that ``requires_action`` lists the function calls to run; a ``completed`` run's text lives in
the thread's messages, not in the run. Runs still ``queued``/``in_progress`` have not answered yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..calls import MALFORMED_REPLY, RATE_LIMITED, TRUNCATED_STREAM, ToolCall, Turn, TurnError
from . import shape
from .chat import settle
from .responses import failed_reply
from .sse import parse_events

# A run in one of these states has not answered yet: polling it again is the only thing to do.
PENDING_RUN_STATUSES = frozenset({"queued", "in_progress", "cancelling"})
RUN_FAILURES = frozenset({"failed", "cancelled", "expired"})


def turn_from_assistants_run(body: Any) -> Turn:
    """A ``thread.run`` object; never raises."""
    try:
        return settle(_run(shape.mapping(body, "run")))
    except shape.Unreadable as exc:
        return Turn.failed(MALFORMED_REPLY, str(exc))


def _run(body: Mapping[str, Any]) -> Turn:
    status = shape.optional_str(body.get("status"), "run status")
    usage = shape.usage(body)
    if status in PENDING_RUN_STATUSES:
        return Turn.failed(TRUNCATED_STREAM, f"run is still {status}; poll it until it requires_action or completes")
    if status in RUN_FAILURES:
        failed = failed_reply(body.get("last_error") or {}, f"run {status}")
        if failed.error is not None and failed.error.kind != RATE_LIMITED:  # a rate limit keeps its own kind
            return Turn.failed(f"run_{status}", failed.error.message)
        return failed
    if status == "requires_action":
        action = shape.mapping(body.get("required_action"), "required_action")
        outputs = shape.mapping(action.get("submit_tool_outputs"), "submit_tool_outputs")
        calls = []
        for raw in shape.items(outputs.get("tool_calls"), "tool_calls"):
            call = shape.mapping(raw, "tool call")
            if call.get("type", "function") == "function":
                function = shape.mapping(call.get("function"), "tool call function")
                name = shape.name(function.get("name"), "function name")
                call_id = shape.optional_str(call.get("id"), "tool call id")
                calls.append(ToolCall(name, shape.arguments_text(function.get("arguments")), call_id))
        return Turn(tuple(calls), None, "tool_calls", None, *usage)
    if status == "completed":
        return Turn((), None, "stop", None, *usage)
    if status == "incomplete":
        details = shape.optional_mapping(body.get("incomplete_details"), "incomplete_details") or {}
        reason = details.get("reason")
        finish = "length" if reason in ("max_completion_tokens", "max_prompt_tokens", None) else str(reason)
        return Turn((), None, finish, None, *usage)
    raise shape.Unreadable(f"not a run object (status {status!r}): {shape.short(body)}")


def turn_from_assistants_events(events: Iterable[tuple[str | None, Any]]) -> Turn:
    """A streamed run as ``(event name, decoded data)`` pairs. Calls come from
    ``thread.run.requires_action``; run-step deltas repeat them, so they are not counted twice."""
    run: Mapping[str, Any] | None = None
    text: list[str] = []
    try:
        for name, raw in events:
            data = shape.mapping(raw, "stream event")
            if name == "error" or (name is None and "error" in data and "object" not in data):
                return failed_reply(data.get("error", data), "error event in stream")
            if data.get("object") == "thread.run":
                run = data
            elif data.get("object") == "thread.message.delta":
                delta = shape.optional_mapping(data.get("delta"), "message delta") or {}
                for part in shape.items(delta.get("content"), "message delta content"):
                    part_text = shape.optional_mapping(shape.mapping(part, "content part").get("text"), "text part")
                    text.append(shape.optional_str((part_text or {}).get("value"), "text value") or "")
    except shape.Unreadable as exc:
        return Turn.failed(MALFORMED_REPLY, f"stream: {exc}")
    content = "".join(text) or None
    if run is None or _status(run) in PENDING_RUN_STATUSES:
        status = _status(run) if run else "never announced"
        return Turn((), content, None, TurnError(TRUNCATED_STREAM, f"stream ended while the run was {status}"))
    turn = turn_from_assistants_run(run)
    return Turn(turn.calls, content, turn.finish_reason, turn.error, turn.prompt_tokens, turn.completion_tokens)


def turn_from_assistants_stream(text: str) -> Turn:
    """A streamed run as its raw SSE body."""
    events: list[tuple[str | None, Any]] = []
    for number, event in enumerate(parse_events(text).events, start=1):
        try:
            events.append((event.name, shape.loads(event.data)))
        except ValueError:
            return Turn.failed(MALFORMED_REPLY, f"stream event {number} is not JSON: {shape.short(event.data)}")
    return turn_from_assistants_events(events)


def _status(run: Mapping[str, Any]) -> str | None:
    status = run.get("status")
    return status if isinstance(status, str) else None
