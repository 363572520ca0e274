"""Parsing model replies into :class:`~evalkit.calls.Turn` values, one module per API.

    http.py        any reply body or recorded exchange -> Turn (picks the API and the format)
    chat.py        Chat Completions: tool_calls, legacy function_call, whole or streamed
    stream.py      the one aggregator of streamed Chat Completions deltas
    responses.py   Responses API: response objects and their event streams
    assistants.py  Assistants API: thread.run objects and their event streams
    sse.py         server-sent events
    text_calls.py  tool calls written as text instead of made
    shape.py       reading JSON of unknown shape without raising

Every parser works on plain data (JSON text or decoded dicts), so live replies, replays and
cassettes recorded by other tools read alike. No parser raises on a reply: what cannot be read is
a Turn with a ``malformed_reply`` (or ``truncated_stream``) error.
"""

from __future__ import annotations

from .http import api_of, error_message, turn_from_body, turn_from_http
from .sse import is_sse
from .text_calls import TextToolCall, find_text_tool_call

__all__ = [
    "TextToolCall",
    "api_of",
    "error_message",
    "find_text_tool_call",
    "is_sse",
    "turn_from_body",
    "turn_from_http",
]
