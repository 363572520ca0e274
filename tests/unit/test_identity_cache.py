"""IdentityCache: one build per object identity, never a value built for another object."""

from __future__ import annotations

from evalkit.identity_cache import IdentityCache


def test_builds_once_per_object_and_apart_for_equal_objects():
    built: list[object] = []
    cache: IdentityCache[dict[str, int], int] = IdentityCache(lambda d: built.append(d) or len(built))
    a, b = {"x": 1}, {"x": 1}  # equal, not the same object
    assert cache(a) == 1 and cache(a) == 1
    assert cache(b) == 2
    assert built == [a, b] and built[0] is a and built[1] is b


def test_pairs_are_keyed_on_both_objects():
    cache: IdentityCache[object, object, tuple[int, int]] = IdentityCache(lambda x, y: (id(x), id(y)))
    x, y = object(), object()
    assert cache(x, y) == (id(x), id(y))
    assert cache(y, x) == (id(y), id(x))


def test_an_id_freed_and_reused_never_returns_the_old_value():
    # The entry holds its object, so while it lives no other object can take its id; after the
    # cache is cleared at its limit, a new object with a reused id is built afresh.
    cache: IdentityCache[list[int], int] = IdentityCache(sum, limit=2)
    values = [cache([i, i]) for i in range(50)]  # each list dies right after its call
    assert values == [2 * i for i in range(50)]
    assert len(cache) <= 2
