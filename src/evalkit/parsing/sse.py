"""Server-sent events, as the SSE spec reads them (https://html.spec.whatwg.org/#event-stream-interpretation).

Recorded bodies come with any line ending, with or without a space after ``data:``, with comments
(``: keep-alive``), and with or without the ``data: [DONE]`` that OpenAI-style servers send last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SSE_LINE = re.compile(r"^(?:data|event):", re.MULTILINE)
DONE = "[DONE]"
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Event:
    """One dispatched event: its ``event:`` name (``None`` when the stream names none) and its data."""

    name: str | None
    data: str


@dataclass(frozen=True)
class EventStream:
    """The events of a body, and whether the server said ``[DONE]`` (the stream ended on purpose)."""

    events: tuple[Event, ...]
    done: bool


def is_sse(text: str) -> bool:
    """Whether a body is an event stream. Decided by the body, because recorded Content-Type headers
    are often wrong (``application/json`` on a stream) or gone; JSON never has a line starting with
    ``data:`` or ``event:``."""
    return _SSE_LINE.search(text) is not None


def parse_events(text: str) -> EventStream:
    """Split ``text`` into events. ``data: [DONE]`` ends the stream and is not an event; an event
    still open when the text ends (no blank line after it) is kept, as a cut-off stream's last piece."""
    events: list[Event] = []
    name: str | None = None
    data: list[str] = []
    done = False
    # Only CR, LF and CRLF end a line (the SSE spec); str.splitlines would also split at U+2028,
    # U+2029 or NEL inside a JSON string a server sends raw.
    for line in [*_LINE_END.split(text), ""]:
        if not line:
            if data:
                joined = "\n".join(data)
                if joined.strip() == DONE:
                    done = True
                else:
                    events.append(Event(name, joined))
            name, data = None, []
        elif line.startswith(":"):
            continue  # a comment, often a keep-alive
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "event":
                name = value.strip() or None
    return EventStream(tuple(events), done)
