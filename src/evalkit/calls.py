"""Tool calls and model turns: the values every parser produces and every scorer reads.

Parsing lives in :mod:`evalkit.parsing` (one module per API); this module only defines what a reply
amounts to. A reply evalkit could not read completely carries a :class:`TurnError`: such a job is an
*error*, left out of accuracy, never a pass and never a fail (an unknown outcome is not the model's).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

# Kinds of TurnError. Each says why there is no complete, readable reply to score.
HTTP_ERROR = "http_error"  # the server answered with an error status or an error object
RATE_LIMITED = "rate_limited"  # HTTP 429, or an error whose code says rate limit
CASSETTE_MISS = "cassette_miss"  # replay found no recorded response for the request
CONNECTION_ERROR = "connection_error"  # no answer at all (refused, reset, DNS, timeout)
TRUNCATED_STREAM = "truncated_stream"  # the body ended before the reply did (cut stream, no finish)
MALFORMED_REPLY = "malformed_reply"  # a body that is not the API's shape (HTML, empty, wrong types)
CONTENT_FILTER = "content_filter"  # the platform's filter withheld the reply
RUN_FAILED = "run_failed"  # an Assistants run ended failed (its last_error says why)
RUN_CANCELLED = "run_cancelled"  # an Assistants run was cancelled
RUN_EXPIRED = "run_expired"  # an Assistants run expired (tool outputs not submitted in time)
RUN_TIMEOUT = "run_timeout"  # an Assistants run still queued / in progress when the job's timeout ran out
TURN_ERROR_KINDS = (
    HTTP_ERROR,
    RATE_LIMITED,
    CASSETTE_MISS,
    CONNECTION_ERROR,
    TRUNCATED_STREAM,
    MALFORMED_REPLY,
    CONTENT_FILTER,
    RUN_FAILED,
    RUN_CANCELLED,
    RUN_EXPIRED,
    RUN_TIMEOUT,
)


@dataclass(frozen=True)
class ToolCall:
    """One function call as the model produced it. ``arguments`` is the raw JSON text, verbatim."""

    name: str
    arguments: str = "{}"
    id: str | None = None

    def decoded_arguments(self) -> Any:
        """The decoded arguments; raises ``ValueError`` when they are not valid JSON, or nest deeper
        than :data:`MAX_ARGUMENT_DEPTH` (no tool takes such arguments, and the checks that walk
        them recursively would hit Python's recursion limit)."""
        # An empty string is what servers send for a no-argument function in some streams.
        if not self.arguments.strip():
            return {}
        try:
            value = decode_json(self.arguments)
        except RecursionError:
            raise ValueError("arguments nest too deeply to read") from None
        # Nesting deeper than the limit needs more opening brackets than the limit: count them in C
        # first, and walk the value only when there are that many.
        text = self.arguments
        if text.count("{") + text.count("[") > MAX_ARGUMENT_DEPTH and _depth(value) > MAX_ARGUMENT_DEPTH:
            raise ValueError(f"arguments nest deeper than {MAX_ARGUMENT_DEPTH} levels")
        return value


MAX_ARGUMENT_DEPTH = 64

# Nineteen digits in a row: maybe an integer past 64 bits, which orjson reads as a float. (Written
# so: `re` searches it in two thirds of the time `[0-9]{19}` takes.)
_LONG_DIGITS = re.compile(r"[0-9][0-9]{18}")


def decode_json(text: str) -> Any:
    """``json.loads(text)``, the same value or the same ``ValueError``, twice as fast on tool
    arguments (0.8 µs against 1.6 µs a call on bench_bfcl's replies; orjson alone takes 0.3): orjson
    reads the text when it can. It refuses what json accepts and it does not (``NaN``, ``Infinity``,
    lone surrogates, numbers past the float range, nesting past 1,024 levels), and those go to json;
    it would read an integer past 64 bits as a float, so text with nineteen digits in a row goes to
    json unread. A hypothesis test holds the two equal."""
    if _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _depth(value: Any) -> int:
    """How deeply ``value`` nests (iteratively: it may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_ARGUMENT_DEPTH:
            break
        if isinstance(item, dict):
            stack += [(v, level + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, level + 1) for v in item]
    return deepest


@dataclass(frozen=True)
class TurnError:
    kind: str  # one of TURN_ERROR_KINDS, or the runner's internal_error / config_error
    message: str  # one line: what happened, with the server's own words when it gave any


@dataclass(frozen=True)
class Turn:
    """What one model reply amounts to: its calls, its text, and why it stopped.

    ``finish_reason`` uses the Chat Completions words (``stop``, ``tool_calls``, ``function_call``,
    ``length``, ``content_filter``) for every API. Token counts are as the server counted them."""

    calls: tuple[ToolCall, ...] = ()
    content: str | None = None
    finish_reason: str | None = None
    error: TurnError | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    server_seconds: float | None = None  # the time the server says it took (llama.cpp timings, Groq usage)
    reply_id: str | None = None  # the server's id of this reply (a Responses response id, an Assistants run id)

    @classmethod
    def failed(cls, kind: str, message: str) -> Turn:
        return cls(error=TurnError(kind, message))
