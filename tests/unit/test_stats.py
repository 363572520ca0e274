"""Small statistics (evalkit.stats): the Wilson interval at its edges."""

from __future__ import annotations

import math

import pytest

from evalkit.stats import wilson_interval


@pytest.mark.parametrize("n", range(1, 501))
def test_wilson_bounds_are_exact_at_0_and_n_and_always_inside_0_1(n: int) -> None:
    low, high = wilson_interval(n, n)
    assert high == 1.0 and 0.0 < low < 1.0  # not 0.9999999999999999
    low, high = wilson_interval(0, n)
    assert low == 0.0 and 0.0 < high < 1.0  # not 5.5e-17
    for successes in {1, n // 2, n - 1} - {0, n} if n > 1 else ():
        low, high = wilson_interval(successes, n)
        assert 0.0 <= low <= successes / n <= high <= 1.0


def test_wilson_of_nothing_is_undefined() -> None:
    assert all(math.isnan(bound) for bound in wilson_interval(0, 0))


def test_wilson_known_value() -> None:
    low, high = wilson_interval(7, 10)
    assert (round(low, 4), round(high, 4)) == (0.3968, 0.8922)
