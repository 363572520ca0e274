"""The regression gate: pairing, the one-sided exact McNemar / sign test, thresholds, and rendering."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from evalkit.errors import ConfigError
from evalkit.gating.gate import CaseRef, GateOptions, gate
from evalkit.gating.render import render_verdict_markdown, render_verdict_text
from evalkit.results import CaseResult, RunResult
from evalkit.stats import mcnemar_exact, mcnemar_one_sided

WRONG = (("wrong_function", "called get_weather, expected get_current_temperature"),)


def job(
    case: str,
    status: str = "passed",
    *,
    model: str = "m",
    suite: str = "s",
    tool_count: int | None = None,
    trial: int = 1,
) -> CaseResult:
    failures = (
        () if status == "passed" else WRONG if status == "failed" else (("http_error", "HTTP 500 from the server"),)
    )
    return CaseResult(model, suite, case, status, tool_count=tool_count, trial=trial, failures=failures)


def outcomes(pattern: str, *, model: str = "m", suite: str = "s", prefix: str = "c") -> list[CaseResult]:
    """One job per character: P passed, F failed, E error; case ids c0, c1, …"""
    status = {"P": "passed", "F": "failed", "E": "error"}
    return [job(f"{prefix}{i}", status[ch], model=model, suite=suite) for i, ch in enumerate(pattern)]


def trials(patterns: list[str], *, model: str = "m", suite: str = "s") -> list[CaseResult]:
    """One case per string, one trial per character."""
    status = {"P": "passed", "F": "failed", "E": "error"}
    return [
        job(f"c{i}", status[ch], model=model, suite=suite, trial=t)
        for i, pattern in enumerate(patterns)
        for t, ch in enumerate(pattern, 1)
    ]


def run(jobs: list[CaseResult], run_id: str = "current") -> RunResult:
    return RunResult(run_id, "2024-05-01T12:00:00+00:00", {}, tuple(jobs))


# --- statistics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("b", "c", "expected"),
    [
        (0, 0, 1.0),
        (1, 0, 0.5),
        (6, 0, 0.015625),  # 0.5^6
        (5, 0, 0.03125),
        (4, 0, 0.0625),  # the smallest suite that can reach p < 0.05 has 5 discordant pairs
        (5, 1, 7 / 64),  # (C(6,5) + C(6,6)) / 2^6
        (3, 3, 42 / 64),  # (20 + 15 + 6 + 1) / 64
        (10, 2, 79 / 4096),  # (66 + 12 + 1) / 2^12
        (0, 5, 1.0),  # an improvement is never evidence of a regression
    ],
)
def test_mcnemar_one_sided_known_values(b: int, c: int, expected: float) -> None:
    assert mcnemar_one_sided(b, c) == pytest.approx(expected, rel=1e-12)


def test_mcnemar_one_sided_matches_exact_binomial_for_large_n() -> None:
    b, c = 60, 40
    exact = Fraction(sum(math.comb(100, i) for i in range(60, 101)), 2**100)
    assert mcnemar_one_sided(b, c) == pytest.approx(float(exact), rel=1e-12)
    assert mcnemar_one_sided(b, c) == pytest.approx(0.028443966820490395, rel=1e-9)


def test_two_sided_is_twice_the_smaller_tail() -> None:
    assert mcnemar_exact(10, 2) == pytest.approx(79 / 2048)
    for b, c in [(10, 2), (2, 10), (7, 3), (1, 1), (0, 9)]:
        assert mcnemar_exact(b, c) == pytest.approx(min(1.0, 2 * min(mcnemar_one_sided(b, c), mcnemar_one_sided(c, b))))


def test_mcnemar_one_sided_rejects_negative_counts() -> None:
    with pytest.raises(ValueError, match="discordant counts must be ≥ 0, got b=-1, c=2"):
        mcnemar_one_sided(-1, 2)


# --- the verdict ---------------------------------------------------------------------------------


def test_identical_runs_pass_with_p_one() -> None:
    current = run(outcomes("PPPPFFPPPP"))
    verdict = gate(current, run(outcomes("PPPPFFPPPP"), "baseline"))
    (stats,) = verdict.models
    assert verdict.passed and verdict.exit_code == 0
    assert (stats.n_paired, stats.b, stats.c, stats.p_value) == (10, 0, 0, 1.0)
    assert stats.baseline_accuracy == stats.current_accuracy == 0.8
    assert verdict.reasons == (
        (
            "m: no regression: 0 pass→fail, 0 fail→pass of 10 paired cases (p = 1); "
            "accuracy 80.0% → 80.0%, within max_drop 5.0 points"
        ),
    )
    assert verdict.flips == () and verdict.errors == () and verdict.only_in_current == ()


def test_six_pass_to_fail_and_none_back_fails_on_significance() -> None:
    # 200 cases so the drop (3 points) stays under max_drop: only the test can fail this.
    baseline = run(outcomes("P" * 200), "baseline")
    current = run(outcomes("F" * 6 + "P" * 194))
    verdict = gate(current, baseline)
    (stats,) = verdict.models
    assert not verdict.passed and verdict.exit_code == 1
    assert (stats.b, stats.c) == (6, 0)
    assert stats.p_value == 0.015625
    assert stats.delta == pytest.approx(-0.03)
    assert verdict.reasons == (
        "m: 6 pass→fail vs 0 fail→pass of 200 paired cases, one-sided exact McNemar p = 0.0156 < alpha 0.05",
    )


def test_improvements_never_fail() -> None:
    verdict = gate(run(outcomes("P" * 200)), run(outcomes("F" * 6 + "P" * 194), "baseline"))
    assert verdict.passed
    assert (verdict.models[0].b, verdict.models[0].c, verdict.models[0].p_value) == (0, 6, 1.0)
    assert [f.direction for f in verdict.flips] == ["fail→pass"] * 6


def test_one_flip_is_noise_to_the_test_but_fails_a_smaller_max_drop() -> None:
    baseline = run(outcomes("P" * 10), "baseline")
    current = run(outcomes("F" + "P" * 9))
    lenient = gate(current, baseline, GateOptions(max_drop=0.2))
    assert lenient.passed
    assert lenient.models[0].p_value == 0.5
    strict = gate(current, baseline, GateOptions(max_drop=0.05))
    assert not strict.passed
    assert strict.reasons == (
        "m: accuracy fell from 100.0% to 90.0% on 10 paired cases, a drop of 10.0 points > max_drop 5.0 points",
    )


def test_a_drop_of_exactly_max_drop_passes_despite_float_rounding() -> None:
    # 0.95 - 0.90 is 0.05000000000000004 in floating point.
    verdict = gate(
        run(outcomes("F" + "F" + "P" * 18)), run(outcomes("F" + "P" * 19), "baseline"), GateOptions(max_drop=0.05)
    )
    assert verdict.passed


def test_flips_carry_the_current_failure() -> None:
    verdict = gate(run(outcomes("FPP")), run(outcomes("PPF"), "baseline"), GateOptions(max_drop=1))
    worse, better = verdict.flips
    assert worse.case == CaseRef("m", "s", "c0") and worse.direction == "pass→fail"
    assert worse.failures == WRONG
    assert better.case == CaseRef("m", "s", "c2") and better.direction == "fail→pass" and better.failures == ()
    assert verdict.regressions == (worse,) and verdict.improvements == (better,)


def test_cases_are_paired_per_tool_count() -> None:
    base = run([job("a", tool_count=4), job("a", tool_count=64)], "baseline")
    cur = run([job("a", tool_count=4), job("a", "failed", tool_count=64)])
    verdict = gate(cur, base, GateOptions(max_drop=1))
    assert [f.case.label for f in verdict.flips] == ["s/a @64 tools"]
    assert verdict.models[0].n_paired == 2


def test_missing_cases_are_reported_both_ways_and_fail_only_when_required() -> None:
    base = run([*outcomes("PPP"), job("old")], "baseline")
    cur = run([*outcomes("PPP"), job("new1"), job("new2", "failed")])
    verdict = gate(cur, base)
    assert verdict.passed
    assert verdict.only_in_current == (CaseRef("m", "s", "new1"), CaseRef("m", "s", "new2"))
    assert verdict.only_in_baseline == (CaseRef("m", "s", "old"),)
    assert verdict.models[0].n_paired == 3
    strict = gate(cur, base, GateOptions(require_same_cases=True))
    assert not strict.passed
    assert strict.reasons == (
        "the runs hold different cases (2 only in current, 1 only in baseline) and require_same_cases is set",
    )


def test_errored_jobs_are_listed_and_left_out_of_the_test() -> None:
    base = run(outcomes("PPPPE"), "baseline")
    cur = run(outcomes("EEPPP"))
    verdict = gate(cur, base)
    assert verdict.passed  # two current errors are not two pass→fail flips
    assert verdict.models[0].n_paired == 2  # c2 and c3; c0 and c1 errored now, c4 errored then
    assert [(e.side, e.case.case_id, e.explanation) for e in verdict.errors] == [
        ("current", "c0", "HTTP 500 from the server"),
        ("current", "c1", "HTTP 500 from the server"),
        ("baseline", "c4", "HTTP 500 from the server"),
    ]
    assert verdict.only_in_current == verdict.only_in_baseline == ()


def test_a_model_that_only_errored_fails_because_nothing_was_compared() -> None:
    verdict = gate(run(outcomes("EEE")), run(outcomes("PPP"), "baseline"))
    assert not verdict.passed
    assert verdict.reasons == (
        "m: no case could be paired with the baseline (errored on a side, or renamed); nothing was compared",
    )


def test_runs_of_different_models_compare_nothing_and_fail() -> None:
    verdict = gate(run(outcomes("PP", model="a")), run(outcomes("PP", model="b"), "baseline"))
    assert not verdict.passed
    assert verdict.reasons == (
        "no case could be paired: the current run (a) and the baseline (b) share no scored case; nothing was compared",
    )
    assert len(verdict.only_in_current) == len(verdict.only_in_baseline) == 2


def test_per_suite_minimum() -> None:
    jobs = outcomes("PPPPF", suite="weather") + outcomes("PPFFF", suite="math")
    current, baseline = run(jobs), run(jobs, "baseline")
    options = GateOptions(min_accuracy={"weather": 0.8, "math": 0.5})
    verdict = gate(current, baseline, options)
    assert not verdict.passed
    assert verdict.reasons == ("m math: accuracy 40.0% (2/5) is below its min_accuracy 50.0%",)
    assert verdict.models[0].regressed  # the table marks the model even though the test found no change
    assert verdict.headline == "FAIL: below an accuracy floor"  # nothing regressed: the same jobs on both sides


def test_overall_minimum_per_model() -> None:
    jobs = outcomes("PPF", model="a") + outcomes("PPP", model="b")
    verdict = gate(run(jobs), run(jobs, "baseline"), GateOptions(min_overall_accuracy=0.7))
    assert verdict.reasons == ("a: accuracy 66.7% (2/3) is below min_overall_accuracy 70.0%",)


def test_a_minimum_for_an_unknown_suite_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        gate(
            run(outcomes("P", suite="weather")),
            run(outcomes("P", suite="weather"), "baseline"),
            GateOptions(min_accuracy={"wether": 0.8}),
        )
    assert str(info.value) == "gate min_accuracy names suite 'wether', which neither run has. Suites: weather."


def test_several_models_are_judged_alone_and_pooled() -> None:
    base = run(outcomes("P" * 100, model="a") + outcomes("P" * 100, model="b"), "baseline")
    cur = run(outcomes("F" * 6 + "P" * 94, model="a") + outcomes("P" * 100, model="b"))
    verdict = gate(cur, base, GateOptions(max_drop=0.1))
    a, b, pooled = verdict.models
    assert (a.model, a.regressed, a.p_value) == ("a", True, 0.015625)
    assert (b.model, b.regressed) == ("b", False)
    assert (pooled.model, pooled.n_paired, pooled.b, pooled.c, pooled.regressed) == ("(all)", 200, 6, 0, True)
    assert verdict.reasons == (
        "a: 6 pass→fail vs 0 fail→pass of 100 paired cases, one-sided exact McNemar p = 0.0156 < alpha 0.05",
        "(all): 6 pass→fail vs 0 fail→pass of 200 paired cases, one-sided exact McNemar p = 0.0156 < alpha 0.05",
    )


# --- several trials per case: pass rates and the sign test ---------------------------------------


def test_trial_rates_are_compared_with_the_sign_test() -> None:
    base = run(trials(["PPP"] * 40), "baseline")
    cur = run(trials(["PPF"] * 6 + ["PPP"] * 34))
    verdict = gate(cur, base)
    (stats,) = verdict.models
    assert verdict.trials
    assert (stats.b, stats.c, stats.p_value) == (6, 0, 0.015625)
    assert stats.baseline_accuracy == 1.0
    assert stats.current_accuracy == pytest.approx((6 * 2 / 3 + 34) / 40)
    assert verdict.flips[0].direction == "3/3→2/3"
    assert verdict.reasons == (
        "m: pass rate fell on 6 cases and rose on 0 of 40 paired, one-sided exact sign test p = 0.0156 < alpha 0.05",
    )
    assert "sign test" in verdict.test


def test_trial_rates_ignore_noise_that_goes_both_ways() -> None:
    base = run(trials(["PPF"] * 5 + ["PPP"] * 5), "baseline")
    cur = run(trials(["PPP"] * 5 + ["PPF"] * 5))
    verdict = gate(cur, base)
    assert verdict.passed
    assert (verdict.models[0].b, verdict.models[0].c) == (5, 5)


def test_errored_trials_leave_the_rest_of_the_case_scored() -> None:
    base = run(trials(["PPP"]), "baseline")
    cur = run(trials(["PEP"]))
    verdict = gate(cur, base)
    assert verdict.passed and verdict.flips == ()
    assert verdict.models[0].current_accuracy == 1.0
    assert [(e.side, e.trial) for e in verdict.errors] == [("current", 2)]


# --- options -------------------------------------------------------------------------------------


def test_options_from_config() -> None:
    options = GateOptions.from_config(
        {"max_drop": 0.1, "alpha": 0.01, "min_accuracy": {"weather": 0.8}, "require_same_cases": True}
    )
    assert (options.max_drop, options.alpha, dict(options.min_accuracy), options.require_same_cases) == (
        0.1,
        0.01,
        {"weather": 0.8},
        True,
    )
    assert GateOptions.from_config({}) == GateOptions()


def test_unknown_config_key_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        GateOptions.from_config({"max_dorp": 0.1})
    assert str(info.value) == (
        "[tool.evalkit.gating.gate] 'max_dorp' is not a gate option. "
        "Valid options: alpha, max_drop, min_accuracy, min_overall_accuracy, require_same_cases."
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"max_drop": 5},
            "gate option max_drop must be a number from 0 to 1 (accuracy points as a fraction: 0.05 = 5 points), got 5",
        ),
        ({"alpha": 0}, "gate option alpha must be above 0 (a significance level, e.g. 0.05), got 0"),
        ({"alpha": True}, "gate option alpha must be a number from 0 to 1 (a significance level, e.g. 0.05), got True"),
        (
            {"min_accuracy": {"weather": 80}},
            "gate option min_accuracy.weather must be a number from 0 to 1 (an accuracy, e.g. 0.8 = 80%), got 80",
        ),
        (
            {"min_accuracy": 0.8},
            "gate option min_accuracy must be a table of suite = minimum, e.g. {weather = 0.8}; got 0.8",
        ),
        ({"require_same_cases": "yes"}, "gate option require_same_cases must be true or false, got 'yes'"),
    ],
)
def test_bad_option_values(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        GateOptions.from_config(raw)
    assert str(info.value) == message


def test_options_are_frozen_all_the_way_down() -> None:
    options = GateOptions(min_accuracy={"weather": 0.8})
    with pytest.raises(TypeError):
        options.min_accuracy["weather"] = 0.1  # type: ignore[index]
    assert options.with_overrides(max_drop=0.2, alpha=None).max_drop == 0.2
    assert options.with_overrides(alpha=None).alpha == 0.05


# --- rendering -----------------------------------------------------------------------------------


def _failing_verdict():
    base = run([*outcomes("P" * 20), job("gone")], "base-1")
    cur = run([*outcomes("F" * 6 + "P" * 13 + "E"), job("new|pipe")], "cur-2")
    return gate(cur, base)


def test_text_rendering_says_why() -> None:
    text = render_verdict_text(_failing_verdict(), width=100)
    assert text.startswith("FAIL: regression (current cur-2 vs baseline base-1)\n")
    assert _failing_verdict().failed_checks == ("regression",)
    assert (  # folded to 100 columns
        "- m: 6 pass→fail vs 0 fail→pass of 19 paired cases, one-sided exact McNemar p = 0.0156 < alpha 0.05"
        in " ".join(text.split())
    )
    assert "Got worse (6):" in text
    assert "wrong_function: called get_weather, expected get_current_temperature" in text
    assert "Only in current (1; reported only; require_same_cases is off):" in text
    assert "Only in baseline (1; reported only; require_same_cases is off):" in text
    assert "Errored jobs, left out of the test (1):" in text
    assert "REGRESSION" in text


def test_markdown_rendering_fits_a_pr_comment() -> None:
    markdown = render_verdict_markdown(_failing_verdict())
    assert markdown.startswith("## ❌ evalkit gate: FAIL: regression (current cur-2 vs baseline base-1)\n")
    assert any(line.startswith("| model ") and "p (one-sided)" in line for line in markdown.splitlines())
    assert "<details open><summary>Got worse (6)</summary>" in markdown
    assert "s/new\\|pipe" in markdown  # a pipe in a case id must not break the table
    passed = render_verdict_markdown(gate(run(outcomes("PP")), run(outcomes("PP"), "b")))
    assert passed.startswith("## ✅ evalkit gate: PASS: no regression")
    assert "<details" not in passed


def test_text_rendering_truncates_long_lists() -> None:
    verdict = gate(run(outcomes("F" * 40 + "P" * 960)), run(outcomes("P" * 1000), "b"))
    text = render_verdict_text(verdict, limit=10)
    assert "… and 30 more (the markdown report lists them all)" in text


def test_a_model_new_in_the_current_run_is_listed_not_failed() -> None:
    base = run(outcomes("PP", model="a"), "baseline")
    cur = run(outcomes("PP", model="a") + outcomes("FF", model="new"))
    verdict = gate(cur, base)
    assert verdict.passed
    assert verdict.reasons[1] == "new: not compared: no case of it is in both runs"
    assert [r.model for r in verdict.only_in_current] == ["new", "new"]
    assert "not compared" in render_verdict_text(verdict)


def test_text_rendering_fits_100_columns() -> None:
    text = render_verdict_text(_failing_verdict(), width=100)
    assert max(len(line) for line in text.splitlines()) <= 100
    narrow = render_verdict_text(_failing_verdict(), width=60)  # the prose folds; a table keeps its columns
    assert "wrong_function: called get_weather,\n" in narrow
    assert "worse: pass→fail (b); better: fail→pass (c)" in " ".join(text.split())  # the legend
