"""Shared fixtures. Tests never leave the machine: they replay cassettes or use httpx2.MockTransport."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("EVALKIT_CORPUS", REPO.parent / "shared" / "corpus" / "real-cassettes"))


@pytest.fixture(autouse=True)
def _no_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that reaches for a real key is a bug: make sure none is there to find."""
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture
def corpus_dir() -> Path:
    """../shared/corpus/real-cassettes (or $EVALKIT_CORPUS); the test is skipped when absent."""
    if not (CORPUS / "manifest.json").is_file():
        pytest.skip(f"real-cassette corpus not found at {CORPUS}")
    return CORPUS
