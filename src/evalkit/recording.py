"""Record and replay HTTP with vcrpy: the only module that touches vcrpy.

Each job gets its own vcrpy ``Cassette`` and its own httpx2 transport that runs vcrpy's httpx
stub against that cassette. vcrpy's usual ``use_cassette`` patches the transport class for the
whole process, which cannot give concurrent jobs their own cassettes; a transport per client
can. The cassette file is standard vcrpy YAML, matched and filtered by vcrpy itself, so
vcrpy and pytest-recording read what evalkit writes and the other way round.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import yaml
from vcr.cassette import Cassette
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.filters import decode_response
from vcr.matchers import host, method, path, port, query, scheme
from vcr.record_mode import RecordMode
from vcr.stubs.httpx_stubs import vcr_handle_request

from .errors import CassetteMissError, UnknownNameError

# vcrpy's RecordMode also has an undocumented ``any`` ("?" in its docstring): not offered here.
RECORD_MODES = ("none", "once", "new_episodes", "all")

# Headers that identify an account or a session. Never written to a cassette.
SECRET_REQUEST_HEADERS = frozenset(
    {"authorization", "api-key", "x-api-key", "openai-organization", "openai-project", "cookie"}
)
SECRET_RESPONSE_HEADERS = frozenset(
    {
        "set-cookie",
        "openai-organization",
        "openai-project",
        "x-request-id",
        "request-id",
        "apim-request-id",
        "cf-ray",
        "x-ms-client-request-id",
    }
)
# Headers that only make cassettes differ by machine (SDK version, OS, retry count, timing).
NOISY_REQUEST_HEADERS = re.compile(r"^(x-stainless-.*|user-agent)$", re.IGNORECASE)


def check_record_mode(mode: str) -> str:
    if mode not in RECORD_MODES:
        raise UnknownNameError("record mode", mode, RECORD_MODES, hint="The default, none, only replays.")
    return mode


def canonical_body(body: bytes | str | None) -> str:
    """A request body in a form that ignores key order and whitespace (JSON), else as text."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text


def _body_matcher(r1: Any, r2: Any) -> None:
    if canonical_body(r1.body) != canonical_body(r2.body):
        raise AssertionError("the request body differs")


MATCHERS = (method, scheme, host, port, path, query, _body_matcher)


def _scrub_request(request: Any) -> Any:
    for name in list(request.headers):
        if name.lower() in SECRET_REQUEST_HEADERS or NOISY_REQUEST_HEADERS.match(name):
            del request.headers[name]
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    # vcrpy also runs this on every interaction it loads, so it must be idempotent.
    response = decode_response(response)  # gzip/deflate to text, so cassette diffs read in review
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in SECRET_RESPONSE_HEADERS:
            del headers[name]
    return response


@dataclass
class CassetteMiss(CassetteMissError):
    """Raised inside the transport; the provider turns it into a ``cassette_miss`` turn.
    openai 3.x does not wrap it (it wraps only httpx errors), so providers catch it directly."""

    path: str
    differences: str

    def __str__(self) -> str:
        return f"no recorded response in {self.path} for this request ({self.differences})"


def open_cassette(path: str | Path, *, record_mode: str = "none") -> Cassette:
    """Load the cassette at ``path`` (empty if the file does not exist yet). A file that is not
    a readable cassette raises :class:`CassetteMiss`, except in mode ``all``, which replaces it."""
    options: dict[str, Any] = {
        "path": str(path),
        "record_mode": RecordMode(check_record_mode(record_mode)),
        "match_on": MATCHERS,
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
    }
    try:
        return Cassette.load(**options)
    except (yaml.YAMLError, ValueError, KeyError, TypeError) as exc:  # vcrpy lets a YAML error through
        if record_mode == "all":
            return Cassette(**options)
        raise CassetteMiss(
            str(path),
            f"the cassette cannot be read ({_first_line(exc)}); fix it or re-record it with --record-mode all",
        ) from None


class _Refusing(httpx2.BaseTransport):
    """Stands in for a cassette that could not be opened, so each request fails as a miss."""

    def __init__(self, miss: CassetteMiss):
        self.miss = miss

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        raise self.miss


class CassetteTransport(httpx2.BaseTransport):
    """An httpx2 transport that replays from, or records into, one vcrpy cassette."""

    def __init__(self, cassette: Cassette, inner: httpx2.BaseTransport | None = None):
        self.cassette = cassette
        self._inner = inner
        self._handle: Callable[..., httpx2.Response] = vcr_handle_request(cassette, CassetteTransport._send, httpx2)

    def _send(self, request: httpx2.Request) -> httpx2.Response:
        # The real transport is made on the first request that must reach the network: building
        # one loads the CA bundle (~17 ms), 80% of a replayed job's time, and replay never needs it.
        if self._inner is None:
            self._inner = httpx2.HTTPTransport()
        return self._inner.handle_request(request)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return self._handle(self, request)
        except CannotOverwriteExistingCassetteException as exc:
            raise CassetteMiss(self.cassette.path, _differences(self.cassette, exc.failed_request)) from None

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()


@contextmanager
def cassette_client(
    path: str | Path, *, record_mode: str = "none", inner: httpx2.BaseTransport | None = None, timeout: float = 600.0
) -> Iterator[httpx2.Client]:
    """An httpx2 client bound to one cassette; the cassette is saved on exit when it changed."""
    try:
        cassette = open_cassette(path, record_mode=record_mode)
    except CassetteMiss as miss:  # reported per request, like any miss, so the job fails alone
        with httpx2.Client(transport=_Refusing(miss), timeout=timeout) as client:
            yield client
        return
    client = httpx2.Client(transport=CassetteTransport(cassette, inner), timeout=timeout)
    try:
        yield client
    finally:
        client.close()
        if cassette.dirty:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            cassette._save()  # vcrpy's own writer; public use_cassette calls the same on exit


def _differences(cassette: Cassette, request: Any) -> str:
    if not len(cassette):
        if Path(cassette.path).is_file() and Path(cassette.path).read_text(encoding="utf-8", errors="replace").strip():
            # vcrpy treats a file it cannot decode as empty (and "once" would overwrite it)
            return "the cassette holds no interaction vcrpy could load; fix the YAML or re-record it with --record-mode all"
        return "the cassette is missing or empty; record it with --record-mode once"
    best = cassette.find_requests_with_most_matches(request)
    if not best:
        return "no recorded request has the same method and URL"
    stored, _, failures = best[0]
    if not failures:
        return "every recorded response for it was already played; record again with --record-mode all"
    reasons = []
    for name, _ in failures:
        if name == "_body_matcher":
            reasons.append(_body_difference(stored.body, request.body))
        else:
            reasons.append(f"{name} differs")
    return "; ".join(reasons) + "; re-record with --record-mode all if the change is intended"


def _body_difference(recorded: Any, sent: Any) -> str:
    try:
        old, new = json.loads(canonical_body(recorded)), json.loads(canonical_body(sent))
    except ValueError:
        return "the request body differs"
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        if keys:
            shown = ", ".join(f"{k}: recorded {_clip(old.get(k))} vs sent {_clip(new.get(k))}" for k in keys[:3])
            return f"body field(s) differ: {shown}"
    return "the request body differs"


def _clip(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True) if value is not None else "(absent)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
