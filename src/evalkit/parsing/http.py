"""Any HTTP reply of a model API, live or recorded, as a :class:`~evalkit.calls.Turn`.

The SDK path (:mod:`evalkit.providers`) and the reader of other tools' cassettes both end here, so a
reply reads the same whichever way it came. The format is chosen by the body, not by what was asked
for or by the Content-Type: a proxy that ignores ``stream: true`` answers a whole JSON object, and
recorded Content-Type headers are often wrong or missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from ..calls import HTTP_ERROR, MALFORMED_REPLY, RATE_LIMITED, Turn
from . import shape
from .assistants import PENDING_RUN_STATUSES, turn_from_assistants_run, turn_from_assistants_stream
from .chat import turn_from_chat_completion, turn_from_chat_stream
from .responses import turn_from_responses, turn_from_responses_stream
from .sse import is_sse

Api = Literal["chat", "responses", "assistants"]

_CHAT_PATH = re.compile(r"/chat/completions/?$")
_RESPONSES_PATH = re.compile(r"/responses(?:/[^/]+(?:/cancel)?)?/?$")
_RUN_PATH = re.compile(r"/threads/(?:[^/]+/)?runs(?:/[^/]+(?:/submit_tool_outputs|/cancel)?)?/?$")


def api_of(uri: str) -> Api | None:
    """Which API a URL belongs to (by its path, which every client and proxy keeps), or ``None``."""
    try:
        path = urlsplit(uri).path
    except ValueError:  # a URL urllib refuses (a broken IPv6 host): its path is still after the host
        path = "/" + uri.split("://", 1)[-1].partition("/")[2].partition("?")[0]
    if _CHAT_PATH.search(path):
        return "chat"
    if _RESPONSES_PATH.search(path):
        return "responses"
    if _RUN_PATH.search(path):
        return "assistants"
    return None


def turn_from_body(api: Api, body_text: str, *, status: int = 200, choice: int = 0) -> Turn:
    """The turn in one reply body of ``api``. Never raises: a body of the wrong shape (HTML, empty,
    not the API's JSON) is a ``malformed_reply`` turn, an error status an ``http_error`` one."""
    if status == 429:
        return Turn.failed(RATE_LIMITED, f"HTTP 429: {error_message(body_text)}")
    if status >= 400:
        return Turn.failed(HTTP_ERROR, f"HTTP {status}: {error_message(body_text)}")
    if not body_text.strip():
        return Turn.failed(MALFORMED_REPLY, f"HTTP {status} with an empty body")
    if is_sse(body_text):
        if api == "chat":
            return turn_from_chat_stream(body_text, choice=choice)
        if api == "responses":
            return turn_from_responses_stream(body_text)
        return turn_from_assistants_stream(body_text)
    try:
        body = shape.loads(body_text)
    except ValueError:
        return Turn.failed(MALFORMED_REPLY, f"reply is neither JSON nor an event stream: {shape.short(body_text)}")
    if api == "chat":
        return turn_from_chat_completion(body, choice=choice)
    if api == "responses":
        return turn_from_responses(body)
    return turn_from_assistants_run(body)


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
    """The model turn in one recorded exchange, or ``None`` when the exchange is not a model reply
    (creating a thread or an assistant, uploading a file, listing messages, a run still working).

    ``method``, ``request_body`` and ``headers`` are not needed to read the reply; they are taken so
    a recorded exchange can be passed as it is."""
    api = api_of(uri)
    if api is None:
        return None
    if api == "assistants" and status < 400 and not is_sse(body_text):
        try:
            body = shape.loads(body_text)
        except ValueError:
            body = None
        if isinstance(body, Mapping):
            run_status = body.get("status")
            pending = isinstance(run_status, str) and run_status in PENDING_RUN_STATUSES
            if body.get("object") == "list" or pending:
                return None  # a listing, or a poll that found the run still working: no reply yet
    return turn_from_body(api, body_text, status=status, choice=choice)


def error_message(body_text: str) -> str:
    """The human part of an error body (``{"error": {"message": ...}}`` and its variants)."""
    try:
        body: Any = shape.loads(body_text)
    except ValueError:
        return shape.short(body_text.strip() or "(empty body)")
    detail = body.get("error", body) if isinstance(body, Mapping) else body
    if isinstance(detail, Mapping):
        detail = detail.get("message") or detail.get("detail") or detail
    elif isinstance(detail, list) and detail and isinstance(detail[0], Mapping):  # Gemini wraps it in a list
        inner = detail[0].get("error", detail[0])
        detail = inner.get("message", inner) if isinstance(inner, Mapping) else inner
    return shape.short(detail)
