"""The CI guide: it must never tell anyone to `pip install evalkit` (an unrelated project owns the name)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest


@pytest.mark.parametrize("name", ["docs/ci-github-actions.md", "README.md"])
def test_no_install_of_the_pypi_name(repo_root: Path, name: str) -> None:
    text = (repo_root / name).read_text(encoding="utf-8")
    for line in text.splitlines():
        command = (
            line.split("pip install", 1)[1] if "pip install" in line and "`pip install evalkit`" not in line else ""
        )
        command = re.split(r"&&|\|\||;|#", command, maxsplit=1)[0]  # this command only, not the next one
        for token in shlex.split(command) if command else ():
            # -e . (this repository) or "evalkit @ git+…" (a pinned commit); never the bare name
            assert not re.fullmatch(r"evalkit(\[.*\])?([=<>~!].*)?", token), f"{name}: {line}"


def test_the_guide_documents_known_failures_and_the_reporter_settings(repo_root: Path) -> None:
    text = " ".join((repo_root / "docs" / "ci-github-actions.md").read_text(encoding="utf-8").split())
    for needle in (
        "known failure: failed in the baseline too",
        "--junit-known-failures fail",
        "fail-on-error",
        "fail_on_failure",
    ):
        assert needle in text, needle
