"""Parsing Responses API and Assistants API replies into :class:`~evalkit.calls.Turn`.

Both APIs are read into the Chat Completions vocabulary the scorers know: ``finish_reason`` is
``tool_calls`` when the model called functions, ``stop`` when it answered, ``length`` when it ran
out of tokens. Only *function* calls become :class:`~evalkit.calls.ToolCall`; built-in tools
(code interpreter, file search, web search) are the platform's work, not a function the model
asked the caller to run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .calls import (
    HTTP_ERROR,
    MALFORMED_REPLY,
    RATE_LIMITED,
    TRUNCATED_STREAM,
    ToolCall,
    Turn,
    TurnError,
    _arguments_text,
    _short,
    _usage,
)

# --- Responses API ------------------------------------------------------------------------------

_RESPONSE_ENDS = ("response.completed", "response.incomplete", "response.failed")


def turn_from_responses(body: Mapping[str, Any]) -> Turn:
    """A Responses API ``response`` object: ``function_call`` output items and message text."""
    if body.get("status") == "failed" or body.get("error"):
        return _failed(body.get("error") or {}, "response failed")
    output = body.get("output")
    if not isinstance(output, list):
        return Turn.failed(MALFORMED_REPLY, f"response has no output list: {_short(body)}")
    calls = tuple(call for call in map(_response_call, output) if call)
    text = "".join(_message_text(item) for item in output if isinstance(item, Mapping)) or None
    return Turn(calls, text, _response_finish(body, calls), None, *_usage(body))


def turn_from_responses_events(events: Iterable[Mapping[str, Any]]) -> Turn:
    """Responses API stream events. ``response.completed`` carries the whole response and wins;
    the item and delta events are what is left when the stream stops before it."""
    items: dict[int, dict[str, Any]] = {}
    text: list[str] = []
    for event in events:
        kind = event.get("type")
        if kind in _RESPONSE_ENDS:
            final = event.get("response") or {}
            if final.get("output"):
                return turn_from_responses(final)
            calls = tuple(call for _, item in sorted(items.items()) if (call := _response_call(item)))
            turn = turn_from_responses({**final, "output": []})
            return Turn(calls, "".join(text) or None, _response_finish(final, calls), turn.error, *_usage(final))
        if kind == "error":
            return _failed(event.get("error") or event, "error event in stream")
        slot = _stream_item(items, event)
        if kind in ("response.output_item.added", "response.output_item.done"):
            slot.update(event.get("item") or {})
        elif kind == "response.function_call_arguments.delta":
            slot["arguments"] = slot.get("arguments", "") + (event.get("delta") or "")
        elif kind == "response.function_call_arguments.done":
            slot["arguments"] = event.get("arguments", slot.get("arguments", ""))
        elif kind == "response.output_text.delta":
            text.append(event.get("delta") or "")
    calls = tuple(call for _, item in sorted(items.items()) if (call := _response_call(item)))
    got = f"{len(calls)} partial call(s)" if calls else f"{len(''.join(text))} characters of text"
    message = f"stream ended without response.completed after {got}"
    return Turn(calls, "".join(text) or None, None, TurnError(TRUNCATED_STREAM, message))


def _stream_item(items: dict[int, dict[str, Any]], event: Mapping[str, Any]) -> dict[str, Any]:
    index = event.get("output_index")
    if not isinstance(index, int):  # events that are not about one output item
        return {}
    return items.setdefault(index, {})


def _response_call(item: Any) -> ToolCall | None:
    if not isinstance(item, Mapping):
        return None
    if item.get("type") == "function_call":
        return ToolCall(item.get("name") or "", _arguments_text(item.get("arguments")), item.get("call_id"))
    if item.get("type") == "custom_tool_call":  # free-form input, like Chat's custom tools
        return ToolCall(item.get("name") or "", _arguments_text(item.get("input")), item.get("call_id"))
    return None


def _message_text(item: Mapping[str, Any]) -> str:
    if item.get("type") != "message":
        return ""
    parts = item.get("content") or ()
    return "".join(p.get("text") or "" for p in parts if isinstance(p, Mapping) and p.get("type") == "output_text")


def _response_finish(body: Mapping[str, Any], calls: tuple[ToolCall, ...]) -> str | None:
    status = body.get("status")
    if status == "incomplete":
        reason = (body.get("incomplete_details") or {}).get("reason")
        return "length" if reason in ("max_output_tokens", None) else str(reason)
    if status in ("completed", None):
        return "tool_calls" if calls else "stop"
    return str(status)


# --- Assistants API -----------------------------------------------------------------------------

# A run in one of these states has not answered yet: polling it again is the only thing to do.
PENDING_RUN_STATUSES = frozenset({"queued", "in_progress", "cancelling"})
_RUN_FAILURES = frozenset({"failed", "cancelled", "expired"})


def turn_from_assistants_run(body: Mapping[str, Any]) -> Turn:
    """An Assistants ``thread.run``: ``requires_action`` lists the function calls to run; a
    ``completed`` run's text lives in the thread's messages, not in the run."""
    status = body.get("status")
    if status in PENDING_RUN_STATUSES:
        return Turn.failed(TRUNCATED_STREAM, f"run is still {status}; poll it until it requires_action or completes")
    if status in _RUN_FAILURES:
        return _failed(body.get("last_error") or {}, f"run {status}")
    if status == "requires_action":
        action = (body.get("required_action") or {}).get("submit_tool_outputs") or {}
        raw_calls = action.get("tool_calls") or ()
        calls = tuple(
            _run_call(raw)
            for raw in raw_calls
            if isinstance(raw, Mapping) and raw.get("type", "function") == "function"
        )
        return Turn(calls, None, "tool_calls", None, *_usage(body))
    if status == "completed":
        return Turn((), None, "stop", None, *_usage(body))
    if status == "incomplete":
        reason = (body.get("incomplete_details") or {}).get("reason")
        return Turn(
            (),
            None,
            "length" if reason in ("max_completion_tokens", "max_prompt_tokens") else reason,
            None,
            *_usage(body),
        )
    return Turn.failed(MALFORMED_REPLY, f"not a run object (status {status!r}): {_short(body)}")


def turn_from_assistants_events(events: Iterable[tuple[str | None, Mapping[str, Any]]]) -> Turn:
    """A streamed run (``thread.run.*``, ``thread.run.step.*``, ``thread.message.*`` events, as
    ``(event name, data)`` pairs). Function calls arrive in ``thread.run.requires_action``; run
    step deltas repeat them, so they are not counted twice."""
    run: Mapping[str, Any] | None = None
    text: list[str] = []
    for name, data in events:
        if name == "error" or (name is None and "error" in data and "object" not in data):
            return _failed(data.get("error", data), "error event in stream")
        if data.get("object") == "thread.run":
            run = data
        elif data.get("object") == "thread.message.delta":
            for part in (data.get("delta") or {}).get("content") or ():
                text.append(((part.get("text") or {}).get("value") or "") if isinstance(part, Mapping) else "")
    content = "".join(text) or None
    if run is None or run.get("status") in PENDING_RUN_STATUSES:
        status = run.get("status") if run else "never announced"
        return Turn((), content, None, TurnError(TRUNCATED_STREAM, f"stream ended while the run was {status}"))
    turn = turn_from_assistants_run(run)
    return Turn(turn.calls, content, turn.finish_reason, turn.error, turn.prompt_tokens, turn.completion_tokens)


def _run_call(raw: Mapping[str, Any]) -> ToolCall:
    function = raw.get("function") or {}
    return ToolCall(function.get("name") or "", _arguments_text(function.get("arguments")), raw.get("id"))


def _failed(error: Any, what: str) -> Turn:
    """A failure the server reported inside a 200 reply (a failed response or run, an error event)."""
    detail = error if isinstance(error, Mapping) else {"message": str(error)}
    code = str(detail.get("code") or "")
    kind = RATE_LIMITED if code in ("rate_limit_exceeded", "rate_limit_error") else HTTP_ERROR
    return Turn.failed(kind, f"{what}: {code + ': ' if code else ''}{detail.get('message') or _short(detail)}")
