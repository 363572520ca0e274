"""Names that become paths never leave their folder: Job.cassette_path, the evalkit_cassette fixture."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evalkit import Case, Expectation
from evalkit.config import ModelConfig
from evalkit.errors import ConfigError
from evalkit.jobs import Job
from evalkit.paths import NAME_RULE, join_inside


def job(
    model: str = "m", suite: str = "s", case_id: str = "c", *, tool_count: int | None = None, trial: int = 1
) -> Job:
    model_config = ModelConfig(name="m", model="m")
    object.__setattr__(model_config, "name", model)  # as if a bad name got past the config checks
    return Job(Case(suite, case_id, (), Expectation()), model_config, (), tool_count, trial)


def test_cassette_path_is_under_the_root(tmp_path: Path) -> None:
    assert job().cassette_path(tmp_path) == tmp_path / "m" / "s" / "c.yaml"
    assert job("org/model", tool_count=8, trial=2).cassette_path(tmp_path) == (
        tmp_path / "org" / "model" / "s" / "c--tools-8--trial-2.yaml"
    )


@pytest.mark.parametrize(
    ("model", "suite", "case_id", "shown"),
    [
        ("../../x", "s", "c", "../../x/s/c.yaml"),
        ("m", "..", "c", "m/../c.yaml"),
        ("m", "s", "../../../etc/cron.d/x", "m/s/../../../etc/cron.d/x.yaml"),
        ("/etc", "s", "c", "/etc/s/c.yaml"),
        ("m", "s\\..\\..", "c", "m/s\\..\\../c.yaml"),
    ],
)
def test_cassette_path_refuses_to_leave_the_root(
    tmp_path: Path, model: str, suite: str, case_id: str, shown: str
) -> None:
    with pytest.raises(ConfigError) as info:
        job(model, suite, case_id).cassette_path(tmp_path)
    assert (
        str(info.value)
        == f"cassette {shown!r} would be stored outside {tmp_path}; names used in paths may hold {NAME_RULE}"
    )


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cassettes").mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "cassettes" / "m")
    with pytest.raises(ConfigError):
        join_inside(tmp_path / "cassettes", "m", "s", "c.yaml", what="cassette")
    assert join_inside(tmp_path / "cassettes", "n", "s", "c.yaml", what="cassette") == tmp_path / "cassettes/n/s/c.yaml"
