"""Repeated trials: pass@k and pass^k against hand-computed values, summaries, flaky cases."""

from __future__ import annotations

import math
import random

import pytest

from evalkit.errors import ConfigError
from evalkit.gating.trials import (
    case_rates,
    cluster_interval,
    flaky_cases,
    pass_at_k,
    pass_hat_k,
    render_trials,
    render_trials_markdown,
    trial_summary,
)
from evalkit.results import CaseResult, RunResult
from evalkit.stats import wilson_interval

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


# --- the interval over trials: each case's trials are one cluster ---------------------------------


def test_one_trial_per_case_is_the_wilson_interval() -> None:
    for passed, n in [(0, 5), (3, 5), (5, 5), (17, 44)]:
        passes = [1] * passed + [0] * (n - passed)
        assert cluster_interval(passes, [1] * n) == pytest.approx(wilson_interval(passed, n), abs=1e-12)


def test_cases_that_pass_all_or_none_of_their_trials_count_once() -> None:
    # 3 of 5 cases pass all 5 trials: as much evidence as 3 of 5 single runs, not 15 of 25.
    assert cluster_interval([5, 5, 5, 0, 0], [5] * 5) == pytest.approx(wilson_interval(3, 5))
    assert cluster_interval([5] * 4, [5] * 4) == pytest.approx(wilson_interval(4, 4))  # 100%: the cases count
    assert cluster_interval([0] * 4, [5] * 4) == pytest.approx(wilson_interval(0, 4))


def test_trials_that_vary_alike_in_every_case_count_as_independent_but_never_more() -> None:
    # Every case passed 3 of 5: no case differs from another, so the trials are the evidence (capped at 25).
    assert cluster_interval([3] * 5, [5] * 5) == pytest.approx(wilson_interval(15, 25))


def test_cluster_interval_of_nothing_is_nan() -> None:
    assert all(math.isnan(v) for v in cluster_interval([], []))
    assert all(math.isnan(v) for v in cluster_interval([0], [0]))


def test_cluster_interval_covers_the_truth_where_a_naive_wilson_does_not() -> None:
    # Seeded simulation: 20 cases drawn from a population of cases whose pass probabilities spread
    # over [0, 1] (Beta(0.5, 0.5): a model either knows a case or not), 5 trials each. The target is
    # the accuracy on the population of cases, 0.5. Counting 100 "independent" jobs under-covers it.
    rng = random.Random(12)
    hits = naive_hits = 0
    runs = 400
    for _ in range(runs):
        probabilities = [rng.betavariate(0.5, 0.5) for _ in range(20)]
        passes = [sum(rng.random() < p for _ in range(5)) for p in probabilities]
        low, high = cluster_interval(passes, [5] * 20)
        hits += low <= 0.5 <= high
        naive_low, naive_high = wilson_interval(sum(passes), 100)
        naive_hits += naive_low <= 0.5 <= naive_high
    assert hits / runs >= 0.92, hits / runs
    assert naive_hits / runs < 0.85, naive_hits / runs


def test_trial_summary_has_the_interval_of_the_pass_rate() -> None:
    summary = trial_summary(run(make_run({"a": "PPPPP", "b": "FFFFF", "c": "PPPPP"})), overall=True)
    row = summary.iloc[0]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson_interval(2, 3))
    assert summary["suite"].tolist() == ["s", "(all)"]


def test_markdown_trials_section_shows_pass_at_k_flaky_cases_and_every_case() -> None:
    text = render_trials_markdown(run(make_run({"a": "PPP", "b": "PFP"}) + make_run({"x": "FFF"}, suite="t")))
    assert text.startswith("## Trials\n")
    header = next(line for line in text.splitlines() if line.startswith("| model"))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "model", "suite", "cases", "trials", "k", "pass rate", "95% CI", "pass@k", "pass^k", "flaky", "errors",
    ]  # fmt: skip
    assert "| (all)" in text  # the model ran two suites
    assert "Flaky cases (1), closest to a coin flip first:" in text
    assert "<details><summary>Pass rate of every case (3)</summary>" in text
    assert "| m       | s/b    | 2/3      | 67%    |" in text
