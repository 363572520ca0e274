"""Values computed once per object (or pair of objects), keyed by identity.

Scoring asks the same questions of the same objects in every job: a suite's tuple of offered tools,
a tool's schema, an expected call's description. Those objects live as long as the run, are not
always hashable (tools are dicts), and comparing them by value would cost what the cache saves. So
:class:`IdentityCache` keys on ``id()``, and each entry holds the objects themselves, so an id cannot
be reused by another object while its entry lives. It is cleared when it reaches ``limit`` entries
(a run holds a few thousand such objects). There is no lock: two threads that miss together build
the same value twice, which is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, TypeVarTuple

V = TypeVar("V")
Ks = TypeVarTuple("Ks")


class IdentityCache(Generic[*Ks, V]):
    """``cache(*objects)`` returns ``build(*objects)``, built once per tuple of object identities."""

    def __init__(self, build: Callable[[*Ks], V], *, limit: int = 20_000) -> None:
        self._build = build
        self._limit = limit
        self._entries: dict[tuple[int, ...], tuple[tuple[Any, ...], V]] = {}  # the objects, the value

    def __call__(self, *objects: *Ks) -> V:
        key = tuple(map(id, objects))
        hit = self._entries.get(key)
        held: tuple[Any, ...] = objects
        if hit is not None:
            for a, b in zip(hit[0], held, strict=True):  # a loop, not all(): no generator on the scoring hot path
                if a is not b:
                    break
            else:
                return hit[1]
        value = self._build(*objects)
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[key] = (held, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)
