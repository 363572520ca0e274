"""evalkit: measure how accurately LLMs call tools.

    from evalkit import load_cases, load_config, run_suites, load_results
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .calls import ToolCall, Turn, TurnError
from .cases import Case, Expectation, ExpectedCall, Suite, load_cases
from .config import ModelConfig, RunConfig, load_config
from .errors import CaseFileError, CassetteMissError, ConfigError, EvalkitError, ResultsFileError, UnknownNameError
from .jobs import Job
from .results import CaseResult, RunResult, read_results
from .tools import tool_from_pydantic

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .report import load_results
    from .runner import run_suites


def __getattr__(name: str) -> Any:
    # pandas and the openai SDK load only when these are used, so `evalkit --help` stays fast.
    if name == "load_results":
        from .report import load_results

        return load_results
    if name == "run_suites":
        from .runner import run_suites

        return run_suites
    raise AttributeError(f"module 'evalkit' has no attribute {name!r}")


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
    "load_cases",
    "load_config",
    "load_results",
    "read_results",
    "run_suites",
    "tool_from_pydantic",
]
