"""Optimal one-to-one matching of expected calls to produced calls.

Greedy first-fit matching fails cases that have a valid assignment (expected A(x=any) and
A(x=1), produced A(x=1) and A(x=2): first-fit gives A(x=1) to the first expectation and leaves
the second unmatched). So the assignment maximises, in this order of priority, the number of
fully matching pairs (name and arguments), then the number of pairs that at least share a name,
with the Hungarian algorithm; ``ordered`` cases use an order-preserving alignment instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

FULL, NAME, NONE = 2, 1, 0


@dataclass(frozen=True)
class Assignment:
    pairs: tuple[tuple[int, int], ...]  # (expected index, produced index)
    full: int  # pairs whose name and arguments match

    def produced_for(self, expected_index: int) -> int | None:
        return next((p for e, p in self.pairs if e == expected_index), None)


def assign(n_expected: int, n_produced: int, grade: Callable[[int, int], int], *, ordered: bool = False) -> Assignment:
    """Pair expected with produced calls; ``grade(e, p)`` is FULL, NAME or NONE."""
    grades = [[grade(e, p) for p in range(n_produced)] for e in range(n_expected)]
    # Weights make one full match worth more than any number of name-only matches.
    big = n_expected + n_produced + 1
    weight = [[(big if g == FULL else 1 if g == NAME else 0) for g in row] for row in grades]
    pairs = _ordered(weight) if ordered else _hungarian(weight)
    pairs = [(e, p) for e, p in pairs if grades[e][p] != NONE]
    return Assignment(tuple(sorted(pairs)), sum(1 for e, p in pairs if grades[e][p] == FULL))


def _hungarian(weight: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """Maximum-weight assignment on a rectangular matrix (Kuhn–Munkres, O(n³))."""
    rows, cols = len(weight), len(weight[0]) if weight else 0
    n = max(rows, cols)
    if n == 0:
        return []
    top = max((w for row in weight for w in row), default=0)
    # Square cost matrix to minimise; padding cells cost `top` (weight 0).
    cost = [[top - (weight[i][j] if i < rows and j < cols else 0) for j in range(n)] for i in range(n)]
    u: list[float] = [0.0] * (n + 1)
    v: list[float] = [0.0] * (n + 1)
    match_col = [0] * (n + 1)  # match_col[j] = row (1-based) assigned to column j
    way = [0] * (n + 1)
    for i in range(1, n + 1):
        match_col[0] = i
        j0 = 0
        minv = [float("inf")] * (n + 1)
        used = [False] * (n + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = match_col[j0], float("inf"), 0
            for j in range(1, n + 1):
                if not used[j]:
                    cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(n + 1):
                if used[j]:
                    u[match_col[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if match_col[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match_col[j0] = match_col[j1]
            j0 = j1
    return [(match_col[j] - 1, j - 1) for j in range(1, n + 1) if match_col[j] - 1 < rows and j - 1 < cols]


def _ordered(weight: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """Maximum-weight order-preserving alignment (a weighted longest common subsequence)."""
    rows, cols = len(weight), len(weight[0]) if weight else 0
    best = [[0] * (cols + 1) for _ in range(rows + 1)]
    for e in range(rows - 1, -1, -1):
        for p in range(cols - 1, -1, -1):
            take = weight[e][p] + best[e + 1][p + 1] if weight[e][p] else 0
            best[e][p] = max(take, best[e + 1][p], best[e][p + 1])
    pairs, e, p = [], 0, 0
    while e < rows and p < cols:
        if weight[e][p] and best[e][p] == weight[e][p] + best[e + 1][p + 1]:
            pairs.append((e, p))
            e, p = e + 1, p + 1
        elif best[e][p] == best[e + 1][p]:
            e += 1
        else:
            p += 1
    return pairs


def assign_by_name(
    expected_names: Sequence[str], produced_by_name: Mapping[str, Sequence[int]], grade: Callable[[int, int], int]
) -> Assignment:
    """The same optimum as :func:`assign` (most full matches, then most name matches) for
    unordered calls, found per function name: pairs only ever form between calls of one name, and
    within a name every pair is at least a name match. So per name: a maximum matching on the
    full-match edges (augmenting paths), then the calls left over paired in order. Grades are asked
    only for pairs that share a name. ``produced_by_name``: each name's produced call indexes, in order."""
    groups: dict[str, list[int]] = {}
    for e, name in enumerate(expected_names):
        groups.setdefault(name, []).append(e)
    pairs: list[tuple[int, int]] = []
    full = 0
    for name, es in groups.items():
        ps = produced_by_name.get(name)
        if not ps:
            continue
        if len(es) == 1:  # the common case: one expected call of this name
            e, hit = es[0], None
            for q in ps:
                if grade(e, q) == FULL:
                    hit = q
                    break
            full += hit is not None
            pairs.append((e, ps[0] if hit is None else hit))
            continue
        owner: dict[int, int] = {}  # produced → expected, full matches only
        for e in es:
            _augment(e, ps, owner, set(), grade)
        full += len(owner)
        done = set(owner.values())
        spare = [p for p in ps if p not in owner]
        pairs += [(e, p) for p, e in owner.items()]
        pairs += list(zip([e for e in es if e not in done], spare, strict=False))
    return Assignment(tuple(sorted(pairs)), full)


def _augment(
    e: int, ps: Sequence[int], owner: dict[int, int], seen: set[int], grade: Callable[[int, int], int]
) -> bool:
    """An augmenting path from expected call ``e`` over full-match edges (Kuhn's algorithm)."""
    for p in ps:
        if p not in seen and grade(e, p) == FULL:
            seen.add(p)
            if p not in owner or _augment(owner[p], ps, owner, seen, grade):
                owner[p] = e
                return True
    return False
