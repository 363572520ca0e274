"""Providers: one module per API. Each turns a :class:`~evalkit.jobs.Job` into an SDK call and the
reply into a :class:`~evalkit.calls.Turn`. None of them touches cassettes: they get a ready
``http_client`` (see :mod:`evalkit.recording`)."""

from __future__ import annotations

import os
from typing import Any

from ..calls import CASSETTE_MISS, CONNECTION_ERROR, HTTP_ERROR, RATE_LIMITED, Turn
from ..config import OPENAI_BASE_URL, ModelConfig
from ..errors import ConfigError

REPLAY_KEY = "sk-evalkit-replay"  # replay sends no request anywhere; the SDK still wants a key


def make_client(model: ModelConfig, http_client: Any, *, record_mode: str) -> Any:
    """An ``openai.OpenAI`` (or ``AzureOpenAI``) client for ``model`` that never retries: a retry
    would hide a cassette miss or a rate limit."""
    import openai

    key = os.environ.get(model.api_key_env) if model.api_key_env else None
    if key is None:
        if record_mode != "none" and (model.api == "azure" or model.base_url in (None, OPENAI_BASE_URL)):
            env = model.api_key_env or "OPENAI_API_KEY"
            raise ConfigError(f"model {model.name!r}: recording needs an API key; set {env} (or api_key_env in its config)")
        key = os.environ.get("OPENAI_API_KEY", REPLAY_KEY) if record_mode != "none" else REPLAY_KEY
    if model.api == "azure":
        return openai.AzureOpenAI(
            azure_endpoint=model.azure_endpoint, api_version=model.api_version, api_key=key, http_client=http_client, max_retries=0
        )
    return openai.OpenAI(base_url=model.base_url or OPENAI_BASE_URL, api_key=key, http_client=http_client, max_retries=0)


def turn_from_exception(exc: BaseException) -> Turn:
    """An SDK exception as a failed turn with its own kind."""
    import openai

    from ..recording import CassetteMiss

    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, openai.APIConnectionError) and isinstance(cause, CassetteMiss):
        return Turn.failed(CASSETTE_MISS, str(cause))
    if isinstance(exc, openai.RateLimitError):
        return Turn.failed(RATE_LIMITED, f"HTTP 429: {_message(exc)}; lower --concurrency or retry later")
    if isinstance(exc, openai.APIStatusError):
        return Turn.failed(HTTP_ERROR, f"HTTP {exc.status_code}: {_message(exc)}")
    if isinstance(exc, openai.APIConnectionError):
        return Turn.failed(CONNECTION_ERROR, f"{exc.__class__.__name__}: {cause or exc} (is the server at the base_url up?)")
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
    """Send the job through its API; return the request summary and the turn."""
    from . import chat

    return chat.run(client, job)
