"""Small statistics, exact and dependency-free: Wilson intervals and exact McNemar (two- and one-sided)."""

from __future__ import annotations

import math


def wilson_interval(successes: int, n: int, *, z: float = 1.959963984540054) -> tuple[float, float]:
    """The 95% Wilson score interval for a binomial proportion (``(nan, nan)`` when n is 0).

    Chosen over the normal approximation because it stays inside [0, 1] and behaves at 0/n and n/n,
    which is where small suites live."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0/n and n/n the bound on that side is exactly 0 or 1; floating point would give 5.5e-17
    # or 0.9999999999999999, which reads wrong and gives plots a negative error bar.
    low = 0.0 if successes == 0 else min(p, max(0.0, centre - half))
    high = 1.0 if successes == n else max(p, min(1.0, centre + half))
    return (low, high)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b and c discordant pairs (binomial test at p = 0.5)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail: float = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def mcnemar_one_sided(b: int, c: int) -> float:
    """One-sided exact McNemar p-value that the ``b`` side is more likely: P(X ≥ b | X ~ Bin(b + c, 0.5)).

    A regression gate asks one question, "is the current run worse?", so the alternative is one-sided:
    b = pairs that went pass→fail, c = fail→pass. Under "no change" each discordant pair is a fair coin,
    so the p-value is the chance of at least ``b`` heads in ``b + c`` tosses. Improvements (c > b) give
    p ≥ 0.5 and never fail the gate. Exact integer arithmetic: no scipy, no normal approximation, which
    would be wrong for the handful of discordant pairs a small suite produces."""
    n = b + c
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be ≥ 0, got b={b}, c={c}")
    if n == 0:
        return 1.0
    upper: float = sum(math.comb(n, i) for i in range(b, n + 1)) / 2**n
    return min(1.0, upper)
