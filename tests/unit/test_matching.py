"""Optimal matching of expected to produced calls: Hungarian vs brute force, ordered alignment."""

from __future__ import annotations

from itertools import combinations, permutations

from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.scorers.matching import FULL, NAME, NONE, assign, assign_by_name

# No timing assertions: hypothesis' per-example deadline would fail on a slow, busy CI machine.
untimed = settings(deadline=None)

grade_matrices = st.integers(0, 5).flatmap(
    lambda rows: st.integers(0, 5).flatmap(
        lambda cols: st.lists(
            st.lists(st.sampled_from([NONE, NAME, FULL]), min_size=cols, max_size=cols), min_size=rows, max_size=rows
        ).map(lambda grid: (rows, cols, grid))
    )
)


def _score(grid, pairs):
    """(full pairs, name-sharing pairs): the quantity the assignment maximises, in that order."""
    real = [(e, p) for e, p in pairs if grid[e][p] != NONE]
    return sum(grid[e][p] == FULL for e, p in real), len(real)


def _brute_best(rows, cols, grid, *, ordered=False):
    best = (0, 0)
    for k in range(min(rows, cols) + 1):
        for es in combinations(range(rows), k):
            chosen = combinations(range(cols), k) if ordered else permutations(range(cols), k)
            for ps in chosen:
                best = max(best, _score(grid, list(zip(es, ps, strict=True))))
    return best


def _check_shape(rows, cols, grid, assignment):
    es = [e for e, _ in assignment.pairs]
    ps = [p for _, p in assignment.pairs]
    assert len(set(es)) == len(es) and len(set(ps)) == len(ps)  # one-to-one
    assert all(0 <= e < rows and 0 <= p < cols for e, p in assignment.pairs)
    assert all(grid[e][p] != NONE for e, p in assignment.pairs)  # never pairs different names
    assert assignment.full == sum(grid[e][p] == FULL for e, p in assignment.pairs)


@untimed
@given(grade_matrices)
def test_hungarian_is_optimal(matrix):
    rows, cols, grid = matrix
    result = assign(rows, cols, lambda e, p: grid[e][p])
    _check_shape(rows, cols, grid, result)
    assert _score(grid, result.pairs) == _brute_best(rows, cols, grid)


@untimed
@given(grade_matrices)
def test_ordered_alignment_is_optimal_and_keeps_order(matrix):
    rows, cols, grid = matrix
    result = assign(rows, cols, lambda e, p: grid[e][p], ordered=True)
    _check_shape(rows, cols, grid, result)
    produced = [p for _, p in result.pairs]  # pairs are sorted by expected index
    assert produced == sorted(produced)
    assert _score(grid, result.pairs) == _brute_best(rows, cols, grid, ordered=True)


@untimed
@given(grade_matrices)
def test_ordered_never_beats_unordered(matrix):
    rows, cols, grid = matrix
    loose = assign(rows, cols, lambda e, p: grid[e][p])
    ordered = assign(rows, cols, lambda e, p: grid[e][p], ordered=True)
    assert _score(grid, ordered.pairs) <= _score(grid, loose.pairs)


def _first_fit(rows, cols, grid):
    """The greedy matcher the design rules out: each expectation takes the first free full match."""
    used = set()
    for e in range(rows):
        p = next((p for p in range(cols) if p not in used and grid[e][p] == FULL), None)
        if p is not None:
            used.add(p)
    return len(used)


def test_greedy_first_fit_fails_where_optimal_succeeds():
    # expected A(x=anything), A(x=1); produced A(x=1), A(x=2). First-fit hands A(x=1) to the
    # first expectation and leaves A(x=1) unmatched; the optimal assignment matches both.
    grid = [[FULL, FULL], [FULL, NAME]]
    assert _first_fit(2, 2, grid) == 1
    result = assign(2, 2, lambda e, p: grid[e][p])
    assert result.pairs == ((0, 1), (1, 0))
    assert result.full == 2


def test_full_matches_outrank_any_number_of_name_matches():
    # e0 fully matches p2 only; pairing e0-p0, e1-p1, e2-p2 by name would pair 3 calls but
    # match none fully.
    grid = [[NAME, NAME, FULL], [NAME, NAME, NONE], [NAME, NAME, NAME]]
    result = assign(3, 3, lambda e, p: grid[e][p])
    assert result.full == 1
    assert (0, 2) in result.pairs
    assert len(result.pairs) == 3


def test_rectangular_and_empty():
    assert assign(0, 0, lambda e, p: FULL).pairs == ()
    assert assign(2, 0, lambda e, p: FULL).pairs == ()
    assert assign(0, 3, lambda e, p: FULL).pairs == ()
    more_produced = assign(1, 3, lambda e, p: FULL if p == 2 else NAME)
    assert more_produced.pairs == ((0, 2),) and more_produced.full == 1
    more_expected = assign(3, 1, lambda e, p: FULL if e == 1 else NONE)
    assert more_expected.pairs == ((1, 0),) and more_expected.full == 1


def test_different_names_are_never_paired():
    result = assign(2, 2, lambda e, p: NONE)
    assert result.pairs == () and result.full == 0


def test_ordered_alignment_with_wrong_order():
    # expected A, B; produced B, A: in order only one of them can be paired.
    grid = [[NONE, FULL], [FULL, NONE]]
    ordered = assign(2, 2, lambda e, p: grid[e][p], ordered=True)
    assert len(ordered.pairs) == 1 and ordered.full == 1
    assert assign(2, 2, lambda e, p: grid[e][p]).full == 2


def test_ordered_alignment_skips_extra_calls():
    # expected A, B; produced A, C, B: the extra call in between does not break the order.
    grid = [[FULL, NONE, NONE], [NONE, NONE, FULL]]
    result = assign(2, 3, lambda e, p: grid[e][p], ordered=True)
    assert result.pairs == ((0, 0), (1, 2)) and result.full == 2


def test_produced_for():
    result = assign(2, 2, lambda e, p: FULL if e != p else NONE)
    assert result.produced_for(0) == 1
    assert result.produced_for(1) == 0
    assert assign(1, 1, lambda e, p: NONE).produced_for(0) is None


# Calls with names: a pair of one name grades NAME or FULL, a pair of two names NONE.
named_calls = st.tuples(
    st.lists(st.sampled_from("AB"), max_size=5), st.lists(st.sampled_from("AB"), max_size=5)
).flatmap(
    lambda names: st.lists(
        st.lists(st.sampled_from([NAME, FULL]), min_size=len(names[1]), max_size=len(names[1])),
        min_size=len(names[0]),
        max_size=len(names[0]),
    ).map(
        lambda draws: (
            names,
            [[draws[e][p] if a == b else NONE for p, b in enumerate(names[1])] for e, a in enumerate(names[0])],
        )
    )
)


@untimed
@given(named_calls)
def test_matching_by_name_is_optimal(drawn):
    (expected, produced), grid = drawn
    by_name: dict[str, list[int]] = {}
    for p, name in enumerate(produced):
        by_name.setdefault(name, []).append(p)
    asked = []
    result = assign_by_name(expected, by_name, lambda e, p: asked.append((e, p)) or grid[e][p])
    _check_shape(len(expected), len(produced), grid, result)
    assert _score(grid, result.pairs) == _brute_best(len(expected), len(produced), grid)
    assert all(expected[e] == produced[p] for e, p in asked)  # grades only pairs of one name
