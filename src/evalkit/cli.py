"""The ``evalkit`` command: thin commands over the library. Exit codes: 0 ok (failing cases are results,
not errors), 1 a job errored or a report could not be written (the gate: a regression; scan: a finding),
2 a usage or configuration error (one line on stderr)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from .cli_options import config_option, failures_option
from .cli_output import echo, note, print_run, report_run
from .errors import CaseFileErrors, EvalkitError, os_error


class _Group(click.Group):
    """Turns an EvalkitError into one line and exit code 2; anything else is a bug and keeps its traceback."""

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """As click's, except that a usage error (a misspelt option or command, a bad value) is one
        line naming the fix, like every other error of evalkit, not click's four-line block."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            # "evalkit run", whatever name the program was started by (a test runner calls it "cli")
            where = " ".join(["evalkit", *(exc.ctx.command_path.split()[1:] if exc.ctx is not None else [])])
            echo(f"evalkit: error: {exc.format_message()} (see `{where} --help`)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        from .scale.memory import return_freed_arrays

        return_freed_arrays()  # every command that renders a run (run, report, merge, gate, baseline show)
        try:
            return super().invoke(ctx)
        except EvalkitError as exc:
            for line in exc.errors if isinstance(exc, CaseFileErrors) else [exc]:  # every broken case, a line each
                echo(f"evalkit: error: {line}", err=True)
            ctx.exit(2)
        except BrokenPipeError:
            raise  # the reader of stdout went away (`| head`): main() ends quietly
        except OSError as exc:
            # A path the user named cannot be written or read (a folder on it is a file, no permission,
            # a full disk): the path and the reason in one line, not a traceback.
            echo(f"evalkit: error: {os_error(exc)}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="evalkit")
def cli() -> None:
    """Measure how accurately LLMs call tools, offline from recorded cassettes."""


def _split(values: tuple[str, ...]) -> list[str]:
    """``-m a,b -m a`` as ``[a, b]``: each name once, in the order first given."""
    return list(dict.fromkeys(v.strip() for value in values for v in value.split(",") if v.strip()))


@cli.command()
@click.argument("cases", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-m", "--model", "models", multiple=True, help="Model(s) from the config to run; repeat or comma-separate."
)
@click.option(
    "--case",
    "case_patterns",
    multiple=True,
    help="Only cases whose suite/case-id (or id) matches, with * and ?: --case 'weather/*'. Repeatable.",
)
@click.option("--tag", "tags", multiple=True, help="Only cases with this tag (any of them, if repeated).")
@click.option("--record-mode", default=None, help="none (default: replay only), once, new_episodes or all.")
@click.option("--base-url", default=None, help="An OpenAI-compatible server; with --model NAME, defines NAME ad hoc.")
@click.option("--api-key-env", default=None, help="Environment variable holding the API key (with --base-url).")
@click.option("--stream/--no-stream", default=None, help="Stream replies (with --base-url).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None, help="Jobs in flight at once.")
@click.option("--trials", type=click.IntRange(1, 100), default=None, help="Send each job K times (default 1).")
@click.option(
    "--tool-counts", default=None, help="Offer each suite's tools plus distractors up to N, for each N: e.g. 1,4,16,64."
)
@click.option("--seed", type=int, default=None, help="Seed for choosing and ordering distractors (default 0).")
@config_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Reports folder (default from config: reports/).",
)
@failures_option
@click.option("--progress/--no-progress", default=True, help="Show a progress bar on stderr.")
@click.option(
    "--html/--no-html", default=True, help="Write report.html (plots, comparison, failures) beside results.json."
)
@click.option("--run-id", default=None, help="Name of the report folder (default: a UTC timestamp).")
@click.option(
    "--resume",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[RUN_ID]",
    help="Finish a stopped run: keep its finished jobs, run the rest (default: the newest stopped run).",
)
@click.option("--shard", default=None, metavar="K/N", help="Run shard K of N only; join shards with `evalkit merge`.")
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Processes that replay and score (default: one per CPU, up to 4, for a replay of 200+ jobs; else 1).",
)
@click.option("--batch", is_flag=True, default=False, help="Record through the provider's Batch API (once/all).")
@click.option(
    "--batch-poll",
    type=click.FloatRange(0, 3600),
    default=None,
    metavar="SECONDS",
    help="Seconds between polls of a batch's status (default 30).",
)
def run(
    cases: tuple[Path, ...],
    models: tuple[str, ...],
    case_patterns: tuple[str, ...],
    tags: tuple[str, ...],
    record_mode: str | None,
    base_url: str | None,
    api_key_env: str | None,
    stream: bool | None,
    concurrency: int | None,
    trials: int | None,
    tool_counts: str | None,
    seed: int | None,
    config_path: Path | None,
    out: Path | None,
    failure_limit: int,
    progress: bool,
    html: bool,
    run_id: str | None,
    resume: str | None,
    shard: str | None,
    workers: int | None,
    batch: bool,
    batch_poll: float | None,
) -> None:
    """Run case files or folders (default: the config's `cases` folder); print scores per model and suite.

    Each finished job is written at once to reports/<run-id>/jobs.jsonl: a run that was killed keeps
    every finished job, and `--resume` (the newest unfinished run, or `--resume RUN_ID`) runs the rest.

    Exit codes: 0 every job was scored (failing cases included); 1 a job errored (HTTP error, cassette
    miss) or a report could not be written; 2 a usage or configuration error."""
    from .cases import load_all
    from .cases.select import select_cases, unmatched
    from .config import AUTO_WORKERS, load_config
    from .recording import check_record_mode
    from .reporting import import_libraries
    from .runner import run_suites
    from .words import plural

    if run_id is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", run_id):
        raise click.BadParameter(f"{run_id!r}: use letters, digits, '.', '_' or '-'", param_hint="--run-id")
    config = load_config(config_path)
    names = _split(models)
    if models and not names:  # `-m "$MODEL"` with the variable unset: not "every model"
        raise click.BadParameter(
            "empty; name a model from the config, or leave --model out for all", param_hint="--model"
        )
    config = _choose_models(config, names, base_url=base_url, api_key_env=api_key_env, stream=stream)
    config = config.with_options(
        record_mode=check_record_mode(record_mode) if record_mode else None,
        concurrency=concurrency,
        reports=out,
        cases=cases[0] if cases else None,
        trials=trials,
        seed=seed,
        tool_counts=_tool_counts(tool_counts),
        shard=_shard(shard),
        workers=AUTO_WORKERS if workers is None else workers,
        batch=batch or None,
        batch_poll=batch_poll,
    )
    # every file validated before the first model call; recordings and reports are not case files
    suites = load_all(cases or (config.cases,), skip=(config.cassettes, config.reports))
    loaded = sum(len(s.cases) for s in suites)
    for pattern in unmatched(suites, case_patterns):
        note(f"--case {pattern} matches no case")
    suites = select_cases(suites, patterns=case_patterns, tags=tags)
    selected = sum(len(s.cases) for s in suites)
    counts = f" × tool counts {','.join(map(str, config.tool_counts))}" if config.tool_counts else ""
    note(
        f"{plural(selected, 'case')}{f' (of {loaded}, selected)' if selected < loaded else ''} in "
        f"{plural(len(suites), 'suite')} × "
        f"{plural(len(config.models), 'model')} ({', '.join(m.name for m in config.models)}){counts}, "
        f"record mode {config.record_mode}" + (f", shard {config.shard[0]}/{config.shard[1]}" if config.shard else "")
    )
    if resume is not None:
        run_id = _run_to_resume(config.reports, resume or run_id)
        journal = config.reports / run_id / "jobs.jsonl"
        if journal.is_file():  # absent: the run finished, and run_suites says so in one line
            with journal.open("rb") as lines:
                finished = sum(raw.endswith(b"\n") for raw in lines)
            note(f"resuming run {run_id}: {plural(finished, 'finished job')} kept, the others run now")
    from concurrent.futures.process import BrokenProcessPool

    try:
        result = run_suites(
            config,
            suites,
            progress=progress and sys.stderr is not None and sys.stderr.isatty(),  # `2>&-`: None
            run_id=run_id,
            reports=config.reports,
            resume=resume is not None,
            meanwhile=lambda: import_libraries(html=html),  # while worker processes run the jobs
        )
    except BrokenProcessPool:
        echo(
            "evalkit: error: a worker process died (killed, or out of memory); the jobs that finished are "
            "kept: `evalkit run --resume` runs the rest (--workers 1: in one process)",
            err=True,
        )
        sys.exit(1)
    for skipped in result.config.get("skipped", ()):
        note(f"skipped {skipped}")
    folder = config.reports / result.run_id
    reported = report_run(result, folder, shown=_relative(folder), failure_limit=failure_limit, html=html)
    errors = [j for j in result.jobs if j.status == "error"]
    if errors:
        first = errors[0]
        note(
            f"{len(errors)} job(s) errored, e.g. {first.model} {first.suite}/{first.case_id}: "
            f"{first.failures[0][1] if first.failures else '?'}"
        )
        sys.exit(1)
    if not reported:
        sys.exit(1)


def _run_to_resume(reports: Path, run_id: str | None) -> str:
    """``run_id``, or the newest run under ``reports`` that has a journal (it was stopped)."""
    from .errors import ConfigError

    if run_id:
        if not (reports / run_id).is_dir():
            raise ConfigError(f"--resume {run_id}: no run of that id in {reports}")
        return run_id
    stopped = sorted((p for p in reports.glob("*/jobs.jsonl")), key=lambda p: p.stat().st_mtime)
    if not stopped:
        raise ConfigError(
            f"--resume: no stopped run in {reports} (a run in progress keeps {reports}/<run-id>/jobs.jsonl; "
            f"a run that has its results.json is finished: `evalkit report {reports}/<run-id>` writes its reports)"
        )
    return stopped[-1].parent.name


def _tool_counts(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    from .distractors import parse_tool_counts

    return parse_tool_counts(text)


def _relative(path: Path) -> Path:
    """``path`` as a user would type it from the current folder: relative when below it, else the
    shorter of ``../…`` and the absolute path (never ``a/b/../../c``)."""
    import os

    resolved, here = path.resolve(), Path.cwd().resolve()
    try:
        return resolved.relative_to(here)
    except ValueError:
        upward = Path(os.path.relpath(resolved, here))
        return upward if len(str(upward)) < len(str(resolved)) else resolved


def _shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    from .scale.shards import Shard

    shard = Shard.parse(text)
    return (shard.k, shard.n)


def _choose_models(
    config: Any, names: list[str], *, base_url: str | None, api_key_env: str | None, stream: bool | None
) -> Any:
    from dataclasses import replace

    from .config import ModelConfig, select_models

    if base_url:
        if not names:
            raise click.UsageError("--base-url needs --model NAME (the model id to send)")
        adhoc = {}
        for name in names:
            base = config.defined.get(name) or ModelConfig(name=name, model=name)
            adhoc[name] = replace(
                base,
                base_url=base_url,
                api_key_env=api_key_env or base.api_key_env,
                stream=base.stream if stream is None else stream,
            )
        config = replace(config, defined={**config.defined, **adhoc})
    if names:
        return select_models(config, names)
    if not config.models:
        raise click.UsageError(
            "no models configured: add [tool.evalkit.model.NAME] to pyproject.toml, or pass --model and --base-url"
        )
    return config


@cli.command()
@click.argument("results", required=False, default="reports/latest")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "md", "html", "csv", "json"]),
    default="table",
    show_default=True,
    help="table: terminal; md: summary.md; html: report.html beside results.json; csv/json: one row per job.",
)
@failures_option
def report(results: str, fmt: str, failure_limit: int) -> None:
    """Re-render a results.json (or a report folder) without calling any model."""
    from .reporting.tables import render_markdown, to_frame
    from .results import read_results, resolve_results_path

    run_result = read_results(results)
    if fmt == "md":
        echo(render_markdown(run_result), nl=False)
    elif fmt == "html":
        from .reporting.html import write_html

        echo(str(write_html(run_result, resolve_results_path(results).parent)))
    elif fmt == "csv":
        echo(to_frame(run_result).to_csv(index=False), nl=False)
    elif fmt == "json":
        import json

        # pandas writes NaN as null (json.dumps would write NaN) but escapes every "/" as "\/": re-dumped
        records = json.loads(to_frame(run_result).to_json(orient="records"))
        echo(json.dumps(records, indent=1, ensure_ascii=False))
    else:
        print_run(run_result, failure_limit)


@cli.command()
@click.argument("cases", nargs=-1, type=click.Path(path_type=Path))
@config_option
def validate(cases: tuple[Path, ...], config_path: Path | None) -> None:
    """Check case files or folders without calling a model (default: the config's cases folder)."""
    from .cases import load_all
    from .config import load_config
    from .words import plural

    config = load_config(config_path)
    suites = load_all(cases or [config.cases], skip=(config.cassettes, config.reports))
    echo(f"ok: {plural(sum(len(s.cases) for s in suites), 'case')} in {plural(len(suites), 'suite')}")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@config_option
def scan(paths: tuple[Path, ...], config_path: Path | None) -> None:
    """Look for credentials in cassettes and reports before they are committed (default: the
    config's cassettes and reports folders). Exit 1 on a finding; values are shown masked."""
    from .config import load_config
    from .errors import ConfigError
    from .scan import scan_paths
    from .words import plural

    if not paths:
        config = load_config(config_path)
        paths = tuple(p for p in (config.cassettes, config.reports) if p.exists())
        if not paths:
            raise ConfigError(
                f"nothing to scan: neither {config.cassettes} nor {config.reports} exists; pass the folders to scan"
            )
    findings, scanned = scan_paths(paths)
    if not scanned:  # a CI step that scans nothing must not pass as if it had looked
        raise ConfigError(f"no cassette or report file to scan in {', '.join(map(str, paths))}")
    for finding in findings:
        echo(str(finding))
    if findings:
        echo(
            f"evalkit scan: {len(findings)} possible credential(s) in {plural(scanned, 'file')}; "
            "remove them before committing",
            err=True,
        )
        sys.exit(1)
    echo(f"evalkit scan: no credentials found in {plural(scanned, 'file')}", err=True)


def _register_commands() -> None:
    # click (and errors) only: the work is imported when a command runs, which keeps --help fast
    from .gating.cli import baseline_group, gate_command
    from .importers.cli import extract_command, import_group
    from .scale.cli import merge_command

    for command in (gate_command, baseline_group, import_group, extract_command, merge_command):
        cli.add_command(command)


_register_commands()


def main() -> None:
    """The console entry point. Once the command is done, the process ends the way mypy's does: the
    other threads joined, the atexit handlers run and the output flushed, then ``os._exit``. A
    normal exit also frees every object and module one by one, and after a report (pandas,
    matplotlib, the openai SDK) that took ~0.4 s: 10% of a 2,000-job replay. An exception that is
    not an exit (a bug) keeps its traceback and the normal exit."""
    try:
        cli(prog_name="evalkit")
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:  # the reader of stdout went away (`evalkit report | head`): end quietly
        from .cli_output import discard_output

        discard_output()
        code = 1
    if code is not None and not isinstance(code, int):
        echo(str(code), err=True)  # what the interpreter does with sys.exit("message")
        code = 1
    _exit_now(code or 0)


def _exit_now(code: int) -> None:
    import atexit
    import contextlib
    import os
    import threading

    # What the interpreter does first at exit, in its order: threading's shutdown (its exit hooks,
    # such as concurrent.futures stopping its worker threads and processes, then joining every
    # non-daemon thread), then the atexit handlers (multiprocessing joins its children there).
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None: started with the stream closed (`evalkit run >&-`)
            with contextlib.suppress(OSError, ValueError):  # a closed pipe (`evalkit run | head`)
                stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
