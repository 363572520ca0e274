"""The "no reply raises" law through the real openai SDK (issue 8): the bodies of
``tests/unit/parsing/test_laws.py`` served over ``httpx2.MockTransport`` to
``evalkit.providers.call_api``, as whole bodies, in pieces, and cut by a connection that breaks
mid-body; with error statuses (JSON, HTML or empty bodies), lying Content-Type headers, a plain JSON
completion answering a streamed request, an HTML page, an empty 200.

Laws:

- ``call_api`` never raises, and its Turn is well formed (law (b) of the parser laws);
- a connection that breaks mid-body is a ``truncated_stream`` error (2xx) or the error status's own
  kind (4xx/5xx), never a complete reply;
- a body delivered whole reads through the SDK exactly as the pure parser reads it (streamed request
  or not, whatever the Content-Type says): the SDK path and replayed cassettes agree.

The number of examples comes from the hypothesis profile (see ``tests/conftest.py``).
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx2
import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.calls import CONNECTION_ERROR, HTTP_ERROR, RATE_LIMITED, TRUNCATED_STREAM, ToolCall, Turn
from evalkit.parsing import turn_from_body
from evalkit.parsing.http import Api
from evalkit.providers import call_api


def _load_laws() -> ModuleType:
    """The body strategies of the parser laws (a test module, so loaded by path, not imported)."""
    name = "evalkit_tests_parsing_laws"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "unit" / "parsing" / "test_laws.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file executes
        spec.loader.exec_module(module)
    return sys.modules[name]


laws = _load_laws()

ERROR_STATUSES = (400, 401, 429, 500, 503)
ERROR_BODIES = (
    b'{"error": {"message": "Invalid value for \'tools\'", "type": "invalid_request_error", "param": "tools", "code": null}}',
    b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}',
    b'{"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "requests", "code": "rate_limit_exceeded"}}',
    b'{"detail": "Not Found"}',
    b'[{"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}]',
    b"<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503</h1></center></body></html>",
    b"upstream connect error or disconnect/reset before headers. reset reason: overflow",
    b"",
)
CONTENT_TYPES = (
    "application/json",
    "text/event-stream; charset=utf-8",
    "text/html; charset=utf-8",
    "text/plain",
    None,
)


@dataclass(frozen=True)
class Exchange:
    """One reply as the mock server sends it: the status, the headers, the body and how it arrives
    (``whole``; in ``pieces``; or ``broken``: the pieces, then the connection drops)."""

    target: str
    status: int
    headers: dict[str, str]
    body: bytes
    pieces: tuple[bytes, ...]
    delivery: str
    streamed_request: bool
    mutations: tuple[str, ...]  # () for a realistic reply as built
    calls: tuple[ToolCall, ...]  # the calls it was built with (none for an error page)

    @property
    def api(self) -> Api:
        return laws.api_of(self.target)  # type: ignore[no-any-return]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@st.composite
def exchanges(draw: st.DrawFn, target: str) -> Exchange:
    """A realistic or mutated body of ``target`` (or an error page, an empty body), a status,
    headers, and a way to arrive."""
    status = draw(st.sampled_from((200, 200, 200, 200, 201, *ERROR_STATUSES)))
    if draw(st.integers(0, 3)):
        body = draw(laws.bodies(target))
        data, mutations, calls = body.text.encode(), body.mutations, body.calls
        streamed = target.endswith("-sse")
    else:
        data, mutations, calls = draw(st.sampled_from(ERROR_BODIES)), ("error page",), ()
        streamed = False
    content_type = draw(st.sampled_from(("honest", "honest", *CONTENT_TYPES)))
    if content_type == "honest":
        content_type = "text/event-stream" if streamed else "application/json"
    headers = {"content-type": content_type} if content_type else {}
    cuts = sorted({cut % (len(data) + 1) for cut in draw(laws.CUTS)})
    pieces = tuple(data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True) if b > a)
    delivery = draw(st.sampled_from(("whole", "whole", "pieces", "broken")))
    if delivery == "broken":
        pieces = pieces[: laws.upto(draw, len(pieces))]
    # A streamed request answered with a plain JSON completion (a proxy that ignores `stream`), and
    # a plain request answered with a stream, are both drawn here.
    streamed_request = draw(st.booleans()) if draw(st.booleans()) else streamed
    return Exchange(target, status, headers, data, pieces, delivery, streamed_request, mutations, calls)


class Server:
    """The mock server: answers every request with the exchange set for the current example."""

    def __init__(self) -> None:
        self.exchange: Exchange | None = None
        self.transport = httpx2.MockTransport(self.handle)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        exchange = self.exchange
        assert exchange is not None
        content: bytes | Iterator[bytes] = exchange.body if exchange.delivery == "whole" else self._send(exchange)
        return httpx2.Response(exchange.status, headers=exchange.headers, content=content)

    @staticmethod
    def _send(exchange: Exchange) -> Iterator[bytes]:
        yield from exchange.pieces
        if exchange.delivery == "broken":
            raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")


@functools.cache
def server_and_client() -> tuple[Server, openai.OpenAI]:
    server = Server()
    client = openai.OpenAI(
        base_url="http://test/v1",
        api_key="x",
        http_client=httpx2.Client(transport=server.transport),
        max_retries=0,
    )
    return server, client


TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def call(exchange: Exchange) -> Turn:
    """Send one request of the exchange's API through the SDK, the way the providers do."""
    server, client = server_and_client()
    server.exchange = exchange
    stream = exchange.streamed_request
    opened: Callable[[], Any]
    if exchange.api == "chat":
        messages = [{"role": "user", "content": "Weather in Paris?"}]
        create = client.chat.completions.with_streaming_response.create
        opened = functools.partial(create, model="gpt-4o-mini", messages=messages, tools=[TOOL], stream=stream)
    elif exchange.api == "responses":
        tool = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}, "strict": False}
        create = client.responses.with_streaming_response.create
        opened = functools.partial(create, model="gpt-4.1", input="Weather in Paris?", tools=[tool], stream=stream)
    else:
        create = client.beta.threads.runs.with_streaming_response.create
        opened = functools.partial(create, "thread_abc123", assistant_id="asst_1", stream=stream)
    return call_api(opened, exchange.api)


pytestmark = pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning")


@pytest.mark.parametrize("target", laws.TARGETS)
@laws.law
@given(data=st.data())
def test_sdk_never_raises_and_reads_like_the_parser(target: str, data: st.DataObject) -> None:
    """``call_api`` never raises and returns a well-formed Turn (law (b)).

    - an error status is ``http_error`` (``rate_limited`` for 429), however its body arrives;
    - a connection that breaks mid-body after a 2xx status is a ``truncated_stream`` error;
    - a 2xx body that arrives whole (at once or in pieces) gives exactly the Turn the pure parser
      gives for its text, whether the request asked for a stream or not and whatever the
      Content-Type says; so a realistic reply gives the calls it was built with."""
    exchange = data.draw(exchanges(target))
    turn = call(exchange)
    laws.assert_well_formed(turn)
    if exchange.status >= 400:
        assert turn.error is not None
        # Cut mid-body, an error reply cannot be read (the SDK reads it before evalkit sees it): the
        # connection broke, which is an error of its own kind.
        kind = (
            CONNECTION_ERROR
            if exchange.delivery == "broken"
            else RATE_LIMITED
            if exchange.status == 429
            else HTTP_ERROR
        )
        assert turn.error.kind == kind, turn.error
    elif exchange.delivery == "broken":
        assert turn.error is not None and turn.error.kind == TRUNCATED_STREAM, turn
    else:
        assert turn == turn_from_body(exchange.api, exchange.text, status=exchange.status)
        if not exchange.mutations:
            assert turn.error is None and turn.calls == exchange.calls, turn


@pytest.mark.parametrize("status", ERROR_STATUSES)
def test_error_status_cut_mid_body(status: int) -> None:
    """An error reply whose body is cut by the connection is a connection error, not an exception
    (the SDK reads an error body itself, before ``call_api`` sees the response)."""
    body = ERROR_BODIES[0]
    exchange = Exchange(
        "chat-json", status, {"content-type": "application/json"}, body, (body[:20],), "broken", False, (), ()
    )
    turn = call(exchange)
    laws.assert_well_formed(turn)
    assert turn.error is not None and turn.error.kind == CONNECTION_ERROR
    assert turn.error.message.startswith("the connection broke while the server's error reply was read")
