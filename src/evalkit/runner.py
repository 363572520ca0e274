"""Orchestration only: expand jobs, run them on a bounded pool with a progress bar, collect results.

Scoring rules live in :mod:`evalkit.scorers`, HTTP and cassettes in :mod:`evalkit.recording`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .calls import Turn
from .cases import Suite
from .config import RunConfig
from .errors import EvalkitError
from .jobs import Job, expand
from .results import CaseResult, RunResult, ScoreRecord, new_run_id, now_iso
from .scorers import failures_of, resolve_scorers, score_job
from .scorers.modes import other_mode

log = logging.getLogger(__name__)
INTERNAL_ERROR = "internal_error"
CONFIG_ERROR = "config_error"


def run_suites(
    config: RunConfig,
    suites: Sequence[Suite],
    *,
    progress: bool = True,
    run_id: str | None = None,
) -> RunResult:
    """Run every job of ``suites`` × ``config.models``; nothing here raises for one bad job."""
    scorers = resolve_scorers(config.scorers)
    pool = None
    if config.tool_counts:
        from .distractors import load_pool

        pool = load_pool(config.distractors, cases_dir=config.cases if config.cases.is_dir() else config.cases.parent)
    plan = expand(
        suites, config.models, trials=config.trials, tool_counts=config.tool_counts, pool=pool, seed=config.seed
    )
    for note in plan.skipped:
        log.warning("skipped: %s", note)
    jobs = plan.jobs
    started = time.perf_counter()
    with _progress(len(jobs), enabled=progress) as advance:

        def work(job: Job) -> CaseResult:
            result = run_job(job, config, scorers)
            advance(result)
            return result

        with ThreadPoolExecutor(max_workers=config.concurrency) as executor:
            results = tuple(executor.map(work, jobs))
    return RunResult(
        run_id=run_id or new_run_id(),
        created=now_iso(),
        config={**_reproducible(config, suites, scorers), "skipped": list(plan.skipped)},
        jobs=results,
        seconds=round(time.perf_counter() - started, 3),
    )


def run_job(job: Job, config: RunConfig, scorers: Sequence[str]) -> CaseResult:
    """Send one job (recording or replaying its cassette) and score the reply."""
    from .providers import make_client
    from .providers import run_job as call_api
    from .recording import cassette_client

    cassette = job.cassette_path(config.cassettes)
    started = time.perf_counter()
    request: dict[str, Any] = {}
    try:
        with cassette_client(cassette, record_mode=config.record_mode) as http_client:
            client = make_client(job.model, http_client, record_mode=config.record_mode)
            request, turn = call_api(client, job)
    except EvalkitError as exc:  # e.g. recording with no API key: the user can fix it
        turn = Turn.failed(CONFIG_ERROR, str(exc))
    except Exception as exc:  # a bug in evalkit or the SDK: keep the job, say what broke
        log.exception("job %s failed inside evalkit", job.key)
        turn = Turn.failed(
            INTERNAL_ERROR, f"{type(exc).__name__}: {exc} (a bug: please report it with the traceback above)"
        )
    status, scores = score_job(job.case, turn, job.offered_tools, scorers=scorers, bfcl=config.bfcl)
    modes = other_mode(
        job.case, turn, job.offered_tools, bfcl=config.bfcl, status=status, scores=scores, scorers=scorers
    )
    if turn.error and turn.error.kind in (INTERNAL_ERROR, CONFIG_ERROR):
        status = "error"
    return CaseResult(
        model=job.model.name,
        suite=job.case.suite,
        case_id=job.case.id,
        status=status,
        tool_count=job.tool_count,
        trial=job.trial,
        tags=job.case.tags,
        scores={s.scorer: ScoreRecord(s.value, s.passed) for s in scores},
        failures=tuple((f.kind, f.explanation) for f in failures_of(scores)),
        expected=job.case.expect.describe(),
        calls=tuple({"name": c.name, "arguments": c.arguments, "id": c.id} for c in turn.calls),
        content=turn.content[:500] if turn.content else turn.content,
        finish_reason=turn.finish_reason,
        prompt_tokens=turn.prompt_tokens,
        completion_tokens=turn.completion_tokens,
        n_offered=len(job.offered_tools),
        request=request,
        cassette=_relative(cassette, config.root),
        seconds=round(time.perf_counter() - started, 4),
        modes=modes,
    )


def _reproducible(config: RunConfig, suites: Sequence[Suite], scorers: Sequence[str]) -> dict[str, Any]:
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
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


class _progress:
    """A rich progress bar on stderr (a no-op when disabled)."""

    def __init__(self, total: int, *, enabled: bool):
        self.total, self.enabled = total, enabled
        self.failed = 0

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
        self.task = self.bar.add_task("jobs", total=self.total, status="")

        def advance(result: CaseResult) -> None:
            self.failed += result.status != "passed"
            self.bar.update(self.task, advance=1, status=f"{self.failed} not passed")

        return advance

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self.bar.stop()
