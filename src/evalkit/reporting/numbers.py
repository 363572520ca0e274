"""Numbers the HTML pages show that :mod:`.tables` and :mod:`evalkit.gating` do not give.

- :func:`paired_difference`: the 95% interval of an accuracy change between a run and its baseline
  on the same cases, Newcombe's hybrid score interval for paired proportions (Newcombe 1998,
  "Improved confidence intervals for the difference between binomial proportions based on paired
  data", Statistics in Medicine 17:2635, method 10): the Wilson intervals of the two accuracies
  joined through the correlation of the paired outcomes. It suits the few dozen cases of a suite,
  stays inside [-1, 1], and needs no seed. With trials, the per-case pass rates take the place of
  the 0/1 outcomes and the two marginal intervals are the clustered ones of
  :func:`evalkit.gating.trials.cluster_interval` (each case one cluster).
- :func:`score_intervals`: each score's mean per model with its 95% interval and n, a case's jobs
  one cluster (the score bars of the report).

Candidates for :mod:`evalkit.stats` / :mod:`.tables` once another page needs them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..identity_cache import IdentityCache
from ..results import CaseResult, RunResult

if TYPE_CHECKING:
    import pandas as pd

CaseKey = tuple[str, str, str, int | None]  # model, suite, case id, tool count: a case's trials share it


def case_key(job: CaseResult) -> CaseKey:
    return (job.model, job.suite, job.case_id, job.tool_count)


def has_trials(run: RunResult) -> bool:
    """Whether some case ran more than once (``--trials K``): as the run's config says, else (a
    results.json written by hand) from the jobs."""
    configured = run.config.get("trials")
    if isinstance(configured, int) and not isinstance(configured, bool):
        return configured > 1
    return ran_trials(run)


# A run's jobs are read from results.json on each pass when it is large (~2.7 s a pass at 100k
# jobs), and these questions were asked of it by the terminal report, summary.md and report.html
# in turn: answered once per run instead.
_ran_trials: IdentityCache[RunResult, bool] = IdentityCache(lambda run: any(job.trial > 1 for job in run.jobs), limit=2)
_swept: IdentityCache[RunResult, bool] = IdentityCache(
    lambda run: any(job.tool_count is not None for job in run.jobs), limit=2
)


def ran_trials(run: RunResult) -> bool:
    """Whether some job of the run is a second or later trial (the jobs only, not the config)."""
    return _ran_trials(run)


def has_sweep(run: RunResult) -> bool:
    """Whether the run offered distractors (``--tool-counts``); without, each suite had its own tools."""
    return _swept(run)


def rate_interval(rates: Sequence[float]) -> tuple[float, float]:
    """95% interval of the mean of per-case pass rates (0/1 with one trial), each case one cluster."""
    from ..gating.trials import cluster_interval

    return cluster_interval(list(rates), [1.0] * len(rates))


def paired_difference(pairs: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """``current - baseline`` and its 95% interval from per-case ``(baseline rate, current rate)``.

    ``L = Δ - √((p₁-l₁)² - 2φ(p₁-l₁)(u₂-p₂) + (u₂-p₂)²)``, ``U = Δ + √((u₁-p₁)² - 2φ(u₁-p₁)(p₂-l₂) + (p₂-l₂)²)``
    with p₁ the current and p₂ the baseline accuracy, (l, u) their intervals, and φ the correlation
    of the paired outcomes (0 when a side does not vary). ``(nan, nan, nan)`` for no pairs."""
    m = len(pairs)
    if not m:
        return (math.nan, math.nan, math.nan)
    base = [b for b, _ in pairs]
    cur = [c for _, c in pairs]
    p2, p1 = sum(base) / m, sum(cur) / m
    (l2, u2), (l1, u1) = rate_interval(base), rate_interval(cur)
    phi = _correlation(cur, base)
    delta = p1 - p2
    below = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    above = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return (delta, max(-1.0, delta - below), min(1.0, delta + above))


def _correlation(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation (φ for 0/1 outcomes); 0 when either side does not vary."""
    m = len(x)
    mx, my = sum(x) / m, sum(y) / m
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx, syy = sum((a - mx) ** 2 for a in x), sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


@dataclass(frozen=True)
class ScoreInterval:
    mean: float  # NaN when no scored job of the model had a value for it
    low: float
    high: float
    n: int  # jobs the score applied to


def score_intervals(frame: pd.DataFrame, models: Sequence[str], names: Sequence[str]) -> dict[str, list[ScoreInterval]]:
    """Per model of ``models`` present in ``frame`` (:func:`.tables.to_frame`), for each score column
    of ``names``, its mean over the scored jobs it applies to, with a 95% interval and n.

    The interval is the clustered Wilson interval at the mean (each case's jobs one cluster; exact
    Wilson with one job per case for pass/fail scores, conservative for fractional ones such as
    coverage, since a value in [0, 1] with mean p varies by at most p(1 - p))."""
    from ..gating.trials import cluster_interval

    out: dict[str, list[ScoreInterval]] = {}
    if frame.empty:
        return out
    present = set(frame["model"])
    scored = frame[~frame["error"].astype(bool)]
    for model in models:
        if model not in present:
            continue
        rows = scored[scored["model"] == model]
        bars = []
        for name in names:
            values = rows[["suite", "case_id", name]].dropna(subset=[name])
            if values.empty:
                bars.append(ScoreInterval(math.nan, math.nan, math.nan, 0))
                continue
            clusters = values.groupby(["suite", "case_id"], sort=False)[name].agg(["sum", "count"])
            low, high = cluster_interval(
                clusters["sum"].astype(float).tolist(), clusters["count"].astype(float).tolist()
            )
            bars.append(ScoreInterval(float(values[name].mean()), low, high, len(values)))
        out[model] = bars
    return out
