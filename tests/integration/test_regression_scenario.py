"""The shipped regression scenarios, replayed from real recordings (examples/regression/).

Both were recorded against the same local Qwen2.5-Coder 0.5B server as cassettes/:
- tool-choice-required: the shipped cases sent with tool_choice="required". The gate must fail
  and name the cases that flipped.
- prompt-cleanup: every system prompt replaced by one generic line. Cases flip both ways and
  accuracy does not move: the gate must not be fooled by that noise.
An unchanged rerun must pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cases import load_all
from evalkit.cli import cli
from evalkit.config import load_config, select_models
from evalkit.gating.gate import GateOptions, Verdict, gate
from evalkit.results import RunResult, save_results
from evalkit.runner import run_suites

MODEL = "qwen2.5-coder-0.5b"


def replay(root: Path, run_id: str) -> RunResult:
    # The scenarios were made from the six single-reply suites at the top of cases/ (the loop suites
    # in cases/loops/ came later and have no degraded twin): every side replays just those.
    config = select_models(load_config(start=root), [MODEL])
    return run_suites(config, load_all(sorted(config.cases.glob("*.yaml"))), progress=False, run_id=run_id)


@pytest.fixture(scope="module")
def runs(repo_root: Path) -> dict[str, RunResult]:
    scenarios = repo_root / "examples" / "regression"
    return {
        "baseline": replay(repo_root, "baseline"),
        "rerun": replay(repo_root, "rerun"),
        "tool-choice-required": replay(scenarios / "tool-choice-required", "tool-choice-required"),
        "prompt-cleanup": replay(scenarios / "prompt-cleanup", "prompt-cleanup"),
    }


def flips(baseline: RunResult, current: RunResult) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(pass→fail, fail→pass) computed straight from the statuses, independently of the gate."""
    before = {(j.suite, j.case_id): j.passed for j in baseline.jobs}
    after = {(j.suite, j.case_id): j.passed for j in current.jobs}
    assert before.keys() == after.keys()
    return {k for k in before if before[k] and not after[k]}, {k for k in before if after[k] and not before[k]}


def assert_flips_match(verdict: Verdict, worse: set[tuple[str, str]], better: set[tuple[str, str]]) -> None:
    assert {(f.case.suite, f.case.case_id) for f in verdict.regressions} == worse
    assert {(f.case.suite, f.case.case_id) for f in verdict.improvements} == better
    assert (verdict.models[0].b, verdict.models[0].c) == (len(worse), len(better))


def test_every_side_replays_completely(runs: dict[str, RunResult]) -> None:
    for name, run in runs.items():
        assert len(run.jobs) == 44, name
        assert all(j.status in ("passed", "failed") for j in run.jobs), name  # no cassette miss


def test_tool_choice_required_fails_the_gate_and_names_the_flips(runs: dict[str, RunResult]) -> None:
    worse, better = flips(runs["baseline"], runs["tool-choice-required"])
    verdict = gate(runs["tool-choice-required"], runs["baseline"], GateOptions())
    assert_flips_match(verdict, worse, better)
    assert len(worse) >= 5 and not better  # forced calls break small talk; nothing gets better
    assert all(f.failures[0][0] == "unexpected_call" for f in verdict.regressions)
    assert verdict.models[0].p_value == 0.5 ** len(worse)  # one-sided exact McNemar with c = 0
    assert not verdict.passed and verdict.exit_code == 1


def test_prompt_cleanup_flips_both_ways_and_passes_the_gate(runs: dict[str, RunResult]) -> None:
    worse, better = flips(runs["baseline"], runs["prompt-cleanup"])
    verdict = gate(runs["prompt-cleanup"], runs["baseline"], GateOptions())
    assert_flips_match(verdict, worse, better)
    assert worse and better  # real changes, in both directions
    assert verdict.models[0].p_value > 0.05
    assert verdict.passed and verdict.exit_code == 0


def test_unchanged_rerun_passes_the_gate(runs: dict[str, RunResult]) -> None:
    verdict = gate(runs["rerun"], runs["baseline"], GateOptions())
    assert verdict.passed and verdict.flips == ()
    assert verdict.models[0].p_value == 1.0


def test_gate_command_exits_1_and_lists_flipped_cases(
    runs: dict[str, RunResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "reports"
    baseline, regressed, rerun = (save_results(runs[k], reports) for k in ("baseline", "tool-choice-required", "rerun"))
    monkeypatch.chdir(tmp_path)
    failed = CliRunner().invoke(
        cli, ["gate", str(regressed), "--baseline", str(baseline), "--junit", "junit.xml", "--markdown", "gate.md"]
    )
    assert failed.exit_code == 1, failed.output
    for flip in gate(runs["tool-choice-required"], runs["baseline"], GateOptions()).regressions:
        assert flip.case.case_id in failed.stdout
    assert "pass→fail" in (tmp_path / "gate.md").read_text()
    assert (tmp_path / "junit.xml").is_file()
    passed = CliRunner().invoke(cli, ["gate", str(rerun), "--baseline", str(baseline)])
    assert passed.exit_code == 0, passed.output
