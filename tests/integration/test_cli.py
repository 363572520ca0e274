"""The `evalkit` command end to end, offline: replaying the shipped cassettes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.config import load_config


@pytest.fixture
def project(tmp_path: Path, repo_root: Path) -> Path:
    """A copy of the repo's config, cases and cassettes, so tests may break them."""
    for name in ("cases", "cassettes"):
        shutil.copytree(repo_root / name, tmp_path / name)
    shutil.copy(repo_root / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def run_cli(project: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_run_replays_shipped_cassettes_for_both_models(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run_cli(project, "run", "cases/", "--no-progress", monkeypatch=monkeypatch)
    assert code == 0, err
    assert "qwen2.5-coder-0.5b" in out and "qwen2.5-coder-1.5b" in out
    assert "(all)" in out and "95% CI" in out
    results = json.loads((project / "reports" / "latest" / "results.json").read_text())
    assert results["version"] == 2
    assert {j["status"] for j in results["jobs"]} <= {"passed", "failed"}  # no cassette miss, no error
    loops = [job for job in results["jobs"] if job.get("ended")]  # the tool loops replay, every step
    assert {job["model"] for job in loops} == {model.name for model in load_config(start=project).models}
    assert {job["ended"] for job in loops} <= {"answer", "max_steps"}
    assert all(len(job["steps"]) >= 1 for job in loops) and any(len(job["steps"]) >= 2 for job in loops)
    assert (project / "reports" / "latest" / "summary.md").is_file()


def test_report_rerenders_without_a_model(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        run_cli(
            project, "run", "cases/weather.yaml", "-m", "qwen2.5-coder-0.5b", "--no-progress", monkeypatch=monkeypatch
        )[0]
        == 0
    )
    code, out, _ = run_cli(project, "report", "reports/latest", "--format", "md", monkeypatch=monkeypatch)
    assert code == 0
    assert out.startswith("# evalkit run ")
    assert "| qwen2.5-coder-0.5b | weather |" in out
    code, out, _ = run_cli(project, "report", "reports/latest", "--format", "json", monkeypatch=monkeypatch)
    records = json.loads(out)
    assert code == 0 and records and all(r["model"] == "qwen2.5-coder-0.5b" for r in records)
    assert '"cassettes/qwen2.5-coder-0.5b/weather/' in out and "\\/" not in out  # slashes as written
    assert any(r["latency"] is None or isinstance(r["latency"], float) for r in records)  # NaN is null


def test_broken_case_file_is_one_line_and_exit_2(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = project / "cases" / "weather.yaml"
    bad.write_text(bad.read_text().replace("expect: {no_call: true}", "expect: {no_call: yes please}", 1))
    code, out, err = run_cli(project, "run", "cases/", "--no-progress", monkeypatch=monkeypatch)
    assert code == 2
    assert out == ""
    assert err == (
        "evalkit: error: cases/weather.yaml, case 'umbrella-advice-no-location', field 'cases[7].expect.no_call': "
        "Input should be a valid boolean, unable to interpret input (got 'yes please')\n"
    )


def test_unknown_model_is_one_line_and_exit_2(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(project, "run", "cases/", "-m", "gpt-9", monkeypatch=monkeypatch)
    assert code == 2
    assert err == (
        "evalkit: error: 'gpt-9' is not a model. Valid models: qwen2.5-coder-0.5b, qwen2.5-coder-0.5b-stream, "
        "qwen2.5-coder-0.5b-t07, qwen2.5-coder-1.5b, qwen2.5-coder-1.5b-stream. "
        f'Define it in [tool.evalkit.model."NAME"] of {project / "pyproject.toml"} or pass --base-url.\n'
    )


def test_unknown_record_mode_is_one_line_and_exit_2(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(project, "run", "cases/", "--record-mode", "onse", monkeypatch=monkeypatch)
    assert code == 2
    assert (
        err
        == "evalkit: error: 'onse' is not a record mode. Valid record modes: all, new_episodes, none, once. The default, none, only replays.\n"
    )


def test_cassette_miss_names_case_and_path_and_exits_1(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = project / "cases" / "ecommerce.yaml"
    suite.write_text(suite.read_text().replace("status of my order ORD-48213", "status of my order ORD-48214"))
    code, out, err = run_cli(
        project, "run", "cases/ecommerce.yaml", "-m", "qwen2.5-coder-0.5b", "--no-progress", monkeypatch=monkeypatch
    )
    assert code == 1
    assert "ecommerce/where-is-my-order" in out and "cassette_miss" in out
    assert "job(s) errored" in err
    results = json.loads((project / "reports" / "latest" / "results.json").read_text())
    miss = next(j for j in results["jobs"] if j["case_id"] == "where-is-my-order")
    assert miss["status"] == "error"
    kind, why = miss["failures"][0]
    assert kind == "cassette_miss"
    assert "in cassettes/qwen2.5-coder-0.5b/ecommerce/where-is-my-order.yaml for" in why  # the project's path
    assert "body field(s) differ: messages" in why
    written = "\n".join((project / "reports" / "latest" / name).read_text() for name in ("results.json", "summary.md"))
    assert str(project) not in written and str(project) not in out + err  # no folder of this machine
    others = [j for j in results["jobs"] if j["case_id"] != "where-is-my-order"]
    assert others and all(j["status"] != "error" for j in others)  # the run went on


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, evalkit.cli; evalkit.cli.cli(['--help'], standalone_mode=False); "
        "print(sorted(m for m in ('pandas', 'openai', 'vcr', 'matplotlib', 'httpx2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")


def test_a_tool_call_written_as_text_is_not_a_correct_no_call(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The shipped 0.5B reply to chitchat/joke is the text {"name": "Joke", "arguments": {…: it called
    # nothing an app could run, but it is no abstention either (issue 8, part 4).
    code, _, err = run_cli(
        project, "run", "cases/chitchat.yaml", "-m", "qwen2.5-coder-0.5b", "--no-progress", monkeypatch=monkeypatch
    )
    assert code == 0, err
    jobs = json.loads((project / "reports" / "latest" / "results.json").read_text())["jobs"]
    joke = next(j for j in jobs if j["case_id"] == "joke")
    assert joke["status"] == "failed"
    assert [kind for kind, _ in joke["failures"]] == ["text_tool_call"]
    assert joke["scores"]["no_call"]["passed"] is False


def test_discovery_in_a_project_folder_skips_recordings_reports_and_hidden_files(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "reports" / "old").mkdir(parents=True)
    (project / "reports" / "old" / "notes.yaml").write_text("hello: world\n")
    (project / ".venv" / "lib").mkdir(parents=True)
    (project / ".venv" / "lib" / "x.yaml").write_text("not: a case\n")
    (project / ".pre-commit-config.yaml").write_text("repos: []\n")
    code, out, err = run_cli(project, "validate", ".", monkeypatch=monkeypatch)
    assert (code, out, err) == (0, "ok: 70 cases in 9 suites\n", "")


def test_validate_takes_several_files_as_run_does(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = ["cases/weather.yaml", "cases/ecommerce.yaml"]  # what a shell makes of cases/w*.yaml c*.yaml
    assert run_cli(project, "validate", *files, monkeypatch=monkeypatch)[:2] == (0, "ok: 17 cases in 2 suites\n")
    code, _, err = run_cli(project, "validate", files[0], files[0], monkeypatch=monkeypatch)
    assert code == 2 and "suite name 'weather' is already used" in err


def test_a_model_named_twice_runs_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = "qwen2.5-coder-0.5b"
    twice = ["-m", f"{model},{model}", "-m", model]
    code, _, err = run_cli(project, "run", "cases/weather.yaml", *twice, "--no-progress", monkeypatch=monkeypatch)
    assert code == 0 and f"× 1 model ({model})" in err
    assert run_cli(project, "report", "reports/latest", "--failures", "-2", monkeypatch=monkeypatch)[0] == 2
    code, _, err = run_cli(project, "run", "cases/weather.yaml", "-m", "", monkeypatch=monkeypatch)  # "$MODEL" unset
    assert code == 2 and "Invalid value for --model: empty" in err  # not every model of the config


def test_run_selects_cases_by_pattern_and_tag(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = "qwen2.5-coder-0.5b"
    code, _, err = run_cli(
        project,
        "run",
        "cases/",
        "-m",
        model,
        "--case",
        "weather/*",
        "--tag",
        "parallel",
        "--no-progress",
        monkeypatch=monkeypatch,
    )
    results = json.loads((project / "reports" / "latest" / "results.json").read_text())
    jobs = results["jobs"]
    assert code == 0 and jobs and all(j["suite"] == "weather" and "parallel" in j["tags"] for j in jobs)
    assert f"{len(jobs)} cases (of 70, selected) in 1 suite × 1 model" in err
    code, _, err = run_cli(project, "run", "cases/", "--case", "nope", monkeypatch=monkeypatch)
    assert code == 2 and "evalkit: error: --case nope selects none of the 70 cases loaded" in err
    code, _, err = run_cli(
        project,
        "run",
        "cases/weather.yaml",
        "-m",
        model,
        "--case",
        "boston-rain",
        "--case",
        "bostn-rain",
        monkeypatch=monkeypatch,
    )
    assert code == 0 and "evalkit: --case bostn-rain matches no case" in err  # a typo beside a match


def test_validate_the_repository_root_as_a_user_would(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`evalkit validate .` here: examples/ (copies of the shipped suites, same names) and tests/
    (test data) run only when named, so the root holds the shipped cases and nothing else."""
    code, out, err = run_cli(repo_root, "validate", ".", monkeypatch=monkeypatch)
    assert (code, out, err) == (0, "ok: 70 cases in 9 suites\n", "")


def test_a_cassette_given_as_a_case_file_is_named_as_one(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cassette = "cassettes/qwen2.5-coder-0.5b/weather/boston-rain.yaml"
    code, _, err = run_cli(project, "validate", cassette, monkeypatch=monkeypatch)
    assert code == 2
    assert err == (
        f"evalkit: error: {cassette}: this looks like a vcrpy cassette (it has 'interactions:'), not a case file; "
        "pass the cases folder, or set `cassettes` in [tool.evalkit] to the folder that holds cassettes\n"
    )


def test_counts_are_singular_for_one(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = project / "cases" / "one.yaml"
    suite.write_text(
        "version: 1\nsuite: one\nfunctions: [{name: f, description: F.}]\n"
        "cases: [{id: a, prompt: hi, expect: {no_call: true}}]\n"
    )
    assert run_cli(project, "validate", str(suite), monkeypatch=monkeypatch)[1] == "ok: 1 case in 1 suite\n"


@pytest.mark.parametrize("columns", [100, 80])
def test_run_output_fits_the_terminal_width(project: Path, columns: int) -> None:
    # A real process, as a user runs it: $COLUMNS sets the width (stdout is a pipe, not a terminal).
    env = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run(
        [sys.executable, "-m", "evalkit.cli", "run", "cases/", "--out", "out", "--no-html"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for stream in (done.stdout, done.stderr):
        widest = max(stream.splitlines(), key=len)
        assert len(widest) <= columns, widest
    out = done.stdout
    assert out.startswith("Per model\n")  # the summary first
    assert out.index("Per model") < out.index("Paired tests") < out.index("per suite") < out.index("Failures")
    headers = [line for line in out.splitlines() if line.startswith(("model ", "suite "))]
    assert headers and not any(re.search(r"\b(tool_count|tools|trial)\b", h) for h in headers)  # no such columns
    assert "agree" in out or "Cases the models disagree on" in out


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["run", "cases/", "--worker", "2"],
            "No such option '--worker'. Did you mean '--workers'? (see `evalkit run --help`)",
        ),
        (["rn"], "No such command 'rn'. Did you mean 'run'? (see `evalkit --help`)"),
    ],
)
def test_a_misspelt_option_or_command_is_one_line_and_exit_2(
    project: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], line: str
) -> None:
    code, out, err = run_cli(project, *args, monkeypatch=monkeypatch)
    assert (code, out, err) == (2, "", f"evalkit: error: {line}\n")


@pytest.mark.parametrize(
    ("argv", "code", "stream", "text"),
    [
        (["run", "no-such-folder"], 2, "stderr", "evalkit: error: no models configured"),
        (["--version"], 0, "stdout", "evalkit, version"),
        (["run", "--workers", "0"], 2, "stderr", "0 is not in the range"),
    ],
)
def test_the_console_entry_keeps_exit_codes_output_and_atexit_handlers(
    argv: list[str], code: int, stream: str, text: str, tmp_path: Path
) -> None:
    """main() ends with os._exit (module teardown is slow): the exit code, the buffered output (a pipe,
    not a terminal) and the atexit handlers of whatever the run imported must all survive it."""
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stdout.write('atexit handler ran\\n'))\n"
        f"sys.argv = ['evalkit', *{argv!r}]\n"
        "from evalkit.cli import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == code, done.stderr
    assert text in getattr(done, stream)
    assert done.stdout.endswith("atexit handler ran\n")


def test_the_console_entry_exits_with_pools_left_running(tmp_path: Path) -> None:
    """Code a run imports (a `python:` tool output) may leave a thread pool or a process pool running:
    the exit must stop them as the interpreter's own exit does, not wait on them forever."""
    script = (
        "import sys\n"
        "from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor\n"
        "threads = ThreadPoolExecutor(2); threads.submit(sum, [1, 2]).result()\n"
        "processes = ProcessPoolExecutor(2); processes.submit(sum, [1, 2]).result()\n"
        "sys.argv = ['evalkit', '--version']\n"
        "from evalkit.cli import main\n"
        "main()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the pool's workers too, not only the hung process
        process.communicate()
        pytest.fail("the exit waited on the pools forever")
    assert process.returncode == 0 and "evalkit, version" in out, err


@pytest.mark.parametrize(("argv", "code"), [("--version", 0), ("run -m nosuch", 2)])
def test_the_console_entry_keeps_its_exit_code_with_a_closed_stream(argv: str, code: int, tmp_path: Path) -> None:
    for closed in (">&-", "2>&-"):
        command = f"{shlex.quote(sys.executable)} -m evalkit.cli {argv} {closed}"
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=tmp_path, timeout=60)
        assert done.returncode == code, (closed, done.stderr)
        assert "Traceback" not in done.stderr


def test_out_naming_a_file_is_a_one_line_usage_error(repo_root: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(repo_root)
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    for args in (["run", "cases/weather.yaml", "--out", str(taken)], ["import", "bfcl", "--out", str(taken)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and "is a file" in result.stderr


def test_scan_that_finds_no_file_to_scan_is_an_error(tmp_path: Path, monkeypatch) -> None:
    """A CI step scanning the wrong folder must not pass as if it had looked."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    for args in (["scan"], ["scan", "empty"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2 and result.stderr.startswith("evalkit: error: "), result.stderr
    (tmp_path / "empty" / "one.yaml").write_text("interactions: []\n")
    result = CliRunner().invoke(cli, ["scan", "empty"])
    assert result.exit_code == 0 and "no credentials found in 1 file\n" in result.stderr


def test_paths_are_shown_as_typed_from_the_current_folder(tmp_path: Path, monkeypatch) -> None:
    from evalkit.cli import _relative

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "reports").mkdir()
    monkeypatch.chdir(tmp_path / "a" / "b")
    assert _relative(tmp_path / "a" / "b" / ".." / ".." / "reports") == Path("../../reports")
    assert _relative(tmp_path / "a" / "b" / "x") == Path("x")
    monkeypatch.chdir(tmp_path)
    assert _relative(Path("/")) == Path("/")  # not ../../… up to the root


def test_resume_of_a_finished_run_is_one_line(repo_root: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(repo_root)
    base = ["run", "cases/weather.yaml", "-m", "qwen2.5-coder-0.5b", "--out", str(tmp_path), "--no-progress"]
    assert CliRunner().invoke(cli, [*base, "--run-id", "done", "--failures", "0"]).exit_code == 0
    again = CliRunner().invoke(cli, [*base, "--resume", "done"])
    assert again.exit_code == 2
    assert again.stderr.splitlines()[-1] == (
        f"evalkit: error: run done already finished ({tmp_path / 'done' / 'results.json'}); nothing to resume"
    )
    assert "resuming run" not in again.stderr
