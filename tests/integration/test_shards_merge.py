"""Shards of the shipped cases, replayed and merged, equal one run job for job; merge refuses what
does not make one run, in one line, and leaves nothing behind."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evalkit.cases import load_all
from evalkit.cli import cli
from evalkit.config import RunConfig, load_config
from evalkit.errors import MergeError
from evalkit.reporting.frames import load_results
from evalkit.results import RunResult, job_record, read_results
from evalkit.runner import run_suites
from evalkit.scale.merge import merge_runs

TIMING = ("seconds",)  # what evalkit measured while it ran: the only field that may differ


def records(run: RunResult) -> list[dict[str, Any]]:
    return [{k: v for k, v in job_record(job).items() if k not in TIMING} for job in run.jobs]


@pytest.fixture(scope="module")
def shipped(repo_root: Path) -> tuple[RunConfig, list[Any]]:
    config = load_config(start=repo_root)
    return config, load_all([repo_root / "cases"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, shipped: tuple[RunConfig, list[Any]]) -> dict[str, Any]:
    """One replay of the shipped cases, and the same in three shards."""
    config, suites = shipped
    reports = tmp_path_factory.mktemp("reports")
    single = run_suites(config, suites, progress=False, run_id="single", reports=reports)
    for k in (1, 2, 3):
        run_suites(replace(config, shard=(k, 3)), suites, progress=False, run_id=f"shard{k}", reports=reports)
    return {"reports": reports, "single": single, "shards": [reports / f"shard{k}" for k in (1, 2, 3)]}


def test_shard_and_merge_equals_a_single_run_job_for_job(
    runs: dict[str, Any], shipped: tuple[RunConfig, list[Any]], tmp_path: Path
) -> None:
    single: RunResult = runs["single"]
    config, suites = shipped
    sizes = [read_results(path).config["shard"]["jobs"] for path in runs["shards"]]
    every_job = sum(len(suite.cases) for suite in suites) * len(config.models)
    assert sum(sizes) == len(single.jobs) == every_job and all(size > 0 for size in sizes)
    merged = read_results(merge_runs(reversed(runs["shards"]), tmp_path, run_id="merged"))  # any order
    assert records(merged) == records(single)
    assert merged.toolsets == single.toolsets
    assert merged.config.pop("merged") == {"n": 3, "runs": ["shard1", "shard2", "shard3"]}
    assert merged.config == single.config
    assert (tmp_path / "latest").resolve() == (tmp_path / "merged").resolve()


def test_pandas_reads_the_merged_run_as_the_single_one(runs: dict[str, Any], tmp_path: Path) -> None:
    merged = merge_runs(runs["shards"], tmp_path, run_id="merged")
    one, other = load_results(runs["reports"] / "single"), load_results(merged)
    columns = [c for c in one.columns if c not in ("run_id", "seconds")]
    assert one[columns].equals(other[columns])


def test_the_gate_passes_the_merged_run_against_the_single_one(
    runs: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["merge", *map(str, runs["shards"]), "--out", "merged", "--run-id", "m", "--no-html"]
    )
    assert result.exit_code == 0, result.stderr
    assert "Per model" in result.stdout and (tmp_path / "merged" / "m" / "summary.md").is_file()
    gate = CliRunner().invoke(cli, ["gate", "merged/m", "--baseline", str(runs["reports"] / "single" / "results.json")])
    assert gate.exit_code == 0, gate.output


def copy_run(source: Path, target: Path, *, edit: Any = None, drop_job: int | None = None) -> Path:
    """A copy of a shard's results.json, its header edited by ``edit(config)`` or a job line dropped."""
    lines = (source / "results.json").read_text(encoding="utf-8").splitlines(keepends=True)
    if edit is not None:
        header = json.loads(lines[0].rstrip().removesuffix('"jobs": [') + '"jobs": []}')
        edit(header["config"])
        lines[0] = json.dumps(header)[: -len("]}")] + "\n"
    if drop_job is not None:
        del lines[1 + drop_job]
        lines[-2] = lines[-2].rstrip().removesuffix(",") + "\n"  # the last job line has no comma
    target.mkdir(parents=True)
    (target / "results.json").write_text("".join(lines), encoding="utf-8")
    return target


def refused(paths: list[Path], out: Path) -> str:
    with pytest.raises(MergeError) as error:
        merge_runs(paths, out, run_id="merged")
    assert not (out / "merged").exists() and not (out / "latest").exists()
    message = str(error.value)
    assert "\n" not in message
    return message


def test_merge_refuses_a_missing_or_repeated_shard(runs: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    one, two, three = runs["shards"]
    assert refused([one, three], tmp_path) == ("shard(s) 2/3 missing (got 2 of 3); pass the results of every shard")
    again = shutil.copytree(two, tmp_path / "again" / "shard2")  # shard 2 run twice: two runs of one shard
    assert refused([one, two, three, again], tmp_path) == f"shard 2/3 is given twice: {two} and {again}"


def test_merge_takes_one_run_by_any_of_its_names(runs: dict[str, Any], tmp_path: Path) -> None:
    """`evalkit merge shards/*/` also matches `shards/latest`, the link to the newest run: one run under
    two names is one shard, as is a run given as its folder and as its results.json."""
    one, two, three = runs["shards"]
    latest = tmp_path / "latest-link"
    latest.symlink_to(three)
    merged = merge_runs([one, two, three, latest, two / "results.json"], tmp_path / "out", run_id="m")
    assert read_results(merged).config["merged"]["runs"] == ["shard1", "shard2", "shard3"]


def test_merge_refuses_a_run_that_is_not_a_shard(runs: dict[str, Any], tmp_path: Path) -> None:
    single = runs["reports"] / "single"
    assert refused([single], tmp_path) == (
        f"{single}: not a shard run (its config has no shard); run shards with --shard K/N"
    )


def test_merge_refuses_shards_of_different_runs(runs: dict[str, Any], tmp_path: Path) -> None:
    one, two, three = runs["shards"]
    other = copy_run(two, tmp_path / "other", edit=lambda config: config.update(seed=7, bfcl=True))
    assert refused([one, other, three], tmp_path) == (
        f"{other} and {one} differ in bfcl, seed; merge only shards of one run (same cases, models and options)"
    )
    fewer = copy_run(three, tmp_path / "n4", edit=lambda config: config["shard"].update(n=4))
    assert refused([one, two, fewer], tmp_path) == (
        f"{fewer} is shard 3/4 but {one} is shard 1/3; merge the shards of one run"
    )


def test_merge_refuses_a_gap_a_duplicate_and_a_job_of_another_shard(runs: dict[str, Any], tmp_path: Path) -> None:
    one, two, three = runs["shards"]
    short = copy_run(two, tmp_path / "short", drop_job=0)
    planned = read_results(two).config["shard"]["jobs"]
    assert refused([one, short, three], tmp_path) == (
        f"{short}: shard 2/3 holds {planned - 1} jobs, {planned} planned; finish it (--resume) or re-run it"
    )
    # shard 3's jobs relabelled as shard 2's: every one belongs elsewhere
    moved = copy_run(three, tmp_path / "moved", edit=lambda config: config["shard"].update(k=2))
    relabelled = copy_run(two, tmp_path / "relabelled", edit=lambda config: config["shard"].update(k=3))
    message = refused([one, moved, relabelled], tmp_path)
    assert message.startswith(f"{moved}: job ") and message.endswith(
        "belongs to shard 3/3, not 2/3; was it run with another --shard?"
    )
    lines = (two / "results.json").read_text(encoding="utf-8").splitlines(keepends=True)
    twice = tmp_path / "twice"
    twice.mkdir()
    (twice / "results.json").write_text("".join([lines[0], lines[1], *lines[1:]]), encoding="utf-8")
    first = read_results(two)
    job = next(iter(first.jobs))
    assert refused([one, twice, three], tmp_path) == (
        f"{twice}: job {job.model} {job.suite}/{job.case_id} is in the merge twice; merge each shard once"
    )


def test_merge_refuses_to_overwrite_a_run(runs: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "merged").mkdir()
    with pytest.raises(MergeError, match="already exists; choose another --run-id or remove it"):
        merge_runs(runs["shards"], tmp_path, run_id="merged")


def test_the_cli_runs_a_shard_and_says_so(repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo_root)
    args = ["run", "cases/weather.yaml", "-m", "qwen2.5-coder-0.5b", "--shard", "2/2", "--out", str(tmp_path)]
    result = CliRunner().invoke(cli, [*args, "--no-progress", "--no-html", "--run-id", "s2"])
    assert result.exit_code == 0, result.stderr
    assert "record mode none, shard 2/2" in " ".join(result.stderr.split())  # wrapped to the width
    shard = read_results(tmp_path / "s2").config["shard"]
    assert (shard["k"], shard["n"]) == (2, 2) and 0 < shard["jobs"] < shard["planned"]
    bad = CliRunner().invoke(cli, ["run", "cases/", "--shard", "3/2"])
    assert bad.exit_code == 2
    assert bad.stderr == "evalkit: error: '3/2' is not a shard: use K/N with 1 ≤ K ≤ N, e.g. --shard 1/4\n"


def test_merge_and_report_take_the_shards_reports_folders(runs: dict[str, Any], tmp_path: Path) -> None:
    """`evalkit run --shard K/N --out shards/sK` leaves a reports folder (runs and `latest`): the
    README's `evalkit merge shards/*/ --out DIR` and then `evalkit report DIR` take those folders."""
    folders = []
    for k, shard in enumerate(runs["shards"], start=1):
        folder = tmp_path / "shards" / f"s{k}"
        folder.mkdir(parents=True)
        (folder / shard.name).symlink_to(shard, target_is_directory=True)
        (folder / "latest").symlink_to(shard.name, target_is_directory=True)
        folders.append(folder)
    merged = read_results(merge_runs(folders, tmp_path / "out", run_id="merged"))
    assert records(merged) == records(runs["single"])
    assert records(read_results(tmp_path / "out")) == records(runs["single"])  # a reports folder: its latest run
