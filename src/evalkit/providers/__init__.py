"""Providers: one module per API. Each turns a :class:`~evalkit.jobs.Job` into an SDK call and the
reply into a :class:`~evalkit.calls.Turn`. None of them touches cassettes: they get a ready
``http_client`` (see :mod:`evalkit.recording`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

from ..calls import CASSETTE_MISS, CONNECTION_ERROR, HTTP_ERROR, RATE_LIMITED, TRUNCATED_STREAM, Turn, TurnError
from ..config import OPENAI_BASE_URL, ModelConfig
from ..errors import ConfigError
from ..loops.driver import Conversation
from ..parsing import shape, turn_from_body
from ..parsing.http import Api

REPLAY_KEY = "sk-evalkit-replay"  # replay sends no request anywhere; the SDK still wants a key


def make_client(model: ModelConfig, http_client: Any, *, record_mode: str) -> Any:
    """An ``openai.OpenAI`` (or ``AzureOpenAI``) client for ``model``. Replay never retries (a retry
    would hide a cassette miss); recording uses the SDK's own retries (``model.max_retries``:
    exponential backoff with jitter, honouring Retry-After), and error replies are never saved."""
    import openai

    # The SDKs' own default variables when the config names none.
    env = model.api_key_env or ("AZURE_OPENAI_API_KEY" if model.api == "azure" else "OPENAI_API_KEY")
    key = os.environ.get(env)
    if record_mode == "none":
        key = REPLAY_KEY  # replay sends nothing anywhere; never hand a real key to it
    elif key is None:
        if model.api == "azure" or model.base_url in (None, OPENAI_BASE_URL):
            raise ConfigError(
                f"model {model.name!r}: recording needs an API key; set {env} (or api_key_env in its config)"
            )
        key = REPLAY_KEY  # a local server that takes no key (llama.cpp, vLLM without --api-key)
    retries = 0 if record_mode == "none" else model.max_retries
    if model.api == "azure":
        return openai.AzureOpenAI(
            azure_endpoint=model.azure_endpoint or "",  # config._model requires it for api = "azure"
            api_version=model.api_version,
            api_key=key,
            http_client=http_client,
            max_retries=retries,
            timeout=model.timeout,
        )
    return openai.OpenAI(
        base_url=model.base_url or OPENAI_BASE_URL,
        api_key=key,
        http_client=http_client,
        max_retries=retries,
        timeout=model.timeout,
    )


@dataclass(frozen=True)
class RawReply:
    """A reply as it came over the wire: its status, its body as text, and the transport error that
    cut it short, if one did."""

    status: int
    text: str
    broke: BaseException | None = None

    def turn(self, api: Api) -> Turn:
        """The reply read by the same parser that reads recorded cassettes."""
        turn = turn_from_body(api, self.text, status=self.status)
        if self.broke is None:
            return turn
        # The connection dropped mid-body: keep what was read (partial calls), marked truncated.
        message = (
            f"the connection broke after {len(self.text.encode())} bytes of the reply: "
            f"{type(self.broke).__name__}: {self.broke}"
        )
        return replace(turn, finish_reason=None, error=TurnError(TRUNCATED_STREAM, message))


def fetch(open_response: Callable[[], AbstractContextManager[Any]]) -> RawReply | Turn:
    """Make one SDK call and read its raw body. ``open_response`` is the SDK's
    ``….with_streaming_response.create(**request)`` (or any such call): the SDK sends the request,
    retries when recording, and raises for an error status; evalkit reads the body itself, streamed or
    not. An SDK error (or a cassette miss) comes back as a failed :class:`Turn`."""
    import httpx2
    import openai

    from ..recording import CassetteMiss

    try:
        with open_response() as response:
            status = int(response.status_code)
            body, broke = _read_body(response)
    except (openai.APIError, CassetteMiss) as exc:
        return turn_from_exception(exc)
    except httpx2.HTTPError as exc:  # the SDK reads an error reply's body itself; the connection broke there
        return Turn.failed(
            CONNECTION_ERROR,
            f"the connection broke while the server's error reply was read: {type(exc).__name__}: {exc}",
        )
    return RawReply(status, body.decode("utf-8", errors="replace"), broke)


def call_api(open_response: Callable[[], AbstractContextManager[Any]], api: Api) -> Turn:
    """:func:`fetch`, then the reply as a :class:`Turn`; every way it can fail is a failed turn."""
    reply = fetch(open_response)
    return reply if isinstance(reply, Turn) else reply.turn(api)


def _read_body(response: Any) -> tuple[bytes, BaseException | None]:
    chunks: list[bytes] = []
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)  # noqa: PERF402 - a loop, so the chunks read before a transport error are kept
    except Exception as exc:  # noqa: BLE001 - any transport's error mid-body (httpx, h11, ssl, a cut stream) ends this reply, not the run
        return b"".join(chunks), exc
    return b"".join(chunks), None


def turn_from_exception(exc: BaseException) -> Turn:
    """An SDK exception (or a cassette miss) as a failed turn with its own kind."""
    import openai

    from ..recording import CassetteMiss

    cause = exc.__cause__ or exc.__context__
    # openai 3.x lets a transport's own exception through; older SDKs wrap it in APIConnectionError.
    if isinstance(exc, CassetteMiss) or isinstance(cause, CassetteMiss):
        return Turn.failed(CASSETTE_MISS, str(exc if isinstance(exc, CassetteMiss) else cause))
    if isinstance(exc, openai.APIStatusError):  # the same words as a recorded error reply reads with
        turn = turn_from_body("chat", _body_text(exc.response), status=exc.status_code)
        if turn.error is not None and turn.error.kind == RATE_LIMITED:
            return Turn.failed(RATE_LIMITED, f"{turn.error.message}; lower --concurrency or retry later")
        return turn
    if isinstance(exc, openai.APIConnectionError):
        return Turn.failed(
            CONNECTION_ERROR, f"{exc.__class__.__name__}: {cause or exc} (is the server at the base_url up?)"
        )
    if isinstance(exc, openai.APIError):  # any other SDK error: the server said something went wrong
        return Turn.failed(HTTP_ERROR, f"{exc.__class__.__name__}: {shape.short(str(exc))}")
    raise exc


def _body_text(response: Any) -> str:
    try:
        return str(response.text)
    except Exception:  # noqa: BLE001 - a body that cannot be read still leaves the status to report
        return ""


def conversation(client: Any, job: Any, *, record_mode: str, live: Callable[[], bool] | None = None) -> Conversation:
    """The job's conversation through its API (see :mod:`evalkit.loops.driver`). Azure speaks Chat
    Completions: :func:`make_client` already gave it an ``AzureOpenAI`` client. ``live`` tells
    whether the last request reached the network: an Assistants run waits between polls only then
    (a replayed poll answers at once, in any record mode)."""
    from . import assistants, chat, responses

    if job.model.api == "responses":
        return responses.ResponsesConversation(client, job)
    if job.model.api == "assistants":
        if live is None:
            live = (lambda: False) if record_mode == "none" else (lambda: True)
        return assistants.AssistantsConversation(client, job, poll_every=0.5, live=live)
    return chat.ChatConversation(client, job)


def run_job(client: Any, job: Any, *, record_mode: str = "none") -> tuple[dict[str, Any], Turn]:
    """Send a job's first request and read the reply: (what results.json keeps of the request, the turn)."""
    talk = conversation(client, job, record_mode=record_mode)
    return talk.summary(), talk.send()
