"""``evalkit merge RUN... --out DIR``: the shards of one run joined into one run.

The merged results.json is what a single run of the same plan writes: the same jobs, in plan order,
under the shards' common configuration (without ``shard``; ``merged`` names the shard runs). Report,
gate and pandas read it like any run. Refused, each with a one-line :class:`MergeError`: an input that
is not a shard run, shards of different N, a shard given twice or missing, configurations that differ
(other than the shard itself and the batches it recorded with), a job twice, a job its shard's digest
does not give it, and a shard holding fewer or more jobs than it planned.

Memory stays flat: jobs are streamed from each shard's results.json into the new run's journal and
compacted by :class:`~evalkit.results.RunWriter`; what is held per job is its key, to refuse duplicates.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import MergeError
from ..results import JobKey, RunResult, RunWriter, new_run_id, read_results
from .shards import PlanOrder, shard_of

# Keys of a shard's config that may differ between the shards of one run.
PER_SHARD = ("shard", "batches")


def _distinct(paths: Sequence[str | Path]) -> list[str | Path]:
    """``paths`` without a second name for the same run: `shards/*/` also matches `shards/latest`, the
    link every run leaves to the newest one, and a run given as its folder and as its results.json."""
    kept: dict[Path, str | Path] = {}
    for path in paths:
        resolved = Path(path).resolve()
        kept.setdefault(resolved.parent if resolved.name == "results.json" else resolved, path)
    return list(kept.values())


def merge_runs(paths: Sequence[str | Path], reports: Path, *, run_id: str | None = None) -> Path:
    """Merge the shard runs at ``paths`` (each a results.json or its folder) into
    ``<reports>/<run id>/results.json``, point ``<reports>/latest`` at it, and return its path.
    Raises :class:`MergeError` (nothing is left behind) when the shards do not make one whole run."""
    shards = _check_shards([(str(path), read_results(path)) for path in _distinct(paths)])
    first = shards[0][1]
    n = first.config["shard"]["n"]
    config = {k: v for k, v in first.config.items() if k not in PER_SHARD}
    batches = [b for _, run in shards for b in run.config.get("batches") or ()]
    if batches:
        config["batches"] = batches
    config["merged"] = {"n": n, "runs": [run.run_id for _, run in shards]}
    toolsets: dict[str, Any] = {}
    for _, run in shards:
        toolsets.update(run.toolsets)
    run_id = run_id or new_run_id()
    folder = reports / run_id
    if folder.exists():
        raise MergeError(f"{folder} already exists; choose another --run-id or remove it")
    order = PlanOrder(first.config, first.config["shard"]["cases"])
    writer = RunWriter(
        folder, run_id=run_id, created=min(r.created for _, r in shards), config=config, toolsets=toolsets
    )
    try:
        seen: set[JobKey] = set()
        for name, run in shards:
            _copy_jobs(name, run, n, order, seen, writer)
        planned = first.config["shard"]["planned"]
        if len(seen) != planned:  # every shard held what it planned, so the shards planned differently
            raise MergeError(f"the shards hold {len(seen)} jobs, their plan {planned}; merge the shards of one run")
    except BaseException:
        writer.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return writer.finish(seconds=max(r.seconds for _, r in shards), order=order)


def _check_shards(runs: list[tuple[str, RunResult]]) -> list[tuple[str, RunResult]]:
    """The runs sorted by K, once each the shards 1…N of one configuration; else a MergeError."""
    if not runs:
        raise MergeError("no runs to merge; pass the results.json (or run folder) of every shard")
    for name, run in runs:
        shard = run.config.get("shard")
        if not isinstance(shard, Mapping) or not {"k", "n", "planned", "jobs", "cases"} <= shard.keys():
            raise MergeError(f"{name}: not a shard run (its config has no shard); run shards with --shard K/N")
    n = runs[0][1].config["shard"]["n"]
    for name, run in runs:
        if run.config["shard"]["n"] != n:
            raise MergeError(
                f"{name} is shard {_label(run)} but {runs[0][0]} is shard {_label(runs[0][1])}; merge the shards of one run"
            )
    by_k: dict[int, str] = {}
    for name, run in runs:
        k = run.config["shard"]["k"]
        if k in by_k:
            raise MergeError(f"shard {k}/{n} is given twice: {by_k[k]} and {name}")
        by_k[k] = name
    missing = [k for k in range(1, n + 1) if k not in by_k]
    if missing:
        listed = ", ".join(f"{k}/{n}" for k in missing)
        raise MergeError(f"shard(s) {listed} missing (got {len(by_k)} of {n}); pass the results of every shard")
    base_name, base = runs[0]
    for name, run in runs[1:]:
        differ = _differences(base.config, run.config)
        if differ:
            raise MergeError(
                f"{name} and {base_name} differ in {', '.join(differ)}; merge only shards of one run "
                "(same cases, models and options)"
            )
    return sorted(runs, key=lambda pair: int(pair[1].config["shard"]["k"]))


def _differences(one: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    keys = sorted(k for k in one.keys() | other.keys() if k not in PER_SHARD and one.get(k) != other.get(k))
    if one["shard"].get("cases") != other["shard"].get("cases") or one["shard"]["planned"] != other["shard"]["planned"]:
        keys.append("the cases planned")
    return keys


def _copy_jobs(name: str, run: RunResult, n: int, order: PlanOrder, seen: set[JobKey], writer: RunWriter) -> None:
    shard = run.config["shard"]
    k, count = shard["k"], 0
    for job in run.jobs:
        key = job.key
        where = f"{job.model} {job.suite}/{job.case_id}" + (f" tools {job.tool_count}" if job.tool_count else "")
        where += f" trial {job.trial}" if job.trial > 1 else ""
        if key in seen:
            raise MergeError(f"{name}: job {where} is in the merge twice; merge each shard once")
        if key not in order:
            raise MergeError(f"{name}: job {where} is not in the run's plan; was the file edited by hand?")
        if (belongs := shard_of(key, n)) != k:
            raise MergeError(
                f"{name}: job {where} belongs to shard {belongs}/{n}, not {k}/{n}; was it run with another --shard?"
            )
        seen.add(key)
        writer.add(job)
        count += 1
    if count != shard["jobs"]:
        raise MergeError(
            f"{name}: shard {k}/{n} holds {count} jobs, {shard['jobs']} planned; finish it (--resume) or re-run it"
        )


def _label(run: RunResult) -> str:
    return f"{run.config['shard']['k']}/{run.config['shard']['n']}"
