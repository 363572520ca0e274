"""``pytest cases/ -n 2``: each xdist worker collects the case files itself (nothing is pickled
across), and imports the heavy modules (the openai SDK, vcrpy) once for its session, not per item."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]

# Writes, per item, which worker ran it and whether the SDK and vcrpy were already imported there.
CONFTEST = """
import json, os, sys
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    before = {name: name in sys.modules for name in ("openai", "vcr")}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"imports-{worker}.jsonl", "a") as out:
        out.write(json.dumps({"item": item.nodeid, "pid": os.getpid(), **before}) + "\\n")
    return (yield)
"""


def test_workers_import_heavy_modules_once_per_session(pytester: pytest.Pytester) -> None:
    (pytester.path / "cases").mkdir()
    for name in ("weather.yaml", "chitchat.yaml"):
        shutil.copy(REPO / "cases" / name, pytester.path / "cases" / name)
    shutil.copytree(REPO / "cases" / "tools", pytester.path / "cases" / "tools")  # chitchat's tools_file
    model = "qwen2.5-coder-0.5b"
    for suite in ("weather", "chitchat"):
        target = pytester.path / "cassettes" / model / suite
        target.mkdir(parents=True)
        for cassette in (REPO / "cassettes" / model / suite).glob("*.yaml"):
            if "--tools-" not in cassette.name:
                shutil.copy(cassette, target / cassette.name)
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")  # the models as recorded
    pyproject = re.sub(
        r"^models = \[.*\]$", f'models = ["{model}"]', pyproject[pyproject.index("[tool.evalkit]") :], flags=re.M
    )
    (pytester.path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest_subprocess("cases/", "-n", "2", "-p", "no:cacheprovider", timeout=300)
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 17 and "error" not in outcomes
    runs = [
        json.loads(line) for path in pytester.path.glob("imports-gw*.jsonl") for line in path.read_text().splitlines()
    ]
    assert len(runs) == 17 and len({run["pid"] for run in runs}) == 2  # both workers ran items
    for pid in {run["pid"] for run in runs}:
        mine = [run for run in runs if run["pid"] == pid]
        # after a worker's first item, the SDK and vcrpy are always there already: imported once
        assert all(run["openai"] and run["vcr"] for run in mine[1:])
