"""Side by side: each BFCL suite's accuracy under evalkit's default verdict and BFCL's, and the
verdicts that differ, counted by reason (see :mod:`evalkit.scorers.modes`).

Shown for suites whose name starts with ``bfcl-`` (the ones ``evalkit import bfcl`` writes); every
number comes from the ``modes`` record of each job in results.json, nothing is re-scored.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..results import CaseResult, RunResult
from ..scorers.modes import SUITE_PREFIX as PREFIX
from .frames import shared_frame


def _jobs(run: RunResult) -> list[CaseResult]:
    # Most runs have no BFCL suite: the frame's suites say so without a pass over a large run's jobs.
    if not any(str(suite).startswith(PREFIX) for suite in shared_frame(run)["suite"].unique()):
        return []
    return [j for j in run.jobs if j.suite.startswith(PREFIX) and j.modes and j.status != "error"]


def modes_rows(run: RunResult) -> list[dict[str, Any]]:
    """One row per model × BFCL suite, then per model ``(all)``: n, passes in each mode, differences."""
    jobs = _jobs(run)
    rows = []
    for model in run.models:
        mine = [j for j in jobs if j.model == model]
        suites = list(dict.fromkeys(j.suite for j in mine))
        for suite, group in [*((s, [j for j in mine if j.suite == s]) for s in suites), ("(all)", mine)]:
            if not group:
                continue
            default = sum((j.modes or {}).get("default") == "passed" for j in group)
            bfcl = sum((j.modes or {}).get("bfcl") == "passed" for j in group)
            differ = sum((j.modes or {}).get("reason") is not None for j in group)
            rows.append(
                {"model": model, "suite": suite, "n": len(group), "default": default, "bfcl": bfcl, "differ": differ}
            )
    return rows


def reason_counts(run: RunResult) -> Counter[tuple[str, str]]:
    """(reason, which side passed) → number of jobs."""
    counts: Counter[tuple[str, str]] = Counter()
    for job in _jobs(run):
        modes = job.modes or {}
        if modes.get("reason"):
            side = "bfcl passes" if modes.get("bfcl") == "passed" else "default passes"
            counts[(str(modes["reason"]), side)] += 1
    return counts


def render_modes(run: RunResult, *, tablefmt: str = "simple") -> str | None:
    """The side-by-side table and the reasons, or None when the run has no BFCL suite."""
    from tabulate import tabulate

    from .tables import pct

    rows = modes_rows(run)
    if not rows:
        return None
    table = tabulate(
        [
            [r["model"], r["suite"], r["n"], pct(r["default"] / r["n"]), pct(r["bfcl"] / r["n"]), r["differ"]]
            for r in rows
        ],
        headers=["model", "suite", "n", "default", "bfcl mode", "verdicts differ"],
        tablefmt=tablefmt,
    )
    counts = reason_counts(run)
    lines = [f"BFCL suites, evalkit's default verdict and BFCL's (bfcl mode), side by side:\n{table}"]
    if counts:
        lines.append(
            "\nWhy verdicts differ:\n"
            + tabulate(
                [[reason, side, n] for (reason, side), n in counts.most_common()],
                headers=["reason", "which verdict passes", "jobs"],
                tablefmt=tablefmt,
            )
        )
    return "\n".join(lines)
