"""Repeated trials: per-case pass rates, pass@k, pass^k and flaky cases.

A model sampled at temperature > 0 (or served nondeterministically) may pass a case on one try and fail
it on the next; one run then says little. ``evalkit run --trials K`` sends each job K times, and this
module summarises the K outcomes of each case (a case = model × suite × case id × tool count):

- **pass rate** ``c / n`` (c passes of n scored trials), averaged over cases: the expected accuracy of a
  single try (pass@1).
- **pass@k** ``1 - C(n-c, k) / C(n, k)``: the chance that at least one of k tries passes. This is the
  unbiased estimator of Chen et al. (2021, "Evaluating Large Language Models Trained on Code"); the
  plug-in ``1 - (1 - c/n)^k`` underestimates it (Jensen's inequality), most when n is small.
- **pass^k** ``C(c, k) / C(n, k)``: the chance that all k tries pass (τ-bench). It is the number for
  an agent that must call the tool right every time; it falls fast as k grows for a flaky case.
- **flaky**: cases with ``0 < rate < 1``, the ones a single-trial gate would see flip at random.

Errored trials (HTTP error, cassette miss) are not scored: they count in ``errors`` and not in n.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..reporting.tables import pct
from ..results import RunResult

if TYPE_CHECKING:
    import pandas as pd

_CASE_KEY = ["model", "suite", "case_id", "tool_count"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of P(at least one of k tries passes) from c passes in n trials (k ≤ n)."""
    _check(n, c, k)
    # C(n-c, k) counts the k-subsets with no pass; it is 0 when fewer than k trials failed.
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of P(all k tries pass) — "pass^k" — from c passes in n trials (k ≤ n)."""
    _check(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


def _check(n: int, c: int, k: int) -> None:
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"need 0 ≤ c ≤ n and 1 ≤ k ≤ n, got n={n}, c={c}, k={k}")


def case_rates(run: RunResult) -> pd.DataFrame:
    """One row per case: scored trials, passes, pass rate, errored trials."""
    import pandas as pd

    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for job in run.jobs:
        key = (job.model, job.suite, job.case_id, job.tool_count)
        row = rows.setdefault(key, dict(zip(_CASE_KEY, key, strict=True), trials=0, passes=0, errors=0))
        if job.status == "error":
            row["errors"] += 1
        else:
            row["trials"] += 1
            row["passes"] += job.passed
    frame = pd.DataFrame(list(rows.values()), columns=[*_CASE_KEY, "trials", "passes", "errors"])
    # tool_count is None for a case without a sweep; pandas would turn a mix of None and ints into
    # floats and NaN, so rebuild it as an object column that keeps None and 16 (not 16.0).
    frame["tool_count"] = pd.Series([r["tool_count"] for r in rows.values()], dtype=object)
    frame["rate"] = (frame["passes"] / frame["trials"]).where(frame["trials"] > 0)
    return frame


def flaky_cases(run: RunResult) -> pd.DataFrame:
    """Cases that both passed and failed across their trials (0 < rate < 1), least stable first."""
    frame = case_rates(run)
    flaky = frame[(frame["rate"] > 0) & (frame["rate"] < 1)]
    # Closest to a coin flip first: those are the ones that make a single-trial comparison noisy.
    order = (flaky["rate"] - 0.5).abs().sort_values(kind="stable").index
    return flaky.loc[order].reset_index(drop=True)


def trial_summary(run: RunResult, *, k: int | None = None) -> pd.DataFrame:
    """Per model × suite: cases, trials per case, mean pass rate, pass@k, pass^k, flaky cases.

    ``k`` defaults, per group, to the fewest scored trials of any of its cases (the largest k the
    unbiased estimators allow for all of them). A ``k`` above some case's scored trials is an error:
    the estimators are undefined there, and dropping that case silently would flatter the group."""
    import pandas as pd

    if k is not None and k < 1:
        raise ConfigError(f"k must be at least 1, got {k}")
    frame = case_rates(run)
    scored = frame[frame["trials"] > 0]
    if k is not None and not scored.empty and k > int(scored["trials"].min()):
        worst = scored.iloc[int(scored["trials"].to_numpy().argmin())]
        raise ConfigError(
            f"k={k} exceeds the {int(worst['trials'])} scored trials of {worst['model']} "
            f"{worst['suite']}/{worst['case_id']}; pass a k ≤ {int(scored['trials'].min())} or run more --trials"
        )
    rows = [
        _summary_row(str(model), str(suite), group, k)
        for (model, suite), group in frame.groupby(["model", "suite"], sort=False)
    ]
    columns = ["model", "suite", "cases", "trials", "k", "pass_rate", "pass@k", "pass^k", "flaky", "errors"]
    return pd.DataFrame(rows, columns=columns)


def _summary_row(model: str, suite: str, group: pd.DataFrame, k: int | None) -> dict[str, Any]:
    scored = group[group["trials"] > 0]
    row = {"model": model, "suite": suite, "cases": len(scored), "errors": int(group["errors"].sum())}
    if scored.empty:
        return row | {
            "trials": "–",
            "k": None,
            "pass_rate": math.nan,
            "pass@k": math.nan,
            "pass^k": math.nan,
            "flaky": 0,
        }
    low, high = int(scored["trials"].min()), int(scored["trials"].max())
    kk = k or low
    pairs = list(zip(scored["trials"], scored["passes"], strict=True))
    return row | {
        "trials": str(low) if low == high else f"{low}–{high}",
        "k": kk,
        "pass_rate": float(scored["rate"].mean()),
        "pass@k": sum(pass_at_k(n, c, kk) for n, c in pairs) / len(pairs),
        "pass^k": sum(pass_hat_k(n, c, kk) for n, c in pairs) / len(pairs),
        "flaky": int(((scored["rate"] > 0) & (scored["rate"] < 1)).sum()),
    }


def render_trials(
    run: RunResult, tablefmt: str = "simple", *, k: int | None = None, flaky_limit: int | None = 30
) -> str:
    """The trial summary table and the flaky cases, for a terminal (``simple``) or markdown (``github``)."""
    from tabulate import tabulate

    summary = trial_summary(run, k=k)
    headers = ["model", "suite", "cases", "trials", "k", "pass rate", "pass@k", "pass^k", "flaky", "errors"]
    rows = [
        [
            r["model"],
            r["suite"],
            r["cases"],
            r["trials"],
            r["k"] if r["k"] is not None else "–",
            pct(r["pass_rate"], digits=1),
            pct(r["pass@k"], digits=1),
            pct(r["pass^k"], digits=1),
            r["flaky"],
            r["errors"] or "",
        ]
        for r in summary.to_dict("records")
    ]
    text = tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    flaky = flaky_cases(run)
    if flaky.empty:
        return text + "\n\nNo flaky cases: every case passed all or none of its trials.\n"
    shown = flaky if flaky_limit is None else flaky.head(flaky_limit)
    flaky_rows = [
        [
            r["model"],
            f"{r['suite']}/{r['case_id']}" + (f" @{r['tool_count']} tools" if r["tool_count"] is not None else ""),
            f"{r['passes']}/{r['trials']}",
        ]
        for r in shown.to_dict("records")
    ]
    text += f"\n\nFlaky cases ({len(flaky)}):\n" + tabulate(
        flaky_rows, headers=["model", "case", "passed"], tablefmt=tablefmt, disable_numparse=True
    )
    if len(shown) < len(flaky):
        text += f"\n… and {len(flaky) - len(shown)} more"
    return text + "\n"
