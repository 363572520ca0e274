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

**Intervals.** The K trials of one case are not K independent observations: they share the prompt, and
a model that fails a case tends to fail it every time. A Wilson interval over all jobs would treat 5
trials of 17 cases as 85 independent draws and be far too narrow. :func:`cluster_interval` treats each
case's trials as one cluster (see its docstring for the method and why it was chosen).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..identity_cache import IdentityCache
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


Z95 = 1.959963984540054  # the two-sided 95% normal quantile, as in evalkit.stats.wilson_interval


def cluster_interval(passes: Sequence[float], trials: Sequence[float], *, z: float = Z95) -> tuple[float, float]:
    """95% interval for the accuracy ``sum(passes) / sum(trials)`` of cases run several times, where
    case i passed ``passes[i]`` of its ``trials[i]`` scored trials: each case's trials are one cluster.

    Method: the Wilson interval on the *effective sample size* (Kish's design effect). The variance of
    the accuracy is estimated the cluster-robust way, from how far each case's passes fall from what
    the pooled rate predicts, ``V = sum((c_i - p n_i)^2) / N^2`` (N = all trials), and the Wilson
    interval is taken at ``n_eff = p (1 - p) / V`` instead of N:

    - one trial per case gives ``n_eff = N`` exactly: the plain Wilson interval evalkit reports elsewhere;
    - cases that pass all or none of their trials (a deterministic model) give ``n_eff`` = the number of
      cases: K trials of a case count once, as they should;
    - trials that look independent give ``n_eff`` near N; it is capped at N, never above;
    - at 0% and 100% the spread cannot tell clustered from independent trials, so the cases are counted
      (``n_eff`` = number of cases), the conservative choice.

    Chosen over a cluster bootstrap because it is deterministic without a seed, costs no resampling,
    reduces to the Wilson interval with one trial, and stays sensible at 0/n and n/n, where a percentile
    bootstrap collapses to a single point, which is where small suites live. The variance leaves out the
    small-sample factor C/(C-1) so that one trial per case is exactly Wilson; with a handful of cases
    the interval is slightly narrow, as Wilson's own is. ``(nan, nan)`` when nothing was scored.

    Checked by a seeded simulation (tests/unit/test_trials.py): 20 cases × 5 trials, each case's pass
    probability drawn from Beta(½, ½) (a model either knows a case or not); this interval covers the
    accuracy on the population of cases in 96% of 400 runs, Wilson over the 100 jobs in 78%.
    """
    return _cluster_wilson(passes, trials, cap=float(sum(trials)), z=z)


def _cluster_wilson(
    passes: Sequence[float], sizes: Sequence[float], *, cap: float, z: float = Z95
) -> tuple[float, float]:
    """Wilson at the effective n of the ratio ``sum(passes) / sum(sizes)``, n capped at ``cap``."""
    clusters = [(float(c), float(n)) for c, n in zip(passes, sizes, strict=True) if n > 0]
    total = sum(n for _, n in clusters)
    if not clusters:
        return (math.nan, math.nan)
    p = sum(c for c, _ in clusters) / total
    if p <= 0.0 or p >= 1.0:
        n_eff = float(len(clusters))
    else:
        variance = sum((c - p * n) ** 2 for c, n in clusters) / total**2
        n_eff = cap if variance <= 0 else min(cap, p * (1 - p) / variance)
    return _wilson(p, n_eff, z)


def _wilson(p: float, n: float, z: float) -> tuple[float, float]:
    # evalkit.stats.wilson_interval for a real-valued n (the effective sample size), same arithmetic.
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if p <= 0.0 else min(p, max(0.0, centre - half))
    high = 1.0 if p >= 1.0 else max(p, min(1.0, centre + half))
    return (low, high)


def case_rates(run: RunResult) -> pd.DataFrame:
    """One row per case: scored trials, passes, pass rate, errored trials. A copy of a frame built
    once per run (one pass over its jobs): summary.md and report.html ask for it seven times."""
    return _case_rates(run).copy()


def _build_case_rates(run: RunResult) -> pd.DataFrame:
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


_case_rates: IdentityCache[RunResult, pd.DataFrame] = IdentityCache(_build_case_rates, limit=2)


def flaky_cases(run: RunResult) -> pd.DataFrame:
    """Cases that both passed and failed across their trials (0 < rate < 1), least stable first."""
    frame = case_rates(run)
    flaky = frame[(frame["rate"] > 0) & (frame["rate"] < 1)]
    # Closest to a coin flip first: those are the ones that make a single-trial comparison noisy.
    order = (flaky["rate"] - 0.5).abs().sort_values(kind="stable").index
    return flaky.loc[order].reset_index(drop=True)


SUMMARY_COLUMNS = [
    "model",
    "suite",
    "cases",
    "trials",
    "k",
    "pass_rate",
    "pass@k",
    "pass^k",
    "flaky",
    "errors",
    "ci_low",
    "ci_high",
]
ALL_SUITES = "(all)"


def trial_summary(run: RunResult, *, k: int | None = None, overall: bool = False) -> pd.DataFrame:
    """Per model × suite: cases, trials per case, mean pass rate with its 95% interval, pass@k, pass^k,
    flaky cases, errored trials. One row per (model, suite), in run order; with ``overall``, each
    model's suites are followed by an ``(all)`` row over all its cases.

    Columns: ``cases`` (int, cases with a scored trial), ``trials`` (str, scored trials per case:
    ``"5"`` or a range ``"4–5"`` when some trials errored), ``k`` (int), ``pass_rate``, ``pass@k``,
    ``pass^k`` (floats in [0, 1], NaN when no trial was scored), ``flaky`` and ``errors`` (int),
    ``ci_low``/``ci_high`` (the 95% interval of ``pass_rate``, each case's trials one cluster: see
    :func:`cluster_interval`).

    ``k`` defaults, per group, to the fewest scored trials of any of its cases (the largest k the
    unbiased estimators allow for all of them). A ``k`` above some case's scored trials is an error
    (:class:`~evalkit.errors.ConfigError`): the estimators are undefined there, and dropping that case
    silently would flatter the group."""
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
    rows = []
    for model, by_model in frame.groupby("model", sort=False):
        for suite, group in by_model.groupby("suite", sort=False):
            rows.append(_summary_row(str(model), str(suite), group, k))
        if overall:
            rows.append(_summary_row(str(model), ALL_SUITES, by_model, k))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


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
            "ci_low": math.nan,
            "ci_high": math.nan,
        }
    low, high = int(scored["trials"].min()), int(scored["trials"].max())
    kk = k or low
    pairs = list(zip(scored["trials"], scored["passes"], strict=True))
    rates = [c / n for n, c in pairs]
    # pass_rate weighs every case alike (the mean of per-case rates), so its interval does too: each
    # case's rate is one cluster of size 1, with the effective n capped at the trials behind it.
    ci_low, ci_high = _cluster_wilson(rates, [1.0] * len(rates), cap=float(sum(n for n, _ in pairs)))
    return row | {
        "trials": str(low) if low == high else f"{low}–{high}",
        "k": kk,
        "pass_rate": sum(rates) / len(rates),
        "pass@k": sum(pass_at_k(n, c, kk) for n, c in pairs) / len(pairs),
        "pass^k": sum(pass_hat_k(n, c, kk) for n, c in pairs) / len(pairs),
        "flaky": int(((scored["rate"] > 0) & (scored["rate"] < 1)).sum()),
        "ci_low": ci_low,
        "ci_high": ci_high,
    }


TRIAL_HEADERS = ["model", "suite", "cases", "trials", "k", "pass rate", "95% CI", "pass@k", "pass^k", "flaky", "errors"]


def trial_rows(run: RunResult, *, k: int | None = None) -> list[list[str]]:
    """The trial summary as display cells (``TRIAL_HEADERS``), ``(all)`` rows for models with several suites."""
    from ..reporting.tables import pct

    summary = trial_summary(run, k=k, overall=True)
    suites = summary[summary["suite"] != ALL_SUITES].groupby("model", sort=False)["suite"].count()
    rows = []
    for r in summary.to_dict("records"):
        if r["suite"] == ALL_SUITES and suites.get(r["model"], 0) < 2:
            continue  # the (all) row of a single suite repeats it
        ci = "–" if math.isnan(r["ci_low"]) else f"{100 * r['ci_low']:.0f}–{100 * r['ci_high']:.0f}%"
        rows.append(
            [
                str(r["model"]),
                str(r["suite"]),
                str(r["cases"]),
                str(r["trials"]),
                str(r["k"]) if r["k"] is not None else "–",
                pct(r["pass_rate"], digits=1),
                ci,
                pct(r["pass@k"], digits=1),
                pct(r["pass^k"], digits=1),
                str(r["flaky"]),
                str(r["errors"] or ""),
            ]
        )
    return rows


def flaky_rows(run: RunResult) -> list[list[str]]:
    """The flaky cases as display cells: model, case (``suite/case [@N tools]``), passes/trials."""
    return [
        [str(r["model"]), _case_label(r), f"{r['passes']}/{r['trials']}"] for r in flaky_cases(run).to_dict("records")
    ]


def _case_label(row: dict[Any, Any]) -> str:
    return f"{row['suite']}/{row['case_id']}" + (
        f" @{row['tool_count']} tools" if row["tool_count"] is not None else ""
    )


TRIALS_LEGEND = (
    "pass rate: mean over cases of the share of a case's scored trials that passed (pass@1); 95% CI: each "
    "case's trials count as one cluster, not as independent jobs; pass@k: chance that at least one of k "
    "tries passes; pass^k: chance that all k pass (unbiased estimators); flaky: cases that both passed "
    "and failed."
)


def render_trials(
    run: RunResult, tablefmt: str = "simple", *, k: int | None = None, flaky_limit: int | None = 30
) -> str:
    """The trial summary table and the flaky cases, for a terminal (``simple``) or markdown (``github``)."""
    from tabulate import tabulate

    text = tabulate(trial_rows(run, k=k), headers=TRIAL_HEADERS, tablefmt=tablefmt, disable_numparse=True)
    flaky = flaky_rows(run)
    if not flaky:
        return text + "\n\nNo flaky cases: every case passed all or none of its trials.\n"
    shown = flaky if flaky_limit is None else flaky[:flaky_limit]
    text += f"\n\nFlaky cases ({len(flaky)}):\n" + tabulate(
        shown, headers=["model", "case", "passed"], tablefmt=tablefmt, disable_numparse=True
    )
    if len(shown) < len(flaky):
        text += f"\n… and {len(flaky) - len(shown)} more"
    return text + "\n"


def render_trials_markdown(run: RunResult) -> str:
    """The ``## Trials`` section of summary.md: the summary with intervals, the flaky cases, and every
    case's pass rate (folded, so the section stays short)."""
    from tabulate import tabulate

    def table(rows: list[list[str]], headers: list[str]) -> str:
        cells = [[c.replace("|", "\\|") for c in row] for row in rows]
        return tabulate(cells, headers=headers, tablefmt="github", disable_numparse=True)

    lines = ["## Trials", "", TRIALS_LEGEND, "", table(trial_rows(run), TRIAL_HEADERS), ""]
    flaky = flaky_rows(run)
    if flaky:
        lines += [
            f"Flaky cases ({len(flaky)}), closest to a coin flip first:",
            "",
            table(flaky, ["model", "case", "passed"]),
        ]
    else:
        lines.append("No flaky cases: every case passed all or none of its trials.")
    rates = case_rates(run)
    per_case = [
        [str(r["model"]), _case_label(r), f"{r['passes']}/{r['trials']}", _rate(r["rate"]), str(r["errors"] or "")]
        for r in rates.to_dict("records")
    ]
    lines += [
        "",
        f"<details><summary>Pass rate of every case ({len(per_case)})</summary>",
        "",
        table(per_case, ["model", "case", "passed", "rate", "errors"]),
        "",
        "</details>",
    ]
    return "\n".join(lines) + "\n"


def _rate(value: float) -> str:
    return "–" if math.isnan(value) else f"{100 * value:.0f}%"
