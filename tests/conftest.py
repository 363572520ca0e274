"""Shared fixtures. Tests never leave the machine: they replay cassettes or use httpx2.MockTransport."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("EVALKIT_CORPUS", REPO.parent / "shared" / "corpus" / "real-cassettes"))

# Hypothesis profiles. `ci` (the default) is reproducible: the same examples on every run. `fuzz` is
# for a run by hand that looks further, e.g. for the "no reply raises" laws:
#   HYPOTHESIS_PROFILE=fuzz python -m pytest tests/unit/parsing/test_laws.py tests/integration/test_sdk_fuzz.py
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("fuzz", max_examples=3000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
