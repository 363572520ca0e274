"""Compare models side by side: accuracy and score tables, per-case disagreements, the tool-count curve.

Everything is read from a :class:`RunResult`; nothing is re-scored. Accuracy follows
:func:`evalkit.reporting.tables.aggregate`: jobs that errored (HTTP, cassette miss) are not the model's
doing, so they are left out of n and of the pass rate.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Hashable, Mapping
from itertools import combinations
from typing import TYPE_CHECKING, Any

from ..identity_cache import IdentityCache
from ..results import CaseResult, RunResult
from ..stats import mcnemar_exact
from .numbers import has_sweep, ran_trials
from .tables import MISSING, SCORE_COLUMNS, SCORE_LABELS, aggregate, is_missing, pct, shared_frame

if TYPE_CHECKING:
    import pandas as pd

ALL_SUITES = "(all)"
METRIC_LABELS = {"accuracy": "accuracy (95% CI)", **SCORE_LABELS}


def accuracy_cell(row: Mapping[Hashable, Any]) -> str:
    """``83% (71–90) n=44``: the rate, its 95% Wilson interval and n, in one readable cell."""
    if not row.get("n"):
        return f"{MISSING} n=0"
    return f"{pct(row['accuracy'])} ({100 * row['ci_low']:.0f}–{100 * row['ci_high']:.0f}) n={row['n']}"


def _suite_order(run: RunResult) -> list[str]:
    return list(dict.fromkeys(shared_frame(run)["suite"]))


def compare_models(run: RunResult, *, scores: bool = True) -> pd.DataFrame:
    """One row per (suite, metric), one column per model, cells already formatted for reading.

    Suites come in run order, then ``(all)``; a score row is kept only when some model has a value
    for it, so a run without no-call cases has no empty "no-call" row. ``scores=False`` keeps
    only the accuracy rows (the terminal already shows every score per model × suite)."""
    import pandas as pd

    models = run.models
    frame = shared_frame(run)
    if frame.empty:
        return pd.DataFrame(columns=["suite", "metric"])
    per_suite = aggregate(frame, ["suite", "model"])
    overall = aggregate(frame, ["model"]).assign(suite=ALL_SUITES)
    table = pd.concat([per_suite, overall], ignore_index=True)
    suites = _suite_order(run)
    rows = []
    for suite in [*suites, ALL_SUITES]:  # (all) even for one suite, so callers can always find it
        cells = {r["model"]: r for r in table[table["suite"] == suite].to_dict("records")}
        rows.append(
            {
                "suite": suite,
                "metric": METRIC_LABELS["accuracy"],
                **{m: accuracy_cell(cells[m]) if m in cells else MISSING for m in models},
            }
        )
        for name in SCORE_COLUMNS if scores else ():
            values = {m: cells[m][name] if m in cells else math.nan for m in models}
            if all(is_missing(v) for v in values.values()):
                continue
            rows.append(
                {"suite": suite, "metric": METRIC_LABELS.get(name, name), **{m: pct(v) for m, v in values.items()}}
            )
        errors = {m: int(cells[m]["errors"]) if m in cells else 0 for m in models}
        if any(errors.values()):  # only worth a row when something broke
            rows.append({"suite": suite, "metric": "errors (not scored)", **{m: str(e) for m, e in errors.items()}})
    return pd.DataFrame(rows, columns=["suite", "metric", *models])


def _tool_count(job: CaseResult) -> int:
    # Same convention as report.to_frame: a run without a sweep still offered n tools.
    return job.tool_count if job.tool_count is not None else job.n_offered


def _verdict(outcome: tuple[str, str] | None) -> str:
    if outcome is None:
        return MISSING
    status, kind = outcome
    if status == "passed":
        return "passed"
    return f"{status}: {kind or 'no explanation'}"


def _build_paired_jobs(run: RunResult) -> dict[tuple[str, str, int, int], dict[str, tuple[str, str]]]:
    """Each job's outcome, (status, first failure kind or ""), grouped by what makes jobs comparable
    across models: (suite, case, tool count, trial). Outcomes, not the jobs: a 100k-job run read one
    job at a time must not be held whole here (it was 5 kB a job)."""
    groups: dict[tuple[str, str, int, int], dict[str, tuple[str, str]]] = {}
    for job in run.jobs:
        kind = job.failures[0][0] if job.failures else ""
        outcome = (sys.intern(job.status), sys.intern(kind))
        groups.setdefault((job.suite, job.case_id, _tool_count(job), job.trial), {})[sys.intern(job.model)] = outcome
    return groups


# The paired tests and the disagreements both read it, in the terminal and again in report.html.
_paired_jobs: IdentityCache[RunResult, dict[tuple[str, str, int, int], dict[str, tuple[str, str]]]] = IdentityCache(
    _build_paired_jobs, limit=2
)


def case_differences(run: RunResult) -> pd.DataFrame:
    """Cases where one model passed and another failed, with each model's status and first failure kind.

    An ``error`` (infrastructure) is shown but does not make a disagreement on its own: it says
    nothing about the model."""
    import pandas as pd

    models = run.models
    rows = []
    for (suite, case_id, tools, trial), by_model in _paired_jobs(run).items():
        statuses = {status for status, _ in by_model.values()}
        if not {"passed", "failed"} <= statuses:
            continue
        row: dict[str, Any] = {"suite": suite, "case": case_id, "tool_count": tools, "trial": trial}
        row.update({m: _verdict(by_model.get(m)) for m in models})
        rows.append(row)
    return pd.DataFrame(rows, columns=["suite", "case", "tool_count", "trial", *models])


def paired_tests(run: RunResult) -> pd.DataFrame:
    """For each pair of models: jobs both scored, how many only one passed, exact McNemar p-value.

    Pairs rather than two independent accuracies because both models saw the same cases: the
    discordant pairs carry the evidence, and a 4-point gap on 40 cases is often noise."""
    import pandas as pd

    groups = _paired_jobs(run)
    rows = []
    for a, b in combinations(run.models, 2):
        pairs = [
            (g[a][0] == "passed", g[b][0] == "passed")
            for g in groups.values()
            if a in g and b in g and "error" not in (g[a][0], g[b][0])
        ]
        a_only = sum(x and not y for x, y in pairs)
        b_only = sum(y and not x for x, y in pairs)
        rows.append(
            {
                "model_a": a,
                "model_b": b,
                "pairs": len(pairs),
                "a_only": a_only,
                "b_only": b_only,
                "p_value": mcnemar_exact(a_only, b_only),
            }
        )
    return pd.DataFrame(rows, columns=["model_a", "model_b", "pairs", "a_only", "b_only", "p_value"])


def accuracy_by_tool_count(run: RunResult) -> pd.DataFrame:
    """The curve data: per model and tool count, n, accuracy, its 95% Wilson interval, errors and
    the mean prompt tokens (which grow with every offered schema, the cost side of the curve)."""
    import pandas as pd

    columns = ["model", "tool_count", "n", "accuracy", "ci_low", "ci_high", "errors", "prompt_tokens"]
    frame = shared_frame(run)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    table = aggregate(frame, ["model", "tool_count"])  # prompt_tokens: the mean per job
    order = {m: i for i, m in enumerate(run.models)}
    table = table.sort_values(["model", "tool_count"], key=lambda s: s.map(order) if s.name == "model" else s)
    return table[columns].reset_index(drop=True)


def paired_sentence(row: Mapping[Hashable, Any]) -> str:
    """One paired-test row as a sentence a reviewer can quote."""
    a, b = row["model_a"], row["model_b"]
    return f"{a} vs {b}: {row['pairs']} paired jobs, {row['a_only']} passed only by {a}, {row['b_only']} only by {b} (exact McNemar p={row['p_value']:.3g})"


def render_comparison(run: RunResult, *, tablefmt: str = "simple", max_differences: int = 20) -> str:
    """A plain-text comparison (tabulate; the terminal report is :mod:`evalkit.reporting.terminal`):
    the side-by-side table, the paired tests, and the first cases the models disagree on. The
    ``tool_count`` and ``trial`` columns appear only in runs with a sweep or trials."""
    from tabulate import tabulate

    table = compare_models(run, scores=False)
    parts = [
        tabulate(
            table.values.tolist(),
            headers=list(table.columns),
            tablefmt=tablefmt,
            colalign=("left", "left") + ("right",) * (len(table.columns) - 2),
        )
    ]
    tested = paired_tests(run)
    tests = [paired_sentence(r) for r in tested.to_dict("records")]
    if tests:
        parts.append("\n".join(tests))
    diffs = case_differences(run)
    if len(diffs):
        shown = diffs.head(max_differences)
        if not has_sweep(run):
            shown = shown.drop(columns="tool_count")
        if not ran_trials(run):
            shown = shown.drop(columns="trial")
        parts.append(f"Cases where the models disagree ({len(diffs)}):")
        parts.append(tabulate(shown.values.tolist(), headers=list(shown.columns), tablefmt=tablefmt))
        if len(diffs) > len(shown):
            parts.append(f"… and {len(diffs) - len(shown)} more: see report.html")
    elif len(run.models) > 1 and int(tested["pairs"].sum()):  # agreeing needs something compared
        parts.append("The models agree on every case both were scored on.")
    return "\n\n".join(parts)
