"""Record and replay HTTP with vcrpy: the only module that touches vcrpy.

Each job gets its own vcrpy ``Cassette`` and its own httpx2 transport that runs vcrpy's httpx
stub against that cassette. vcrpy's usual ``use_cassette`` patches the transport class for the
whole process, which cannot give concurrent jobs their own cassettes; a transport per client
can. The cassette file is standard vcrpy YAML, matched and filtered by vcrpy itself, so
vcrpy and pytest-recording read what evalkit writes and the other way round.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx2
import yaml
from vcr.cassette import Cassette
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.filters import decode_response
from vcr.matchers import host, method, path, port, query, scheme
from vcr.persisters.filesystem import FilesystemPersister
from vcr.record_mode import RecordMode
from vcr.request import Request as VcrRequest
from vcr.serialize import serialize
from vcr.stubs.httpx_stubs import vcr_handle_request

from .errors import CassetteMissError, UnknownNameError
from .redaction import KEPT_REQUEST_HEADERS, KEPT_RESPONSE_HEADERS, Redactor, redact_url

# vcrpy's RecordMode also has an undocumented ``any`` ("?" in its docstring): not offered here.
RECORD_MODES = ("none", "once", "new_episodes", "all")

# An interaction whose response has one of these statuses is never saved, and is dropped when a
# cassette is loaded for recording: a 429 or a 503 is not the model's answer, and replaying it
# forever would hide the model (the next `--record-mode once` run re-sends the request instead).
_ERROR_STATUS = 400


def check_record_mode(mode: str) -> str:
    if mode not in RECORD_MODES:
        raise UnknownNameError("record mode", mode, RECORD_MODES, hint="The default, none, only replays.")
    return mode


def canonical_body(body: bytes | str | None) -> str:
    """A request body in a form that ignores key order and whitespace (JSON), else as text."""
    if body is None:
        return ""
    return _canonical(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)


@lru_cache(maxsize=1024)
def _canonical(text: str) -> str:
    # Cached: vcrpy compares the same request body with each recorded one, several times per request.
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        return text


def _body_matcher(r1: Any, r2: Any) -> None:
    if canonical_body(r1.body) != canonical_body(r2.body):
        raise AssertionError("the request body differs")


MATCHERS = (method, scheme, host, port, path, query, _body_matcher)


@dataclass(frozen=True)
class _Scrubber:
    """vcrpy's ``before_record_request`` / ``before_record_response`` hooks for one run. vcrpy also
    runs the request hook on every request *before matching*, so a redacted URL still matches its
    recording, and the response hook on every interaction it loads, so both must be idempotent."""

    redactor: Redactor

    def request(self, request: Any) -> Any:
        for name in list(request.headers):
            if name.lower() not in KEPT_REQUEST_HEADERS:
                del request.headers[name]
        if "?" in request.uri:  # vcrpy calls this hook several times per request: keep it cheap
            request.uri = redact_url(request.uri)
        if self.redactor and request.body:
            body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
            if (clean := self.redactor.text(body)) != body:
                request.body = clean
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any] | None:
        if int((response.get("status") or {}).get("code") or 0) >= _ERROR_STATUS:
            return None  # never saved: see _ERROR_STATUS
        response = decode_response(response)  # gzip/deflate to text, so cassette diffs read in review
        headers = response.get("headers") or {}
        for name in list(headers):
            if name.lower() not in KEPT_RESPONSE_HEADERS:
                del headers[name]
        body = response.get("body") or {}
        if self.redactor and isinstance(body.get("string"), str):
            body["string"] = self.redactor.text(body["string"])
        return response


class _AtomicPersister(FilesystemPersister):  # type: ignore[misc]  # vcrpy is untyped
    """vcrpy's file persister, but a cassette is written to a temporary file and moved into place,
    so a run killed mid-write never leaves half a cassette."""

    @staticmethod
    def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        data = serialize(cassette_dict, serializer)
        target = Path(cassette_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            temporary.write_text(data, encoding="utf-8")
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)  # a failed write or rename must not leave it behind
            raise


@dataclass
class CassetteMiss(CassetteMissError):
    """Raised inside the transport; the provider turns it into a ``cassette_miss`` turn.
    openai 3.x does not wrap it (it wraps only httpx errors), so providers catch it directly."""

    path: str
    differences: str

    def __str__(self) -> str:
        return f"no recorded response in {self.path} for this request ({self.differences})"


def open_cassette(path: str | Path, *, record_mode: str = "none", redactor: Redactor | None = None) -> Cassette:
    """Load the cassette at ``path`` (empty if the file does not exist yet). A file that is not
    a readable cassette raises :class:`CassetteMiss`, except in mode ``all``, which replaces it."""
    scrub = _Scrubber(redactor or Redactor())
    options: dict[str, Any] = {
        "path": str(path),
        "record_mode": RecordMode(check_record_mode(record_mode)),
        "match_on": MATCHERS,
        "before_record_request": scrub.request,
        "before_record_response": scrub.response,
        "persister": _AtomicPersister,
    }
    try:
        cassette = Cassette.load(**options)
    except (yaml.YAMLError, ValueError, KeyError, TypeError) as exc:  # vcrpy lets a YAML error through
        if record_mode == "all":
            return Cassette(**options)
        raise CassetteMiss(
            str(path),
            f"the cassette cannot be read ({_first_line(exc)}); fix it or re-record it with --record-mode all",
        ) from None
    if record_mode != "none" and not len(cassette):
        cassette.rewound = False  # it held only error replies (dropped): record it as if it were new
    return cassette


class _Refusing(httpx2.BaseTransport):
    """Stands in for a cassette that could not be opened, so each request fails as a miss."""

    def __init__(self, miss: CassetteMiss):
        self.miss = miss

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        raise self.miss


class NetworkTransports:
    """One real transport (connection pool, TLS context) per model, shared by every job of a run.
    Building one loads the CA bundle (~25 ms): per job, that was most of a recorded job's cost."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[str, httpx2.HTTPTransport] = {}

    def get(self, key: str) -> httpx2.HTTPTransport:
        with self._lock:
            if key not in self._made:
                self._made[key] = httpx2.HTTPTransport()
            return self._made[key]

    def close(self) -> None:
        with self._lock:
            for transport in self._made.values():
                transport.close()
            self._made.clear()


class CassetteTransport(httpx2.BaseTransport):
    """An httpx2 transport that replays from, or records into, one vcrpy cassette.

    It counts the requests it was given and how many of them were SDK retries (the SDK numbers
    its attempts in ``x-stainless-retry-count``)."""

    def __init__(self, cassette: Cassette, inner: Callable[[], httpx2.BaseTransport] | None = None):
        self.cassette = cassette
        self._inner_factory = inner
        self._inner: httpx2.BaseTransport | None = None
        self._owns_inner = inner is None
        self._handle: Callable[..., httpx2.Response] = vcr_handle_request(cassette, CassetteTransport._send, httpx2)
        self.requests = 0
        self.retries = 0
        self.latency: float | None = None  # seconds the server took, summed over this job's requests
        self._recorded: dict[str, float] = {}  # request body digest -> seconds, for the cassette
        self._sent = False
        self.last_live = False  # the last request reached the network

    def _send(self, request: httpx2.Request) -> httpx2.Response:
        # The real transport is made on the first request that must reach the network: replay never needs it.
        if self._inner is None:
            self._inner = self._inner_factory() if self._inner_factory else httpx2.HTTPTransport()
        self._sent = True
        return self._inner.handle_request(request)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests += 1
        if request.headers.get("x-stainless-retry-count", "0") not in ("", "0"):
            self.retries += 1
        self._sent = False
        started = time.perf_counter()
        try:
            response = self._handle(self, request)
        except CannotOverwriteExistingCassetteException as exc:
            raise CassetteMiss(self.cassette.path, _differences(self.cassette, exc.failed_request)) from None
        self.last_live = self._sent
        digest = _digest(request.content)
        seconds: float | None
        if self._sent:  # from the network: vcrpy has read the whole body, so this is the reply's latency
            seconds = round(time.perf_counter() - started, 4)
            if response.status_code < _ERROR_STATUS:
                self._recorded[digest] = seconds
        else:  # replayed: the latency measured when it was recorded, if the cassette kept it
            seconds = _recorded_latency(self.cassette).get(digest)
        if seconds is not None:
            self.latency = round((self.latency or 0.0) + seconds, 4)
        return response

    def remember_latency(self) -> None:
        """Keep what the recorded requests took in the cassette's metadata (vcrpy's own field)."""
        if self._recorded:
            kept = {**_recorded_latency(self.cassette), **self._recorded}
            self.cassette._metadata[_LATENCY_KEY] = kept

    def close(self) -> None:
        if self._inner is not None and self._owns_inner:
            self._inner.close()


@dataclass
class CassetteSession:
    """What a job talks through: an httpx2 client bound to its cassette, and what it counted."""

    http_client: httpx2.Client
    transport: CassetteTransport | None
    keep: bool = True  # False: the job ended in an error, so its cassette is not saved

    @property
    def requests(self) -> int:
        return self.transport.requests if self.transport else 0

    @property
    def retries(self) -> int:
        return self.transport.retries if self.transport else 0

    @property
    def latency(self) -> float | None:
        """Seconds the server took for this job (measured when recorded, kept in the cassette)."""
        return self.transport.latency if self.transport else None

    def live(self) -> bool:
        """Whether the last request reached the network (False: it was replayed from the cassette)."""
        return self.transport is not None and self.transport.last_live

    def discard(self) -> None:
        """Do not save what this job recorded (it ended in an error: a partial loop would otherwise
        make the next `--record-mode once` run miss at the step that failed)."""
        self.keep = False

    def save(self) -> None:
        """Write the cassette if it changed and was kept (vcrpy's own writer, through
        :class:`_AtomicPersister`); once is enough, again does nothing."""
        transport = self.transport
        if transport is not None and transport.cassette.dirty and self.keep:
            transport.remember_latency()
            transport.cassette._save()  # use_cassette calls the same; it clears `dirty`


@contextmanager
def cassette_session(
    path: str | Path,
    *,
    record_mode: str = "none",
    inner: Callable[[], httpx2.BaseTransport] | None = None,
    timeout: float = 600.0,
    redactor: Redactor | None = None,
    save: bool = True,
) -> Iterator[CassetteSession]:
    """A session bound to one cassette; on exit the cassette is saved when it changed (and was kept),
    or, with ``save=False``, left for the caller's :meth:`CassetteSession.save` (the runner saves
    on another thread, so that a recording thread sends its next request first).
    ``inner`` makes the real transport when a request must reach the network (shared per model)."""
    try:
        cassette = open_cassette(path, record_mode=record_mode, redactor=redactor)
    except CassetteMiss as miss:  # reported per request, like any miss, so the job fails alone
        with httpx2.Client(transport=_Refusing(miss), timeout=timeout) as client:
            yield CassetteSession(client, None)
        return
    transport = CassetteTransport(cassette, inner)
    session = CassetteSession(httpx2.Client(transport=transport, timeout=timeout), transport)
    try:
        yield session
    finally:
        session.http_client.close()
        if save:
            session.save()


@contextmanager
def cassette_client(
    path: str | Path, *, record_mode: str = "none", inner: httpx2.BaseTransport | None = None, timeout: float = 600.0
) -> Iterator[httpx2.Client]:
    """An httpx2 client bound to one cassette (for users' own tests: see the pytest plugin)."""
    factory = (lambda: inner) if inner is not None else None
    with cassette_session(path, record_mode=record_mode, inner=factory, timeout=timeout) as session:
        yield session.http_client


def write_interaction(
    path: str | Path,
    request: httpx2.Request,
    *,
    status: int,
    body: str,
    content_type: str = "application/json",
    redactor: Redactor | None = None,
) -> bool:
    """Write ``path`` as a cassette of one interaction, replacing the file: ``request`` as the SDK sent
    it, answered by ``status`` and ``body``; for replies that did not come through a
    :class:`CassetteTransport` (a Batch API output line). The same scrubbing, redaction and atomic
    write as a recording; an error status is not saved (returns False, writes nothing)."""
    scrub = _Scrubber(redactor or Redactor())
    cassette = Cassette(
        path=str(path),
        record_mode=RecordMode.ALL,
        match_on=MATCHERS,
        before_record_request=scrub.request,
        before_record_response=scrub.response,
        persister=_AtomicPersister,
    )
    recorded = VcrRequest(request.method, str(request.url), request.content, request.headers)
    response = {
        "status": {"code": status, "message": httpx2.codes.get_reason_phrase(status)},
        "headers": {"content-type": [content_type]},
        "body": {"string": body},
    }
    cassette.append(recorded, response)
    if not cassette.dirty:
        return False
    cassette._save()  # vcrpy's own serializer, through _AtomicPersister
    return True


_LATENCY_KEY = "evalkit_latency_seconds"  # in the cassette's metadata: request body digest -> seconds


def _digest(body: bytes) -> str:
    return hashlib.sha256(canonical_body(body).encode()).hexdigest()[:16]


def _recorded_latency(cassette: Cassette) -> dict[str, float]:
    value = getattr(cassette, "_metadata", {}).get(_LATENCY_KEY)
    return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)} if isinstance(value, dict) else {}


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
        keys = sorted(k for k in old.keys() | new.keys() if _differ(old.get(k, _ABSENT), new.get(k, _ABSENT)))
        if keys:
            shown = "; ".join(_where_differ(k, old.get(k, _ABSENT), new.get(k, _ABSENT)) for k in keys[:3])
            more = f" (and {len(keys) - 3} more)" if len(keys) > 3 else ""
            return f"body field(s) differ: {shown}{more}"
    return "the request body differs"


_ABSENT = object()


def _differ(old: Any, new: Any) -> bool:
    """As the body matcher sees JSON values (canonical text), where Python's == is not: `0` and `0.0`,
    `1` and `true` differ."""
    if old is _ABSENT or new is _ABSENT:
        return old is not new
    return json.dumps(old, sort_keys=True) != json.dumps(new, sort_keys=True)


def _where_differ(path: str, old: Any, new: Any) -> str:
    """The first place two JSON values differ, as ``path: recorded … vs sent …``, e.g.
    ``messages[1].content: recorded "…for 2 people." vs sent "…for two people."``: a long prompt
    or tool list is walked down to the part that changed, so the change shows."""
    while True:
        if isinstance(old, dict) and isinstance(new, dict):
            key = next(k for k in sorted(old.keys() | new.keys()) if _differ(old.get(k, _ABSENT), new.get(k, _ABSENT)))
            path, old, new = f"{path}.{key}", old.get(key, _ABSENT), new.get(key, _ABSENT)
        elif isinstance(old, list) and isinstance(new, list):
            index = _first_unequal(old, new)
            if index == min(len(old), len(new)):  # one list is the other with more items at the end
                return f"{path}: recorded {len(old)} items vs sent {len(new)} (item [{index}] {_show_item(old, new, index)})"
            path, old, new = f"{path}[{index}]", old[index], new[index]
        else:
            break
    if isinstance(old, str) and isinstance(new, str):
        start = _first_unequal(old, new)
        return f"{path}: recorded {_around(old, start)} vs sent {_around(new, start)}"
    return f"{path}: recorded {_clip(old)} vs sent {_clip(new)}"


def _first_unequal(old: Sequence[Any], new: Sequence[Any]) -> int:
    """The first index where two sequences differ; the shorter one's length when it is the other's start."""
    shorter = min(len(old), len(new))
    if isinstance(old, str):  # characters: plain comparison
        return next((i for i in range(shorter) if old[i] != new[i]), shorter)
    return next((i for i in range(shorter) if _differ(old[i], new[i])), shorter)


def _show_item(old: list[Any], new: list[Any], index: int) -> str:
    return f"only recorded: {_clip(old[index])}" if len(old) > len(new) else f"only sent: {_clip(new[index])}"


def _around(text: str, start: int, before: int = 20, limit: int = 60) -> str:
    """``text`` as JSON, from a little before ``start`` (where it first differs), clipped."""
    begin = max(0, start - before)
    part = text[begin : begin + limit]
    # readable text, but a lone surrogate (UTF-8 has none) as its escape: the message is written to files
    shown = json.dumps(part, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")
    return ("…" if begin else "") + shown + ("…" if begin + limit < len(text) else "")


def _clip(value: Any, limit: int = 60) -> str:
    text = "(absent)" if value is _ABSENT else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
