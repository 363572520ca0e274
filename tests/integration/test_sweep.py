"""Tool-count sweeps, replayed from the shipped real recordings of both local models."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from evalkit.cases import load_all
from evalkit.config import load_config, select_models
from evalkit.results import RunResult
from evalkit.runner import run_suites

SWEEP = (4, 8, 16, 32, 64)


def replay(repo_root: Path, model: str) -> RunResult:
    config = replace(select_models(load_config(start=repo_root), [model]), tool_counts=SWEEP)
    # The sweep was recorded for the six single-reply suites at the top of cases/ (not cases/loops/).
    return run_suites(config, load_all(sorted((repo_root / "cases").glob("*.yaml"))), progress=False)


@pytest.mark.parametrize("model", ["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
def test_tool_count_sweep_replays_with_identical_offers_for_every_model(repo_root: Path, model: str) -> None:
    run = replay(repo_root, model)
    assert {j.tool_count for j in run.jobs} == set(SWEEP)
    assert all(j.status in ("passed", "failed") for j in run.jobs)  # every job has its cassette
    assert all(j.n_offered == j.tool_count for j in run.jobs)
    # The prompt grows with the tools offered (the server counted the tokens).
    tokens = {n: max(j.prompt_tokens for j in run.jobs if j.tool_count == n) for n in SWEEP}
    assert [tokens[n] for n in SWEEP] == sorted(tokens.values()) and tokens[64] > 4 * tokens[4]
