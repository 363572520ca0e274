"""evalkit: measure how accurately LLMs call tools.

    from evalkit import load_cases, load_config, run_suites, load_results

In a notebook: ``load_results`` (one row per job) and ``load_calls`` (one row per call) give pandas
DataFrames; ``aggregate(frame, ["model", "suite"])`` adds accuracy with 95% intervals per group;
``summary_table`` and ``trial_summary`` take a run from ``read_results``; ``wilson_interval`` and
``cluster_interval`` are the intervals themselves.

Every name is imported on first use, so `import evalkit` (and so the pytest plugin and
`evalkit --help`) loads no pandas, openai, pydantic or yaml until something needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "ToolCall": "calls",
    "Turn": "calls",
    "TurnError": "calls",
    "Case": "cases",
    "Expectation": "cases",
    "ExpectedCall": "cases",
    "Suite": "cases",
    "load_cases": "cases",
    "ModelConfig": "config",
    "RunConfig": "config",
    "load_config": "config",
    "CaseFileError": "errors",
    "CassetteMissError": "errors",
    "ConfigError": "errors",
    "EvalkitError": "errors",
    "ResultsFileError": "errors",
    "UnknownNameError": "errors",
    "Job": "jobs",
    "CaseResult": "results",
    "RunResult": "results",
    "read_results": "results",
    "load_results": "reporting.frames",
    "load_calls": "reporting.frames",
    "aggregate": "reporting.frames",
    "summary_table": "reporting.frames",
    "trial_summary": "gating.trials",
    "cluster_interval": "gating.trials",
    "wilson_interval": "stats",
    "run_suites": "runner",
    "tool_from_pydantic": "tools",
}

if TYPE_CHECKING:
    from .calls import ToolCall, Turn, TurnError
    from .cases import Case, Expectation, ExpectedCall, Suite, load_cases
    from .config import ModelConfig, RunConfig, load_config
    from .errors import CaseFileError, CassetteMissError, ConfigError, EvalkitError, ResultsFileError, UnknownNameError
    from .gating.trials import cluster_interval, trial_summary
    from .jobs import Job
    from .reporting.frames import aggregate, load_calls, load_results, summary_table
    from .results import CaseResult, RunResult, read_results
    from .runner import run_suites
    from .stats import wilson_interval
    from .tools import tool_from_pydantic


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value  # the next lookup is a plain attribute
        return value
    raise AttributeError(f"module 'evalkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = [
    "Case",
    "CaseFileError",
    "CaseResult",
    "CassetteMissError",
    "ConfigError",
    "EvalkitError",
    "Expectation",
    "ExpectedCall",
    "Job",
    "ModelConfig",
    "ResultsFileError",
    "RunConfig",
    "RunResult",
    "Suite",
    "ToolCall",
    "Turn",
    "TurnError",
    "UnknownNameError",
    "aggregate",
    "cluster_interval",
    "load_calls",
    "load_cases",
    "load_config",
    "load_results",
    "read_results",
    "run_suites",
    "summary_table",
    "tool_from_pydantic",
    "trial_summary",
    "wilson_interval",
]
# Every public name is lazy: __all__ and _WHERE must list the same names (tests/unit/test_public_api.py).
