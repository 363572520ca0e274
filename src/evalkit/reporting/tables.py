"""summary.md and the cells every view shares (percentages, intervals, seconds, USD), over the frames
of :mod:`evalkit.reporting.frames` (re-exported here, where the other views import them from).

Nothing here re-scores: every number comes from results.json. The terminal view is
:mod:`evalkit.reporting.terminal`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..results import RunResult
from .frames import (
    CALL_COLUMNS,
    JOB_COLUMNS,
    SCORE_COLUMNS,
    SCORE_SOURCES,
    aggregate,
    calls_frame,
    load_calls,
    load_results,
    model_prices,
    model_table,
    shared_frame,
    summary_table,
    to_frame,
)
from .numbers import has_sweep, ran_trials

if TYPE_CHECKING:
    import pandas as pd

__all__ = [  # the frames' names too: html.py, plots.py and compare.py import them from here
    "CALL_COLUMNS",
    "JOB_COLUMNS",
    "MISSING",
    "SCORE_COLUMNS",
    "SCORE_LABELS",
    "SCORE_MEANINGS",
    "SCORE_SOURCES",
    "aggregate",
    "calls_frame",
    "ci_text",
    "failure_rows",
    "is_missing",
    "load_calls",
    "load_results",
    "markdown_cell",
    "markdown_table",
    "model_legend",
    "model_prices",
    "model_rows",
    "model_table",
    "pct",
    "present_scores",
    "render_failures",
    "render_markdown",
    "render_table",
    "seconds_text",
    "shared_frame",
    "summary_table",
    "to_frame",
    "tokens_text",
    "usd_text",
    "write_summary",
]

SCORE_LABELS = {
    "selection": "selection",
    "validity": "args valid",
    "correctness": "args correct",
    "coverage": "coverage",
    "no_call": "no-call",
    "no_hallucination": "no hallucination",
    "no_forbidden": "no forbidden",
    "finish": "finished",
    "trajectory": "trajectory",
    "answer": "answer",
    "loop": "loop",
}
# What each score means, in the words of the legend under a table.
SCORE_MEANINGS = {
    "selection": "the right functions were called",
    "validity": "arguments are JSON valid against the tool's schema",
    "correctness": "arguments match the expectation",
    "coverage": "share of expected calls made",
    "no_call": "no call where none was expected",
    "no_hallucination": "no call to a function that was not offered",
    "no_forbidden": "no call matching a forbid: rule",
    "finish": "the reply ended on its own (not cut off, no call written as text)",
    "trajectory": "share of the tool loop's expected calls made (order as its mode asks)",
    "answer": "share of the final answer's checks passed",
    "loop": "the loop ended with an answer within max_steps, no call sent again",
}


# --- cells ----------------------------------------------------------------------------------------

MISSING = "–"


def is_missing(value: Any) -> bool:
    """None, NaN or <NA>: nothing was measured, or no job in the group was scored on it."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN is the one value not equal to itself
    except TypeError:  # pandas' NA refuses bool()
        return True


def pct(value: Any, *, digits: int = 0) -> str:
    """83% for 0.83, an en dash for N/A."""
    return MISSING if is_missing(value) else f"{100 * value:.{digits}f}%"


def ci_text(row: Mapping[Any, Any]) -> str:
    """``47–74%`` from a row's ``ci_low``/``ci_high``; an en dash without scored jobs."""
    if is_missing(row.get("ci_low")):
        return MISSING
    return f"{100 * row['ci_low']:.0f}–{100 * row['ci_high']:.0f}%"


def seconds_text(value: Any) -> str:
    if is_missing(value):
        return MISSING
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def tokens_text(prompt: Any, completion: Any) -> str:
    """``516 / 38``: mean prompt and completion tokens per job."""
    if is_missing(prompt) and is_missing(completion):
        return MISSING
    return " / ".join(MISSING if is_missing(v) else f"{v:,.0f}" for v in (prompt, completion))


def usd_text(value: Any) -> str:
    if is_missing(value):
        return MISSING
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def present_scores(table: pd.DataFrame) -> list[str]:
    """The score columns with a value in some row: a run with no no-call case has no no-call column."""
    return [c for c in SCORE_COLUMNS if c in table and table[c].notna().any()]


# --- summary.md -----------------------------------------------------------------------------------


def model_legend(headers: Sequence[str]) -> str:
    """The legend under the per-model table, for the columns it has."""
    passed = "pass: share of scored jobs that passed every applicable check, with its 95% interval"
    parts = [f"{passed} (a case's trials count once)", "errors: jobs not scored (HTTP error, cassette miss)"]
    if "latency" in headers:
        parts.append("latency: median seconds per job, as recorded")
    if "tokens in / out" in headers:
        parts.append("tokens: mean prompt / completion tokens per job")
    if "cost" in headers:
        parts.append("cost: USD for these jobs at the configured price")
    return "; ".join(parts) + "."


def model_rows(table: pd.DataFrame, prices: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of the per-model summary; latency, tokens and cost only when known."""
    latency = bool("latency" in table and table["latency"].notna().any())
    tokens = bool("prompt_tokens" in table and table[["prompt_tokens", "completion_tokens"]].notna().any().any())
    cost = bool(prices)
    headers = ["model", "n", "pass", "95% CI", "errors"]
    headers += ["latency"] * latency + ["tokens in / out"] * tokens + ["cost"] * cost
    rows = []
    for r in table.to_dict("records"):
        cells = [str(r["model"]), str(r["n"]), pct(r["accuracy"]), ci_text(r), str(r["errors"])]
        cells += [seconds_text(r["latency"])] * latency
        cells += [tokens_text(r["prompt_tokens"], r["completion_tokens"])] * tokens
        cells += [usd_text(r["cost"])] * cost
        rows.append(cells)
    return headers, rows


def _display_rows(table: pd.DataFrame) -> tuple[list[str], list[list[Any]]]:
    present = present_scores(table)
    headers = ["model", "suite", "n", "pass", "95% CI", *[SCORE_LABELS.get(c, c) for c in present], "errors"]
    rows = [
        [
            r["model"],
            r["suite"],
            r["n"],
            pct(r["accuracy"]),
            ci_text(r),
            *[pct(r[c]) for c in present],
            r["errors"] or "",
        ]
        for r in table.to_dict("records")
    ]
    return headers, rows


def render_table(run: RunResult, *, tablefmt: str = "simple") -> str:
    """Every model × suite row with every score, long headers (tabulate; no width limit)."""
    from tabulate import tabulate

    headers, rows = _display_rows(summary_table(run))
    return tabulate(
        rows, headers=headers, tablefmt=tablefmt, colalign=("left", "left") + ("right",) * (len(headers) - 2)
    )


def failure_rows(run: RunResult) -> list[list[str]]:
    """model, case (``suite/case [@N tools] [#trial]``), kind, explanation: one row per failure."""
    rows = []
    for job in run.jobs:
        if job.status == "passed":
            continue
        where = f"{job.suite}/{job.case_id}" + (f" @{job.tool_count} tools" if job.tool_count is not None else "")
        where += f" #{job.trial}" if job.trial > 1 else ""
        for kind, explanation in job.failures or (("failed", "no scorer explained it"),):
            rows.append([job.model, where, kind, explanation])
    return rows


TOOL_COUNT_HEADERS = ["model", "tools", "n", "pass", "95% CI", "prompt tokens"]


def tool_count_rows(run: RunResult) -> list[list[Any]]:
    """A tool-count sweep (``--tool-counts``): per model and number of offered tools, the jobs,
    accuracy with its 95% interval, and the mean prompt tokens the server counted."""
    from .compare import accuracy_by_tool_count

    return [
        [r["model"], r["tool_count"], r["n"], pct(r["accuracy"]), ci_text(r), count_text(r["prompt_tokens"])]
        for r in accuracy_by_tool_count(run).to_dict("records")
    ]


def count_text(value: Any) -> str:
    return MISSING if is_missing(value) else f"{value:,.0f}"


def render_failures(run: RunResult, *, limit: int | None = 30, tablefmt: str = "simple") -> str:
    from tabulate import tabulate

    rows = failure_rows(run)
    if not rows:
        return "No failures."
    shown = rows if limit is None else rows[:limit]
    text = tabulate(
        shown, headers=["model", "case", "kind", "why"], tablefmt=tablefmt, maxcolwidths=[None, None, None, 90]
    )
    if len(shown) < len(rows):
        text += f"\n… and {len(rows) - len(shown)} more failures: see summary.md beside results.json"
    return text


def score_legend(present: Sequence[str]) -> str:
    if not present:  # every job errored: no score column to explain
        return ""
    meanings = "; ".join(f"{SCORE_LABELS[c]}: {SCORE_MEANINGS[c]}" for c in present)
    return f"Score columns are means over the jobs each applies to (– where none does), 1.0 good: {meanings}."


def markdown_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A GitHub-flavoured markdown table, its cells unpadded.

    Not tabulate: it pads every cell to its column's widest, and one long failure explanation made
    each row of summary.md hundreds of blanks long (three quarters of the file). A markdown viewer
    lines the columns up itself. A ``|`` in a cell is escaped and a line break becomes a space, so a
    cell cannot end its row early; blanks around a value are dropped, as tabulate dropped them."""

    def row(cells: Iterable[Any]) -> str:
        return "| " + " | ".join(markdown_cell(c) for c in cells) + " |"

    return "\n".join([row(headers), "|" + "---|" * len(headers), *(row(r) for r in rows)])


def markdown_cell(value: Any) -> str:
    """``value`` as text that stays in its markdown cell (or list item): ``|`` escaped, one line."""
    return " ".join(str(value).replace("|", "\\|").splitlines()).strip()


def render_markdown(run: RunResult) -> str:
    """summary.md: per-model summary, scores per suite, accuracy per number of offered tools (with
    ``--tool-counts``), trials (with ``--trials``), every failure; fit for a PR comment or
    $GITHUB_STEP_SUMMARY."""
    table = summary_table(run)
    status = shared_frame(run)["status"]
    n_jobs, n_pass, n_errors = len(status), int((status == "passed").sum()), int((status == "error").sum())
    lines = [
        f"# evalkit run {run.run_id}",
        "",
        (
            f"{n_jobs} jobs, {n_pass} passed, {n_errors} errors; "
            f"models: {', '.join(run.models)}; record mode: {run.config.get('record_mode')}; {run.seconds:.1f} s."
        ),
        "",
    ]
    if not table.empty:
        headers, rows = model_rows(model_table(run), model_prices(run))
        lines += ["## Per model", "", markdown_table(rows, headers), "", model_legend(headers), ""]
        headers, rows = _display_rows(table)
        lines += ["## Per suite", "", markdown_table(rows, headers), "", score_legend(present_scores(table)), ""]
    if has_sweep(run):
        lines += ["## Accuracy vs offered tools", "", markdown_table(tool_count_rows(run), TOOL_COUNT_HEADERS), ""]
    if run.config.get("trials", 1) > 1 or ran_trials(run):
        from ..gating.trials import render_trials_markdown

        lines += [render_trials_markdown(run)]
    from .modes import render_modes

    if (side_by_side := render_modes(run, tablefmt="github")) is not None:
        lines += ["## BFCL: evalkit's verdict and BFCL's", "", side_by_side, ""]
    lines += ["## Failures", ""]
    failures = failure_rows(run)
    lines.append(markdown_table(failures, ["model", "case", "kind", "why"]) if failures else "No failures.")
    return "\n".join(lines) + "\n"


def write_summary(run: RunResult, folder: Path) -> Path:
    path = folder / "summary.md"
    path.write_text(render_markdown(run), encoding="utf-8")
    return path
