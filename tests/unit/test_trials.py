"""Repeated trials: pass@k and pass^k against hand-computed values, summaries, flaky cases."""

from __future__ import annotations

import math

import pytest

from evalkit.errors import ConfigError
from evalkit.gating.trials import case_rates, flaky_cases, pass_at_k, pass_hat_k, render_trials, trial_summary
from evalkit.results import CaseResult, RunResult

STATUS = {"P": "passed", "F": "failed", "E": "error"}


def make_run(
    cases: dict[str, str], *, model: str = "m", suite: str = "s", tool_count: int | None = None
) -> list[CaseResult]:
    """{case id: one character per trial}: P passed, F failed, E error."""
    return [
        CaseResult(model, suite, case, STATUS[ch], tool_count=tool_count, trial=t)
        for case, pattern in cases.items()
        for t, ch in enumerate(pattern, 1)
    ]


def run(jobs: list[CaseResult]) -> RunResult:
    return RunResult("r1", "2024-05-01T12:00:00+00:00", {}, tuple(jobs))


@pytest.mark.parametrize(
    ("n", "c", "k", "at_k", "hat_k"),
    [
        (5, 2, 2, 1 - 3 / 10, 1 / 10),  # 1 - C(3,2)/C(5,2); C(2,2)/C(5,2)
        (5, 2, 1, 2 / 5, 2 / 5),  # k = 1: both are the pass rate
        (3, 0, 3, 0.0, 0.0),
        (3, 1, 3, 1.0, 0.0),  # some trial passed; not all did
        (3, 3, 3, 1.0, 1.0),
        (4, 3, 2, 1.0, 3 / 6),  # fewer than k failures: pass@k is 1; C(3,2)/C(4,2)
        (10, 5, 3, 1 - 10 / 120, 10 / 120),  # C(5,3)/C(10,3) both ways
    ],
)
def test_pass_at_k_and_pass_hat_k_by_hand(n: int, c: int, k: int, at_k: float, hat_k: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(at_k)
    assert pass_hat_k(n, c, k) == pytest.approx(hat_k)


def test_estimators_reject_k_above_n() -> None:
    with pytest.raises(ValueError, match=r"need 0 ≤ c ≤ n and 1 ≤ k ≤ n, got n=3, c=1, k=4"):
        pass_at_k(3, 1, 4)


def test_case_rates_leave_errored_trials_out() -> None:
    frame = case_rates(run(make_run({"a": "PFE", "b": "EE"})))
    a, b = frame.to_dict("records")
    assert (a["trials"], a["passes"], a["errors"], a["rate"]) == (2, 1, 1, 0.5)
    assert (b["trials"], b["errors"]) == (0, 2) and math.isnan(b["rate"])
    assert a["tool_count"] is None  # not NaN


def test_summary_per_model_and_suite() -> None:
    jobs = make_run({"c0": "PPP", "c1": "PFP", "c2": "FFF", "c3": "PPF"}) + make_run({"x": "PPP"}, suite="other")
    summary = trial_summary(run(jobs))
    first = summary.iloc[0].to_dict()
    assert (first["model"], first["suite"], first["cases"], first["trials"], first["k"], first["flaky"]) == (
        "m",
        "s",
        4,
        "3",
        3,
        2,
    )
    assert first["pass_rate"] == pytest.approx((1 + 2 / 3 + 0 + 2 / 3) / 4)
    assert first["pass@k"] == pytest.approx(3 / 4)  # k = 3: any pass in all three trials
    assert first["pass^k"] == pytest.approx(1 / 4)  # only c0 passed every trial
    summary2 = trial_summary(run(jobs), k=2)
    assert summary2.iloc[0]["pass^k"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 3) / 4)
    assert list(summary["suite"]) == ["s", "other"]


def test_default_k_is_the_fewest_scored_trials() -> None:
    summary = trial_summary(run(make_run({"a": "PPP", "b": "PEP"})))
    assert summary.iloc[0]["k"] == 2 and summary.iloc[0]["trials"] == "2–3" and summary.iloc[0]["errors"] == 1


def test_k_above_the_scored_trials_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        trial_summary(run(make_run({"a": "PPP", "b": "PEP"})), k=3)
    assert str(info.value) == "k=3 exceeds the 2 scored trials of m s/b; pass a k ≤ 2 or run more --trials"


def test_flaky_cases_closest_to_a_coin_flip_first() -> None:
    flaky = flaky_cases(run(make_run({"steady": "PPPP", "mostly": "PPPF", "coin": "PFPF", "never": "FFFF"})))
    assert list(flaky["case_id"]) == ["coin", "mostly"]


def test_render_trials() -> None:
    text = render_trials(run(make_run({"a": "PPP", "b": "PFP"}, tool_count=16)))
    assert "pass@k" in text and "pass^k" in text
    assert "Flaky cases (1):" in text and "s/b @16 tools" in text and "2/3" in text
    steady = render_trials(run(make_run({"a": "PPP"})), "github")
    assert steady.startswith("| model")
    assert "No flaky cases: every case passed all or none of its trials." in steady
