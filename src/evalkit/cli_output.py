"""What the commands that finish a run print and write beside it (``evalkit run``, ``report``, ``merge``):
one-line notes on stderr, the terminal report, and summary.md / report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def note(text: str) -> None:
    """``evalkit: <text>`` on stderr, wrapped to the terminal's width like the report."""
    import textwrap

    from .reporting.terminal import terminal_width

    lines = textwrap.wrap(
        f"evalkit: {text}",
        width=terminal_width(),
        subsequent_indent="  ",
        break_on_hyphens=False,
        break_long_words=False,
    )
    echo("\n".join(lines), err=True)


def write_reports(result: Any, folder: Path, *, html: bool) -> tuple[list[str], list[str]]:
    """summary.md and report.html beside results.json: (written, failed). A writer that fails says
    so in one line and the run still ends with its results, never with a traceback that hides them."""
    from .reporting.tables import write_summary

    writers: list[tuple[str, Any]] = [("summary.md", write_summary)]
    if html:
        from .reporting.html import write_html

        writers.append(("report.html", write_html))
    written, failed = [], []
    for name, write in writers:
        try:
            write(result, folder)
            written.append(name)
        except OSError as exc:  # a full disk, a read-only folder: the machine's doing, not a bug
            from .errors import os_error

            (folder / name).unlink(missing_ok=True)  # a report cut short would read as a whole one
            echo(f"evalkit: could not write {name}: {os_error(exc)}; results.json is intact", err=True)
            failed.append(name)
        except Exception as exc:
            import logging  # here, not at the top: `evalkit --help` must not pay for it

            logging.getLogger(__name__).exception("writing %s failed", name)
            echo(
                f"evalkit: could not write {name}: {type(exc).__name__}: {exc} (a bug; results.json is intact)",
                err=True,
            )
            failed.append(name)
    return written, failed


def print_run(result: Any, failure_limit: int) -> None:
    """The terminal report (:mod:`evalkit.reporting.terminal`): per model first, details after,
    folded to the terminal's width ($COLUMNS; 100 when not a terminal)."""
    from .reporting.terminal import render_run

    echo(render_run(result, failure_limit=None if failure_limit < 0 else failure_limit), nl=False)


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """``click.echo``, for a reader that may go away: once stdout (or stderr) is a closed pipe
    (`evalkit run | head`), the rest of it goes to the null device and the command goes on, so
    the reports are still written and the exit code is still the run's."""
    try:
        click.echo(text, err=err, nl=nl)
    except BrokenPipeError:
        discard_output(err=err)


def discard_output(*, err: bool = False) -> None:
    """Send the rest of stdout (or stderr) to the null device, once its reader has gone: later
    writes, and the interpreter's final flush, then fail no more (Python's advice in its notes on
    SIGPIPE, in the ``signal`` module's documentation)."""
    import os
    import sys

    stream = sys.stderr if err else sys.stdout
    try:
        target = stream.fileno()
    except (AttributeError, ValueError, OSError):  # not a file (a test runner's buffer): replace the object
        if err:
            sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115  # open until the process ends
        else:
            sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, target)
    finally:
        os.close(devnull)


def report_run(result: Any, folder: Path, *, shown: Path, failure_limit: int, html: bool) -> bool:
    """What ``run`` and ``merge`` end with: the terminal report, then summary.md (and report.html)
    written into ``folder``, then where the results are (``shown``: the folder as the user should
    read it). False when a report could not be written (each failure was said in one line)."""
    print_run(result, failure_limit)  # first: a report writer that fails must not hide the scores
    written, failed = write_reports(result, folder, html=html)
    beside = " and ".join(written) or "no report"
    echo(f"\nResults: {shown / 'results.json'}\n  {beside} beside it; `evalkit report {shown}` re-renders")
    return not failed
