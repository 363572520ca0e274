"""The shipped regression scenario, replayed from real recordings.

examples/regression/ holds the shipped suites with their system prompts "cleaned up" to one generic
line (make_degraded.py), recorded against the same local Qwen2.5-Coder 0.5B server as cassettes/.
The gate must fail on it and name the cases that flipped; an unchanged rerun must pass.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cases import load_cases
from evalkit.cli import cli
from evalkit.config import load_config, select_models
from evalkit.gate import GateOptions, gate
from evalkit.results import RunResult, save_results
from evalkit.runner import run_suites

MODEL = "qwen2.5-coder-0.5b"


def replay(root: Path, run_id: str) -> RunResult:
    config = select_models(load_config(start=root), [MODEL])
    return run_suites(config, load_cases(config.cases), progress=False, run_id=run_id)


@pytest.fixture(scope="module")
def runs(repo_root: Path) -> dict[str, RunResult]:
    return {
        "baseline": replay(repo_root, "baseline"),
        "rerun": replay(repo_root, "rerun"),
        "degraded": replay(repo_root / "examples" / "regression", "degraded"),
    }


def test_both_sides_replay_completely(runs: dict[str, RunResult]) -> None:
    for name, run in runs.items():
        assert len(run.jobs) == 44, name
        assert all(j.status in ("passed", "failed") for j in run.jobs), name  # no cassette miss


def test_degraded_system_prompt_fails_the_gate_and_names_the_flips(runs: dict[str, RunResult]) -> None:
    baseline, degraded = runs["baseline"], runs["degraded"]
    verdict = gate(degraded, baseline, GateOptions())
    # The flips, computed here independently of the gate from the two runs' statuses.
    before = {(j.suite, j.case_id): j.passed for j in baseline.jobs}
    after = {(j.suite, j.case_id): j.passed for j in degraded.jobs}
    worse = {k for k in before if before[k] and not after[k]}
    better = {k for k in before if after[k] and not before[k]}
    assert worse, "the degraded prompt should break some case"
    assert {(f.case.suite, f.case.case_id) for f in verdict.regressions} == worse
    assert {(f.case.suite, f.case.case_id) for f in verdict.improvements} == better
    stats = verdict.models[0]
    assert (stats.b, stats.c) == (len(worse), len(better))
    assert not verdict.passed and verdict.exit_code == 1
    assert verdict.reasons


def test_unchanged_rerun_passes_the_gate(runs: dict[str, RunResult]) -> None:
    verdict = gate(runs["rerun"], runs["baseline"], GateOptions())
    assert verdict.passed and verdict.exit_code == 0
    assert verdict.flips == ()
    assert verdict.models[0].p_value == 1.0


def test_gate_command_exits_1_and_lists_flipped_cases(runs: dict[str, RunResult], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = save_results(runs["baseline"], tmp_path / "reports")
    degraded = save_results(runs["degraded"], tmp_path / "reports")
    rerun = save_results(runs["rerun"], tmp_path / "reports")
    monkeypatch.chdir(tmp_path)
    failed = CliRunner().invoke(cli, ["gate", str(degraded), "--baseline", str(baseline), "--junit", "junit.xml",
                                      "--markdown", "gate.md"])
    assert failed.exit_code == 1, failed.output
    for flip in gate(runs["degraded"], runs["baseline"], GateOptions()).regressions:
        assert flip.case.case_id in failed.stdout
    assert (tmp_path / "junit.xml").is_file() and "pass→fail" in (tmp_path / "gate.md").read_text()
    passed = CliRunner().invoke(cli, ["gate", str(rerun), "--baseline", str(baseline)])
    assert passed.exit_code == 0, passed.output
