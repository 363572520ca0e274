"""Orchestration only: expand jobs, run them on a bounded pool with a progress bar, hand each result on.

Scoring rules live in :mod:`evalkit.scorers`, HTTP and cassettes in :mod:`evalkit.recording`,
storing results in :mod:`evalkit.results`. Nothing a single job does can end a run: sending,
parsing and scoring all happen inside :func:`run_job`'s guard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import Any

from .calls import Turn
from .cases import Suite
from .config import AUTO_WORKERS, RunConfig
from .errors import ConfigError, EvalkitError
from .jobs import Job, Plan, expand
from .loops.trajectory import Trajectory
from .recording import CassetteSession, NetworkTransports
from .redaction import Redactor
from .results import (
    CaseResult,
    JobKey,
    RunResult,
    RunWriter,
    ScoreRecord,
    journal_results,
    new_run_id,
    now_iso,
    read_results,
    read_run_header,
)
from .scorers import failures_of, resolve_scorers, score_analysis
from .scorers.alignment import alignment
from .scorers.base import Score
from .scorers.checks import analyse
from .scorers.modes import compared, other_mode
from .scorers.steps import flattened
from .tools import toolset_id

log = logging.getLogger(__name__)
INTERNAL_ERROR = "internal_error"
CONFIG_ERROR = "config_error"


def plan_run(config: RunConfig, suites: Sequence[Suite]) -> Plan:
    """Every job of ``suites`` × ``config.models`` (with distractors when sweeping tool counts)."""
    distractors = None
    if config.tool_counts:
        from .distractors import load_pool

        distractors = load_pool(
            config.distractors, cases_dir=config.cases if config.cases.is_dir() else config.cases.parent
        )
    return expand(
        suites, config.models, trials=config.trials, tool_counts=config.tool_counts, pool=distractors, seed=config.seed
    )


def run_suites(
    config: RunConfig,
    suites: Sequence[Suite],
    *,
    progress: bool = True,
    run_id: str | None = None,
    reports: Path | None = None,
    resume: bool = False,
    meanwhile: Callable[[], object] | None = None,
) -> RunResult:
    """Run every job of ``suites`` × ``config.models``; nothing here raises for one bad job.

    With ``reports``, each finished job is written to ``<reports>/<run id>/jobs.jsonl`` at once and
    the run ends as ``results.json`` there; the returned run reads its jobs back from that file, so
    memory stays flat however many jobs run. ``resume``: ``run_id`` names a run that was stopped
    (killed, interrupted); its finished jobs are kept and only the others run. Without ``reports``
    the jobs are kept in memory (for library use and tests). ``meanwhile`` is work for this process
    while the jobs run in worker processes (the CLI imports what its reports need): it runs on a
    thread once they started, and not at all when the jobs run here, where it would only compete
    with them for the interpreter lock; its errors are ignored (it is preparation only)."""
    scorers = resolve_scorers(config.scorers)
    plan = plan_run(config, suites)
    for note in plan.skipped:  # also in the run's config["skipped"] (the CLI prints them)
        log.info("skipped: %s", note)
    summary = {**reproducible_config(config, suites, scorers), "skipped": list(plan.skipped)}
    if config.shard is not None:  # a deterministic 1/N of the plan (see evalkit.scale.shards)
        from .scale.shards import Shard, select, shard_record

        full, plan = plan, select(plan, Shard(*config.shard))
        summary["shard"] = shard_record(Shard(*config.shard), full, plan)
    toolsets = {toolset_id(job.offered_tools): [dict(t) for t in job.offered_tools] for job in plan.jobs}
    if run_id is None:  # a timestamp to the second: two runs started in one second get -2, -3…
        run_id = new_run_id()
        if reports is not None:
            taken, base, n = reports / run_id, run_id, 1
            while taken.exists():
                n += 1
                run_id = f"{base}-{n}"
                taken = reports / run_id
    created = now_iso()
    done: set[JobKey] = set()
    writer: RunWriter | None = None
    kept: list[CaseResult] = []
    if reports is not None and resume:
        created = _check_resumable(reports / run_id, summary)
        done = {result.key for result in journal_results(reports / run_id)}
    elif reports is not None and (reports / run_id).is_dir() and any((reports / run_id).iterdir()):
        raise ConfigError(  # a finished run would be overwritten; a stopped one mixed with this one
            f"run {run_id} already exists in {reports}; choose another --run-id, remove {reports / run_id}"
            + (", or finish it with --resume" if (reports / run_id / "jobs.jsonl").is_file() else "")
        )
    todo = [number for number, job in enumerate(plan.jobs) if job.key not in done]
    to_batch: list[Job] = []
    if config.batch:  # checked before anything is written or sent (evalkit.scale.batch)
        from .scale.batch import jobs_to_batch

        to_batch = jobs_to_batch([plan.jobs[n] for n in todo], config)
    if reports is not None:
        writer = RunWriter(reports / run_id, run_id=run_id, created=created, config=summary, toolsets=toolsets)
    redactor = Redactor.for_models(config.models)
    network = NetworkTransports()
    started = time.perf_counter()
    try:
        batched: Sequence[CaseResult] = ()
        if config.batch:  # record through the Batch API, then replay every job as usual
            from .scale.batch import record_batches

            folder = writer.folder if writer is not None else None
            outcome = record_batches(to_batch, config, transport=network.get, redactor=redactor, folder=folder)
            summary["batches"] = outcome.batches  # their ids: in results.json, never a key
            if writer is not None:
                writer.config["batches"] = outcome.batches
            batched, failed = outcome.errors, {result.key for result in outcome.errors}
            todo = [n for n in todo if plan.jobs[n].key not in failed]
            config = replace(config, record_mode="none")
        with (
            _job_results(plan, todo, config, suites, scorers, redactor, network, meanwhile) as results,
            _progress(len(plan.jobs), len(done), enabled=progress) as advance,
        ):
            for result in chain(batched, results):
                if writer is not None:
                    writer.add(result)
                else:
                    kept.append(result)
                advance(result)
    finally:
        network.close()
        if writer is not None:
            writer.close()
    seconds = time.perf_counter() - started
    if writer is None:
        order = {job.key: number for number, job in enumerate(plan.jobs)}
        kept.sort(key=lambda result: order[result.key])
        return RunResult(run_id, created, summary, tuple(kept), round(seconds, 3), toolsets=toolsets)
    path = writer.finish(seconds=seconds, order={job.key: number for number, job in enumerate(plan.jobs)})
    return read_results(path)


def _check_resumable(folder: Path, summary: dict[str, Any]) -> str:
    """The created time of the run to resume; a one-line error when it cannot be resumed."""
    if (folder / "results.json").is_file() and not (folder / "jobs.jsonl").is_file():
        raise ConfigError(f"run {folder.name} already finished ({folder / 'results.json'}); nothing to resume")
    header = read_run_header(folder)
    before = header["config"]
    changed = sorted(k for k in summary.keys() | before.keys() if summary.get(k) != before.get(k))
    if changed:
        raise ConfigError(
            f"cannot resume run {folder.name}: {', '.join(changed)} changed since it started; "
            "resume with the same cases, models and options, or start a new run"
        )
    return str(header.get("created") or now_iso())


def _job_results(
    plan: Plan,
    todo: Sequence[int],
    config: RunConfig,
    suites: Sequence[Suite],
    scorers: Sequence[str],
    redactor: Redactor,
    network: NetworkTransports,
    meanwhile: Callable[[], object] | None = None,
) -> AbstractContextManager[Iterator[CaseResult]]:
    """The results of the jobs at plan positions ``todo``, as they finish: on threads in this process, or
    in ``config.workers`` processes (started on entry, before any progress-bar thread exists)."""
    workers = config.workers
    if workers == AUTO_WORKERS:
        from .scale.workers import auto_workers, can_send

        workers = auto_workers(config.record_mode, len(todo))
        if workers > 1 and not can_send(suites):  # a lambda as a tool output, and workers are spawned
            workers = 1
    if workers > 1:
        from .scale.workers import in_processes

        return in_processes(plan.jobs, todo, replace(config, workers=workers), suites, scorers, meanwhile=meanwhile)
    return nullcontext(_run_all([plan.jobs[n] for n in todo], config, scorers, redactor, network))


def _run_all(
    jobs: Sequence[Job], config: RunConfig, scorers: Sequence[str], redactor: Redactor, network: NetworkTransports
) -> Iterator[CaseResult]:
    """Run ``jobs`` on ``config.concurrency`` threads, yielding each result as it finishes. At most
    twice the concurrency is queued at once, so a 100k-job run holds a handful of futures.

    A pure replay (record mode ``none``) runs on one thread: it never waits on the network, and
    threads that only compete for the interpreter lock made a 2,000-job replay 11% slower
    (``--workers`` is what uses more cores)."""
    if config.record_mode == "none":
        for job in jobs:
            yield run_job(job, config, scorers, redactor=redactor, network=network)
        return
    # The threads only send (send_job); this thread saves and scores what they bring back (finish_job).
    window = 2 * config.concurrency
    executor = ThreadPoolExecutor(max_workers=config.concurrency)
    outstanding: set[Future[SentJob]] = set()  # sent or being sent, not yet finished here

    def finished() -> Iterator[CaseResult]:
        done, _ = wait(outstanding, return_when=FIRST_COMPLETED)
        for future in done:
            result = finish_job(future.result(), config, scorers, redactor)
            outstanding.discard(future)  # only now: interrupted before, it is saved below
            yield result

    try:
        for job in jobs:
            if len(outstanding) >= window:
                yield from finished()
            outstanding.add(executor.submit(send_job, job, config, redactor=redactor, network=network))
        while outstanding:
            yield from finished()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        # Stopped early (Ctrl-C, the caller stopped reading): the replies already received are still
        # saved, so that the resumed run replays them instead of paying for them again.
        for future in outstanding:
            session = future.result().session if not future.cancelled() and future.exception() is None else None
            if session is not None:
                with suppress(Exception):
                    session.save()


def run_job(
    job: Job,
    config: RunConfig,
    scorers: Sequence[str],
    *,
    redactor: Redactor | None = None,
    network: NetworkTransports | None = None,
) -> CaseResult:
    """Send one job (recording or replaying its cassette), score the reply, and redact what is kept.
    Never raises: a bug in evalkit or the SDK becomes an ``internal_error`` job, a mistake the user
    can fix a ``config_error`` job."""
    redactor = redactor if redactor is not None else Redactor.for_models([job.model])
    return finish_job(send_job(job, config, redactor=redactor, network=network), config, scorers, redactor)


@dataclass
class SentJob:
    """A job whose requests are done (:func:`send_job`): its reply, and its cassette not yet saved."""

    job: Job
    cassette: Path
    seconds: float  # spent sending
    session: CassetteSession | None = None  # None: the job failed before its cassette was opened
    request: dict[str, Any] = field(default_factory=dict)
    trajectory: Trajectory | None = None
    turn: Turn | None = None  # None: an error, in `failed`
    failed: Turn | None = None


def send_job(job: Job, config: RunConfig, *, redactor: Redactor, network: NetworkTransports | None = None) -> SentJob:
    """The network half of :func:`run_job`: every request of the job, through its cassette. Saving the
    cassette and scoring are left to :func:`finish_job`, so that a recording thread can send its next
    job's request first (at concurrency 16 against a 200 ms server, waiting for the other threads'
    saving and scoring made every round of requests ~15% slower). Never raises."""
    from .loops.driver import run_loop
    from .providers import conversation, make_client
    from .recording import cassette_session

    cassette = job.cassette_path(config.cassettes)
    started = time.perf_counter()
    sent = SentJob(job, cassette, 0.0)
    loop = job.case.expect.is_loop
    inner = (lambda: network.get(job.model.name)) if network is not None else None
    try:
        with cassette_session(
            cassette,
            record_mode=config.record_mode,
            inner=inner,
            timeout=job.model.timeout,
            redactor=redactor,
            save=False,
        ) as session:
            sent.session = session
            client = make_client(job.model, session.http_client, record_mode=config.record_mode)
            talk = conversation(client, job, record_mode=config.record_mode, live=session.live)
            # A single-reply case is a loop of one step: the same path for every API.
            sent.trajectory = run_loop(talk, job.case.tool_outputs, max_steps=job.case.max_steps if loop else 1)
            sent.request = talk.summary()
            sent.turn = flattened(sent.trajectory) if loop else sent.trajectory.final
            if sent.turn.error is not None:
                session.discard()  # an error is not the model's answer: nothing of it is saved
    except Exception as exc:  # noqa: BLE001  # never raises: the job becomes an error (_error_turn)
        sent.failed = _error_turn(job, exc)
    sent.seconds = time.perf_counter() - started
    return sent


def finish_job(sent: SentJob, config: RunConfig, scorers: Sequence[str], redactor: Redactor) -> CaseResult:
    """The other half of :func:`run_job`: save the cassette, score the reply, build the redacted result."""
    started = time.perf_counter()
    job, trajectory = sent.job, sent.trajectory
    loop = job.case.expect.is_loop
    requests = retries = 0
    latency: float | None = None
    aligned: tuple[dict[str, Any], ...] = ()
    modes: dict[str, str | None] | None = None
    status: str = "error"
    scores: Sequence[Score] = ()
    turn = sent.failed
    try:
        if sent.session is not None:
            sent.session.save()  # what was recorded, even when the job then failed inside evalkit
            requests, retries, latency = sent.session.requests, sent.session.retries, sent.session.latency
        if turn is None and sent.turn is not None:
            turn = sent.turn
            analysis = analyse(
                job.case, turn, job.offered_tools, bfcl=config.bfcl, trajectory=trajectory if loop else None
            )
            status, scores = score_analysis(analysis, scorers=scorers)
            aligned = alignment(analysis) if status != "passed" and turn.error is None and not loop else ()
            if compared(job.case):  # BFCL's verdict beside evalkit's (reporting/modes.py)
                modes = other_mode(
                    job.case, turn, job.offered_tools, bfcl=config.bfcl, status=status, scores=scores, scorers=scorers
                )
    except Exception as exc:  # noqa: BLE001  # never raises: the job becomes an error (_error_turn)
        turn, status, scores = _error_turn(job, exc), "error", ()
    if turn is None:  # pragma: no cover - send_job sets a turn or a failure
        turn = Turn.failed(INTERNAL_ERROR, "the job ended without a reply or an error (a bug: please report it)")
    failures = tuple((f.kind, f.explanation) for f in failures_of(scores)) or (
        ((turn.error.kind, turn.error.message),) if turn.error else ()
    )
    # A cassette miss names the cassette: by its path in the project, never this machine's folders
    # (results and reports are committed and shared).
    shown, absolute = _relative(sent.cassette, config.root), str(sent.cassette)
    steps = trajectory.record() if loop and trajectory is not None else ()
    if shown != absolute:
        failures = tuple((kind, text.replace(absolute, shown)) for kind, text in failures)
        steps = tuple(
            {**step, "error": step["error"].replace(absolute, shown)} if isinstance(step.get("error"), str) else step
            for step in steps
        )
    result = CaseResult(
        model=job.model.name,
        suite=job.case.suite,
        case_id=job.case.id,
        status=status,
        tool_count=job.tool_count,
        trial=job.trial,
        tags=job.case.tags,
        scores={s.scorer: ScoreRecord(s.value, s.passed) for s in scores},
        failures=failures,
        expected=job.case.expect.describe(),
        calls=tuple({"name": c.name, "arguments": c.arguments, "id": c.id} for c in turn.calls),
        content=turn.content[:500] if turn.content else turn.content,
        finish_reason=turn.finish_reason,
        prompt_tokens=turn.prompt_tokens,
        completion_tokens=turn.completion_tokens,
        n_offered=len(job.offered_tools),
        request=sent.request,
        cassette=shown,
        seconds=round(sent.seconds + time.perf_counter() - started, 4),  # not the time it waited in between
        requests=requests,
        retries=retries,
        latency=latency if latency is not None else turn.server_seconds,
        alignment=aligned,
        steps=steps,
        ended=trajectory.ended if loop and trajectory is not None else None,
        modes=modes,
    )
    return _redacted(result, redactor)


def _error_turn(job: Job, exc: Exception) -> Turn:
    """The job's outcome when evalkit raised (called in the ``except``): a mistake the user can fix
    (an EvalkitError, e.g. recording with no API key) is a ``config_error``; anything else is a bug,
    logged with its traceback, and an ``internal_error``."""
    if isinstance(exc, EvalkitError):
        return Turn.failed(CONFIG_ERROR, str(exc))
    log.exception("job %s failed inside evalkit", job.key)
    return Turn.failed(
        INTERNAL_ERROR, f"{type(exc).__name__}: {exc} (a bug: please report it with the traceback above)"
    )


def _redacted(result: CaseResult, redactor: Redactor) -> CaseResult:
    """The result with every secret value of the run replaced (a server may echo a key back)."""
    if not redactor:
        return result
    from dataclasses import replace

    return replace(
        result,
        failures=tuple((kind, redactor.text(why)) for kind, why in result.failures),
        calls=tuple(redactor.value(call) for call in result.calls),
        content=redactor.text(result.content) if result.content else result.content,
        request=redactor.value(result.request),
        alignment=redactor.value(result.alignment),
        steps=redactor.value(result.steps),
    )


def reproducible_config(config: RunConfig, suites: Sequence[Suite], scorers: Sequence[str]) -> dict[str, Any]:
    """What results.json keeps of a run's configuration (and what a resumed run must match)."""
    return {
        "models": [m.summary() for m in config.models],
        "record_mode": config.record_mode,
        "scorers": list(scorers),
        "bfcl": config.bfcl,
        "trials": config.trials,
        "tool_counts": list(config.tool_counts) if config.tool_counts else None,
        "seed": config.seed,
        "distractors": _relative(config.distractors, config.root) if config.distractors else None,
        "cases": _relative(config.cases, config.root),
        "cassettes": _relative(config.cassettes, config.root),
        "suites": {
            s.name: {"file": _relative(Path(s.file), config.root), "cases": len(s.cases), "tools": len(s.tools)}
            for s in suites
        },
    }


def _relative(path: Path, root: Path) -> str:
    path = Path(path)
    if path.is_absolute() and ".." not in path.parts:  # a job's cassette: no file system calls
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    try:  # resolve() asks the file system about every folder of the path (~0.1 ms)
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


class _progress:
    """A rich progress bar on stderr (a no-op when disabled)."""

    def __init__(self, total: int, done: int, *, enabled: bool):
        self.total, self.done, self.enabled = total, done, enabled
        self.not_passed = 0

    def __enter__(self) -> Callable[[CaseResult], None]:
        if not self.enabled:
            return lambda result: None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("[bold]evalkit[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.bar.start()
        self.task = self.bar.add_task("jobs", total=self.total, completed=self.done, status="")

        def advance(result: CaseResult) -> None:
            self.not_passed += result.status != "passed"
            self.bar.update(self.task, advance=1, status=f"{self.not_passed} not passed")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()
