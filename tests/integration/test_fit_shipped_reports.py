"""The shipped reports, as a user sees them: `evalkit gate` on the regression scenario fits the
terminal at 100, 80 and 60 columns, and summary.md of the shipped run carries no padding."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from evalkit.reporting.tables import render_markdown
from evalkit.results import read_results


@pytest.mark.parametrize("columns", [100, 80, 60])
def test_gate_output_fits_the_terminal_width(repo_root: Path, tmp_path: Path, columns: int) -> None:
    # A real process, as in CI: $COLUMNS sets the width (stdout is a pipe, not a terminal).
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"} | {"COLUMNS": str(columns)}
    current = repo_root / "reports" / "regression-tool-choice-required"
    baseline = repo_root / "baselines" / "baseline.json"
    done = subprocess.run(
        [sys.executable, "-m", "evalkit.cli", "gate", str(current), "--baseline", str(baseline)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # the scenario's regression
    over = [line for line in done.stdout.splitlines() if cell_len(line) > columns or len(line) > columns]
    assert not over, over
    out = done.stdout
    for case in ("weather/umbrella-advice-no-location", "support/thanks", "strict/what-is-celsius"):
        assert case in out  # a case id stays whole, on one line
    assert "get_current_temperature(" in out and "get_customer_profile(" in out  # never cut inside a name
    stats = out.split("\nTest:")[0]  # the per-model table: one, or two side by side in a narrow terminal
    row = [cell for line in stats.splitlines() if line.startswith("qwen2.5-coder-1.5b ") for cell in line.split()[1:]]
    assert row == ["0", "–", "–", "–", "0", "0", "–", "not", "compared"]  # not compared: en dashes, no p = 1


def test_summary_md_of_the_shipped_run_is_not_padded(repo_root: Path) -> None:
    run = read_results(repo_root / "reports" / "example" / "results.json")
    markdown = render_markdown(run)
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(rows) > 200
    assert not [row for row in rows if re.search(r"[^\s|] {2,}\|", row)]  # no cell padded to its column
    # Was 419 KB, three quarters of it blanks: now the size of what it says.
    assert len(markdown.encode("utf-8")) < 150_000
