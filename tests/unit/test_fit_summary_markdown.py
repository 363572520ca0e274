"""summary.md's tables are unpadded GitHub-flavoured markdown: one long failure no longer pads every
row of its table to its length, and the cells say what tabulate's padded tables said."""

from __future__ import annotations

import re
from pathlib import Path

from tabulate import tabulate

from evalkit.reporting.tables import failure_rows, markdown_table, render_markdown
from evalkit.results import CaseResult, RunResult, ScoreRecord

LONG = "called get_weather(" + ", ".join(f'"arg{i}": {i}' for i in range(60)) + "), expected get_current_temperature"


def run() -> RunResult:
    def job(case: str, status: str, why: str = "called b") -> CaseResult:
        failures = () if status == "passed" else (("wrong_function", why),)
        scores = {"selection": ScoreRecord(1.0 if status == "passed" else 0.0, status == "passed")}
        return CaseResult("model-a", "weather", case, status, scores=scores, failures=failures)

    jobs = [job(f"c{i}", "failed") for i in range(40)] + [job("long", "failed", LONG), job("pipe|id", "failed")]
    jobs += [job("ok", "passed")]
    return RunResult("r1", "2025-01-01T00:00:00+00:00", {"record_mode": "none"}, tuple(jobs))


def cells(line: str) -> list[str]:
    """A markdown row's cells, split at the pipes that are not escaped."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def tables(markdown: str) -> list[list[str]]:
    """Each table of the document as its lines."""
    found: list[list[str]] = []
    previous = ""
    for line in markdown.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                found.append([])
            found[-1].append(line)
        previous = line
    return found


def test_rows_are_not_padded_to_the_longest_cell() -> None:
    markdown = render_markdown(run())
    failures = tables(markdown)[-1]
    assert len(failures) == 2 + 42  # header, separator, one row per failure
    for line in [failures[0], *failures[2:]]:  # one blank on each side of a cell, no more
        assert line == "| " + " | ".join(cells(line)) + " |", line
    assert "| model-a | weather/c0 | wrong_function | called b |" in failures
    assert max(len(line) for line in failures) == len(f"| model-a | weather/long | wrong_function | {LONG} |")
    # The file grows with what it says, not with the longest failure times the number of rows.
    assert len(markdown) < 2 * sum(len(c) for line in markdown.splitlines() for c in cells(line)) + 5_000


def test_every_table_is_valid_github_markdown() -> None:
    for table in tables(render_markdown(run())):
        header, separator, *rows = table
        assert re.fullmatch(r"\|(:?-+:?\|)+", separator), separator
        assert len(cells(separator)) == len(cells(header))
        assert all(len(cells(row)) == len(cells(header)) for row in rows), table


def test_a_pipe_in_a_cell_is_escaped_and_a_line_break_cannot_end_the_row() -> None:
    markdown = render_markdown(run())
    assert "| model-a | weather/pipe\\|id | wrong_function | called b |" in markdown
    table = markdown_table([["a\nb", " padded ", "x|y"]], ["one", "two", "three"])
    assert table.splitlines() == ["| one | two | three |", "|---|---|---|", "| a b | padded | x\\|y |"]


def test_the_cells_are_those_tabulate_wrote() -> None:
    # The content is unchanged, only the padding goes: compare with tabulate's padded table, cell by cell.
    rows = failure_rows(run())
    escaped = [[c.replace("|", "\\|") for c in r] for r in rows]
    padded = tabulate(escaped, headers=["model", "case", "kind", "why"], tablefmt="github", disable_numparse=True)
    unpadded = markdown_table(rows, ["model", "case", "kind", "why"])
    old, new = padded.splitlines(), unpadded.splitlines()
    assert len(old) == len(new)
    assert [cells(line) for line in old[2:]] == [cells(line) for line in new[2:]]
    assert cells(old[0]) == cells(new[0])


def test_a_tool_count_sweep_has_its_table_in_summary_md(repo_root: Path) -> None:
    """CI pipes summary.md into the job summary: a sweep's result (accuracy per number of offered
    tools) must be there, not only on the terminal."""
    from evalkit.results import read_results

    sweep = render_markdown(read_results(repo_root / "reports" / "tool-sweep" / "results.json"))
    section = sweep.split("## Accuracy vs offered tools\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert section[0] == "| model | tools | n | pass | 95% CI | prompt tokens |"
    assert section[2] == "| qwen2.5-coder-0.5b | 4 | 44 | 41% | 28–56% | 516 |"
    assert len(section) == 2 + 2 * 5  # both models × 5 tool counts
    plain = render_markdown(read_results(repo_root / "reports" / "example" / "results.json"))
    assert "Accuracy vs offered tools" not in plain
