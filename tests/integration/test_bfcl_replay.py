"""`evalkit run cases/bfcl` replays the shipped BFCL recordings offline, in both modes side by side."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import cli


def test_bfcl_cases_replay_offline_with_both_verdicts(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch):
    shutil.copytree(repo_root / "cases" / "bfcl", tmp_path / "cases" / "bfcl")
    shutil.copytree(repo_root / "cassettes" / "qwen2.5-coder-0.5b", tmp_path / "cassettes" / "qwen2.5-coder-0.5b")
    shutil.copy(repo_root / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["run", "cases/bfcl", "-m", "qwen2.5-coder-0.5b", "--no-progress", "--no-html"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    assert "BFCL suites: evalkit's verdict (default) and BFCL's (bfcl mode)" in result.stdout
    jobs = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())["jobs"]
    assert len(jobs) == 304 and {j["status"] for j in jobs} <= {"passed", "failed"}  # no cassette miss
    assert all(
        j["modes"]["default"] in ("passed", "failed") and j["modes"]["bfcl"] in ("passed", "failed") for j in jobs
    )
    assert len({j["suite"] for j in jobs}) == 11
