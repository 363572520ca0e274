"""RunResult → pandas DataFrame → terminal table (tabulate), failures list, summary.md.

Nothing here re-scores: every number comes from results.json.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..results import RunResult, read_results
from ..stats import wilson_interval

if TYPE_CHECKING:
    import pandas as pd

SCORE_COLUMNS = ("selection", "validity", "correctness", "coverage", "no_call", "hallucination", "forbidden")
# How each score reads as a column. "hallucination" is 1.0 when nothing was hallucinated, so a
# bare "hallucination 100%" would read backwards.
SCORE_LABELS = {
    "selection": "selection",
    "validity": "args valid",
    "correctness": "args correct",
    "coverage": "coverage",
    "no_call": "no-call",
    "hallucination": "no hallucination",
    "forbidden": "no forbidden",
}


def to_frame(run: RunResult) -> pd.DataFrame:
    """One row per job: ids, status, every score's value, failure kinds, token counts."""
    import pandas as pd

    rows = []
    for job in run.jobs:
        row: dict[str, Any] = {
            "run_id": run.run_id,
            "model": job.model,
            "suite": job.suite,
            "case_id": job.case_id,
            "tool_count": job.tool_count if job.tool_count is not None else job.n_offered,
            "trial": job.trial,
            "status": job.status,
            "passed": job.status == "passed",
            "error": job.status == "error",
            "tags": ",".join(job.tags),
            "failure_kinds": ",".join(dict.fromkeys(k for k, _ in job.failures)),
            "n_calls": len(job.calls),
            "prompt_tokens": job.prompt_tokens,
            "completion_tokens": job.completion_tokens,
            "seconds": job.seconds,
        }
        for name in SCORE_COLUMNS:
            record = job.scores.get(name)
            row[name] = record.value if record is not None else None
        rows.append(row)
    frame = pd.DataFrame(rows)
    for name in SCORE_COLUMNS:  # keep N/A as NaN so means skip it
        frame[name] = pd.to_numeric(frame[name], errors="coerce") if name in frame else math.nan
    return frame


def load_results(path: str | Path) -> pd.DataFrame:
    """A results.json (or its folder) as a DataFrame, one row per job, for your own analysis."""
    return to_frame(read_results(path))


def aggregate(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Accuracy with a 95% Wilson interval and n per group; score means over applicable jobs.

    Jobs that errored (HTTP, cassette miss) are left out of n and counted in ``errors``."""
    import pandas as pd

    rows = []
    for key, group in frame.groupby(list(by), sort=False, dropna=False):
        scored = group[~group["error"]]
        n, passed = len(scored), int(scored["passed"].sum())
        low, high = wilson_interval(passed, n)
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(
            n=n,
            passed=passed,
            accuracy=passed / n if n else math.nan,
            ci_low=low,
            ci_high=high,
            errors=int(group["error"].sum()),
        )
        for name in SCORE_COLUMNS:
            row[name] = scored[name].mean() if name in scored and scored[name].notna().any() else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(run: RunResult) -> pd.DataFrame:
    """Per model × suite, then an ``all`` row per model."""
    import pandas as pd

    frame = to_frame(run)
    if frame.empty:
        return frame
    per_suite = aggregate(frame, ["model", "suite"])
    overall = aggregate(frame, ["model"]).assign(suite="(all)")
    parts = []
    for model in run.models:
        parts += [per_suite[per_suite["model"] == model], overall[overall["model"] == model]]
    return pd.concat(parts, ignore_index=True)


MISSING = "–"


def is_missing(value: Any) -> bool:
    """None or NaN: no job in the group was scored on it."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value: Any, *, digits: int = 0) -> str:
    """83% for 0.83, an en dash for N/A."""
    return MISSING if is_missing(value) else f"{100 * value:.{digits}f}%"


def _display_rows(table: pd.DataFrame) -> tuple[list[str], list[list[Any]]]:
    present = [c for c in SCORE_COLUMNS if c in table and table[c].notna().any()]
    headers = ["model", "suite", "n", "pass", "95% CI", *[SCORE_LABELS.get(c, c) for c in present], "errors"]
    rows = []
    for r in table.to_dict("records"):
        ci = "–" if math.isnan(r["ci_low"]) else f"{100 * r['ci_low']:.0f}–{100 * r['ci_high']:.0f}%"
        rows.append(
            [r["model"], r["suite"], r["n"], pct(r["accuracy"]), ci, *[pct(r[c]) for c in present], r["errors"] or ""]
        )
    return headers, rows


def render_table(run: RunResult, *, tablefmt: str = "simple") -> str:
    from tabulate import tabulate

    headers, rows = _display_rows(summary_table(run))
    return tabulate(
        rows, headers=headers, tablefmt=tablefmt, colalign=("left", "left") + ("right",) * (len(headers) - 2)
    )


def failure_rows(run: RunResult) -> list[list[str]]:
    rows = []
    for job in run.jobs:
        if job.status == "passed":
            continue
        where = f"{job.suite}/{job.case_id}" + (f" @{job.tool_count} tools" if job.tool_count is not None else "")
        where += f" #{job.trial}" if job.trial > 1 else ""
        for kind, explanation in job.failures or (("failed", "no scorer explained it"),):
            rows.append([job.model, where, kind, explanation])
    return rows


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


def render_markdown(run: RunResult) -> str:
    """summary.md: the score table and every failure, fit for a PR comment or $GITHUB_STEP_SUMMARY."""
    from tabulate import tabulate

    headers, rows = _display_rows(summary_table(run))
    n_jobs, n_pass = len(run.jobs), sum(j.passed for j in run.jobs)
    lines = [
        f"# evalkit run {run.run_id}",
        "",
        (
            f"{n_jobs} jobs, {n_pass} passed, {sum(j.status == 'error' for j in run.jobs)} errors; "
            f"models: {', '.join(run.models)}; record mode: {run.config.get('record_mode')}; {run.seconds:.1f} s."
        ),
        "",
        "Accuracy = share of jobs passing every applicable check (95% Wilson interval); score columns are means over the jobs each applies to.",
        "",
        tabulate(rows, headers=headers, tablefmt="github"),
        "",
    ]
    from .modes import render_modes

    if (side_by_side := render_modes(run, tablefmt="github")) is not None:
        lines += ["## BFCL: default and bfcl mode", "", side_by_side, ""]
    lines += [
        "## Failures",
        "",
    ]
    failures = failure_rows(run)
    if failures:
        escaped = [[cell.replace("|", "\\|") for cell in row] for row in failures]
        lines.append(tabulate(escaped, headers=["model", "case", "kind", "why"], tablefmt="github"))
    else:
        lines.append("No failures.")
    return "\n".join(lines) + "\n"


def write_summary(run: RunResult, folder: Path) -> Path:
    path = folder / "summary.md"
    path.write_text(render_markdown(run), encoding="utf-8")
    return path
