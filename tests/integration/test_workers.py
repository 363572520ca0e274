"""``--workers N``: replaying and scoring in N processes gives what one process gives, job for job
(only the seconds each job took differ), with shards, tool-count sweeps and resume alike."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evalkit.cases import load_all
from evalkit.cli import cli
from evalkit.config import RunConfig, load_config, select_models
from evalkit.errors import ConfigError
from evalkit.results import RunResult, job_line, job_record
from evalkit.runner import run_suites


def records(run: RunResult) -> list[dict[str, Any]]:
    return [{k: v for k, v in job_record(job).items() if k != "seconds"} for job in run.jobs]


@pytest.fixture(scope="module")
def shipped(repo_root: Path) -> tuple[RunConfig, list[Any]]:
    return load_config(start=repo_root), load_all([repo_root / "cases"])


@pytest.fixture(scope="module")
def single(shipped: tuple[RunConfig, list[Any]]) -> RunResult:
    config, suites = shipped
    return run_suites(config, suites, progress=False)


def test_two_workers_give_the_results_of_one_process(
    shipped: tuple[RunConfig, list[Any]], single: RunResult, tmp_path: Path
) -> None:
    config, suites = shipped
    parallel = run_suites(replace(config, workers=2), suites, progress=False, run_id="w2", reports=tmp_path)
    assert len(single.jobs) == sum(len(suite.cases) for suite in suites) * len(config.models)
    assert any(job.steps for job in single.jobs)  # tool loops too: several requests in one job
    assert records(parallel) == records(single)  # the journal came in any order; results.json is in plan order
    assert parallel.config == single.config  # workers are not part of what a run means


def test_workers_run_one_shard(shipped: tuple[RunConfig, list[Any]], single: RunResult) -> None:
    config, suites = shipped
    shard = run_suites(replace(config, workers=3, shard=(2, 3)), suites, progress=False)
    alone = run_suites(replace(config, shard=(2, 3)), suites, progress=False)
    assert records(shard) == records(alone) and 0 < len(shard.jobs) < len(single.jobs)


def test_workers_rebuild_a_tool_count_sweep(repo_root: Path) -> None:
    config = replace(select_models(load_config(start=repo_root), ["qwen2.5-coder-0.5b"]), tool_counts=(4, 64))
    suites = load_all(sorted((repo_root / "cases").glob("*.yaml")))  # the sweep is recorded for these
    one = run_suites(config, suites, progress=False)
    two = run_suites(replace(config, workers=2), suites, progress=False)
    assert records(two) == records(one)
    assert {job.n_offered for job in two.jobs} == {4, 64} and all(job.status != "error" for job in two.jobs)


def test_workers_resume_a_stopped_run(shipped: tuple[RunConfig, list[Any]], single: RunResult, tmp_path: Path) -> None:
    """A run killed after 50 jobs: its journal and header, then --resume with two workers."""
    config, suites = shipped
    run_suites(config, suites, progress=False, run_id="full", reports=tmp_path)
    folder = tmp_path / "stopped"
    folder.mkdir()
    header = json.loads((tmp_path / "full" / "results.json").read_text(encoding="utf-8").splitlines()[0] + "]}")
    (folder / "run.json").write_text(json.dumps({k: header[k] for k in ("version", "run_id", "created", "config")}))
    kept = list(single.jobs)[::3][:50]
    (folder / "jobs.jsonl").write_text("".join(job_line(job) + "\n" for job in kept), encoding="utf-8")
    resumed = run_suites(
        replace(config, workers=2), suites, progress=False, run_id="stopped", reports=tmp_path, resume=True
    )
    assert records(resumed) == records(single)


def test_the_cli_takes_workers(repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo_root)
    args = ["run", "cases/weather.yaml", "--workers", "2", "--out", str(tmp_path), "--no-progress", "--no-html"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "latest" / "results.json").is_file()
    bad = CliRunner().invoke(cli, ["run", "cases/", "--workers", "0"])
    assert bad.exit_code == 2 and "0 is not in the range 1<=x<=256" in bad.stderr


def test_spawned_workers_give_the_same_results(
    shipped: tuple[RunConfig, list[Any]], single: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """macOS and Windows spawn workers (a fresh interpreter): the suites arrive pickled, after the
    modules case files import (the strict suite's pydantic tools) are imported under their names."""
    import multiprocessing

    from evalkit.scale import workers

    monkeypatch.setattr(workers, "_context", lambda: multiprocessing.get_context("spawn"))
    config, suites = shipped
    assert records(run_suites(replace(config, workers=2), suites, progress=False)) == records(single)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and fork servers: Linux")
def test_a_notebook_with_threads_gets_workers_from_a_fork_server(
    shipped: tuple[RunConfig, list[Any]], single: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fork copies only the calling thread, so a lock another thread holds stays locked in the
    child (Python 3.12+ warns: "This process is multi-threaded, use of fork() may lead to
    deadlocks"). A notebook kernel runs threads and has no main script: its workers start from a
    fork server, and give the same results."""
    import threading
    import types
    import warnings

    from evalkit.scale import workers

    assert workers._context().get_start_method() == "fork" or threading.active_count() > 1
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # a kernel's: no __file__
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="kernel-thread", daemon=True)
    thread.start()
    try:
        assert workers._context().get_start_method() == "forkserver"
        config, suites = shipped
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            parallel = run_suites(replace(config, workers=2), suites, progress=False)
        assert records(parallel) == records(single)
        assert not [w for w in seen if "fork()" in str(w.message)]
    finally:
        stop.set()
        thread.join()


SCRIPT_WITHOUT_GUARD = """\
import sys, threading
from dataclasses import replace
from pathlib import Path

from evalkit.cases import load_all
from evalkit.config import load_config
from evalkit.runner import run_suites

threading.Thread(target=threading.Event().wait, daemon=True).start()  # an app's own thread
root = Path(sys.argv[1])
config = load_config(start=root)
run = run_suites(replace(config, workers=2), load_all([root / "cases" / "weather.yaml"]), progress=False)
print("jobs", len(run.jobs))
"""


def test_a_script_without_a_main_guard_still_runs_its_workers(repo_root: Path, tmp_path: Path) -> None:
    """A fork server's workers import the main script again: one without `if __name__ ==
    "__main__":` would run itself in each. So a script is forked, threads or not."""
    import subprocess

    script = tmp_path / "app.py"
    script.write_text(SCRIPT_WITHOUT_GUARD, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(repo_root)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["jobs 36"]


@pytest.mark.parametrize(
    ("record_mode", "jobs", "cpus", "start", "expected"),
    [
        ("none", 199, 8, "fork", 1),  # too few jobs to pay for a second process
        ("none", 200, 8, "fork", 2),  # one worker per 100 jobs
        ("none", 2000, 2, "fork", 2),  # one per CPU
        ("none", 100_000, 64, "fork", 4),  # at most 4: each holds the plan
        ("none", 100_000, 1, "fork", 1),
        ("none", 1999, 8, "spawn", 1),  # a spawned worker imports everything again
        ("none", 2000, 8, "spawn", 4),
        ("once", 100_000, 8, "fork", 1),  # recording waits on the network: threads, one process
        ("all", 100_000, 8, "fork", 1),
    ],
)
def test_auto_workers(
    record_mode: str, jobs: int, cpus: int, start: str, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    from evalkit.scale import workers

    monkeypatch.setattr(workers, "usable_cpus", lambda: cpus)
    monkeypatch.setattr(workers, "_context", lambda: multiprocessing.get_context(start))
    assert workers.auto_workers(record_mode, jobs) == expected


def test_the_cli_chooses_workers_unless_told(repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`evalkit run` without --workers replays the shipped cases (280 jobs) in 2 processes on 2+ CPUs;
    --workers 1 keeps one; the library's RunConfig keeps one unless asked."""
    from evalkit.scale import workers

    used: list[int] = []
    real = workers.in_processes

    def spy(jobs: Any, todo: Any, config: RunConfig, *rest: Any, **options: Any) -> Any:
        used.append(config.workers)
        return real(jobs, todo, config, *rest, **options)

    monkeypatch.setattr(workers, "in_processes", spy)
    monkeypatch.setattr(workers, "usable_cpus", lambda: 2)
    monkeypatch.chdir(repo_root)
    base = ["run", "cases/", "--no-progress", "--no-html", "--failures", "0"]
    auto = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "auto")])
    assert auto.exit_code == 0, auto.stderr
    assert used == [2]
    one = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "one"), "--workers", "1"])
    assert one.exit_code == 0, one.stderr
    assert used == [2]  # one process: in_processes is not used
    assert load_config(start=repo_root).workers == 1
    auto_records = json.loads((tmp_path / "auto" / "latest" / "results.json").read_text())["jobs"]
    one_records = json.loads((tmp_path / "one" / "latest" / "results.json").read_text())["jobs"]
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in auto_records]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in one_records]


def test_meanwhile_runs_beside_worker_processes_only(shipped: tuple[RunConfig, list[Any]], single: RunResult) -> None:
    """The CLI imports its report libraries while workers run the jobs; in one process that work would
    only compete with the jobs, so it is not done. A failure in it is preparation lost, not a run lost."""
    import threading

    config, suites = shipped
    ran = threading.Event()

    def work() -> None:
        ran.set()
        raise RuntimeError("ignored")

    two = run_suites(replace(config, workers=2), suites, progress=False, meanwhile=work)
    assert ran.wait(30) and records(two) == records(single)
    ran.clear()
    run_suites(replace(config, workers=1), suites[:1], progress=False, meanwhile=work)
    assert not ran.is_set()


def with_closure_outputs(suites: list[Any]) -> list[Any]:
    """The suites, each loop case given one more tool implementation: a closure (closures do not
    pickle), for a function the model is never offered, so that no result changes."""
    from evalkit.loops.outputs import ToolImplementation

    def make(eta: str) -> Any:
        def track(**arguments: Any) -> dict[str, Any]:
            return {"tracking": arguments, "eta": eta}

        return track

    extra = {"never_offered": ToolImplementation(function=make("2026-12-03"), reference="test:track")}

    def changed(case: Any) -> Any:
        outputs = case.tool_outputs
        return replace(case, tool_outputs=replace(outputs, implementations={**outputs.implementations, **extra}))

    return [replace(s, cases=tuple(changed(c) if c.expect.is_loop else c for c in s.cases)) for s in suites]


def test_workers_take_suites_that_do_not_pickle(
    shipped: tuple[RunConfig, list[Any]], single: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `python:` tool output made by a closure or a lambda: forked workers inherit the suites (nothing
    is pickled); spawned ones cannot get them, so the default falls back to one process and an explicit
    --workers is a one-line error."""
    import multiprocessing
    import pickle

    from evalkit.scale import workers

    config, shipped_suites = shipped
    suites = with_closure_outputs(shipped_suites)
    with pytest.raises(AttributeError, match=r"Can't (pickle|get) local object"):  # Python 3.13: "get"
        pickle.dumps(suites)
    if "fork" in multiprocessing.get_all_start_methods():  # Linux: forked workers inherit the suites
        monkeypatch.setattr(workers, "_context", lambda: multiprocessing.get_context("fork"))
        assert workers.can_send(suites)
        assert records(run_suites(replace(config, workers=2), suites, progress=False)) == records(single)
    monkeypatch.setattr(workers, "_context", lambda: multiprocessing.get_context("spawn"))
    assert not workers.can_send(suites) and workers.can_send(shipped_suites)
    monkeypatch.setattr(workers, "usable_cpus", lambda: 2)
    monkeypatch.setattr(workers, "AUTO_MIN_JOBS_SPAWN", 1)
    used: list[int] = []
    real = workers.in_processes
    monkeypatch.setattr(workers, "in_processes", lambda *a, **k: used.append(1) or real(*a, **k))
    assert records(run_suites(replace(config, workers=0), suites, progress=False)) == records(single)
    assert used == []  # one process
    with pytest.raises(ConfigError, match=r"cannot be sent .*--workers 1"):
        run_suites(replace(config, workers=2), suites, progress=False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_worker_dies_with_the_main_process(tmp_path: Path) -> None:
    """A main process killed with SIGKILL (or SIGTERM) runs no cleanup: its workers must not live on,
    blocked on a full pipe and holding the terminal's output and the journal open."""
    import os
    import signal
    import subprocess
    import time

    script = (
        "import multiprocessing, os, sys, time\n"
        "from evalkit.scale.workers import _follow_parent\n"
        "def work(parent):\n"
        "    _follow_parent(parent)\n"
        "    time.sleep(60)\n"
        "child = multiprocessing.get_context('fork').Process(target=work, args=(os.getpid(),))\n"
        "child.start()\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    main = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert main.stdout is not None
    worker = int(main.stdout.readline())
    time.sleep(0.5)  # the worker has asked the kernel to follow its parent
    main.send_signal(signal.SIGKILL)
    main.wait()

    def alive() -> bool:  # a zombie (dead, not yet reaped by whoever adopted it) is not alive
        try:
            status = Path(f"/proc/{worker}/status").read_text()
        except FileNotFoundError:
            return False
        return "\nState:\tZ" not in status

    deadline = time.monotonic() + 10
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive():
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its main process")


def test_a_run_id_in_use_is_refused(shipped: tuple[RunConfig, list[Any]], tmp_path: Path) -> None:
    """--run-id of a finished run would overwrite it; of a stopped one, mix two runs in one journal."""
    config, suites = shipped
    one = [suites[0]]
    run_suites(config, one, progress=False, run_id="taken", reports=tmp_path)
    with pytest.raises(ConfigError, match=r"run taken already exists in .*choose another --run-id, remove"):
        run_suites(config, one, progress=False, run_id="taken", reports=tmp_path)
    (tmp_path / "stopped").mkdir()
    (tmp_path / "stopped" / "jobs.jsonl").write_text("")
    with pytest.raises(ConfigError, match=r"or finish it with --resume"):
        run_suites(config, one, progress=False, run_id="stopped", reports=tmp_path)


def test_runs_started_in_the_same_second_get_their_own_folders(
    shipped: tuple[RunConfig, list[Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalkit import runner

    monkeypatch.setattr(runner, "new_run_id", lambda: "20261130-120000")
    config, suites = shipped
    ids = [run_suites(config, [suites[0]], progress=False, reports=tmp_path).run_id for _ in range(3)]
    assert ids == ["20261130-120000", "20261130-120000-2", "20261130-120000-3"]
