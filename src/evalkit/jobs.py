"""Jobs: one case × model × tool count × trial, with the tools it offers and its cassette path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cases import Case, Suite
from .config import ModelConfig
from .paths import join_inside


@dataclass(frozen=True)
class Job:
    case: Case
    model: ModelConfig
    offered_tools: tuple[Mapping[str, Any], ...]
    tool_count: int | None = None  # None: the suite's own tools, no sweep
    trial: int = 1

    @property
    def key(self) -> tuple[str, str, str, int | None, int]:
        """What pairs a job with its twin in another run (the gate pairs on it)."""
        return (self.model.name, self.case.suite, self.case.id, self.tool_count, self.trial)

    def cassette_path(self, root: Path) -> Path:
        """``<root>/<model>/<suite>/<case-id>[--tools-N][--trial-K].yaml``; a :class:`ConfigError` if the
        names would make it leave ``root`` (they are checked where defined too: this is the last line)."""
        name = self.case.id
        if self.tool_count is not None:
            name += f"--tools-{self.tool_count}"
        if self.trial > 1:
            name += f"--trial-{self.trial}"
        return join_inside(root, self.model.name, self.case.suite, f"{name}.yaml", what="cassette")


@dataclass(frozen=True)
class Plan:
    """The jobs of a run, and the (suite, tool count) pairs left out, with why."""

    jobs: tuple[Job, ...]
    skipped: tuple[str, ...] = ()


def expand(
    suites: Sequence[Suite],
    models: Sequence[ModelConfig],
    *,
    trials: int = 1,
    tool_counts: Sequence[int] | None = None,
    pool: Any = None,
    seed: int = 0,
) -> Plan:
    """Every job of a run, in a stable order: model, suite, tool count, case, trial.

    With ``tool_counts``, each suite is offered its own tools plus distractors up to N; the set
    and its order depend only on (seed, suite, N), so every model and every case of a suite sees
    the same tools at one N (a fair comparison, and one the server's prefix cache can reuse)."""
    offers: dict[tuple[str, str | None, int | None], tuple[Mapping[str, Any], ...]] = {}
    skipped: list[str] = []
    # A case with its own tools (`tools:` on the case, as BFCL entries have) is offered those; with a
    # tool-count sweep they get distractors of their own, chosen as for a suite named "suite/case".
    groups: list[tuple[Suite, str | None, tuple[Mapping[str, Any], ...]]] = [(s, None, s.tools) for s in suites]
    groups += [(suite, case.id, case.tools) for suite in suites for case in suite.cases if case.tools is not None]
    for suite, case_id, tools in groups:
        if not tool_counts:
            offers[(suite.name, case_id, None)] = tools
            continue
        from .distractors import offered_tools

        label = suite.name if case_id is None else f"{suite.name}/{case_id}"
        for n in tool_counts:
            offer = offered_tools(label, tools, n, pool=pool, seed=seed)
            if offer.problem:
                skipped.append(offer.problem)
            else:
                offers[(suite.name, case_id, n)] = offer.tools
    jobs = tuple(
        Job(case, model, offers[key], n, trial)
        for model in models
        for suite in suites
        for n in (tool_counts or (None,))
        for case in suite.cases
        if (key := (suite.name, None if case.tools is None else case.id, n)) in offers
        for trial in range(1, trials + 1)
    )
    return Plan(jobs, tuple(skipped))
