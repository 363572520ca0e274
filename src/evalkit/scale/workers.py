"""``evalkit run --workers N``: replay and score in N processes.

Replaying a job is CPU work (YAML, the SDK, parsing, scoring: ~5 ms a job), and threads share one
interpreter lock, so only processes use a second core. Each worker process rebuilds the run's plan
from the configuration and the suites it was given once, at start (the plan is deterministic); the
main process then sends it plan positions in chunks, never the jobs themselves (a job carries its
offered tools: at 64 tools, pickling them would cost more than replaying). A worker sends back the
finished :class:`~evalkit.results.CaseResult` values (frozen dataclasses, picklable), which the main
process writes to the journal as they arrive, so resume, plan order at compaction and the progress bar
work as with threads. Results are the same as in one process: only the ``seconds`` a job took differ.

Recording with workers is allowed: each worker runs its chunk on ``concurrency`` threads, so up to
``workers × concurrency`` requests are in flight at once, against one provider rate limit.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any

from ..cases import Suite
from ..config import RunConfig
from ..errors import ConfigError
from ..jobs import Job
from ..recording import NetworkTransports
from ..redaction import Redactor
from ..results import CaseResult

# `evalkit run` without --workers (evalkit.config.AUTO_WORKERS). Measured on 2 cores (bench_memory's
# project generator, the whole command, median of 4): 2 processes replayed 200 jobs in 2.34 s against
# 2.48 s for one, 1,000 jobs in 3.31 s against 3.91 s; bench_workers.py has the larger runs.
AUTO_MIN_JOBS = 200
AUTO_MIN_JOBS_SPAWN = 2000  # a spawned worker imports evalkit and the openai SDK again (~0.5 s)
AUTO_MAX_WORKERS = 4  # each worker holds the run's plan: memory grows with every process


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one; a container's CPU
    quota is not seen)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def auto_workers(record_mode: str, jobs: int) -> int:
    """Processes for ``jobs`` jobs when ``--workers`` is not given: one per usable CPU, up to
    :data:`AUTO_MAX_WORKERS` and one per 100 jobs, for a replay of at least :data:`AUTO_MIN_JOBS`
    jobs (:data:`AUTO_MIN_JOBS_SPAWN` where workers are spawned); 1 otherwise. Recording stays in one
    process: it waits on the network, which threads (``concurrency``) already overlap, and more
    processes would multiply the requests in flight against the provider's rate limit."""
    spawned = _context().get_start_method() != "fork"
    if record_mode != "none" or jobs < (AUTO_MIN_JOBS_SPAWN if spawned else AUTO_MIN_JOBS):
        return 1
    return max(1, min(usable_cpus(), AUTO_MAX_WORKERS, jobs // 100))


# Jobs per task: large enough that the round trip to a worker (~0.2 ms) is noise next to the jobs
# (~5 ms each), small enough that the progress bar moves and the last chunks even out between workers.
MAX_CHUNK = 32


@contextmanager
def in_processes(
    jobs: Sequence[Job],
    todo: Sequence[int],
    config: RunConfig,
    suites: Sequence[Suite],
    scorers: Sequence[str],
    *,
    meanwhile: Callable[[], object] | None = None,
) -> Iterator[Iterator[CaseResult]]:
    """The results of the jobs at positions ``todo`` of the plan ``jobs``, run in ``config.workers``
    processes, yielded as chunks finish (not in plan order). The first job runs here, before the
    processes start: the imports and caches a job warms (the openai SDK alone: ~0.3 s) are then made
    once and inherited by every forked worker, instead of paid again in each. A worker that dies
    (killed, out of memory) ends the run with ``BrokenProcessPool``; the journal keeps what finished,
    for ``--resume``. ``meanwhile`` runs on a daemon thread of this process once the workers are
    started (never before: a fork would copy a thread in the middle of an import); its errors are
    ignored."""
    from ..runner import run_job

    if not todo:
        yield iter(())
        return
    first = run_job(jobs[todo[0]], config, scorers, redactor=Redactor.for_models(config.models))
    todo = todo[1:]
    if not todo:
        yield iter((first,))
        return
    workers = max(1, min(config.workers, len(todo)))
    chunk = max(1, min(MAX_CHUNK, len(todo) // (workers * 4)))
    planned = len(jobs)
    context = _context()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start,
        initargs=(
            config,
            _suites_for(context, suites),
            _case_modules(),
            tuple(scorers),
            planned,
            os.getpid(),
            context.get_start_method() == "forkserver",
        ),
    )
    chunks = iter(todo)
    pending: set[Future[list[CaseResult]]] = set()

    def submit() -> bool:
        positions = list(islice(chunks, chunk))
        if positions:
            pending.add(pool.submit(_run_chunk, positions))
        return bool(positions)

    # Two chunks a worker in flight: each worker always has its next chunk queued. Submitting now
    # starts the processes, before the caller starts any thread (a progress bar) that a fork would copy.
    for _ in range(2 * workers):
        submit()
    if meanwhile is not None:
        threading.Thread(target=_quietly, args=(meanwhile,), name="evalkit-meanwhile", daemon=True).start()

    def results() -> Iterator[CaseResult]:
        nonlocal pending
        yield first
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                submit()
                yield from future.result()

    try:
        yield results()
    finally:
        # Interrupted (Ctrl-C, an error in the main process): do not wait for chunks nobody will read.
        # A second Ctrl-C while the pool stops would leave its workers waiting forever for their last
        # message; a replay's pool stops in the milliseconds its running chunks take, so it is not
        # interrupted. (Recording workers take Ctrl-C themselves, and stop at once.)
        with _sigint_ignored(config.record_mode == "none"):
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _sigint_ignored(ignore: bool) -> Iterator[None]:
    if not ignore or threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _quietly(work: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):  # preparation only: the same work fails loudly where it is needed
        work()


def _context() -> Any:
    """``fork`` where it is available and safe (Linux): a worker starts in milliseconds, with evalkit
    already imported. Elsewhere the platform's default (``spawn`` on macOS and Windows): each worker
    imports evalkit again and gets the configuration and suites pickled, once. From a notebook kernel
    (threads running, no main script), a fork server on Linux instead: see the comments below."""
    methods = multiprocessing.get_all_start_methods()
    # macOS lists fork too, but its system frameworks are not safe to use in a forked child.
    if "fork" not in methods or sys.platform == "darwin":
        return multiprocessing.get_context()
    # A fork copies only the calling thread: a lock another thread held at that moment stays locked
    # in the child forever (Python 3.12+ warns with a DeprecationWarning). `evalkit run` starts its
    # workers before any thread of its own. A notebook kernel runs threads: there the fork server
    # starts workers instead. A script is forked still: a fork server's workers import the main
    # script again, and one without `if __name__ == "__main__":` would run itself in each of them.
    main = sys.modules.get("__main__")
    if threading.active_count() > 1 and "forkserver" in methods and getattr(main, "__file__", None) is None:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("fork")


@dataclass(frozen=True)
class _Worker:
    jobs: tuple[Job, ...]
    config: RunConfig
    scorers: tuple[str, ...]
    redactor: Redactor
    network: NetworkTransports


_worker: _Worker | None = None  # this worker process's plan and tools, set once by _start


def _case_modules() -> tuple[str, ...]:
    """The files of the modules case files imported (``pydantic:`` tools, ``python:`` outputs): a suite
    holds objects of theirs, which a spawned worker can unpickle only once it has imported them too."""
    return tuple(
        str(module.__file__)
        for name, module in list(sys.modules.items())
        if name.startswith("evalkit_case_module_") and getattr(module, "__file__", None)
    )


def can_send(suites: Sequence[Suite]) -> bool:
    """Whether worker processes can be given ``suites``: always when they are forked (they inherit
    them); when spawned, only if the suites pickle (a ``python:`` tool output that is a lambda or a
    closure does not)."""
    if _context().get_start_method() == "fork":
        return True
    try:
        pickle.dumps(tuple(suites))
    except Exception:  # noqa: BLE001  # pickle raises PicklingError, AttributeError, TypeError…
        return False
    return True


def _suites_for(context: Any, suites: Sequence[Suite]) -> tuple[Suite, ...] | bytes:
    """The suites as a worker gets them: as they are for a forked worker (it inherits this process's
    memory, so nothing is pickled); pickled for a spawned one, which reads them once it has
    imported the case files' modules (a one-line error if they do not pickle)."""
    if context.get_start_method() == "fork":
        return tuple(suites)
    try:
        return pickle.dumps(tuple(suites))
    except Exception as exc:  # noqa: BLE001  # pickle raises PicklingError, AttributeError, TypeError…
        raise ConfigError(
            f"the case files hold something worker processes cannot be sent ({type(exc).__name__}: {exc}); "
            "define tool outputs and pydantic models at the top level of their module, or use --workers 1"
        ) from None


def _start(
    config: RunConfig,
    suites: tuple[Suite, ...] | bytes,
    modules: tuple[str, ...],
    scorers: tuple[str, ...],
    planned: int,
    main: int,
    via_server: bool,
) -> None:
    """Rebuild the plan the main process runs (the same functions, so the same jobs in the same order).
    Pickled ``suites`` (spawned workers) are read after the case modules are imported under their
    own names. The worker ends when the main process does, however it ends (see _follow_parent),
    and a replaying worker leaves Ctrl-C to the main process, which stops the pool in order."""
    from pathlib import Path

    from ..cases.references import module_from_file  # the loader that names them: the same names
    from ..runner import plan_run
    from .shards import Shard, select

    _follow_parent(main, via_server)
    if config.record_mode == "none":
        # Chunks of replayed jobs take milliseconds: the main process's shutdown waits for them. A
        # recording worker keeps Ctrl-C, which stops its requests (they may take minutes).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in modules:
        module_from_file(Path(module))
    plan = plan_run(config, pickle.loads(suites) if isinstance(suites, bytes) else list(suites))
    if config.shard is not None:
        plan = select(plan, Shard(*config.shard))
    if len(plan.jobs) != planned:  # a bug: positions would name other jobs
        raise RuntimeError(f"a worker planned {len(plan.jobs)} jobs, the main process {planned}")
    global _worker
    _worker = _Worker(plan.jobs, config, scorers, Redactor.for_models(config.models), NetworkTransports())


def _follow_parent(main: int, via_server: bool) -> None:
    """On Linux, have the kernel kill this worker when its parent dies (SIGKILL, SIGTERM, a crash):
    an orphaned worker would block forever on a full result pipe, holding the terminal's output and
    the run's journal open. The parent is the main process (``main``), or with ``via_server`` the
    fork server, which exits when the main process does. Elsewhere the pool's own pipes end it."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    # The main process died before the line above: nobody to work for.
    if (not _alive(main)) if via_server else os.getppid() != main:
        os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        pass
    return True


def _run_chunk(positions: list[int]) -> list[CaseResult]:
    from ..runner import run_job

    worker = _worker
    if worker is None:  # pragma: no cover - the pool's initializer always ran first
        raise RuntimeError("evalkit worker used before it started")
    jobs = [worker.jobs[n] for n in positions]

    def one(job: Job) -> CaseResult:
        return run_job(job, worker.config, worker.scorers, redactor=worker.redactor, network=worker.network)

    if worker.config.record_mode == "none" or worker.config.concurrency == 1:
        return [one(job) for job in jobs]  # replay is CPU work: threads would only contend for the GIL
    with ThreadPoolExecutor(max_workers=worker.config.concurrency) as threads:  # recording waits on the network
        return list(threads.map(one, jobs))
