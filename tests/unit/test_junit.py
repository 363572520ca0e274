"""JUnit XML: parses with xml.etree, counts add up, names follow the cassette convention."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from evalkit.gating.gate import gate
from evalkit.gating.junit import build_junit, case_name, write_junit
from evalkit.results import CaseResult, RunResult


def job(
    case: str,
    status: str = "passed",
    *,
    model: str = "m",
    suite: str = "s",
    tool_count: int | None = None,
    trial: int = 1,
    failures: tuple = (),
    seconds: float = 0.5,
) -> CaseResult:
    return CaseResult(
        model,
        suite,
        case,
        status,
        tool_count=tool_count,
        trial=trial,
        failures=failures,
        seconds=seconds,
        expected="get_weather(location='Paris')",
        calls=({"name": "get_time", "arguments": "{}", "id": "1"},),
    )


def make_run(jobs: list[CaseResult], run_id: str = "20240501-120000") -> RunResult:
    return RunResult(run_id, "2024-05-01T12:00:00+00:00", {}, tuple(jobs))


JOBS = [
    job("ok"),
    job(
        "wrong",
        "failed",
        failures=(("wrong_function", "called get_time, expected get_weather"), ("missing_call", "no get_weather")),
    ),
    job("boom", "error", failures=(("http_error", "HTTP 500"),)),
    job("ok", model="m2", suite="other", tool_count=16, trial=2),
]


def test_testcase_name_follows_the_cassette_stem() -> None:
    assert case_name(job("a")) == "a"
    assert case_name(job("a", tool_count=64)) == "a--tools-64"
    assert case_name(job("a", tool_count=64, trial=3)) == "a--tools-64--trial-3"
    assert case_name(job("a", trial=2)) == "a--trial-2"


def test_written_file_parses_and_counts_add_up(tmp_path: Path) -> None:
    path = write_junit(make_run(JOBS), tmp_path / "reports" / "junit.xml")
    root = ET.parse(path).getroot()
    assert path.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("4", "1", "1", "0")
    first, second = root.findall("testsuite")
    assert first.get("name") == "evalkit.m.s"
    assert (first.get("tests"), first.get("failures"), first.get("errors"), first.get("skipped")) == (
        "3",
        "1",
        "1",
        "0",
    )
    assert first.get("time") == "1.500" and first.get("timestamp") == "2024-05-01T12:00:00"
    assert second.get("name") == "evalkit.m2.other" and second.get("tests") == "1"
    # properties come first, as the Ant/Surefire schema orders them
    assert first[0].tag == "properties"
    assert {p.get("name"): p.get("value") for p in first[0]} == {
        "run_id": "20240501-120000",
        "model": "m",
        "suite": "s",
    }


def test_testcases_carry_failures_and_errors() -> None:
    root = build_junit(make_run(JOBS)).getroot()
    cases = root.findall("testsuite/testcase")
    assert [(c.get("classname"), c.get("name"), c.get("time")) for c in cases] == [
        ("evalkit.m.s", "ok", "0.500"),
        ("evalkit.m.s", "wrong", "0.500"),
        ("evalkit.m.s", "boom", "0.500"),
        ("evalkit.m2.other", "ok--tools-16--trial-2", "0.500"),
    ]
    assert list(cases[0]) == []
    failure = cases[1].find("failure")
    assert failure.get("message") == "wrong_function: called get_time, expected get_weather"
    assert failure.get("type") == "wrong_function"
    assert failure.text.splitlines() == [
        "wrong_function: called get_time, expected get_weather",
        "missing_call: no get_weather",
        "expected: get_weather(location='Paris')",
        "called: get_time({})",
    ]
    assert cases[2].find("failure") is None
    assert cases[2].find("error").get("message") == "http_error: HTTP 500"


def test_control_characters_in_model_output_are_replaced(tmp_path: Path) -> None:
    bad = job("bad", "failed", failures=(("wrong_value", "got '\x1b[31mred\x00'"),))
    root = ET.parse(write_junit(make_run([bad]), tmp_path / "j.xml")).getroot()
    assert root.find("testsuite/testcase/failure").get("message") == "wrong_value: got '\ufffd[31mred\ufffd'"


def test_a_verdict_adds_a_gate_suite(tmp_path: Path) -> None:
    baseline = make_run([job(f"c{i}") for i in range(10)], "base")
    current = make_run(
        [job(f"c{i}", "failed", failures=(("x", "y"),)) for i in range(6)] + [job(f"c{i}") for i in range(6, 10)]
    )
    verdict = gate(current, baseline)
    root = ET.parse(write_junit(current, tmp_path / "j.xml", verdict)).getroot()
    suite = root.find("testsuite[@name='evalkit.gating.gate']")
    assert (suite.get("tests"), suite.get("failures")) == ("1", "1")
    failure = suite.find("testcase[@name='regression-gate']/failure")
    assert failure.get("message") == verdict.reasons[0]
    assert root.get("tests") == "11" and root.get("failures") == "7"
    passing = build_junit(baseline, gate(baseline, baseline)).getroot()
    assert passing.find("testsuite[@name='evalkit.gating.gate']/testcase").find("failure") is None


def test_an_empty_run_is_still_valid(tmp_path: Path) -> None:
    root = ET.parse(write_junit(make_run([]), tmp_path / "j.xml")).getroot()
    assert (root.tag, root.get("tests"), list(root)) == ("testsuites", "0", [])


# --- known failures: only new failures and the gate verdict fail a build ---------------------------


def failing(case: str, *, tool_count: int | None = None, trial: int = 1) -> CaseResult:
    return job(
        case, "failed", tool_count=tool_count, trial=trial, failures=(("wrong_function", f"{case}: called get_time"),)
    )


def outcomes(root: ET.Element) -> dict[str, str]:
    """testcase name → passed | failure | error | skipped."""
    result = {}
    for case in root.iter("testcase"):
        child = next(iter(case), None)
        result[case.get("name")] = "passed" if child is None else child.tag
    return result


def test_failures_that_failed_in_the_baseline_too_are_skipped() -> None:
    baseline = make_run([job("steady"), failing("known"), job("new"), failing("fixed")], "base")
    current = make_run(
        [
            job("steady"),
            failing("known"),
            failing("new"),
            job("fixed"),
            job("boom", "error", failures=(("http_error", "HTTP 500"),)),
        ]
    )
    root = build_junit(current, gate(current, baseline), baseline=baseline).getroot()
    assert outcomes(root) == {
        "steady": "passed",
        "known": "skipped",
        "new": "failure",
        "fixed": "passed",
        "boom": "error",  # measured nothing: never hidden
        "regression-gate": "passed",
    }
    skipped = root.find("testsuite/testcase[@name='known']/skipped")
    assert skipped.get("message") == "known failure: failed in the baseline too"
    assert skipped.text.splitlines()[0] == "wrong_function: known: called get_time"  # the details stay
    suite = root.find("testsuite[@name='evalkit.m.s']")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "5",
        "1",
        "1",
        "1",
    )
    assert (root.get("failures"), root.get("skipped")) == ("1", "1")


def test_known_failures_can_be_reported_as_failures() -> None:
    baseline = make_run([failing("known")], "base")
    current = make_run([failing("known")])
    root = build_junit(current, baseline=baseline, known="fail").getroot()
    assert outcomes(root) == {"known": "failure"} and root.get("skipped") == "0"


def test_a_trial_or_tool_count_is_known_when_its_case_failed_in_the_baseline() -> None:
    # Trials are samples: trial 3 failing now and trial 2 failing then is the same known flakiness.
    baseline = make_run([job("c", tool_count=16, trial=1), failing("c", tool_count=16, trial=2)], "base")
    current = make_run([failing("c", tool_count=16, trial=3), failing("c", tool_count=64)])
    assert outcomes(build_junit(current, baseline=baseline).getroot()) == {
        "c--tools-16--trial-3": "skipped",
        "c--tools-64": "failure",  # another tool count: another case
    }


def test_gate_junit_on_an_unchanged_run_has_no_failing_testcase(tmp_path: Path, repo_root: Path) -> None:
    # The shipped example run against itself, through the command: what CI does on an unchanged PR.
    from click.testing import CliRunner

    from evalkit.cli import cli
    from evalkit.results import read_results

    example = repo_root / "reports" / "example" / "results.json"
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(cli, ["gate", str(example), "--baseline", str(example), "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    root = ET.parse(junit).getroot()
    assert (root.get("failures"), root.get("errors")) == ("0", "0")
    assert not list(root.iter("failure")) and not list(root.iter("error"))
    failed = sum(j.status == "failed" for j in read_results(example).jobs)
    assert failed > 0 and root.get("skipped") == str(failed)  # every failure is known, none is hidden
