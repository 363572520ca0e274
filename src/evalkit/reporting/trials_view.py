"""The "Repeated trials" section of report.html: pass rates with clustered intervals, pass@k, pass^k,
the flaky cases, and each case's trials in order.

Every number comes from :mod:`evalkit.gating.trials` (the same ones summary.md shows); this module
only lays them out and adds each case's outcomes in trial order (✓ ✗ !).
"""

from __future__ import annotations

import sys
from typing import Any

from ..results import RunResult
from .numbers import CaseKey, case_key

SYMBOLS = {"passed": "✓", "failed": "✗", "error": "!"}
HEADERS = ["model", "suite", "cases", "trials", "pass rate (95% CI)", "k", "pass@k", "pass^k", "flaky", "errors"]


def _label(key: CaseKey) -> str:
    _, suite, case_id, tools = key
    return f"{suite}/{case_id}" + (f" @{tools} tools" if tools is not None else "")


def outcomes(run: RunResult) -> dict[CaseKey, list[str]]:
    """Each case's job statuses, in trial order (statuses, not jobs: a large run is read one job at a
    time and must not be held whole here)."""
    cases: dict[CaseKey, list[tuple[int, str]]] = {}
    for job in run.jobs:
        cases.setdefault(case_key(job), []).append((job.trial, sys.intern(job.status)))
    return {key: [status for _, status in sorted(trials)] for key, trials in cases.items()}


def _summary_rows(run: RunResult) -> tuple[list[list[str]], list[str]]:
    from ..gating.trials import ALL_SUITES, trial_summary
    from .html import interval_cell
    from .tables import pct

    summary = trial_summary(run, overall=True)
    suites = summary[summary["suite"] != ALL_SUITES].groupby("model", sort=False)["suite"].count()
    rows, classes, previous = [], [], None
    for r in summary.to_dict("records"):
        if r["suite"] == ALL_SUITES and suites.get(r["model"], 0) < 2:
            continue  # the (all) row of a single suite repeats it
        rows.append(
            [
                str(r["model"]),
                str(r["suite"]),
                str(r["cases"]),
                str(r["trials"]),
                interval_cell(r["pass_rate"], r["ci_low"], r["ci_high"], f"{r['cases']} cases"),
                "–" if r["k"] is None else str(r["k"]),
                pct(r["pass@k"], digits=1),
                pct(r["pass^k"], digits=1),
                str(r["flaky"]),
                str(r["errors"] or ""),
            ]
        )
        classes.append("block" if previous not in (None, r["model"]) else "")
        previous = r["model"]
    return rows, classes


def trials_context(run: RunResult, *, max_rows: int, open_limit: int) -> dict[str, Any]:
    from ..gating.trials import TRIALS_LEGEND, flaky_cases
    from .html import Styled, Table

    cases = outcomes(run)
    symbols = {key: "".join(SYMBOLS.get(status, "?") for status in statuses) for key, statuses in cases.items()}
    flaky = flaky_cases(run)
    flaky_rows: list[list[Any]] = []
    for r in flaky.head(max_rows).to_dict("records"):
        key = (r["model"], r["suite"], r["case_id"], r["tool_count"])
        flaky_rows.append(
            [str(r["model"]), _label(key), Styled(symbols.get(key, ""), "outcomes"), f"{r['passes']}/{r['trials']}"]
        )
    case_rows: list[list[Any]] = []
    for key, statuses in list(cases.items())[:max_rows]:
        scored = [status for status in statuses if status != "error"]
        passes = scored.count("passed")
        case_rows.append(
            [
                key[0],
                _label(key),
                Styled(symbols[key], "outcomes"),
                f"{passes}/{len(scored)}",
                f"{100 * passes / len(scored):.0f}%" if scored else "–",
                str(len(statuses) - len(scored) or ""),
            ]
        )
    summary_rows, classes = _summary_rows(run)
    return {
        "note": TRIALS_LEGEND,
        "summary": Table(HEADERS, summary_rows, frozenset(range(2, 10)), row_classes=classes),
        "flaky": Table(["model", "case", "trials", "passed"], flaky_rows) if flaky_rows else None,
        "flaky_count": len(flaky),
        "cases": Table(["model", "case", "trials", "passed", "rate", "errors"], case_rows, frozenset({3, 4, 5})),
        "case_count": len(cases),
        "cases_capped": len(cases) > max_rows,
        "cases_open": len(cases) <= open_limit,
    }
