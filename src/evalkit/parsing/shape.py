"""Reading JSON of unknown shape: each accessor returns the value it promises or raises
:class:`Unreadable`, which the parsers turn into a ``malformed_reply`` turn.

Replies come from any OpenAI-shaped server, and some send ``null`` where a list belongs, a number
where text belongs, or a list where a name belongs. None of that may raise anything else: a reply
evalkit cannot read is an error of that job, never a crash of the run (DESIGN.md, "Quality bars").
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Mapping, Sequence
from typing import Any


class Unreadable(ValueError):
    """A reply that does not have the shape its API defines; the message says what and where."""


def mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Unreadable(f"{what} is not an object: {short(value)}")
    return value


def optional_mapping(value: Any, what: str) -> Mapping[str, Any] | None:
    return None if value is None else mapping(value, what)


def items(value: Any, what: str) -> Sequence[Any]:
    """A JSON array; ``null`` or a missing field is an empty one."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Unreadable(f"{what} is not a list: {short(value)}")
    return value


def optional_str(value: Any, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise Unreadable(f"{what} is not a string: {short(value)}")


def name(value: Any, what: str) -> str:
    """A function name: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise Unreadable(f"{what} is not a function name: {short(value)}")
    return value


def index(value: Any) -> int | None:
    """A stream's ``index``: an integer, or ``None`` when absent, ``null`` or of another type
    (servers that send no usable index are read by the no-index rules)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def arguments_text(value: Any) -> str:
    """A call's arguments as JSON text. Strings are kept verbatim (the scorers judge them); servers
    in the Ollama tradition send an object instead, which is written back as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def content_text(value: Any, what: str) -> str | None:
    """Message text: a string, ``null``, or a list of content parts (Mistral and some gateways send
    ``[{"type": "text", "text": ...}]``) whose text parts are joined."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for part in value:
            part = mapping(part, f"{what} part")
            if part.get("type") in ("text", "output_text", None):
                texts.append(optional_str(part.get("text"), f"{what} part text") or "")
        return "".join(texts)
    raise Unreadable(f"{what} is not text: {short(value)}")


def usage(body: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(prompt tokens, completion tokens) as the server counted them, when it did."""
    counts = body.get("usage")
    if not isinstance(counts, Mapping):
        return None, None

    def number(*keys: str) -> int | None:
        for key in keys:
            value = counts.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None

    return number("prompt_tokens", "input_tokens"), number("completion_tokens", "output_tokens")


def loads(text: str | bytes) -> Any:
    """``json.loads`` that raises only ``ValueError``: JSON nested deeper than Python's recursion
    limit (a few hundred ``[``) raises ``RecursionError`` from the standard decoder."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None


def server_seconds(body: Mapping[str, Any]) -> float | None:
    """The time a server reports it spent on a reply: llama.cpp's ``timings`` (prompt + generation,
    in ms) or Groq's ``usage.total_time`` / ``x_groq.usage.total_time`` (in s). ``None`` when absent."""
    timings = body.get("timings")
    if isinstance(timings, Mapping):
        prompt, predicted = timings.get("prompt_ms"), timings.get("predicted_ms")
        if isinstance(prompt, int | float) and isinstance(predicted, int | float):
            return round((float(prompt) + float(predicted)) / 1000, 4)
    for holder in (
        body.get("usage"),
        (body.get("x_groq") or {}).get("usage") if isinstance(body.get("x_groq"), Mapping) else None,
    ):
        if isinstance(holder, Mapping) and isinstance(holder.get("total_time"), int | float):
            return round(float(holder["total_time"]), 4)
    return None


def short(value: Any, limit: int = 160) -> str:
    """A value as one clipped line, for messages."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=repr, ensure_ascii=False)
        except (ValueError, RecursionError):  # circular or too deep: shown by its start only
            text = reprlib.repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_complete_json(text: str) -> bool:
    """Whether ``text`` is one whole JSON value (a call's arguments received in full)."""
    if not text.strip():
        return False
    try:
        loads(text)
    except ValueError:
        return False
    return True
