"""Tool calls and model turns, and parsing API replies into them.

Parsing works on plain ``dict``s (an SDK object's ``model_dump()``, or JSON straight out of a
cassette) and on SSE text, so the same code reads live replies, replays, and cassettes recorded
by other tools. A reply that cannot be read becomes a :class:`Turn` with an ``error``; it never
raises and never turns into "the model made no call".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Failure kinds a Turn can carry instead of a reply. Infrastructure errors are not the model's
# fault: reports count them apart and accuracy leaves them out (see scorers.INFRA_ERRORS).
HTTP_ERROR = "http_error"
RATE_LIMITED = "rate_limited"
CASSETTE_MISS = "cassette_miss"
CONNECTION_ERROR = "connection_error"
TRUNCATED_STREAM = "truncated_stream"
MALFORMED_REPLY = "malformed_reply"


@dataclass(frozen=True)
class ToolCall:
    """One function call as the model produced it. ``arguments`` is the raw JSON text."""

    name: str
    arguments: str = "{}"
    id: str | None = None

    def decoded_arguments(self) -> Any:
        """The decoded arguments; raises ``ValueError`` when they are not valid JSON."""
        # An empty string is what servers send for a no-argument function in some streams.
        return json.loads(self.arguments) if self.arguments.strip() else {}


@dataclass(frozen=True)
class TurnError:
    kind: str
    message: str


@dataclass(frozen=True)
class Turn:
    """What one model reply amounts to: its calls, its text, and why it stopped."""

    calls: tuple[ToolCall, ...] = ()
    content: str | None = None
    finish_reason: str | None = None
    error: TurnError | None = None
    prompt_tokens: int | None = None  # as the server counted them (shows prompt size per tool count)
    completion_tokens: int | None = None

    @classmethod
    def failed(cls, kind: str, message: str) -> Turn:
        return cls(error=TurnError(kind, message))


# --- Chat Completions ---------------------------------------------------------------------------


def turn_from_chat_completion(body: Mapping[str, Any]) -> Turn:
    """A non-streamed Chat Completions reply (``tool_calls`` or legacy ``function_call``)."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        return Turn.failed(MALFORMED_REPLY, f"reply has no choices: {_short(body)}")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, Mapping) else None
    if not isinstance(message, Mapping):
        return Turn.failed(MALFORMED_REPLY, f"choice has no message: {_short(choice)}")
    calls: list[ToolCall] = []
    for raw in message.get("tool_calls") or ():
        function = raw.get("function") or {}
        calls.append(ToolCall(function.get("name") or "", _arguments_text(function.get("arguments")), raw.get("id")))
    legacy = message.get("function_call")
    if legacy:
        calls.append(ToolCall(legacy.get("name") or "", _arguments_text(legacy.get("arguments"))))
    return Turn(tuple(calls), message.get("content"), choice.get("finish_reason"), None, *_usage(body))


def turn_from_chat_chunks(chunks: Iterable[Mapping[str, Any]]) -> Turn:
    """Streamed Chat Completions chunks: tool_call deltas joined by ``index``, function_call
    deltas joined in order. A stream that ends before any ``finish_reason`` is truncated."""
    parts: dict[int, dict[str, Any]] = {}
    legacy: dict[str, str] | None = None
    content: list[str] = []
    finish_reason = None
    usage: tuple[int | None, int | None] = (None, None)
    for chunk in chunks:
        if chunk.get("usage"):
            usage = _usage(chunk)
        if chunk.get("error"):
            return Turn.failed(HTTP_ERROR, f"error event in stream: {_short(chunk['error'])}")
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                content.append(delta["content"])
            for piece in delta.get("tool_calls") or ():
                slot = parts.setdefault(piece.get("index", len(parts)), {"id": None, "name": "", "arguments": ""})
                slot["id"] = slot["id"] or piece.get("id")
                function = piece.get("function") or {}
                slot["name"] += function.get("name") or ""
                slot["arguments"] += function.get("arguments") or ""
            if delta.get("function_call"):
                legacy = legacy or {"name": "", "arguments": ""}
                legacy["name"] += delta["function_call"].get("name") or ""
                legacy["arguments"] += delta["function_call"].get("arguments") or ""
            finish_reason = choice.get("finish_reason") or finish_reason
    calls = [ToolCall(p["name"], p["arguments"], p["id"]) for _, p in sorted(parts.items())]
    if legacy:
        calls.append(ToolCall(legacy["name"], legacy["arguments"]))
    text = "".join(content) or None
    if finish_reason is None:
        got = f"{len(calls)} partial call(s)" if calls else f"{len(text or '')} characters of text"
        return Turn(tuple(calls), text, None, TurnError(TRUNCATED_STREAM, f"stream ended without a finish_reason after {got}"), *usage)
    return Turn(tuple(calls), text, finish_reason, None, *usage)


# --- SSE ----------------------------------------------------------------------------------------


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """Split an SSE body into ``(event, data)`` pairs; ``data: [DONE]`` is dropped."""
    events: list[tuple[str | None, str]] = []
    event: str | None = None
    data: list[str] = []
    for line in text.splitlines() + [""]:
        if not line:
            if data and data != ["[DONE]"]:
                events.append((event, "\n".join(data)))
            event, data = None, []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line.startswith("event:"):
            event = line[6:].strip()
    return events


def sse_json(text: str) -> list[dict[str, Any]]:
    """The JSON objects of an SSE body; raises ``ValueError`` on a data line that is not JSON."""
    return [json.loads(data) for _, data in sse_events(text)]


def _usage(body: Mapping[str, Any]) -> tuple[int | None, int | None]:
    usage = body.get("usage")
    if not isinstance(usage, Mapping):
        return None, None
    return usage.get("prompt_tokens", usage.get("input_tokens")), usage.get("completion_tokens", usage.get("output_tokens"))


def _arguments_text(value: Any) -> str:
    # Some OpenAI-compatible servers (Ollama-style) send arguments as an object, not a string.
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"
