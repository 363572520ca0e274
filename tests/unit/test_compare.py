"""Model comparison tables, disagreements, paired tests and the accuracy-by-tool-count curve data."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from evalkit.reporting.compare import (
    accuracy_by_tool_count,
    accuracy_cell,
    case_differences,
    compare_models,
    paired_tests,
    render_comparison,
)
from evalkit.results import CaseResult, RunResult, ScoreRecord

# (model, suite, case, tools, status, failure kind): two models that disagree on three case runs,
# one infrastructure error, and a second suite both pass.
OUTCOMES = [
    ("alpha", "weather", "w1", 1, "passed", None),
    ("alpha", "weather", "w1", 4, "passed", None),
    ("alpha", "weather", "w1", 16, "passed", None),
    ("alpha", "weather", "w1", 64, "failed", "wrong_function"),
    ("alpha", "weather", "w2", 1, "passed", None),
    ("alpha", "weather", "w2", 4, "passed", None),
    ("alpha", "weather", "w2", 16, "failed", "missing_call"),
    ("alpha", "weather", "w2", 64, "failed", "missing_call"),
    ("alpha", "shop", "s1", 4, "passed", None),
    ("beta", "weather", "w1", 1, "passed", None),
    ("beta", "weather", "w1", 4, "failed", "wrong_value"),
    ("beta", "weather", "w1", 16, "failed", "wrong_value"),
    ("beta", "weather", "w1", 64, "error", "http_error"),
    ("beta", "weather", "w2", 1, "passed", None),
    ("beta", "weather", "w2", 4, "passed", None),
    ("beta", "weather", "w2", 16, "passed", None),
    ("beta", "weather", "w2", 64, "failed", "missing_call"),
    ("beta", "shop", "s1", 4, "passed", None),
]


def make_job(model: str, suite: str, case: str, tools: int, status: str, kind: str | None) -> CaseResult:
    passed = status == "passed"
    return CaseResult(
        model=model,
        suite=suite,
        case_id=case,
        status=status,
        tool_count=tools,
        scores={
            "selection": ScoreRecord(1.0 if passed else 0.0, passed),
            "validity": ScoreRecord(1.0 if passed else 0.5, passed),
            "no_call": ScoreRecord(None, None),
        },
        failures=((kind, f"{kind} in {case}"), ("extra_call", "and another")) if kind else (),
        prompt_tokens=10 * tools + (1 if model == "beta" else 0),
        n_offered=tools,
    )


@pytest.fixture
def run() -> RunResult:
    return RunResult(
        "r1", "2025-01-01T00:00:00+00:00", {"record_mode": "none"}, tuple(make_job(*o) for o in OUTCOMES), 3.0
    )


def cell(table, suite: str, metric: str, model: str) -> str:
    return table[(table["suite"] == suite) & (table["metric"] == metric)][model].item()


def test_compare_models_puts_models_side_by_side(run: RunResult) -> None:
    table = compare_models(run)
    assert list(table.columns) == ["suite", "metric", "alpha", "beta"]
    assert list(dict.fromkeys(table["suite"])) == ["weather", "shop", "(all)"]
    assert cell(table, "weather", "accuracy (95% CI)", "alpha") == "62% (31–86) n=8"
    assert cell(table, "weather", "accuracy (95% CI)", "beta") == "57% (25–84) n=7"  # the error is not scored
    assert cell(table, "(all)", "accuracy (95% CI)", "alpha") == "67% (35–88) n=9"
    assert cell(table, "shop", "accuracy (95% CI)", "beta") == "100% (21–100) n=1"
    assert cell(table, "weather", "args valid", "alpha") == "81%"  # (5 × 1.0 + 3 × 0.5) / 8


def test_compare_models_keeps_only_scores_with_values_and_errors_when_present(run: RunResult) -> None:
    table = compare_models(run)
    metrics = set(table["metric"])
    assert "no-call" not in metrics  # no job expected no call
    assert {"selection", "args valid", "errors (not scored)"} <= metrics
    assert cell(table, "weather", "errors (not scored)", "beta") == "1"
    assert "errors (not scored)" not in set(table[table["suite"] == "shop"]["metric"])


def test_compare_models_of_an_empty_run_is_empty() -> None:
    assert compare_models(RunResult("r", "", {}, ())).empty


def test_accuracy_cell_without_scored_jobs() -> None:
    assert accuracy_cell({"n": 0, "accuracy": math.nan}) == "– n=0"


def test_case_differences_lists_only_real_disagreements(run: RunResult) -> None:
    diffs = case_differences(run)
    assert list(diffs.columns) == ["suite", "case", "tool_count", "trial", "alpha", "beta"]
    assert diffs[["case", "tool_count"]].values.tolist() == [["w1", 4], ["w1", 16], ["w2", 16]]
    first = diffs.iloc[0]
    assert (first["alpha"], first["beta"]) == ("passed", "failed: wrong_value")  # the first failure kind only
    # w1 @64 (alpha failed, beta errored) says nothing about beta: not a disagreement.
    assert not ((diffs["case"] == "w1") & (diffs["tool_count"] == 64)).any()


def test_case_differences_with_one_model_is_empty(run: RunResult) -> None:
    alpha_only = RunResult("r", "", {}, tuple(j for j in run.jobs if j.model == "alpha"))
    assert case_differences(alpha_only).empty


def test_paired_tests_count_discordant_pairs(run: RunResult) -> None:
    row = paired_tests(run).iloc[0].to_dict()
    assert row == {"model_a": "alpha", "model_b": "beta", "pairs": 8, "a_only": 2, "b_only": 1, "p_value": 1.0}


def test_accuracy_by_tool_count_is_the_curve_data(run: RunResult) -> None:
    curve = accuracy_by_tool_count(run)
    assert list(curve.columns) == [
        "model",
        "tool_count",
        "n",
        "accuracy",
        "ci_low",
        "ci_high",
        "errors",
        "prompt_tokens",
    ]
    assert curve[["model", "tool_count", "n", "errors"]].values.tolist() == [
        ["alpha", 1, 2, 0], ["alpha", 4, 3, 0], ["alpha", 16, 2, 0], ["alpha", 64, 2, 0],
        ["beta", 1, 2, 0], ["beta", 4, 3, 0], ["beta", 16, 2, 0], ["beta", 64, 1, 1],
    ]  # fmt: skip
    assert curve["accuracy"].tolist() == pytest.approx([1, 1, 0.5, 0, 1, 2 / 3, 0.5, 0])
    assert (curve["ci_low"] <= curve["accuracy"]).all() and (curve["accuracy"] <= curve["ci_high"]).all()
    assert curve["prompt_tokens"].tolist() == pytest.approx([10, 40, 160, 640, 11, 41, 161, 641])


def test_accuracy_by_tool_count_falls_back_to_offered_tools() -> None:
    job = CaseResult(
        "m", "s", "c", "passed", tool_count=None, n_offered=3, scores={"selection": ScoreRecord(1.0, True)}
    )
    assert accuracy_by_tool_count(RunResult("r", "", {}, (job,)))["tool_count"].tolist() == [3]


def test_accuracy_by_tool_count_of_an_empty_run_has_the_columns() -> None:
    curve = accuracy_by_tool_count(RunResult("r", "", {}, ()))
    assert curve.empty and "ci_high" in curve.columns


def test_render_comparison_shows_table_paired_test_and_disagreements(run: RunResult) -> None:
    text = render_comparison(run, max_differences=2)
    assert "accuracy (95% CI)" in text and "62% (31–86) n=8" in text
    assert "alpha vs beta: 8 paired jobs, 2 passed only by alpha, 1 only by beta (exact McNemar p=1)" in text
    assert "Cases where the models disagree (3):" in text
    assert "… and 1 more: see report.html" in text


def test_render_comparison_when_models_agree() -> None:
    jobs = tuple(make_job(m, "s", "c", 4, "passed", None) for m in ("a", "b"))
    text = render_comparison(RunResult("r", "", {}, jobs), tablefmt="github")
    assert "The models agree on every case both were scored on." in text


def test_render_comparison_says_nothing_of_agreement_when_nothing_was_compared() -> None:
    # Each model ran a different suite: no job pairs, so "the models agree" would be a false claim.
    jobs = (make_job("a", "s", "c", 4, "passed", None), make_job("b", "t", "d", 4, "failed", "missing_call"))
    text = render_comparison(RunResult("r", "", {}, jobs))
    assert "agree" not in text and "0 paired jobs" in text


def test_render_comparison_has_no_tool_count_or_trial_column_without_a_sweep_or_trials() -> None:
    jobs = tuple(make_job(m, "s", "c", 4, s, k) for m, s, k in (("a", "passed", None), ("b", "failed", "missing_call")))
    plain = tuple(replace(j, tool_count=None) for j in jobs)
    text = render_comparison(RunResult("r", "", {}, plain))
    header = next(line for line in text.splitlines() if line.startswith("suite") and "case" in line)
    assert "tool_count" not in header and "trial" not in header
    swept = render_comparison(RunResult("r", "", {}, jobs))
    assert "tool_count" in next(line for line in swept.splitlines() if line.startswith("suite") and "case" in line)
