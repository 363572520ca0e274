"""The flat public API: users import from `evalkit` and `evalkit.scorers`; this pins it."""

from __future__ import annotations

import subprocess
import sys

import evalkit
import evalkit.scorers


def test_evalkit_all_is_pinned() -> None:
    assert evalkit.__all__ == [
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
    for name in evalkit.__all__:
        assert getattr(evalkit, name) is not None


def test_scorers_all_is_pinned() -> None:
    assert evalkit.scorers.__all__ == [
        "BFCL_ADVISORY",
        "DEFAULT_SCORERS",
        "SCORERS",
        "Failure",
        "Score",
        "failures_of",
        "resolve_scorers",
        "score_job",
    ]
    assert list(evalkit.scorers.SCORERS) == [
        "selection",
        "hallucination",
        "validity",
        "correctness",
        "coverage",
        "no_call",
        "forbidden",
        "finish",
        "trajectory",
        "answer",
        "loop",
    ]


def test_import_evalkit_loads_nothing_heavy() -> None:
    code = "import sys, evalkit; print(sorted(m for m in ('pandas', 'openai', 'vcr', 'yaml', 'pydantic', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        evalkit.nope  # noqa: B018
    except AttributeError as exc:
        assert str(exc) == "module 'evalkit' has no attribute 'nope'"
    else:
        raise AssertionError("evalkit.nope should not exist")
