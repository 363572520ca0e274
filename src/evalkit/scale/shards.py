"""Shards: ``evalkit run --shard K/N`` runs a deterministic 1/N of a run's jobs.

A job's shard is a stable digest of its key, never its position in the plan and never Python's
``hash`` (salted per process): adding a case, a model or a trial moves no other job to another shard,
and every machine of a CI matrix computes the same split. A shard run records in its results.json
``config.shard``: ``{"k", "n", "planned", "jobs", "cases"}``, where ``planned`` is the size of the
whole plan, ``jobs`` the size of this shard, and ``cases`` each suite's case ids in plan order (what
:mod:`evalkit.scale.merge` needs to put the merged jobs back in the order a single run writes).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..jobs import Plan
from ..results import JobKey

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard ``k`` of ``n`` (1 ≤ k ≤ n)."""

    k: int
    n: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` → ``Shard(2, 4)``; a :class:`ConfigError` naming the value otherwise."""
        match = _SHARD.fullmatch(text)
        if match is None or not 1 <= int(match[1]) <= int(match[2]):
            raise ConfigError(f"{text!r} is not a shard: use K/N with 1 ≤ K ≤ N, e.g. --shard 1/4")
        return cls(int(match[1]), int(match[2]))

    def holds(self, key: JobKey) -> bool:
        return shard_of(key, self.n) == self.k

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


def key_digest(key: JobKey) -> bytes:
    """SHA-256 of the job key (model, suite, case id, tool count, trial) as compact JSON."""
    return hashlib.sha256(json.dumps(list(key), separators=(",", ":")).encode()).digest()


def shard_of(key: JobKey, n: int) -> int:
    """The shard (1…n) that runs the job with this key."""
    return int.from_bytes(key_digest(key)[:8], "big") % n + 1


def select(plan: Plan, shard: Shard) -> Plan:
    """The jobs of ``plan`` that ``shard`` runs, in plan order."""
    return Plan(tuple(job for job in plan.jobs if shard.holds(job.key)), plan.skipped)


def shard_record(shard: Shard, full: Plan, mine: Plan) -> dict[str, Any]:
    """What results.json keeps of a shard run (``config.shard``)."""
    cases: dict[str, dict[str, None]] = {}
    for job in full.jobs:  # plan order: a suite's cases come in the order its file lists them
        cases.setdefault(job.case.suite, {})[job.case.id] = None
    return {
        "k": shard.k,
        "n": shard.n,
        "planned": len(full.jobs),
        "jobs": len(mine.jobs),
        "cases": {suite: list(ids) for suite, ids in cases.items()},
    }


class PlanOrder(Mapping[JobKey, int]):
    """A job key's rank in the plan of a run, computed from its config (models, suites, tool counts,
    trials) and the shard record's case order, so a merge sorts a million jobs without the case files
    and without a dict of every key. Ranks are slots of a mixed radix (model, suite, tool count, case,
    trial): every key of the plan has one, some slots hold no job (a suite skipped at a tool count), and
    a key outside every slot raises ``KeyError``."""

    def __init__(self, config: Mapping[str, Any], cases: Mapping[str, Sequence[str]]):
        self._models = {m["name"]: n for n, m in enumerate(config.get("models") or ())}
        self._suites = {name: n for n, name in enumerate(config.get("suites") or cases)}
        self._counts = {c: n for n, c in enumerate(config.get("tool_counts") or (None,))}
        self._cases = {suite: {case: n for n, case in enumerate(ids)} for suite, ids in cases.items()}
        self._width = max((len(ids) for ids in cases.values()), default=1)
        self._trials = int(config.get("trials") or 1)

    def __getitem__(self, key: JobKey) -> int:
        model, suite, case, count, trial = key
        if not 1 <= trial <= self._trials:
            raise KeyError(key)
        rank = self._models[model]
        rank = rank * len(self._suites) + self._suites[suite]
        rank = rank * len(self._counts) + self._counts[count]
        rank = rank * self._width + self._cases[suite][case]
        return rank * self._trials + trial - 1

    def __iter__(self) -> Iterator[JobKey]:
        for model in self._models:
            for suite in self._suites:
                for count in self._counts:
                    for case in self._cases.get(suite, ()):
                        for trial in range(1, self._trials + 1):
                            yield (model, suite, case, count, trial)

    def __len__(self) -> int:  # the number of slots: greater than every rank
        return len(self._models) * len(self._suites) * len(self._counts) * self._width * self._trials
