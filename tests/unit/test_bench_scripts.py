"""The benchmarks under bench/ are run by hand, so nothing else notices when evalkit moves a name
they import: import each one (their work is behind ``if __name__ == "__main__"``)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
# bfcl_reference.py runs inside BFCL's own venv (it imports bfcl_eval), never in evalkit's.
SCRIPTS = sorted(p.stem for p in BENCH.glob("*.py") if p.stem not in ("_common", "bfcl_reference"))


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_benchmark_imports(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    module = importlib.import_module(name)
    assert callable(getattr(module, "main", None)), f"bench/{name}.py has no main()"
    sys.modules.pop(name, None)
