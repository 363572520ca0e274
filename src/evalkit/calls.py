"""Tool calls and model turns, and parsing API replies into them.

Parsing works on plain ``dict``s (an SDK object's ``model_dump()``, or JSON straight out of a
cassette) and on SSE text, so the same code reads live replies, replays, and cassettes recorded
by other tools. A reply that cannot be read becomes a :class:`Turn` with an ``error``; it never
raises and never turns into "the model made no call".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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


def turn_from_chat_completion(body: Mapping[str, Any], *, choice: int = 0) -> Turn:
    """A non-streamed Chat Completions reply (``tool_calls`` or legacy ``function_call``).
    A Turn is one choice: with ``n`` > 1 the others are separate answers, not parallel calls."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        return Turn.failed(MALFORMED_REPLY, f"reply has no choices: {_short(body)}")
    picked = next((c for i, c in enumerate(choices) if isinstance(c, Mapping) and c.get("index", i) == choice), None)
    if picked is None:
        return Turn.failed(MALFORMED_REPLY, f"reply has no choice {choice}: {_short(body)}")
    message = picked.get("message")
    if not isinstance(message, Mapping):
        return Turn.failed(MALFORMED_REPLY, f"choice has no message: {_short(picked)}")
    calls = [_tool_call(raw) for raw in message.get("tool_calls") or () if isinstance(raw, Mapping)]
    legacy = message.get("function_call")
    if legacy:
        calls.append(ToolCall(legacy.get("name") or "", _arguments_text(legacy.get("arguments"))))
    return Turn(tuple(calls), message.get("content"), picked.get("finish_reason"), None, *_usage(body))


def _tool_call(raw: Mapping[str, Any]) -> ToolCall:
    if raw.get("type") == "custom":  # GPT-5 custom tools: free-form text input, not JSON arguments
        custom = raw.get("custom") or {}
        return ToolCall(custom.get("name") or "", _arguments_text(custom.get("input")), raw.get("id"))
    function = raw.get("function") or {}
    return ToolCall(function.get("name") or "", _arguments_text(function.get("arguments")), raw.get("id"))


def turn_from_chat_chunks(chunks: Iterable[Mapping[str, Any]], *, choice: int = 0) -> Turn:
    """Streamed Chat Completions chunks: tool_call deltas joined by ``index``, function_call
    deltas joined in order. A stream that ends before any ``finish_reason`` is truncated."""
    parts: dict[int, dict[str, Any]] = {}
    legacy: dict[str, Any] | None = None
    content: list[str] = []
    finish_reason = None
    usage: tuple[int | None, int | None] = (None, None)
    for chunk in chunks:
        if chunk.get("usage"):
            usage = _usage(chunk)
        if chunk.get("error"):
            return Turn.failed(HTTP_ERROR, f"error event in stream: {_short(chunk['error'])}")
        for position, streamed in enumerate(chunk.get("choices") or ()):
            if streamed.get("index", position) != choice:
                continue
            delta = streamed.get("delta") or {}
            if delta.get("content"):
                content.append(delta["content"])
            for piece in delta.get("tool_calls") or ():
                # Mistral sends each call whole in one delta, without an index: a new slot each time.
                slot = parts.setdefault(piece.get("index", len(parts)), {"id": None, "name": "", "arguments": ""})
                _add_delta(slot, piece)
            if delta.get("function_call"):
                legacy = legacy or {"id": None, "name": "", "arguments": ""}
                _add_delta(legacy, {"function": delta["function_call"]})
            finish_reason = streamed.get("finish_reason") or finish_reason
    calls = [ToolCall(p["name"], p["arguments"], p["id"]) for _, p in sorted(parts.items())]
    if legacy:
        calls.append(ToolCall(legacy["name"], legacy["arguments"]))
    text = "".join(content) or None
    if finish_reason is None:
        got = f"{len(calls)} partial call(s)" if calls else f"{len(text or '')} characters of text"
        return Turn(
            tuple(calls),
            text,
            None,
            TurnError(TRUNCATED_STREAM, f"stream ended without a finish_reason after {got}"),
            *usage,
        )
    return Turn(tuple(calls), text, finish_reason, None, *usage)


def _add_delta(slot: dict[str, Any], piece: Mapping[str, Any]) -> None:
    """Join one streamed piece of a call into ``slot``. Some OpenAI-compatible servers (kimi-k2
    via OpenRouter) repeat the whole name, or the whole arguments, in a later delta: a piece equal
    to what is already there is a repeat, not a continuation."""
    slot["id"] = slot["id"] or piece.get("id")
    function = piece.get("function") or {}
    name = function.get("name") or ""
    if name != slot["name"]:
        slot["name"] += name
    arguments = _arguments_text(function.get("arguments"))
    if arguments != slot["arguments"] or not _is_json(arguments):
        slot["arguments"] += arguments


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# --- SSE ----------------------------------------------------------------------------------------


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """Split an SSE body into ``(event, data)`` pairs; ``data: [DONE]`` is dropped."""
    events: list[tuple[str | None, str]] = []
    event: str | None = None
    data: list[str] = []
    for line in [*text.splitlines(), ""]:
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
    return usage.get("prompt_tokens", usage.get("input_tokens")), usage.get(
        "completion_tokens", usage.get("output_tokens")
    )


def _arguments_text(value: Any) -> str:
    # Some OpenAI-compatible servers (Ollama-style) send arguments as an object, not a string.
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Any recorded HTTP exchange -----------------------------------------------------------------

_CHAT_PATH = re.compile(r"/chat/completions/?$")
_RESPONSES_PATH = re.compile(r"/responses(?:/[^/]+(?:/cancel)?)?/?$")
_RUN_PATH = re.compile(r"/threads/(?:[^/]+/)?runs(?:/[^/]+(?:/submit_tool_outputs|/cancel)?)?/?$")


def turn_from_http(
    method: str,
    uri: str,
    request_body: str,
    status: int,
    headers: Mapping[str, str],
    body_text: str,
    *,
    choice: int = 0,
) -> Turn | None:
    """The model turn in one HTTP exchange, or ``None`` when the exchange is not a model reply
    (creating a thread or an assistant, uploading a file, listing messages, an unfinished run).

    The API is chosen by the URL path, which every client and proxy keeps; SSE is recognised by
    the body, because recorded Content-Type headers are often wrong or missing.
    ``request_body`` and ``headers`` are not needed to read the reply; they are accepted so a
    recorded exchange can be passed as is."""
    from . import calls_responses as other  # it builds on this module's types

    path = urlsplit(uri).path
    if _CHAT_PATH.search(path):
        api = "chat"
    elif _RESPONSES_PATH.search(path):
        api = "responses"
    elif _RUN_PATH.search(path):
        api = "assistants"
    else:
        return None
    if status == 429:
        return Turn.failed(RATE_LIMITED, f"HTTP 429: {error_message(body_text)}")
    if status >= 400:
        return Turn.failed(HTTP_ERROR, f"HTTP {status}: {error_message(body_text)}")
    if not body_text.strip():
        return Turn.failed(MALFORMED_REPLY, f"HTTP {status} with an empty body")
    try:
        if is_sse(body_text):
            if api == "chat":
                return turn_from_chat_chunks(sse_json(body_text), choice=choice)
            if api == "responses":
                return other.turn_from_responses_events(sse_json(body_text))
            return other.turn_from_assistants_events([(e, json.loads(d)) for e, d in sse_events(body_text)])
        body = json.loads(body_text)
    except ValueError as exc:
        return Turn.failed(MALFORMED_REPLY, f"reply is not valid JSON ({exc}): {_short(body_text)}")
    if not isinstance(body, Mapping):
        return Turn.failed(MALFORMED_REPLY, f"reply is not a JSON object: {_short(body_text)}")
    if api == "chat":
        return turn_from_chat_completion(body, choice=choice)
    if api == "responses":
        return other.turn_from_responses(body)
    if body.get("object") == "list" or body.get("status") in other.PENDING_RUN_STATUSES:
        return None  # a listing, or a poll that found the run still working: no reply yet
    return other.turn_from_assistants_run(body)


def is_sse(text: str) -> bool:
    """Whether a body is a server-sent event stream. JSON cannot have a line starting with ``data:``."""
    return re.search(r"^data:", text, re.MULTILINE) is not None


def error_message(body_text: str) -> str:
    """The human part of an error body (``{"error": {"message": ...}}`` and its variants)."""
    try:
        body = json.loads(body_text)
    except ValueError:
        return _short(body_text.strip() or "(empty body)")
    detail = body.get("error", body) if isinstance(body, Mapping) else body
    if isinstance(detail, Mapping):
        detail = detail.get("message") or detail.get("detail") or detail
    return _short(detail)
