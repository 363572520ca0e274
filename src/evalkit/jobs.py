"""Jobs: one case × model × tool count × trial, with the tools it offers and its cassette path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cases import Case, Suite
from .config import ModelConfig


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
        """``<root>/<model>/<suite>/<case-id>[--tools-N][--trial-K].yaml``"""
        name = self.case.id
        if self.tool_count is not None:
            name += f"--tools-{self.tool_count}"
        if self.trial > 1:
            name += f"--trial-{self.trial}"
        return root / self.model.name / self.case.suite / f"{name}.yaml"


def expand(
    suites: Sequence[Suite],
    models: Sequence[ModelConfig],
    *,
    trials: int = 1,
) -> list[Job]:
    """Every job of a run, in a stable order: model, suite, case, trial."""
    return [
        Job(case, model, suite.tools, None, trial)
        for model in models
        for suite in suites
        for case in suite.cases
        for trial in range(1, trials + 1)
    ]
