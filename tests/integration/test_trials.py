"""Repeated trials at temperature 0.7, replayed from the shipped real recordings."""

from __future__ import annotations

import re
from dataclasses import replace
from math import comb
from pathlib import Path

import pytest

from evalkit.cases import load_all
from evalkit.config import load_config, select_models
from evalkit.gating.trials import flaky_cases, trial_summary
from evalkit.reporting.tables import pct, write_summary
from evalkit.results import RunResult
from evalkit.runner import run_suites
from evalkit.stats import wilson_interval


def replay(repo_root: Path, model: str, paths: list[str], **options: object) -> RunResult:
    config = replace(select_models(load_config(start=repo_root), [model]), **options)
    return run_suites(config, load_all([repo_root / p for p in paths]), progress=False)


@pytest.fixture(scope="module")
def trials(repo_root: Path) -> RunResult:
    return replay(repo_root, "qwen2.5-coder-0.5b-t07", ["cases/weather.yaml", "cases/ecommerce.yaml"], trials=5)


def test_trials_replay_one_cassette_per_trial(trials: RunResult, repo_root: Path) -> None:
    assert len(trials.jobs) == 17 * 5
    assert all(j.status in ("passed", "failed") for j in trials.jobs)
    assert {j.cassette for j in trials.jobs if j.trial == 3} == {
        f"cassettes/qwen2.5-coder-0.5b-t07/{j.suite}/{j.case_id}--trial-3.yaml" for j in trials.jobs if j.trial == 3
    }


def test_sampled_trials_disagree_and_pass_at_k_follows_the_counts(trials: RunResult) -> None:
    flaky = flaky_cases(trials)
    assert len(flaky) > 0  # at temperature 0.7 some cases pass in some trials only
    summary = trial_summary(trials).set_index(["model", "suite"])
    for suite in ("weather", "ecommerce"):
        jobs = [j for j in trials.jobs if j.suite == suite]
        per_case: dict[str, int] = {}
        for job in jobs:
            per_case[job.case_id] = per_case.get(job.case_id, 0) + job.passed
        # Unbiased pass@5 and pass^5 from 5 trials: 1 if any / all passed, averaged over cases.
        expected_at_k = sum(c > 0 for c in per_case.values()) / len(per_case)
        expected_hat_k = sum(comb(c, 5) / comb(5, 5) for c in per_case.values()) / len(per_case)
        row = summary.loc[("qwen2.5-coder-0.5b-t07", suite)]
        assert row["pass@k"] == pytest.approx(expected_at_k)
        assert row["pass^k"] == pytest.approx(expected_hat_k)
        assert row["pass^k"] <= row["pass_rate"] <= row["pass@k"]


def test_summary_md_of_the_shipped_trials_run_shows_pass_at_k(trials: RunResult, tmp_path: Path) -> None:
    text = write_summary(trials, tmp_path).read_text(encoding="utf-8")
    section = text.split("## Trials\n", 1)[1].split("\n## ", 1)[0]
    summary = trial_summary(trials, overall=True).set_index("suite")
    for suite in ("weather", "ecommerce", "(all)"):
        row = summary.loc[suite]
        cells = f"| {pct(row['pass_rate'], digits=1)} | {100 * row['ci_low']:.0f}–{100 * row['ci_high']:.0f}% | {pct(row['pass@k'], digits=1)} | {pct(row['pass^k'], digits=1)} |"
        assert cells in re.sub(" +", " ", section), cells
    assert "pass@k" in section and "pass^k" in section and "Flaky cases (" in section
    # The interval treats a case's 5 trials as one cluster: wider than Wilson over the jobs.
    jobs = [j for j in trials.jobs if j.suite == "weather"]
    naive = wilson_interval(sum(j.passed for j in jobs), len(jobs))
    assert summary.loc["weather", "ci_high"] - summary.loc["weather", "ci_low"] > naive[1] - naive[0]
