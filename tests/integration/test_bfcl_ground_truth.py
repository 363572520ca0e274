"""BFCL ground truth in bfcl mode: every importable answer passes, every one-argument perturbation fails.

Driven by the shipped ``cases/bfcl`` (304 cases: always run), and by every importable entry of the
bfcl-eval wheel when ``EVALKIT_BFCL_WHEEL`` names one (skipped cleanly otherwise: tests never
download). BFCL's own checker agrees with each verdict here (bench/bench_bfcl.py compares them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from evalkit import Case, ToolCall, Turn, load_cases
from evalkit.importers.bfcl_answers import perturbations, reference_calls
from evalkit.scorers import score_job
from evalkit.tools import tools_by_name

# Entries no reply can pass, by BFCL's own checker (bfcl-eval 2026.3.23), and so by bfcl mode:
UNPASSABLE = {
    # 'record' requires nine array parameters; the answer lists five of them: giving the other
    # four is "unexpected", leaving them out "missing required".
    "live_simple_106-63-0",
    # every accepted-value list is empty: no value is accepted, and the parameters are required.
    "live_simple_112-68-0",
}


def status(case: Case, calls: tuple[ToolCall, ...], content: str | None = None) -> str:
    turn = Turn(calls, content, "tool_calls" if calls else "stop")
    return score_job(case, turn, case.tools or (), bfcl=True)[0]


def check_all(cases: Iterable[Case]) -> tuple[int, int, list[str]]:
    """(answers checked, perturbations checked, problems)."""
    answers, perturbed, problems = 0, 0, []
    for case in cases:
        tools = tools_by_name(case.tools or ())
        first = next(iter(tools), "not_offered")  # a few irrelevance entries offer no function
        if case.expect.no_call:
            good, bad = [((), "I cannot help.")], [((ToolCall(first, "{}"),), None)]
        elif case.expect.any_call:
            good, bad = [((ToolCall(first, "{}"),), None)], [((), "No.")]
        else:
            good = [(reference_calls(case, tools), None)]
            bad = [(calls, None) for _, calls in perturbations(case, tools)]
        for calls, text in good:
            answers += 1
            want = "failed" if case.id in UNPASSABLE else "passed"
            if status(case, calls, text) != want:
                problems.append(f"{case.key}: ground truth {calls} not {want}")
        for calls, text in bad:
            perturbed += 1
            if status(case, calls, text) != "failed":
                problems.append(f"{case.key}: perturbation {calls} passed")
    return answers, perturbed, problems


def test_shipped_bfcl_cases(repo_root: Path) -> None:
    suites = load_cases(repo_root / "cases" / "bfcl")
    cases = [c for s in suites for c in s.cases]
    answers, perturbed, problems = check_all(cases)
    assert not problems, problems[:5]
    assert answers == len(cases) == 304 and perturbed > 2000


@pytest.mark.skipif(not os.environ.get("EVALKIT_BFCL_WHEEL"), reason="set EVALKIT_BFCL_WHEEL to a bfcl-eval wheel")
def test_every_importable_bfcl_entry() -> None:
    from evalkit.cases import parse_suite
    from evalkit.importers.bfcl_cases import import_bfcl, suite_name

    _, parts = import_bfcl(source=Path(os.environ["EVALKIT_BFCL_WHEEL"]))
    assert sum(len(p.cases) for p in parts) == 3489
    left_out = {i for p in parts for i, _ in p.left_out}
    assert left_out == {"live_multiple_862-181-3", "live_multiple_964-207-0"}  # a required answer the function lacks
    suites = [
        parse_suite(
            {"version": 1, "suite": suite_name(p.category), "tools": [], "cases": list(p.cases)}, Path(p.category)
        )
        for p in parts
    ]
    answers, perturbed, problems = check_all(c for s in suites for c in s.cases)
    assert not problems, problems[:5]
    assert answers == 3489 and perturbed > 20000
