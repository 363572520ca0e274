"""The terminal report and the gate's verdict in a narrow terminal: a table that does not fit goes on in
tables below itself (README, "Per suite"); no number is cut, no column dropped, no header cut mid-word,
no line wider than the terminal. The shipped runs are rendered at 100 columns, where every table fits,
and each narrow rendering is checked against that one."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rich.cells import cell_len

from evalkit.gating.gate import gate
from evalkit.gating.render import render_verdict_text
from evalkit.reporting.terminal import render_run
from evalkit.results import read_results

NARROW = [60, 50, 40]
# A number as the report writes it: 70, 1,098, 41%, 31–53%, 1.29, -13.6, 0.0156, 3/5, $0.0005.
NUMBER = re.compile(r"[-+$]?\d[\d.,/%–]*")
RULE = re.compile(r"-+(?: -+)*")  # the dashes under a table's headers, a run per column


def numbers(text: str) -> Counter[str]:
    """Every number in ``text``, with how often it occurs: a value cut short (136 shown as 13) or a
    column dropped leaves fewer of it. Tables repeat their row labels, never their numbers."""
    return Counter(word for word in text.split() if NUMBER.fullmatch(word))


def headers(text: str, heights: tuple[int, ...] = (1, 2, 3)) -> set[str]:
    """The header of every column of every table in ``text``: the text above a column's dashes, on the
    line above them, or on the two or three lines above when the header wrapped (each reading is
    kept: the lines above a table's headers are its title or the table before it)."""
    lines = text.splitlines()
    found: set[str] = set()
    for at, line in enumerate(lines):
        if not RULE.fullmatch(line):
            continue
        for dashes in re.finditer(r"-+", line):
            start, end = dashes.span()
            for height in heights:
                above = [lines[i][start:end].strip() for i in range(max(0, at - height), at)]
                header = " ".join(part for part in above if part)
                # A narrow terminal names both models of a paired test in one column, "model A vs model B".
                found.update([header, *header.split(" vs ")])
    return found


def check_narrow(wide: str, narrow: str, width: int) -> None:
    over = [line for line in narrow.splitlines() if cell_len(line) > width]
    assert not over, over
    missing = numbers(wide) - numbers(narrow)
    assert not missing, f"numbers cut or dropped at {width} columns: {dict(missing)}"
    lost = headers(wide, heights=(1,)) - headers(narrow)  # at 100 columns every header is one line
    assert not lost, f"headers lost or cut at {width} columns: {sorted(lost)}"


@pytest.mark.parametrize("width", NARROW)
@pytest.mark.parametrize("run", ["example", "tool-sweep", "trials", "regression-prompt-cleanup"])
def test_a_narrow_report_keeps_every_number_and_column(repo_root: Path, run: str, width: int) -> None:
    results = read_results(repo_root / "reports" / run / "results.json")
    wide = render_run(results, width=100, failure_limit=0)
    narrow = render_run(results, width=width, failure_limit=0)
    check_narrow(wide, narrow, width)


def test_the_per_model_table_goes_on_below_itself_with_the_model_repeated(repo_root: Path) -> None:
    results = read_results(repo_root / "reports" / "example" / "results.json")
    text = render_run(results, width=50, failure_limit=0)
    section = text[: text.index("pass: share of scored jobs")]
    rows = [line for line in section.splitlines() if line.startswith("qwen2.5-coder-0.5b ")]
    assert len(rows) == 2  # each model once in each of the two tables, its name whole
    assert rows[1].split()[-3:] == ["1,098", "/", "136"]


def test_the_paired_tests_keep_their_p_column(repo_root: Path) -> None:
    results = read_results(repo_root / "reports" / "example" / "results.json")
    for width in NARROW:
        text = render_run(results, width=width, failure_limit=0)
        section = text[text.index("Paired tests") : text.index("p: exact McNemar test")]
        assert re.search(r"^model A vs model B .* p$", section, re.MULTILINE), section
        assert "onl\n" not in section and not re.search(r"\bonl\b", section)


@pytest.mark.parametrize("width", NARROW)
@pytest.mark.parametrize("current", ["regression-tool-choice-required", "regression-prompt-cleanup"])
def test_a_narrow_gate_verdict_keeps_every_number_and_column(repo_root: Path, current: str, width: int) -> None:
    verdict = gate(
        read_results(repo_root / "reports" / current / "results.json"),
        read_results(repo_root / "baselines" / "baseline.json"),
    )
    wide = render_verdict_text(verdict, width=100)
    narrow = render_verdict_text(verdict, width=width)
    assert max(cell_len(line) for line in narrow.splitlines()) <= width
    # The per-model table (and the headline and reasons above it); the lists below it turn into lines
    # with the failure under them in a narrow terminal, and fold long calls as prose.
    check_narrow(wide.split("\nTest:")[0], narrow.split("\nTest:")[0], width)


def test_a_wide_table_goes_on_in_parts_that_each_name_their_rows() -> None:
    from evalkit.reporting.console import console_text, print_table, text_console

    headers = ["model", "suite", *(f"score {i}" for i in range(9))]
    rows = [[f"model-{m}-with-a-long-name", f"suite-{m}", *(f"{10 * i + m}.5%" for i in range(9))] for m in (1, 2)]
    wide, narrow = text_console(200), text_console(40)
    for console in (wide, narrow):
        print_table(console, "Scores", headers, rows, left=2)
    text = console_text(narrow)
    check_narrow(console_text(wide), text, 40)
    tables = [line for line in text.splitlines() if line.startswith("model ")]
    assert len(tables) > 2 and all(line.split()[:2] == ["model", "suite"] for line in tables)
    assert text.count("model-1-with-a-long-name suite-1 ") == len(tables)  # both labels, whole, in each


def test_below_40_columns_names_fold_but_numbers_stay_whole() -> None:
    from evalkit.reporting.console import console_text, print_table, text_console

    headers, rows = ["model", "tokens in / out"], [["a-model-name-of-thirty-letters", "1,098 / 136"]]
    console = text_console(30)
    print_table(console, None, headers, rows)
    text = console_text(console)
    assert max(cell_len(line) for line in text.splitlines()) <= 30
    assert "1,098 / 136" in text


@pytest.mark.parametrize("width", NARROW)
def test_a_narrow_gate_lists_case_ids_whole(repo_root: Path, width: int) -> None:
    verdict = gate(
        read_results(repo_root / "reports" / "regression-prompt-cleanup" / "results.json"),
        read_results(repo_root / "baselines" / "baseline.json"),
    )
    case_id = re.compile(r"[a-z-]+/[a-z0-9-]+")  # suite/case, as the lists name them
    cases = {word for word in render_verdict_text(verdict, width=100).split() if case_id.fullmatch(word)}
    assert {f.case.label for f in verdict.improvements} < cases and len(cases) >= 30
    narrow = set(render_verdict_text(verdict, width=width).split())
    assert sorted(cases - narrow) == []  # none folded over two lines, none cut
