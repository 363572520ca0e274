"""``evalkit run --batch``: record a run's single-reply jobs through the provider's Batch API.

The Batch API costs half and has its own, higher limits; it answers within 24 hours instead of
seconds. evalkit uses it only to *record*. Every job that needs a recording (its cassette is missing,
with ``--record-mode once``; every job, with ``all``) has its request built exactly as a live run sends
it: the provider's ``build_request`` through the openai SDK, captured before it leaves the process.
The requests go out as JSONL through the openai SDK (``files.create(purpose="batch")``,
``batches.create(endpoint=…, completion_window="24h")``, ``batches.retrieve`` until the batch ends,
``files.content`` of its output and error files), and each answered line becomes the job's cassette:
one interaction, as a live recording saves it (:func:`evalkit.recording.write_interaction`: scrubbed,
redacted, written atomically). The run then replays and scores every job exactly as always. A line
with an ``error``, or a reply with an error status, becomes that job's error and saves nothing, as any
error reply.

One batch per model (a batch holds one model) and per 50,000 requests or ~190 MB (the API's limits).
Refused with one line, before anything is sent: tool loops that need recording (each step needs the
previous reply, so a loop cannot go in one batch), streamed models (a batch does not stream), the
Assistants and Azure APIs, and ``params.extra_headers`` / ``extra_query`` (a batch line is a body).

The batches' ids go to results.json (``config.batches``), never a key. With a run folder, each batch is
noted in ``<run>/batches.jsonl`` when it is created and when its results are in, so
``evalkit run --resume`` after a crash polls the batches still running instead of paying twice.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..calls import HTTP_ERROR
from ..config import ModelConfig, RunConfig
from ..errors import BatchError, ConfigError
from ..jobs import Job
from ..redaction import Redactor
from ..results import CaseResult
from .shards import key_digest

log = logging.getLogger(__name__)

ENDPOINTS = {"chat": "/v1/chat/completions", "responses": "/v1/responses"}
ENDED = ("completed", "failed", "expired", "cancelled")  # a batch in one of these states changes no more
MAX_LINES = 50_000  # requests per batch (the API's limit)
MAX_BYTES = 190 * 2**20  # bytes per input file (the API takes up to 200 MB)
STATE = "batches.jsonl"  # in the run folder: the batches created and finished, for --resume


@dataclass(frozen=True)
class BatchOutcome:
    """What the batches left: a record per batch for results.json (``id``, ``model``, ``endpoint``,
    ``status``, ``requests``, ``failed``) and an error result per job whose line failed."""

    batches: list[dict[str, Any]] = field(default_factory=list)
    errors: tuple[CaseResult, ...] = ()


def custom_id(job: Job) -> str:
    """The job's line id: a digest of its key (the one shards use), so it is stable across runs."""
    return "evalkit-" + key_digest(job.key).hex()[:32]


def jobs_to_batch(jobs: Sequence[Job], config: RunConfig) -> list[Job]:
    """The jobs of ``jobs`` that need recording, checked that a batch can carry them; a one-line
    :class:`ConfigError` otherwise (raised before anything is written or sent)."""
    if config.record_mode not in ("once", "all"):
        raise ConfigError(
            f"--batch records, and record mode {config.record_mode} does not: use --record-mode once "
            "(what is missing) or all (everything)"
        )
    needed = [job for job in jobs if config.record_mode == "all" or _missing(job, config)]
    for model in {job.model.name: job.model for job in needed}.values():
        _check_model(model, config)
    loops = [job for job in needed if job.case.expect.is_loop]
    if loops:
        raise ConfigError(
            f"--batch sends single-reply cases only, and {len(loops)} job(s) to record are tool loops "
            f"(e.g. {loops[0].case.key}); record their suites without --batch"
        )
    return needed


def _missing(job: Job, config: RunConfig) -> bool:
    """Whether ``--record-mode once`` would record this job: no cassette, or one with no reply saved."""
    from ..recording import CassetteMiss, open_cassette

    path = job.cassette_path(config.cassettes)
    if not path.is_file():
        return True
    try:
        return not len(open_cassette(path, record_mode="once"))
    except CassetteMiss:  # unreadable: the replay reports it, as it would without --batch
        return False


def _check_model(model: ModelConfig, config: RunConfig) -> None:
    if model.api not in ENDPOINTS:
        raise ConfigError(
            f'model {model.name!r} uses api = "{model.api}"; --batch sends Chat Completions and Responses '
            "requests only: record it without --batch"
        )
    if model.stream:
        raise ConfigError(
            f"model {model.name!r} streams (stream = true) and a batch does not; record it without --batch"
        )
    options = [k for k in ("extra_headers", "extra_query") if k in model.params]
    if options:
        raise ConfigError(
            f"model {model.name!r} sets params.{options[0]}, which a batch line cannot carry; record it without --batch"
        )
    import httpx2

    from ..providers import make_client

    # The same key check as recording live (a one-line error when the key is missing), sending nothing.
    make_client(model, httpx2.Client(transport=httpx2.MockTransport(_refuse)), record_mode=config.record_mode)


def _refuse(request: Any) -> Any:
    raise AssertionError("nothing is sent while checking a model")


def record_batches(
    jobs: Sequence[Job],
    config: RunConfig,
    *,
    transport: Callable[[str], Any],
    redactor: Redactor | None = None,
    folder: Path | None = None,
) -> BatchOutcome:
    """Send ``jobs`` (from :func:`jobs_to_batch`) through the Batch API, wait for every batch to end
    (polling every ``config.batch_poll`` seconds), and write a cassette for each job answered.
    ``transport(model name)`` gives the httpx2 transport to the provider (tests pass a MockTransport).
    ``folder``: the run folder, where ``batches.jsonl`` lets a resumed run pick up its batches.
    An error from the API itself (a refused upload, a 401, the SDK's retries spent) raises a one-line
    :class:`BatchError`; what was sent is in ``batches.jsonl`` for ``--resume``."""
    redactor = redactor if redactor is not None else Redactor.for_models(config.models)
    state = _State(folder / STATE if folder is not None else None)
    by_id = {custom_id(job): job for job in jobs}
    todo = dict(by_id)
    sdk = _Clients(config, transport, {job.model.name: job.model for job in jobs})
    capture = _Capture()
    running: list[_Sent] = []
    errors: list[CaseResult] = []
    records: list[dict[str, Any]] = []
    for sent in state.load():  # a resumed run: batches already sent are polled or read, never sent again
        if not [cid for cid in sent.custom_ids if todo.pop(cid, None) is not None]:
            continue
        if sent.record is None:
            running.append(sent)
            continue
        records.append(sent.record)
        errors += [
            _error(by_id[c], config, redactor, capture, sent.id, *why) for c, why in sent.failed.items() if c in by_id
        ]
    for group in _by_model(todo.values()):
        model = group[0].model
        for part in _parts(group, capture):
            with _api("sending a batch", model.name, redactor):
                sent = _send(sdk.get(model), model, part)
            state.created(sent)
            running.append(sent)
    for sent, batch in _wait(running, sdk, config.batch_poll, redactor):
        with _api(f"reading the results of batch {sent.id}", sent.model, redactor):
            failed = _collect(sent, batch, sdk.get(sdk.models[sent.model]), by_id, config, redactor, capture)
        record = {
            "id": sent.id,
            "model": sent.model,
            "endpoint": sent.endpoint,
            "status": str(batch.status),
            "requests": len(sent.custom_ids),
            "failed": len(failed),
        }
        state.finished(sent, record, failed)
        records.append(record)
        errors += [
            _error(by_id[c], config, redactor, capture, sent.id, *why) for c, why in failed.items() if c in by_id
        ]
    return BatchOutcome(records, tuple(errors))


@dataclass(frozen=True)
class _Sent:
    """A batch evalkit created: its id, model name, endpoint and the custom ids of its lines; once
    finished, its results.json record and the lines that failed (custom id -> (kind, message))."""

    id: str
    model: str
    endpoint: str
    custom_ids: tuple[str, ...]
    record: dict[str, Any] | None = None
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)


class _Clients:
    """One openai client per model for the batch calls (files, batches), over the run's transports."""

    def __init__(self, config: RunConfig, transport: Callable[[str], Any], models: dict[str, ModelConfig]):
        self.config, self.transport, self.models = config, transport, models
        self._made: dict[str, Any] = {}

    def get(self, model: ModelConfig) -> Any:
        if model.name not in self._made:
            import httpx2

            from ..providers import make_client

            # Never closed here: the transport is the run's, shared, and closed with the run.
            http = httpx2.Client(transport=self.transport(model.name), timeout=model.timeout)
            self._made[model.name] = make_client(model, http, record_mode=self.config.record_mode)
        return self._made[model.name]


class _Capture:
    """The exact request a job sends, from the provider's own code through the openai SDK, stopped at
    the transport: the batch line's body, and the request its cassette must hold for replay to match."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._seen: list[Any] = []

    def request(self, job: Job) -> tuple[Any, dict[str, Any]]:
        """(the httpx2 request, what results.json keeps of it)."""
        from ..providers import conversation

        talk = conversation(self._client(job.model), job, record_mode="none")
        self._seen.clear()
        talk.send()
        if len(self._seen) != 1:  # pragma: no cover - a single-reply job sends one request
            raise RuntimeError(f"{job.case.key}: expected one request, the provider sent {len(self._seen)}")
        return self._seen[0], talk.summary()

    def _client(self, model: ModelConfig) -> Any:
        if model.name not in self._clients:
            import httpx2

            from ..providers import make_client

            def keep(request: httpx2.Request) -> httpx2.Response:
                request.read()
                self._seen.append(request)
                return httpx2.Response(200, json={})

            http = httpx2.Client(transport=httpx2.MockTransport(keep))
            self._clients[model.name] = make_client(model, http, record_mode="none")  # no key, no retry
        return self._clients[model.name]


def _by_model(jobs: Iterable[Job]) -> list[list[Job]]:
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        groups.setdefault(job.model.name, []).append(job)
    return list(groups.values())


def _parts(jobs: Sequence[Job], capture: _Capture) -> Iterator[list[tuple[str, str]]]:
    """The JSONL lines of ``jobs`` as (custom id, line), split at the API's per-batch limits."""
    part: list[tuple[str, str]] = []
    size = 0
    for job in jobs:
        request, _ = capture.request(job)
        body = json.loads(request.content)
        line = json.dumps(
            {"custom_id": custom_id(job), "method": "POST", "url": ENDPOINTS[job.model.api], "body": body},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        if part and (len(part) == MAX_LINES or size + len(line.encode()) + 1 > MAX_BYTES):
            yield part
            part, size = [], 0
        part.append((custom_id(job), line))
        size += len(line.encode()) + 1
    if part:
        yield part


def _send(client: Any, model: ModelConfig, part: list[tuple[str, str]]) -> _Sent:
    """Upload one JSONL input file and create its batch (from a temporary file: memory stays flat)."""
    endpoint = ENDPOINTS[model.api]
    with tempfile.TemporaryFile() as spool:
        for _, line in part:
            spool.write(line.encode() + b"\n")
        spool.seek(0)
        upload = client.files.create(file=("evalkit-batch.jsonl", spool, "application/jsonl"), purpose="batch")
    batch = client.batches.create(
        input_file_id=upload.id,
        endpoint=endpoint,
        completion_window="24h",
        metadata={"evalkit_model": model.name[:512]},
    )
    log.warning("batch %s: %d request(s) of %s sent to %s", batch.id, len(part), model.name, endpoint)
    return _Sent(batch.id, model.name, endpoint, tuple(cid for cid, _ in part))


@contextmanager
def _api(doing: str, model: str, redactor: Redactor) -> Iterator[None]:
    """An SDK error (after the SDK's own retries) as one line saying what was being done, and that
    ``--resume`` polls the batches already sent rather than sending them again."""
    import openai

    try:
        yield
    except openai.APIError as exc:
        what = " ".join(str(exc).split())
        raise BatchError(
            f"{doing} for model {model!r} failed: {type(exc).__name__}: {redactor.text(what)}; fix it and run "
            "again (with --resume, batches already sent are polled, not sent again)"
        ) from None


def _wait(running: list[_Sent], sdk: _Clients, poll: float, redactor: Redactor) -> Iterator[tuple[_Sent, Any]]:
    """Each batch with its final Batch object, as it ends (statuses are logged as they change)."""
    status: dict[str, str] = {}
    waiting = list(running)
    while waiting:
        still = []
        for sent in waiting:
            with _api(f"polling batch {sent.id}", sent.model, redactor):
                batch = sdk.get(sdk.models[sent.model]).batches.retrieve(sent.id)
            if status.get(sent.id) != batch.status:
                status[sent.id] = str(batch.status)
                counts = batch.request_counts
                done = f" ({counts.completed + counts.failed} of {counts.total} done)" if counts else ""
                log.warning("batch %s: %s%s", sent.id, batch.status, done)
            if batch.status in ENDED:
                yield sent, batch
            else:
                still.append(sent)
        waiting = still
        if waiting and poll > 0:
            time.sleep(poll)


def _collect(
    sent: _Sent,
    batch: Any,
    client: Any,
    jobs: dict[str, Job],
    config: RunConfig,
    redactor: Redactor,
    capture: _Capture,
) -> dict[str, tuple[str, str]]:
    """Write a cassette for each answered line of an ended batch; the lines that failed, as
    custom id -> (error kind, message). Lines of jobs this run no longer needs are skipped."""
    from ..parsing import turn_from_body
    from ..recording import write_interaction

    mine = [cid for cid in sent.custom_ids if cid in jobs]
    if batch.status == "failed":  # the input was refused as a whole (e.g. a line over the size limit)
        reasons = list(batch.errors.data or ()) if batch.errors else []
        why = "; ".join(f"{e.code}: {e.message}" + (f" (line {e.line})" if e.line else "") for e in reasons[:3])
        return dict.fromkeys(mine, (HTTP_ERROR, f"batch {sent.id} failed: {why or 'no reason given'}"))
    failed: dict[str, tuple[str, str]] = {}
    answered: set[str] = set()
    for line in _lines(client, batch.output_file_id, batch.error_file_id):
        cid = line.get("custom_id")
        job = jobs.get(cid) if isinstance(cid, str) else None
        if job is None or cid is None:
            continue
        answered.add(cid)
        response, error = line.get("response"), line.get("error")
        if error or not isinstance(response, dict):
            error = error if isinstance(error, dict) else {}
            code, message = error.get("code") or "error", error.get("message") or "no reply"
            failed[cid] = (HTTP_ERROR, f"batch {sent.id}: {code}: {message}")
            continue
        status = int(response.get("status_code") or 0)
        text = json.dumps(response.get("body"), ensure_ascii=False)
        if 200 <= status < 300:
            request, _ = capture.request(job)
            write_interaction(job.cassette_path(config.cassettes), request, status=status, body=text, redactor=redactor)
            continue
        turn = turn_from_body("chat" if job.model.api == "chat" else "responses", text, status=status)
        failed[cid] = (turn.error.kind, turn.error.message) if turn.error else (HTTP_ERROR, f"HTTP {status}")
    for cid in mine:
        if cid not in answered:
            failed[cid] = (
                HTTP_ERROR,
                f"batch {sent.id} ended {batch.status} with no reply for this request; run again to send it again",
            )
    return failed


def _lines(client: Any, *file_ids: str | None) -> Iterator[dict[str, Any]]:
    for file_id in file_ids:
        if not file_id:
            continue
        for text in client.files.content(file_id).text.splitlines():
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except ValueError:
                log.warning("file %s: a line that is not JSON was skipped: %.80s", file_id, text)
                continue
            if isinstance(line, dict):
                yield line


def _error(
    job: Job, config: RunConfig, redactor: Redactor, capture: _Capture, batch_id: str, kind: str, message: str
) -> CaseResult:
    """The job's error result, as the runner records an error reply (nothing scored)."""
    summary = capture.request(job)[1]
    cassette = job.cassette_path(config.cassettes)
    try:
        where = str(cassette.resolve().relative_to(config.root))
    except ValueError:
        where = str(cassette)
    return CaseResult(
        model=job.model.name,
        suite=job.case.suite,
        case_id=job.case.id,
        status="error",
        tool_count=job.tool_count,
        trial=job.trial,
        tags=job.case.tags,
        failures=((kind, redactor.text(message)),),
        expected=job.case.expect.describe(),
        n_offered=len(job.offered_tools),
        request={**redactor.value(summary), "batch": batch_id},
        cassette=where,
        requests=1,
    )


class _State:
    """``<run>/batches.jsonl``: one line when a batch is created, one when its results are written."""

    def __init__(self, path: Path | None):
        self.path = path

    def load(self) -> list[_Sent]:
        if self.path is None or not self.path.is_file():
            return []
        sent: dict[str, _Sent] = {}
        for text in self.path.read_text(encoding="utf-8").splitlines():
            try:
                line = json.loads(text)
            except ValueError:
                continue  # the last line of a killed run, cut mid-write
            try:
                if line["event"] == "created":
                    sent[line["id"]] = _Sent(line["id"], line["model"], line["endpoint"], tuple(line["custom_ids"]))
                elif line["event"] == "finished" and line["id"] in sent:
                    failed = {cid: (kind, why) for cid, (kind, why) in line["failed"].items()}
                    old = sent[line["id"]]
                    sent[line["id"]] = _Sent(old.id, old.model, old.endpoint, old.custom_ids, line["record"], failed)
            except (KeyError, TypeError, ValueError, AttributeError):
                log.warning("%s: a line that is not a batch note was skipped: %.80s", self.path, text)
        return list(sent.values())

    def created(self, sent: _Sent) -> None:
        self._append(
            {
                "event": "created",
                "id": sent.id,
                "model": sent.model,
                "endpoint": sent.endpoint,
                "custom_ids": list(sent.custom_ids),
            }
        )

    def finished(self, sent: _Sent, record: dict[str, Any], failed: dict[str, tuple[str, str]]) -> None:
        self._append({"event": "finished", "id": sent.id, "record": record, "failed": failed})

    def _append(self, line: dict[str, Any]) -> None:
        if self.path is None:
            return
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(line, ensure_ascii=False) + "\n")
            file.flush()
