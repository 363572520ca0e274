"""Providers: one module per API. Each turns a :class:`~evalkit.jobs.Job` into an SDK call and the
reply into a :class:`~evalkit.calls.Turn`. None of them touches cassettes: they get a ready
``http_client`` (see :mod:`evalkit.recording`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ..calls import (
    CASSETTE_MISS,
    CONNECTION_ERROR,
    HTTP_ERROR,
    MALFORMED_REPLY,
    RATE_LIMITED,
    TRUNCATED_STREAM,
    Turn,
    TurnError,
)
from ..config import OPENAI_BASE_URL, ModelConfig
from ..errors import ConfigError

REPLAY_KEY = "sk-evalkit-replay"  # replay sends no request anywhere; the SDK still wants a key


def make_client(model: ModelConfig, http_client: Any, *, record_mode: str) -> Any:
    """An ``openai.OpenAI`` (or ``AzureOpenAI``) client for ``model`` that never retries: a retry
    would hide a cassette miss or a rate limit."""
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
    if model.api == "azure":
        return openai.AzureOpenAI(
            azure_endpoint=model.azure_endpoint or "",  # config._model requires it for api = "azure"
            api_version=model.api_version,
            api_key=key,
            http_client=http_client,
            max_retries=0,
        )
    return openai.OpenAI(
        base_url=model.base_url or OPENAI_BASE_URL, api_key=key, http_client=http_client, max_retries=0
    )


def call_api(
    create: Callable[[], Any],
    parse: Callable[[dict[str, Any]], Turn],
    parse_stream: Callable[[list[dict[str, Any]]], Turn],
    *,
    stream: bool,
) -> Turn:
    """Make one SDK call and read its reply with ``parse`` (or ``parse_stream`` for a stream of
    events); every way it can fail becomes a failed turn."""
    import openai

    from ..recording import CassetteMiss

    try:
        try:
            reply = create()
        except ValueError as exc:  # the SDK could not decode a body labelled application/json
            return Turn.failed(MALFORMED_REPLY, f"reply is not valid JSON: {exc}")
        if isinstance(reply, str):  # the SDK hands back text when the content type is not JSON
            return Turn.failed(MALFORMED_REPLY, f"reply is not JSON: {reply[:160]!r}")
        return read_stream(reply, parse_stream) if stream else parse(as_dict(reply))
    except (openai.APIError, CassetteMiss) as exc:
        return turn_from_exception(exc)


def read_stream(stream: Iterable[Any], parse: Callable[[list[dict[str, Any]]], Turn]) -> Turn:
    """Read a streamed reply to its end. A connection that drops mid-stream keeps the partial
    calls, marked truncated; an error event inside the stream is raised for turn_from_exception."""
    import openai

    events: list[dict[str, Any]] = []
    try:
        for event in stream:
            events.append(as_dict(event))
    except openai.APIConnectionError as exc:  # openai 3.x wraps the transport error mid-stream too
        return _truncated(parse(events), f"stream broke after {len(events)} events: {exc.__cause__ or exc}")
    except openai.APIError:
        raise
    except ValueError as exc:  # a data line that is not JSON
        return Turn.failed(MALFORMED_REPLY, f"stream event is not valid JSON: {exc}")
    except Exception as exc:  # noqa: BLE001 - any transport's own error (the SDK does not wrap them all) ends the stream, not the run
        return _truncated(parse(events), f"stream broke after {len(events)} events: {exc}")
    return parse(events)


def _truncated(partial: Turn, message: str) -> Turn:
    return replace(partial, finish_reason=None, error=TurnError(TRUNCATED_STREAM, message))


def as_dict(obj: Any) -> dict[str, Any]:
    return obj if isinstance(obj, dict) else obj.model_dump(mode="json")


def turn_from_exception(exc: BaseException) -> Turn:
    """An SDK exception (or a cassette miss) as a failed turn with its own kind."""
    import openai

    from ..recording import CassetteMiss

    cause = exc.__cause__ or exc.__context__
    # openai 3.x lets a transport's own exception through; older SDKs wrap it in APIConnectionError.
    if isinstance(exc, CassetteMiss) or isinstance(cause, CassetteMiss):
        return Turn.failed(CASSETTE_MISS, str(exc if isinstance(exc, CassetteMiss) else cause))
    if isinstance(exc, openai.RateLimitError):
        return Turn.failed(RATE_LIMITED, f"HTTP 429: {_message(exc)}; lower --concurrency or retry later")
    if isinstance(exc, openai.APIStatusError):
        return Turn.failed(HTTP_ERROR, f"HTTP {exc.status_code}: {_message(exc)}")
    if isinstance(exc, openai.APIConnectionError):
        return Turn.failed(
            CONNECTION_ERROR, f"{exc.__class__.__name__}: {cause or exc} (is the server at the base_url up?)"
        )
    if isinstance(exc, openai.APIError):  # the SDK raises the bare class for an error event inside a 200 stream
        return Turn.failed(HTTP_ERROR, f"error event in stream: {_message(exc)}")
    raise exc


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        detail = body.get("error", body)
        text = detail.get("message") if isinstance(detail, dict) else detail
        if text:
            return str(text)[:200]
    return str(getattr(exc, "message", exc))[:200]


def run_job(client: Any, job: Any) -> tuple[dict[str, Any], Turn]:
    """Send the job through its API; return the request summary and the turn. Azure speaks
    Chat Completions: :func:`make_client` already gave it an ``AzureOpenAI`` client."""
    from . import chat, responses

    if job.model.api == "responses":
        return responses.run(client, job)
    return chat.run(client, job)
