"""Output the user points somewhere evalkit cannot write, and a reader of stdout that goes away:
one line naming the path and the reason (exit 2), never a traceback; a closed pipe (`| head`)
neither stops the reports nor changes the exit code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import cli

MODEL = "qwen2.5-coder-0.5b"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """The shipped weather suite and its cassettes, one run of it done, and a file where the
    tests below point folders."""
    root = tmp_path_factory.mktemp("paths")
    (root / "cases").mkdir()
    shutil.copy(repo_root / "cases" / "weather.yaml", root / "cases")
    shutil.copytree(repo_root / "cassettes", root / "cassettes")
    shutil.copy(repo_root / "pyproject.toml", root)
    (root / "a-file").write_text("not a folder\n")
    done = subprocess.run(
        [sys.executable, "-m", "evalkit.cli", "run", "cases/", "-m", MODEL, "--no-progress"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return root


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["run", "cases/", "-m", MODEL, "--no-progress", "--out", "a-file/reports"], {}),
        (["gate", "reports/latest", "--baseline", "reports/latest/results.json", "--junit", "a-file/j.xml"], {}),
        (["gate", "reports/latest", "--baseline", "reports/latest/results.json", "--markdown", "a-file/g.md"], {}),
        (
            ["gate", "reports/latest", "--baseline", "reports/latest/results.json"],
            {"GITHUB_STEP_SUMMARY": "a-file/s.md"},
        ),
        (["baseline", "save", "reports/latest", "--to", "a-file/baseline.json"], {}),
    ],
)
def test_a_path_that_cannot_be_written_is_one_line(
    project: Path, args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, args)
    errors = [line for line in result.stderr.splitlines() if line.startswith("evalkit: error:")]
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    assert len(errors) == 1 and "a-file" in errors[0], result.stderr
    assert "Not a directory" in errors[0] or "File exists" in errors[0], errors[0]


def with_stdout_closed(project: Path, *args: str) -> tuple[int, str]:
    """``evalkit ARGS`` with stdout's reader gone before evalkit writes a byte: (exit code, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalkit.cli", *args], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # every write to stdout now fails with EPIPE
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


def test_a_reader_that_goes_away_stops_neither_the_reports_nor_the_exit_code(project: Path) -> None:
    """`evalkit run | head`: stdout closed before evalkit writes a byte of the terminal report."""
    out = project / "piped"
    code, err = with_stdout_closed(project, "run", "cases/", "-m", MODEL, "--no-progress", "--out", str(out))
    assert code == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    run = next(p for p in out.iterdir() if p.name != "latest")
    assert {"results.json", "summary.md", "report.html"} <= {p.name for p in run.iterdir()}


def test_a_report_piped_to_a_reader_that_goes_away_ends_quietly(project: Path) -> None:
    code, err = with_stdout_closed(project, "report", "reports/latest", "--format", "md")
    assert code in (0, 1) and err == "", err


def test_a_closed_stream_that_is_no_file_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where stdout is an object without a file descriptor (an embedding app, a test runner),
    the object itself goes, not a descriptor."""
    import io
    import os

    from evalkit.cli_output import echo

    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

        def fileno(self) -> int:
            raise io.UnsupportedOperation("no descriptor")

    closed = Closed()
    monkeypatch.setattr(sys, "stdout", closed)
    echo("lost")  # no exception
    assert sys.stdout is not closed and sys.stdout.name == os.devnull
    echo("also lost")
    sys.stdout.close()


def test_a_gate_whose_reader_goes_away_still_writes_its_files_and_passes(project: Path) -> None:
    """`evalkit gate … | true` in CI: the verdict's exit code, and the JUnit and markdown files, do
    not depend on whether anyone read stdout (a closed pipe exited 1, a regression's code)."""
    out = project / "gate-out"
    args = ["gate", "reports/latest", "--baseline", "reports/latest/results.json"]
    code, err = with_stdout_closed(project, *args, "--junit", str(out / "j.xml"), "--markdown", str(out / "m.md"))
    assert code == 0, err
    assert (out / "j.xml").is_file() and (out / "m.md").is_file()


def test_a_run_with_stderr_closed_runs(project: Path) -> None:
    """`evalkit run 2>&-`: no progress bar and no notes, but the run (it did nothing and exited 1)."""
    done = subprocess.run(
        [sys.executable, "-m", "evalkit.cli", "run", "cases/", "-m", MODEL, "--out", str(project / "closed")],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        close_fds=True,
        preexec_fn=lambda: os.close(2),
        check=False,
    )
    assert done.returncode == 0 and b"Per model" in done.stdout
    assert any((project / "closed").glob("*/results.json"))


def test_a_report_the_disk_cannot_hold_is_one_line_and_no_half_file(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    import evalkit.reporting.tables as tables
    from evalkit.cli_output import write_reports
    from evalkit.results import read_results

    run = read_results(project / "reports" / "latest" / "results.json")
    folder = project / "full-disk"
    folder.mkdir()

    def full(result: object, where: Path) -> None:
        (where / "summary.md").write_text("# half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tables, "write_summary", full)
    written, failed = write_reports(run, folder, html=False)
    err = capsys.readouterr().err
    assert (written, failed) == ([], ["summary.md"]) and not (folder / "summary.md").exists()
    assert (
        err
        == "evalkit: could not write summary.md: No space left on device (the disk is full); results.json is intact\n"
    )
