"""The pandas side (reporting/frames.py) and summary.md: the job frame's columns and dtypes, the calls frame, aggregates with cost and latency."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

import evalkit
from evalkit.reporting.frames import (
    CALL_COLUMNS,
    JOB_COLUMNS,
    aggregate,
    calls_frame,
    model_table,
    summary_table,
    to_frame,
)
from evalkit.reporting.tables import render_markdown
from evalkit.results import CaseResult, RunResult, ScoreRecord, save_results
from evalkit.stats import wilson_interval

PRICED = {"models": [{"name": "priced", "price": [0.15, 0.60]}, {"name": "free"}], "record_mode": "none"}


def job(model: str, case: str, status: str, **kw: object) -> CaseResult:
    passed = status == "passed"
    defaults: dict[str, object] = {
        "scores": {
            "selection": ScoreRecord(1.0 if passed else 0.0, passed),
            "hallucination": ScoreRecord(1.0, True),
            "forbidden": ScoreRecord(None, None),
        },
        "prompt_tokens": 1000,
        "completion_tokens": 100,
        "latency": 0.5,
        "n_offered": 3,
    }
    if status == "error":
        defaults.update(scores={}, prompt_tokens=None, completion_tokens=None, latency=None)
        defaults["failures"] = (("http_error", "HTTP 500"),)
    elif not passed:
        defaults["failures"] = (("wrong_function", "called b"), ("missing_call", "no a"))
    defaults.update(kw)
    return CaseResult(model, "s", case, status, **defaults)  # type: ignore[arg-type]  # test data


@pytest.fixture
def run() -> RunResult:
    jobs = (
        job("priced", "a", "passed", latency=0.25),
        job("priced", "b", "failed", latency=1.0),
        job("priced", "c", "error"),
        job("free", "a", "passed", latency=2.0),
        job("free", "b", "passed", latency=4.0, completion_tokens=None),
    )
    return RunResult("r1", "2025-01-01T00:00:00+00:00", PRICED, jobs)


def test_job_frame_columns_and_dtypes(run: RunResult) -> None:
    frame = to_frame(run)
    assert tuple(frame.columns) == JOB_COLUMNS
    dtypes = {c: str(t) for c, t in frame.dtypes.items()}
    assert dtypes["passed"] == "boolean" and dtypes["error"] == "bool"
    assert {dtypes[c] for c in ("tool_count", "trial", "n_calls", "requests", "retries")} == {"int64"}
    assert {dtypes[c] for c in ("prompt_tokens", "latency", "cost", "selection", "no_hallucination")} == {"float64"}
    assert frame["tool_count"].tolist() == [3] * 5  # no sweep: the tools the suite offered


def test_an_empty_run_has_the_columns_and_dtypes_of_any_other(run: RunResult) -> None:
    empty = to_frame(RunResult("r0", "2025-01-01T00:00:00+00:00", {}, ()))
    assert len(empty) == 0 and tuple(empty.columns) == JOB_COLUMNS
    full = to_frame(run)
    # Columns that can hold None (finish_reason, cassette) take the dtype of their values when
    # there are rows; without rows they are text, never float.
    same = [c for c in JOB_COLUMNS if c not in ("finish_reason", "cassette")]
    assert {c: empty[c].dtype for c in same} == {c: full[c].dtype for c in same}
    assert not pd.api.types.is_float_dtype(empty["finish_reason"]) and not pd.api.types.is_float_dtype(
        empty["cassette"]
    )


def test_scores_read_one_as_good(run: RunResult) -> None:
    frame = to_frame(run)
    assert "hallucination" not in frame and "forbidden" not in frame
    assert frame["no_hallucination"].tolist()[:2] == [1.0, 1.0]  # nothing hallucinated: 1.0
    assert frame["no_forbidden"].isna().all()  # the check did not apply: NaN, not 0


def test_a_naive_mean_of_passed_leaves_errored_jobs_out(run: RunResult) -> None:
    frame = to_frame(run)
    priced = frame[frame["model"] == "priced"]
    assert pd.isna(priced["passed"].iloc[2]) and priced["error"].iloc[2]
    assert priced["passed"].mean() == 0.5  # 1 of 2 scored jobs, not 1 of 3
    assert frame[frame["passed"]]["case_id"].tolist() == ["a", "a", "b"]  # <NA> selects as False


def test_cost_from_the_configured_price(run: RunResult) -> None:
    frame = to_frame(run)
    assert frame["cost"].iloc[0] == pytest.approx((1000 * 0.15 + 100 * 0.60) / 1e6)
    assert math.isnan(frame["cost"].iloc[2])  # no token counts
    assert frame[frame["model"] == "free"]["cost"].isna().all()  # no price


def test_aggregate_has_latency_tokens_and_cost(run: RunResult) -> None:
    table = model_table(run).set_index("model")
    priced, free = table.loc["priced"], table.loc["free"]
    assert (priced["n"], priced["passed"], priced["errors"], priced["cases"]) == (2, 1, 1, 2)
    assert priced["latency"] == pytest.approx(0.625)  # median of the jobs that have one
    assert priced["prompt_tokens"] == 1000 and priced["completion_tokens"] == 100
    assert priced["cost"] == pytest.approx(2 * (1000 * 0.15 + 100 * 0.60) / 1e6)
    assert math.isnan(free["cost"]) and free["latency"] == 3.0 and free["completion_tokens"] == 100


def test_aggregate_interval_is_wilson_with_one_job_per_case(run: RunResult) -> None:
    row = model_table(run).set_index("model").loc["priced"]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson_interval(1, 2))


def test_aggregate_counts_a_cases_trials_as_one_cluster() -> None:
    # 4 cases × 5 trials, each case all-pass or all-fail: 20 jobs, but only 4 independent outcomes.
    jobs = tuple(job("m", f"c{c}", "passed" if c < 2 else "failed", trial=t) for c in range(4) for t in range(1, 6))
    row = aggregate(to_frame(RunResult("r", "", {}, jobs)), ["model"]).iloc[0]
    assert (row["n"], row["cases"], row["accuracy"]) == (20, 4, 0.5)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson_interval(2, 4))
    assert row["ci_high"] - row["ci_low"] > 2 * (wilson_interval(10, 20)[1] - 0.5)


def test_summary_table_has_an_all_row_per_model(run: RunResult) -> None:
    table = summary_table(run)
    assert table[["model", "suite"]].values.tolist() == [
        ["priced", "s"],
        ["priced", "(all)"],
        ["free", "s"],
        ["free", "(all)"],
    ]


def test_calls_frame_pairs_expected_and_produced_calls() -> None:
    alignment = (
        {"name": "get_weather", "expected": 0, "produced": 1, "match": "name", "arguments": [
            {"name": "city", "expected": "'Paris'", "got": '"Lyon"', "ok": False},
            {"name": "unit", "expected": "'C'", "got": '"C"', "ok": True},
        ]},
        {"name": "get_time", "expected": 1, "produced": None, "match": "missing", "arguments": []},
        {"name": "send_email", "expected": None, "produced": 0, "match": "extra", "arguments": []},
    )  # fmt: skip
    calls = (
        {"name": "send_email", "arguments": '{"to": "x"}', "id": "1"},
        {"name": "get_weather", "arguments": '{"city": "Lyon", "unit": "C"}', "id": "2"},
    )
    jobs = (
        CaseResult(
            "m", "s", "c", "failed", calls=calls, alignment=alignment, finish_reason="tool_calls", cassette="k.yaml"
        ),
        CaseResult("m", "s", "quiet", "passed", finish_reason="stop"),  # no call either way: no row
        CaseResult("m", "s", "old", "failed", calls=({"name": "f", "arguments": {"a": 1}},)),  # no alignment
    )
    frame = calls_frame(RunResult("r", "", {}, jobs))
    assert tuple(frame.columns) == CALL_COLUMNS
    shown = frame[["case_id", "call", "expected", "produced", "match", "arguments", "mismatched"]]
    rows = shown.astype(object).where(shown.notna(), None).values.tolist()
    assert rows == [
        ["c", 0, "get_weather", "get_weather", "name", '{"city": "Lyon", "unit": "C"}', "city"],
        ["c", 1, "get_time", None, "missing", None, ""],
        ["c", 2, None, "send_email", "extra", '{"to": "x"}', ""],
        ["old", 0, None, "f", None, '{"a": 1}', ""],
    ]
    assert frame["finish_reason"].iloc[0] == "tool_calls" and frame["cassette"].iloc[0] == "k.yaml"


def test_load_results_and_load_calls_read_a_results_file(run: RunResult, tmp_path: Path) -> None:
    save_results(run, tmp_path)
    frame = evalkit.load_results(tmp_path / "latest")
    assert len(frame) == 5 and frame["run_id"].unique().tolist() == ["r1"]
    assert evalkit.load_calls(tmp_path / "latest").empty  # these jobs hold no calls
    table = evalkit.aggregate(frame, ["model"])
    assert table["accuracy"].tolist() == [0.5, 1.0]


def test_a_read_runs_repeated_texts_are_held_once(run: RunResult, tmp_path: Path) -> None:
    """Jobs read from results.json each bring their own copy of the model, suite and status texts;
    the frame keeps one per distinct text, so its memory does not grow with those copies."""
    save_results(run, tmp_path)
    frame = evalkit.load_results(tmp_path / "latest")
    for column in ("model", "suite", "status", "tags", "failure_kinds"):
        assert frame[column].map(id).nunique() == frame[column].nunique(), column


def test_numbers_of_any_numeric_type_or_written_as_text_are_read() -> None:
    """As pandas.to_numeric read them before the columns were built as arrays of doubles: numpy
    numbers and Decimals from the library, numbers as text from a hand-edited results.json."""
    from decimal import Decimal

    import numpy as np

    values = [np.float64(1.25), np.int64(100), Decimal("0.5"), "1.5", True, None, "n/a", 10**400]
    jobs = tuple(
        CaseResult("m", "s", f"c{n}", "passed", latency=value, scores={"selection": ScoreRecord(value, True)})  # type: ignore[arg-type]  # test data
        for n, value in enumerate(values)
    )
    frame = to_frame(RunResult("r", "", {}, jobs))
    expected = [1.25, 100.0, 0.5, 1.5, 1.0, math.nan, math.nan, math.nan]
    for column in ("latency", "selection"):
        assert frame[column].dtype == "float64"
        assert frame[column].tolist() == pytest.approx(expected, nan_ok=True)


def test_ids_that_are_not_texts_are_not_merged() -> None:
    """Only texts are held once: 1, 1.0 and True are equal as dict keys, and a hand-edited file may
    hold any of them as a case id."""
    jobs = tuple(CaseResult("m", "s", case_id, "passed") for case_id in (1, True, 1.0, "1"))  # type: ignore[arg-type]  # test data
    assert [repr(v) for v in to_frame(RunResult("r", "", {}, jobs))["case_id"]] == ["1", "True", "1.0", "'1'"]


def test_the_reports_leave_the_shared_frame_as_built(run: RunResult, tmp_path: Path) -> None:
    """The reports read one frame per run without copying it; none of them may change it."""
    from evalkit.reporting.frames import _build_frame, shared_frame
    from evalkit.reporting.html import write_html
    from evalkit.reporting.tables import write_summary
    from evalkit.reporting.terminal import render_run

    render_run(run, failure_limit=None)
    write_summary(run, tmp_path)
    write_html(run, tmp_path)
    pd.testing.assert_frame_equal(shared_frame(run), _build_frame(run))
    assert evalkit.reporting.frames.to_frame(run) is not shared_frame(run)


def test_load_results_documents_every_column() -> None:
    doc = evalkit.load_results.__doc__ or ""
    for column in JOB_COLUMNS:
        assert column in doc, column
    calls_doc = evalkit.load_calls.__doc__ or ""
    for column in CALL_COLUMNS:
        assert column in calls_doc, column


def test_summary_md_has_per_model_cost_and_latency(run: RunResult) -> None:
    text = re.sub(" +", " ", render_markdown(run))
    header = next(line for line in text.splitlines() if line.startswith("| model ") and "cost" in line)
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "model", "n", "pass", "95% CI", "errors", "latency", "tokens in / out", "cost",
    ]  # fmt: skip
    assert "| priced | 2 | 50% | 9–91% | 1 | 0.62 s | 1,000 / 100 | $0.0004 |" in text
    assert "| free | 2 | 100% | 34–100% | 0 | 3.00 s | 1,000 / 100 | – |" in text
    assert "## Trials" not in text  # one trial: no trials section
