"""`evalkit gate` and `evalkit baseline`: exit codes 0 / 1 / 2, files written, messages word for word."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import _Group
from evalkit.gating.cli import COMMANDS
from evalkit.results import CaseResult, RunResult, save_results


@pytest.fixture
def evalkit() -> _Group:
    """A fresh group of the main CLI's class, so EvalkitError → one line and exit 2 as in `evalkit`."""
    group = _Group(name="evalkit")
    for command in COMMANDS:
        group.add_command(command)
    return group


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A folder with no pyproject.toml above it, so the project's own [tool.evalkit] is not picked up.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.setenv("COLUMNS", "100")  # the text verdict folds to the terminal's width
    return tmp_path


def write_run(folder: Path, pattern: str, run_id: str) -> Path:
    """P passed, F failed, E error: one job per character, saved as <folder>/<run_id>/results.json."""
    status = {"P": "passed", "F": "failed", "E": "error"}
    jobs = tuple(
        CaseResult("m", "s", f"c{i}", status[ch], failures=() if ch == "P" else (("wrong_function", "called b"),))
        for i, ch in enumerate(pattern)
    )
    return save_results(RunResult(run_id, "2024-05-01T12:00:00+00:00", {}, jobs), folder)


def invoke(group: _Group, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(group, list(args), env=env, catch_exceptions=False)


def test_gate_passes_with_exit_0(evalkit: _Group, workdir: Path) -> None:
    baseline = write_run(workdir / "base", "P" * 20, "b1")
    write_run(workdir / "reports", "P" * 20, "c1")
    result = invoke(evalkit, "gate", "reports/latest", "--baseline", str(baseline))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("PASS: no regression (current c1 vs baseline b1)\n")


def test_gate_fails_with_exit_1_and_says_why(evalkit: _Group, workdir: Path) -> None:
    baseline = write_run(workdir / "base", "P" * 200, "b1")
    write_run(workdir / "reports", "F" * 6 + "P" * 194, "c1")
    result = invoke(evalkit, "gate", "--baseline", str(baseline))  # RESULTS defaults to reports/latest
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:3] == [  # folded to 100 columns (not a terminal)
        "FAIL: regression (current c1 vs baseline b1)",
        "  - m: 6 pass→fail vs 0 fail→pass of 200 paired cases, one-sided exact McNemar p = 0.0156 < alpha",
        "    0.05",
    ]


def test_options_come_from_the_config_and_the_command_line_wins(evalkit: _Group, workdir: Path) -> None:
    baseline = write_run(workdir / "base", "P" * 10, "b1")
    current = write_run(workdir / "cur", "F" + "P" * 9, "c1")  # a 10-point drop, p = 0.5
    (workdir / "evalkit.toml").write_text("[gate]\nmax_drop = 0.2\n", encoding="utf-8")
    assert invoke(evalkit, "gate", str(current), "--baseline", str(baseline)).exit_code == 0
    strict = invoke(evalkit, "gate", str(current), "--baseline", str(baseline), "--max-drop", "0.05")
    assert strict.exit_code == 1
    assert (
        "- m: accuracy fell from 100.0% to 90.0% on 10 paired cases, a drop of 10.0 points > max_drop 5.0 points"
        in " ".join(strict.stdout.split())
    )


def test_min_accuracy_option(evalkit: _Group, workdir: Path) -> None:
    baseline = write_run(workdir / "base", "PPPF", "b1")
    current = write_run(workdir / "cur", "PPPF", "c1")
    result = invoke(evalkit, "gate", str(current), "--baseline", str(baseline), "--min-accuracy", "s=0.8")
    assert result.exit_code == 1
    assert "  - m s: accuracy 75.0% (3/4) is below its min_accuracy 80.0%\n" in result.stdout
    overall = invoke(evalkit, "gate", str(current), "--baseline", str(baseline), "--min-accuracy", "0.7")
    assert overall.exit_code == 0


def test_markdown_junit_and_step_summary(evalkit: _Group, workdir: Path) -> None:
    baseline = write_run(workdir / "base", "PP", "b1")
    current = write_run(workdir / "cur", "PP", "c1")
    summary = workdir / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    result = invoke(
        evalkit,
        "gate",
        str(current),
        "--baseline",
        str(baseline),
        "--markdown",
        "out/gate.md",
        "--junit",
        "out/junit.xml",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.exit_code == 0
    markdown = (workdir / "out" / "gate.md").read_text(encoding="utf-8")
    assert markdown.startswith("## ✅ evalkit gate: PASS: no regression (current c1 vs baseline b1)")
    assert summary.read_text(encoding="utf-8") == "earlier step\n" + markdown + "\n"
    root = ET.parse(workdir / "out" / "junit.xml").getroot()
    assert root.get("tests") == "3"  # two jobs and the gate
    assert "evalkit: gate markdown written to out/gate.md" in result.stderr
    assert "evalkit: JUnit XML written to out/junit.xml" in result.stderr


def test_junit_marks_known_failures_skipped_unless_asked_to_fail_them(evalkit: _Group, workdir: Path) -> None:
    baseline = write_run(workdir / "base", "PFP", "b1")
    current = write_run(workdir / "cur", "PFF", "c1")  # c1 failed before too; c2 is new
    args = ("gate", str(current), "--baseline", str(baseline), "--max-drop", "0.5", "--junit", "j.xml")
    assert invoke(evalkit, *args).exit_code == 0
    root = ET.parse(workdir / "j.xml").getroot()
    assert (root.get("failures"), root.get("skipped")) == ("1", "1")
    assert root.find(".//testcase[@name='c1']/skipped") is not None
    assert root.find(".//testcase[@name='c2']/failure") is not None
    assert invoke(evalkit, *args, "--junit-known-failures", "fail").exit_code == 0
    assert ET.parse(workdir / "j.xml").getroot().get("failures") == "2"


def test_missing_baseline_is_a_usage_error(evalkit: _Group, workdir: Path) -> None:
    write_run(workdir / "reports", "PP", "c1")
    result = invoke(evalkit, "gate")
    assert result.exit_code == 2
    assert result.stderr == (
        "evalkit: error: baseline baselines/baseline.json not found; save one with "
        "`evalkit baseline save reports/latest --to baselines/baseline.json` and commit it\n"
    )


def test_missing_results_is_a_usage_error(evalkit: _Group, workdir: Path) -> None:
    result = invoke(evalkit, "gate", "nowhere", "--baseline", "nowhere")
    assert result.exit_code == 2
    assert result.stderr == (
        "evalkit: error: nowhere: no results.json there, nor a run in nowhere/latest; run `evalkit run` first "
        "or pass a run's folder or its results.json\n"
    )
    latest = invoke(evalkit, "gate", "reports/latest", "--baseline", "nowhere")  # no run yet: not latest/latest
    assert latest.stderr.startswith("evalkit: error: reports/latest: no results.json there; run `evalkit run` first")


def test_bad_config_key_is_a_usage_error(evalkit: _Group, workdir: Path) -> None:
    baseline = write_run(workdir / "base", "PP", "b1")
    (workdir / "evalkit.toml").write_text("[gate]\nmax_dorp = 0.1\n", encoding="utf-8")
    result = invoke(evalkit, "gate", str(baseline), "--baseline", str(baseline))
    assert result.exit_code == 2
    assert result.stderr == (
        f"evalkit: error: {workdir.resolve() / 'evalkit.toml'}: [gate] 'max_dorp' is not a gate option. "
        "Valid keys: alpha, max_drop, min_accuracy, min_overall_accuracy, require_same_cases. "
        "Did you mean 'max_drop'?\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--min-accuracy", "s=high"],
            "evalkit: error: --min-accuracy 's=high': expected SUITE=FRACTION (e.g. weather=0.8) or FRACTION for each model's whole run\n",
        ),
        (
            ["--min-accuracy", "=0.8"],
            "evalkit: error: --min-accuracy '=0.8': the suite name before '=' is empty; e.g. weather=0.8\n",
        ),
        (
            ["--max-drop", "5"],
            "evalkit: error: gate option max_drop must be a number from 0 to 1 (accuracy points as a fraction: 0.05 = 5 points), got 5.0\n",
        ),
        (
            ["--min-accuracy", "wether=0.8"],
            "evalkit: error: gate min_accuracy names suite 'wether', which neither run has. Suites: s.\n",
        ),
    ],
)
def test_bad_options_are_usage_errors(evalkit: _Group, workdir: Path, args: list[str], message: str) -> None:
    baseline = write_run(workdir / "base", "PP", "b1")
    result = invoke(evalkit, "gate", str(baseline), "--baseline", str(baseline), *args)
    assert result.exit_code == 2
    assert result.stderr == message


def test_a_non_number_is_rejected_by_click(evalkit: _Group, workdir: Path) -> None:
    result = invoke(evalkit, "gate", "--max-drop", "lots")
    assert result.exit_code == 2
    assert "'lots' is not a valid float." in result.stderr


def test_baseline_save_copies_and_describes(evalkit: _Group, workdir: Path) -> None:
    source = write_run(workdir / "reports", "PPPF", "c1")
    result = invoke(evalkit, "baseline", "save")
    assert result.exit_code == 0, result.output
    saved = workdir / "baselines" / "baseline.json"
    assert saved.read_bytes() == source.read_bytes()
    assert result.stdout.splitlines() == [
        "saved baseline baselines/baseline.json: run c1, 4 jobs, models m",
        "  m: 4 jobs, accuracy 75.0% (3/4)",
        "Commit it: git add baselines/baseline.json",
    ]
    write_run(workdir / "reports", "PPPP", "c2")
    again = invoke(evalkit, "baseline", "save", "reports/latest")
    assert again.stdout.startswith(
        "saved baseline baselines/baseline.json (replacing run c1): run c2, 4 jobs, models m\n"
    )


def test_baseline_save_name_to_and_error_warning(evalkit: _Group, workdir: Path) -> None:
    write_run(workdir / "reports", "PE", "c1")
    named = invoke(evalkit, "baseline", "save", "--name", "nightly")
    assert named.exit_code == 0 and (workdir / "baselines" / "nightly.json").is_file()
    assert "  m: 2 jobs, accuracy 100.0% (1/1), 1 errored" in named.stdout
    assert (
        "evalkit: warning: the baseline has errored jobs; their cases are compared once it is refreshed" in named.stderr
    )
    exact = invoke(evalkit, "baseline", "save", "--to", "ci/base.json")
    assert exact.exit_code == 0 and (workdir / "ci" / "base.json").is_file()


def test_baseline_save_refuses_a_bad_results_file(evalkit: _Group, workdir: Path) -> None:
    (workdir / "bad.json").write_text('{"version": 99}', encoding="utf-8")
    result = invoke(evalkit, "baseline", "save", "bad.json")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "evalkit: error: bad.json: results version 99 is not supported (this evalkit reads versions 1, 2); re-run it\n"
    )
    assert not (workdir / "baselines").exists()


def test_baseline_save_refuses_a_results_file_with_a_bad_job_line(evalkit: _Group, workdir: Path) -> None:
    """The jobs of results.json are read lazily: a bad one used to be found only after the copy,
    leaving a baseline the gate cannot read, with exit 2."""
    source = write_run(workdir / "reports", "PPF", "c1")
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "{not json},\n"
    source.write_text("".join(lines), encoding="utf-8")
    result = invoke(evalkit, "baseline", "save")
    assert result.exit_code == 2 and "not a job record" in result.stderr
    assert not (workdir / "baselines" / "baseline.json").exists()
    assert not list((workdir / "baselines").glob("*"))  # no partial copy either


def test_baseline_show(evalkit: _Group, workdir: Path) -> None:
    write_run(workdir / "reports", "PPPF", "c1")
    invoke(evalkit, "baseline", "save")
    result = invoke(evalkit, "baseline", "show")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "baseline baselines/baseline.json: run c1 of 2024-05-01T12:00:00+00:00, 4 jobs, models m",
        "  m: 4 jobs, accuracy 75.0% (3/4)",
    ]
    assert "75%" in result.stdout  # the score table
    missing = invoke(evalkit, "baseline", "show", "nope.json")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("evalkit: error: baseline nope.json not found")


def test_commands_register_on_the_main_cli() -> None:
    from evalkit.cli import cli

    before = dict(cli.commands)
    try:
        for command in COMMANDS:
            cli.add_command(command)
        result = CliRunner().invoke(cli, ["gate", "--help"])
        assert result.exit_code == 0 and "--baseline" in result.stdout
    finally:  # leave the shared group as cli.py built it
        cli.commands.clear()
        cli.commands.update(before)


def test_baseline_show_folds_a_long_model_list(evalkit: _Group, workdir: Path) -> None:
    models = [f"a-rather-long-model-configuration-name-{n}" for n in range(4)]
    jobs = tuple(CaseResult(m, "s", "c", "passed") for m in models)
    save_results(RunResult("r1", "2024-05-01T12:00:00+00:00", {}, jobs), workdir / "base")
    shown = invoke(evalkit, "baseline", "show", str(workdir / "base" / "r1" / "results.json"))
    assert shown.exit_code == 0
    assert max(len(line) for line in shown.stdout.splitlines()) <= 100
    assert all(m in " ".join(shown.stdout.split()) for m in models)
