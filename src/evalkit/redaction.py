"""Keeping credentials out of every file evalkit writes and everything it prints.

Credentials reach a run in four ways: the API key (from the variable a model's ``api_key_env``
names), headers in ``params.extra_headers`` (``Ocp-Apim-Subscription-Key``, ``x-goog-api-key``,
``Proxy-Authorization``, ``Cookie``…), query parameters in ``base_url`` or ``params.extra_query``
(``?key=…``), and servers that echo one of those back (a 401 body quoting the key). So:

- cassettes keep request headers by an allow-list (:data:`KEPT_REQUEST_HEADERS`), never by a
  deny-list that a new gateway header would slip past;
- URLs lose the values of credential-like query parameters (:func:`redact_url`);
- every *value* known to be secret in this run (:class:`Redactor`) is replaced wherever it appears:
  cassette bodies, error messages, results.json, reports.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"

# Request headers a cassette keeps: what a reader needs to understand the exchange, nothing that
# identifies an account. Matching never uses headers (recording.MATCHERS), so dropping is safe.
KEPT_REQUEST_HEADERS = frozenset({"content-type", "accept"})
# Response headers a cassette keeps: the format, and what explains a retry or a rate limit.
KEPT_RESPONSE_HEADERS = frozenset(
    {
        "content-type",
        "retry-after",
        "retry-after-ms",
        "openai-processing-ms",
        "openai-version",
        "x-ratelimit-limit-requests",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
    }
)

# Names of headers and query parameters whose values are credentials or identify an account.
_SECRET_NAME = re.compile(
    r"auth|key|token|secret|passw|cookie|session|signature|credential|organization|project|^sig$|^code$",
    re.IGNORECASE,
)
# A value shorter than this is not searched for in text: it would blank out ordinary words of the
# prompts and replies (a key "weather" made results read "What's the REDACTED"). Real keys are longer.
_MIN_SECRET_LENGTH = 8
# A clipped message may hold only the start of a key: from this many characters on, it is replaced too.
_MIN_SECRET_START = 12
# Keys that local servers accept in place of a credential, as their docs write them (vLLM: EMPTY,
# token-abc123; Ollama: ollama; llama.cpp: sk-no-key-required; LM Studio: lm-studio; LiteLLM:
# anything, sk-1234): not secrets, and some are words a reply may hold.
PLACEHOLDER_KEYS = frozenset(
    {"empty", "none", "ollama", "lm-studio", "sk-no-key-required", "not-needed", "no-key", "dummy", "anything"}
    | {"token-abc123", "sk-1234", "sk-evalkit-replay"}
)


def is_secret_name(name: str) -> bool:
    """Whether a header or query parameter of this name carries a credential (by its name)."""
    return _SECRET_NAME.search(name) is not None


def redact_url(url: str) -> str:
    """``url`` with the values of credential-like query parameters replaced by ``REDACTED``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    query = [(k, REDACTED if is_secret_name(k) and v else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="/:,")))


def redact_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A model's request ``params`` as results may keep them: every ``extra_headers`` value (a
    header is sent as it is, so any of them may identify the caller) and every credential-like
    ``extra_query`` value replaced."""
    out = dict(params)
    if isinstance(out.get("extra_headers"), Mapping):
        out["extra_headers"] = dict.fromkeys(out["extra_headers"], REDACTED)
    if isinstance(out.get("extra_query"), Mapping):
        out["extra_query"] = {k: REDACTED if is_secret_name(k) else v for k, v in out["extra_query"].items()}
    return out


@dataclass(frozen=True)
class Redactor:
    """Replaces each known secret value wherever it appears. Longest first, so a secret that
    contains another is replaced whole."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def of(cls, values: Iterable[str | None]) -> Redactor:
        kept = {v for v in values if v and len(v) >= _MIN_SECRET_LENGTH and v.lower() not in PLACEHOLDER_KEYS}
        return cls(tuple(sorted(kept, key=len, reverse=True)))

    @classmethod
    def for_models(cls, models: Iterable[Any], environ: Mapping[str, str] | None = None) -> Redactor:
        """The secrets of a run: each model's API key, the values of its secret extra headers and
        query parameters (and those in its base_url)."""
        env = os.environ if environ is None else environ
        values: list[str | None] = []
        for model in models:
            names = [model.api_key_env] if model.api_key_env else ["OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"]
            values += [env.get(name) for name in names]
            params = model.params
            headers = params.get("extra_headers")
            if isinstance(headers, Mapping):
                values += [str(v) for k, v in headers.items() if is_secret_name(str(k))]
            query = params.get("extra_query")
            if isinstance(query, Mapping):
                values += [str(v) for k, v in query.items() if is_secret_name(str(k))]
            for url in (model.base_url, getattr(model, "azure_endpoint", None)):
                if url:
                    values += [v for k, v in parse_qsl(urlsplit(url).query) if is_secret_name(k)]
        return cls.of(values)

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def text(self, text: str) -> str:
        """``text`` with each secret replaced, and each start of one too: messages clip long values
        ("got 'Paris, with sk-proj-O6LOK…'") before the run's results are redacted, and a clipped
        key is no longer the whole key. A start counts from :data:`_MIN_SECRET_START` characters."""
        for secret in self.secrets:
            start = secret[:_MIN_SECRET_START]
            at = text.find(start)
            while at >= 0:
                end = at + len(start)
                while end < len(text) and end - at < len(secret) and text[end] == secret[end - at]:
                    end += 1
                text = text[:at] + REDACTED + text[end:]
                at = text.find(start, at + len(REDACTED))
        return text

    def value(self, value: Any) -> Any:
        """``value`` (JSON-like: str, dict, list, tuple, scalars) with every secret replaced."""
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        return value
