"""The one aggregator of streamed Chat Completions deltas, for live replies and recorded ones alike.

OpenAI sends each call's first delta with ``index``, ``id`` and ``name``, then argument fragments at
the same ``index``. Other servers do not (each rule below comes from a published bug report):

- **a new ``id`` starts a new call, even at an index in use**: Ollama through LiteLLM and older vLLM
  builds send every parallel call at index 0, each with its own id;
- **no ``index`` at all** (Gemini, SGLang, Ollama, Mistral): a delta carrying a name or a new id
  starts a call, a fragment with neither continues the last call, and several whole calls in one
  delta are several calls;
- **a name resent in every delta is not concatenated**, and a fragment equal to the whole arguments
  already received is a repeat (kimi-k2 through OpenRouter resends both);
- a whole call to the *same* function, arriving after the last one's arguments are complete JSON,
  is a second call (two parallel calls to one function without ids);
- ``arguments`` sent as a JSON object is accepted (written back as JSON text).

Calls are returned in the order they started, or by ``index`` when every call has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..calls import HTTP_ERROR, MALFORMED_REPLY, RATE_LIMITED, TRUNCATED_STREAM, ToolCall, Turn, TurnError
from . import shape


@dataclass
class _Call:
    index: int | None
    id: str | None = None
    name: str = ""
    arguments: str = ""
    kind: str = "function"  # or "custom" (free-form input)


@dataclass
class ChatStreamAggregator:
    """Feed it the decoded ``data`` of each chunk, in order; then ask for the :class:`Turn`.

    ``add`` raises :class:`~evalkit.parsing.shape.Unreadable` for a chunk of the wrong shape; the
    callers turn that into a ``malformed_reply`` turn."""

    choice: int = 0
    _calls: list[_Call] = field(default_factory=list)
    _by_index: dict[int, _Call] = field(default_factory=dict)
    _legacy: _Call | None = None
    _content: list[str] = field(default_factory=list)
    _finish_reason: str | None = None
    _error: TurnError | None = None
    _usage: tuple[int | None, int | None] = (None, None)
    _server_seconds: float | None = None
    chunks: int = 0

    def add(self, chunk: Any) -> None:
        self.chunks += 1  # first: a chunk that cannot be read is still counted, so messages name it
        chunk = shape.mapping(chunk, "stream chunk")
        if self._error is not None:
            return
        if chunk.get("error"):  # vLLM and gateways report a failure mid-stream this way
            self._error = _error_event(chunk["error"])
            return
        if isinstance(chunk.get("usage"), Mapping):
            self._usage = shape.usage(chunk)
        self._server_seconds = shape.server_seconds(chunk) or self._server_seconds
        for position, raw in enumerate(shape.items(chunk.get("choices"), "choices")):
            streamed = shape.mapping(raw, "choice")
            if (shape.index(streamed.get("index")) if "index" in streamed else position) != self.choice:
                continue
            # A few servers put the delta under "message", as in a non-streamed reply.
            delta = shape.optional_mapping(streamed.get("delta", streamed.get("message")), "delta") or {}
            if text := shape.content_text(delta.get("content"), "delta content"):
                self._content.append(text)
            for piece in shape.items(delta.get("tool_calls"), "delta tool_calls"):
                self._add_piece(shape.mapping(piece, "tool call delta"))
            if (legacy := shape.optional_mapping(delta.get("function_call"), "function_call delta")) is not None:
                self._add_legacy(legacy)
            self._finish_reason = shape.optional_str(streamed.get("finish_reason"), "finish_reason") or (
                self._finish_reason
            )

    def _add_piece(self, piece: Mapping[str, Any]) -> None:
        index = shape.index(piece.get("index"))
        call_id = shape.optional_str(piece.get("id"), "tool call id") or None
        kind = "custom" if piece.get("type") == "custom" else "function"
        body = shape.optional_mapping(piece.get(kind), f"tool call {kind}") or {}
        name = shape.optional_str(body.get("name"), "function name") or None
        fragment = shape.arguments_text(body.get("input" if kind == "custom" else "arguments"))
        call = self._call_for(index, call_id, name, fragment)
        call.kind = kind
        _join(call, call_id, name, fragment)

    def _call_for(self, index: int | None, call_id: str | None, name: str | None, fragment: str) -> _Call:
        if index is not None:
            current = self._by_index.get(index)
            if current is None and self._calls and self._calls[-1].index is None:
                current = self._calls[-1]  # a call that started without an index gets one now
        else:
            current = self._calls[-1] if self._calls else None
        if current is None or _starts_new_call(current, call_id, name, fragment):
            current = _Call(index)
            self._calls.append(current)
        if index is not None:
            current.index = index
            self._by_index[index] = current
        return current

    def _add_legacy(self, piece: Mapping[str, Any]) -> None:
        if self._legacy is None:
            self._legacy = _Call(None)
        name = shape.optional_str(piece.get("name"), "function_call name") or None
        _join(self._legacy, None, name, shape.arguments_text(piece.get("arguments")))

    def turn(self, *, done: bool = False) -> Turn:
        """The reply so far. ``done``: the server said ``[DONE]``. A stream with neither a
        ``finish_reason`` nor ``[DONE]`` was cut off: its partial calls are kept, marked truncated."""
        calls = self._calls
        if calls and all(c.index is not None for c in calls):
            calls = sorted(calls, key=lambda c: c.index or 0)
        made = [ToolCall(c.name, c.arguments, c.id) for c in calls]
        if self._legacy is not None:
            made.append(ToolCall(self._legacy.name, self._legacy.arguments))
        text = "".join(self._content) or None
        usage = (*self._usage, self._server_seconds)
        if self._error is not None:
            return Turn(tuple(made), text, None, self._error, *usage)
        if self._finish_reason is None and not done:
            got = f"{len(made)} partial call(s)" if made else f"{len(text or '')} characters of text"
            error = TurnError(TRUNCATED_STREAM, f"stream ended without a finish_reason or [DONE] after {got}")
            return Turn(tuple(made), text, None, error, *usage)
        if nameless := [i for i, c in enumerate(made) if not c.name]:
            error = TurnError(MALFORMED_REPLY, f"streamed tool call {nameless[0]} never got a function name")
            return Turn(tuple(made), text, self._finish_reason, error, *usage)
        return Turn(tuple(made), text, self._finish_reason, None, *usage)


def _starts_new_call(current: _Call, call_id: str | None, name: str | None, fragment: str) -> bool:
    if call_id is not None and current.id is not None:
        return call_id != current.id
    if name is None or not current.name:
        return False  # an argument fragment, or the first name of a call that had none yet
    if name != current.name:
        return True
    # The same name again: a resend, unless the current call is whole and new arguments follow.
    return shape.is_complete_json(current.arguments) and bool(fragment) and fragment != current.arguments


def _join(call: _Call, call_id: str | None, name: str | None, fragment: str) -> None:
    call.id = call.id or call_id
    call.name = call.name or name or ""
    if fragment and not (fragment == call.arguments and shape.is_complete_json(fragment)):
        call.arguments += fragment


def _error_event(error: Any) -> TurnError:
    detail = error if isinstance(error, Mapping) else {"message": error}
    code = str(detail.get("code") or detail.get("type") or "")
    kind = RATE_LIMITED if "rate_limit" in code or code == "429" else HTTP_ERROR
    message = shape.short(detail.get("message") or detail)
    return TurnError(kind, f"error event in stream: {code + ': ' if code else ''}{message}")
