"""The gate's text verdict fits the terminal: every line within the width (in terminal cells), the
per-model table split when narrow, long failures broken between words (under their row, indented,
when a table column would be too narrow for them); a model not compared shows en dashes, not p = 1."""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len

from evalkit.gating.gate import Verdict, gate
from evalkit.gating.render import render_verdict_markdown, render_verdict_text
from evalkit.results import CaseResult, RunResult

# The shipped regression scenario's shape: four models, one of them compared, six flips.
MODELS = ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b-stream", "qwen2.5-coder-1.5b-stream")
FAILURE = 'expected no call, got get_current_temperature({"location":"San Francisco, CA","unit":…)'
CASES = ("chitchat/greeting", "strict/what-is-celsius", "weather/umbrella-advice-no-location", "support/thanks")


def run(jobs: list[CaseResult], run_id: str) -> RunResult:
    return RunResult(run_id, "2024-05-01T12:00:00+00:00", {}, tuple(jobs))


def job(model: str, case: str, status: str, failure: str = FAILURE) -> CaseResult:
    suite, case_id = case.split("/")
    failures = () if status == "passed" else (("http_error" if status == "error" else "unexpected_call", failure),)
    return CaseResult(model, suite, case_id, status, failures=failures)


def shipped_like(failure: str = FAILURE) -> Verdict:
    """Cases flip pass→fail for the first model; the others are in the baseline only (not compared)."""
    base = [job(MODELS[0], c, "passed") for c in CASES] + [job(m, CASES[0], "passed") for m in MODELS[1:]]
    base += [job(MODELS[0], f"more/case-{i}", "passed") for i in range(6)]
    cur = [job(MODELS[0], c, "failed", failure) for c in CASES]
    cur += [job(MODELS[0], f"more/case-{i}", "failed" if i < 2 else "passed", failure) for i in range(6)]
    return gate(run(cur, "regression-tool-choice-required"), run(base, "example"))


def stress() -> Verdict:
    """Long names, a long unbroken run, CJK (two cells a character), an escape sequence, errors."""
    model = "organisation/a-very-long-model-name-with-quantisation-awq-int4-v2"
    text = f'{FAILURE}; wrong_arguments: city "北京市朝阳区" is not "上海" \x1b[31mred\x1b[0m {"#" * 130}'
    cases = [f"a-rather-long-suite-name/case-with-a-long-identifier-{i}" for i in range(5)]
    base = [job(model, c, "passed") for c in cases] + [job("gone", cases[0], "passed")]
    cur = [job(model, c, "failed", text) for c in cases[:4]] + [job(model, cases[4], "error", text)]
    cur += [job("new", cases[0], "failed", text)]
    return gate(run(cur, "cur"), run(base, "base"))


def widest(text: str) -> int:
    return max(cell_len(line) for line in text.splitlines())


@pytest.mark.parametrize("width", [40, 47, 60, 73, 80, 100])
@pytest.mark.parametrize("verdict", [shipped_like, stress], ids=["shipped-like", "stress"])
def test_every_line_fits_the_width(verdict: object, width: int) -> None:
    assert callable(verdict)
    text = render_verdict_text(verdict(), width=width)
    over = [line for line in text.splitlines() if cell_len(line) > width]
    assert not over, over


@pytest.mark.parametrize("width", [60, 80, 100])
def test_the_per_model_table_keeps_its_values_whole(width: int) -> None:
    text = render_verdict_text(shipped_like(), width=width)
    stats = text.split("\n\nTest:")[0].split("\n\n", 1)[1]  # after the reasons, one table or two
    assert widest(stats) <= width
    for model in MODELS:  # folded into two tables if need be, never cut inside a name
        assert re.search(rf"^{re.escape(model)} ", stats, re.MULTILINE), model
    assert "REGRESSION" in stats and "not compared" in stats and "-60.0" in stats


def test_the_per_model_table_is_one_table_at_100_columns() -> None:
    text = render_verdict_text(shipped_like(), width=100)
    stats = text.split("\n\nTest:")[0].split("\n\n", 1)[1]
    assert stats.splitlines()[0].split() == ["model", "n", "baseline", "current", "Δ", "worse", "better", "p", "result"]
    assert len(stats.splitlines()) == 2 + len(MODELS) + 1 + 2  # a row a model, (all), the legend's two lines
    assert widest(stats) <= 100  # tabulate made each column two wider than its header: 101


def test_a_model_not_compared_shows_en_dashes_not_p_1() -> None:
    verdict = shipped_like()
    text = render_verdict_text(verdict, width=100)
    row = next(line for line in text.splitlines() if line.startswith(MODELS[1] + " "))
    assert row.split() == [MODELS[1], "0", "–", "–", "–", "0", "0", "–", "not", "compared"]
    markdown = render_verdict_markdown(verdict)
    assert f"| {MODELS[1]} | 0 | – | – | – | 0 | 0 | – | not compared |" in markdown
    compared = next(line for line in text.splitlines() if line.startswith(MODELS[0] + " "))
    assert compared.split()[-2:] == ["0.0156", "REGRESSION"]  # a real test keeps its p


@pytest.mark.parametrize("width", [60, 80, 100])
def test_a_long_failure_keeps_its_names_whole(width: int) -> None:
    text = render_verdict_text(shipped_like(), width=width)
    for word in re.findall(r"\w+", FAILURE):  # no name cut in two (get_current_temperatur / e()
        assert re.search(rf"(?<!\w){word}(?!\w)", text), word
    assert "get_current_temperature(" in text


def test_a_word_with_no_place_to_break_is_cut_at_the_width() -> None:
    text = render_verdict_text(stress(), width=60)
    assert widest(text) <= 60
    assert sum(len(m) for m in re.findall("#+", text)) == 130 * 5  # nothing lost: four flips, one error


def test_terminal_cells_not_characters() -> None:
    # Each CJK character takes two cells: counted as one, a line of them would run past the width.
    cjk = "北京市朝阳区上海市浦东新区" * 6
    text = render_verdict_text(shipped_like(cjk), width=80)
    assert widest(text) <= 80
    assert text.count("北京市朝阳区上海市浦东新区") + text.count("北京") >= 6


def test_escape_sequences_from_model_output_do_not_reach_the_terminal() -> None:
    text = render_verdict_text(stress(), width=100)
    assert "\x1b" not in text and "\ufffd[31mred" in text


def test_the_markdown_tables_are_not_padded() -> None:
    markdown = render_verdict_markdown(shipped_like())
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    assert rows and not [r for r in rows if "  " in r]  # no cell in this verdict holds two blanks
    assert f"| {MODELS[0]} | weather/umbrella-advice-no-location | pass→fail | unexpected_call: {FAILURE} |" in rows


def test_a_model_on_one_side_only_is_one_row_not_one_per_case() -> None:
    verdict = shipped_like()
    text = render_verdict_text(verdict, width=100)
    assert len(verdict.only_in_baseline) == 3  # the three other models' one case each
    for model in MODELS[1:]:
        rows = [line for line in text.splitlines() if line.startswith(model + " ") and "all its cases (1)" in line]
        assert len(rows) == 1, model
    markdown = render_verdict_markdown(verdict)
    assert f"| {MODELS[1]} | all its cases (1): the model has no case in both runs |" in markdown
