"""The terminal report: summary first, columns only when they mean something, never wider than asked."""

from __future__ import annotations

import pytest

from evalkit.reporting.terminal import render_run
from evalkit.results import CaseResult, RunResult, ScoreRecord

LONG = "a-model-with-a-rather-long-name-v2"


def job(model: str, suite: str, case: str, status: str, **kw: object) -> CaseResult:
    passed = status == "passed"
    scores = {
        name: ScoreRecord(1.0 if passed else 0.0, passed)
        for name in ("selection", "hallucination", "validity", "correctness", "coverage", "forbidden", "finish")
    }
    scores["no_call"] = ScoreRecord(None, None)
    failures = () if passed else (("missing_call", "no call matched get_weather(city='Paris') " * 3),)
    return CaseResult(
        model, suite, case, status, scores=scores, failures=failures, latency=0.8, prompt_tokens=400, **kw
    )  # type: ignore[arg-type]  # test data


def two_models(**kw: object) -> RunResult:
    jobs = [
        job(m, s, f"case-{i}", "passed" if (i + (m == LONG)) % 3 else "failed", **kw)
        for m in ("small", LONG)
        for s in ("weather", "customer-support-escalations")
        for i in range(6)
    ]
    return RunResult("r", "2025-01-01T00:00:00+00:00", {"record_mode": "none"}, tuple(jobs))


def lines(text: str) -> list[str]:
    return text.splitlines()


@pytest.mark.parametrize("width", [100, 80, 60])
def test_no_line_is_wider_than_the_terminal(width: int) -> None:
    text = render_run(two_models(), width=width, failure_limit=None)
    assert max(len(line) for line in lines(text)) <= width


def test_summary_first_then_details() -> None:
    text = render_run(two_models(), width=100)
    order = [
        "Per model",
        "Paired tests",
        "small: per suite",
        f"{LONG}: per suite",
        "Cases the models disagree on",
        "Failures",
    ]
    positions = [text.index(title) for title in order]
    assert positions == sorted(positions)
    header = lines(text)[1].split()
    assert header == ["model", "n", "pass", "95%", "CI", "errors", "latency", "tokens", "in", "/", "out"]


def test_values_are_never_cut_at_80_columns() -> None:
    # The long suite name leaves no room for every score at 80: they go on in a second table.
    text = render_run(two_models(), width=80)
    section = text[text.index("small: per suite") : text.index(f"{LONG}: per suite")]
    weather = [line for line in section.splitlines() if line.startswith("weather")]
    assert len(weather) == 2
    assert sum(line.count("%") for line in weather) == 9  # pass, interval and 7 scores, each whole
    assert all(cell.endswith("%") for line in weather for cell in line.split()[2:])


def test_columns_only_when_the_run_has_them() -> None:
    text = render_run(two_models(), width=100)
    assert "tool_count" not in text and "tools" not in text and ": trials" not in text and " #" not in text
    assert "cost" not in text  # no model has a price
    header = next(line for line in lines(text) if line.startswith("suite"))
    assert header.split() == ["suite", "n", "pass", "95%", "CI", "select", "valid", "args", "cover", "no", "hal.", "no", "forb.", "finish"]  # fmt: skip
    assert "no call:" not in text  # no case expects no call: no column, no legend for it
    assert "errors" in lines(text)[1]  # the per-model table always says how many errored
    assert "Accuracy vs offered tools" not in text


def test_a_sweep_and_trials_add_their_sections() -> None:
    jobs = [
        job("m", "s", f"c{i}", "passed" if (i + t) % 2 else "failed", tool_count=n, trial=t)
        for i in range(3)
        for n in (4, 16)
        for t in (1, 2)
    ]
    text = render_run(RunResult("r", "", {"trials": 2}, tuple(jobs)), width=100)
    assert "Accuracy vs offered tools" in text and "m: trials" in text and "pass@k" in text
    assert "Flaky cases (6), closest to a coin flip first" in text
    assert "s/c0 @4 tools #2  missing_call" in text  # a failure names its tool count and trial


def test_no_agreement_claimed_when_nothing_was_compared() -> None:
    jobs = (job("a", "s", "c", "passed"), job("b", "t", "d", "passed"))
    text = render_run(RunResult("r", "", {}, jobs), width=100)
    assert "agree" not in text
    assert "No case was scored for two models, so the models were not compared." in text


def test_models_that_agree_say_so() -> None:
    jobs = (job("a", "s", "c", "passed"), job("b", "s", "c", "passed"))
    assert "The models agree on every case both were scored on." in render_run(RunResult("r", "", {}, jobs))


def test_failure_limit_and_the_rest_pointed_to() -> None:
    text = render_run(two_models(), width=100, failure_limit=3)
    assert "Failures: 8 reasons in " in text and "did not pass (the first 3 here; all in summary.md)" in text
    assert render_run(two_models(), failure_limit=0).find("Failures") == -1


def test_errored_jobs_among_the_failures_are_counted_as_not_scored() -> None:
    """A cassette miss is listed with its reason, but the heading says it was not the model's failure."""
    miss = CaseResult("m", "s", "c2", "error", failures=(("cassette_miss", "no cassette for this request"),))
    jobs = (job("m", "s", "c0", "passed"), job("m", "s", "c1", "failed"), miss)
    text = render_run(RunResult("r", "", {}, jobs), width=100)
    assert "did not pass\nOf those, 1 job errored: no readable reply, so not scored." in text
    assert "s/c2  cassette_miss" in text
    assert "errored" not in render_run(two_models(), width=100)


def test_a_cost_column_with_a_price() -> None:
    config = {"models": [{"name": "small", "price": [1.0, 2.0]}]}
    jobs = (job("small", "s", "c", "passed", completion_tokens=50),)
    text = render_run(RunResult("r", "", config, jobs), width=100)
    assert lines(text)[1].split()[-1] == "cost" and "$0.0005" in text  # (400 × 1 + 50 × 2) / 1e6


def test_escape_sequences_in_model_output_do_not_reach_the_terminal() -> None:
    bad = job("m", "s", "c", "failed")
    bad = CaseResult(**{**bad.__dict__, "failures": (("wrong_value", "got '\x1b[2J\x1b[31mred\x07'"),)})
    text = render_run(RunResult("r", "", {}, (bad,)), width=100)
    assert "\x1b" not in text and "\x07" not in text
    assert "wrong_value: got '\ufffd[2J\ufffd[31mred\ufffd'" in text
