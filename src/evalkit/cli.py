"""The ``evalkit`` command: thin commands over the library. Exit codes: 0 ok, 1 the run had errors
(or the gate found a regression), 2 a usage or configuration error (one line on stderr)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from .errors import EvalkitError


class _Group(click.Group):
    """Turns an EvalkitError into one line and exit code 2; anything else is a bug and keeps its traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EvalkitError as exc:
            click.echo(f"evalkit: error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="evalkit")
def cli() -> None:
    """Measure how accurately LLMs call tools, offline from recorded cassettes."""


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@cli.command()
@click.argument("cases", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-m", "--model", "models", multiple=True, help="Model(s) from the config to run; repeat or comma-separate."
)
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
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="evalkit.toml or pyproject.toml.",
)
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Reports folder (default from config: reports/)."
)
@click.option(
    "--failures", "failure_limit", type=int, default=30, show_default=True, help="Failures to print (0: none, -1: all)."
)
@click.option("--progress/--no-progress", default=True, help="Show a progress bar on stderr.")
@click.option(
    "--html/--no-html", default=True, help="Write report.html (plots, comparison, failures) beside results.json."
)
@click.option("--run-id", default=None, help="Name of the report folder (default: a UTC timestamp).")
def run(
    cases: tuple[Path, ...],
    models: tuple[str, ...],
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
) -> None:
    """Run case files or folders (default: the config's `cases` folder); print scores per model and suite."""
    from .cases import load_all
    from .config import load_config
    from .recording import check_record_mode
    from .reporting.tables import write_summary
    from .results import save_results
    from .runner import run_suites

    if run_id is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", run_id):
        raise click.BadParameter(f"{run_id!r}: use letters, digits, '.', '_' or '-'", param_hint="--run-id")
    config = load_config(config_path)
    config = _choose_models(config, _split(models), base_url=base_url, api_key_env=api_key_env, stream=stream)
    config = config.with_options(
        record_mode=check_record_mode(record_mode) if record_mode else None,
        concurrency=concurrency,
        reports=out,
        cases=cases[0] if cases else None,
        trials=trials,
        seed=seed,
        tool_counts=_tool_counts(tool_counts),
    )
    suites = load_all(cases or (config.cases,))  # every file validated before the first model call
    counts = f" × tool counts {','.join(map(str, config.tool_counts))}" if config.tool_counts else ""
    click.echo(
        f"evalkit: {sum(len(s.cases) for s in suites)} cases in {len(suites)} suites × {len(config.models)} models "
        f"({', '.join(m.name for m in config.models)}){counts}, record mode {config.record_mode}",
        err=True,
    )
    result = run_suites(config, suites, progress=progress and sys.stderr.isatty(), run_id=run_id)
    for note in result.config.get("skipped", ()):
        click.echo(f"evalkit: skipped {note}", err=True)
    path = save_results(result, config.reports)
    write_summary(result, path.parent)
    if html:
        from .reporting.html import write_html

        write_html(result, path.parent)
    _print_run(result, failure_limit)
    extra = "summary.md and report.html" if html else "summary.md"
    click.echo(f"\nResults: {path}  ({extra} beside it; `evalkit report {path.parent}` re-renders)")
    errors = [j for j in result.jobs if j.status == "error"]
    if errors:
        first = errors[0]
        click.echo(
            f"evalkit: {len(errors)} job(s) errored, e.g. {first.model} {first.suite}/{first.case_id}: "
            f"{first.failures[0][1] if first.failures else '?'}",
            err=True,
        )
        sys.exit(1)


def _tool_counts(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    from .distractors import parse_tool_counts

    return parse_tool_counts(text)


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


def _print_run(result: Any, failure_limit: int) -> None:
    """The terminal report: scores per model × suite, the curve and comparison when there is one, failures."""
    from .reporting.tables import render_failures, render_table

    click.echo(render_table(result))
    if any(j.tool_count is not None for j in result.jobs):
        from tabulate import tabulate

        from .reporting.compare import accuracy_by_tool_count

        curve = accuracy_by_tool_count(result)
        rows = [
            [
                r["model"],
                r["tool_count"],
                r["n"],
                f"{100 * r['accuracy']:.0f}%",
                f"{100 * r['ci_low']:.0f}–{100 * r['ci_high']:.0f}%",
                "" if r["prompt_tokens"] != r["prompt_tokens"] else f"{r['prompt_tokens']:.0f}",
            ]
            for r in curve.to_dict("records")
        ]
        click.echo(
            "\nAccuracy vs offered tools:\n"
            + tabulate(rows, headers=["model", "tools", "n", "pass", "95% CI", "prompt tokens"])
        )
    if len(result.models) > 1:
        from .reporting.compare import render_comparison

        click.echo("\n" + render_comparison(result))
    if result.config.get("trials", 1) > 1:
        from .gating.trials import render_trials

        click.echo("\n" + render_trials(result))
    from .reporting.modes import render_modes

    if (side_by_side := render_modes(result)) is not None:
        click.echo("\n" + side_by_side)
    if failure_limit:
        click.echo("\nFailures:\n" + render_failures(result, limit=None if failure_limit < 0 else failure_limit))


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
@click.option(
    "--failures", "failure_limit", type=int, default=30, show_default=True, help="Failures to print (-1: all)."
)
def report(results: str, fmt: str, failure_limit: int) -> None:
    """Re-render a results.json (or a report folder) without calling any model."""
    from .reporting.tables import render_markdown, to_frame
    from .results import read_results, resolve_results_path

    run_result = read_results(results)
    if fmt == "md":
        click.echo(render_markdown(run_result), nl=False)
    elif fmt == "html":
        from .reporting.html import write_html

        click.echo(write_html(run_result, resolve_results_path(results).parent))
    elif fmt == "csv":
        click.echo(to_frame(run_result).to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(to_frame(run_result).to_json(orient="records", indent=1))
    else:
        _print_run(run_result, failure_limit)


@cli.command()
@click.argument("cases", type=click.Path(path_type=Path))
def validate(cases: Path) -> None:
    """Check case files without calling a model."""
    from .cases import load_cases

    suites = load_cases(cases)
    click.echo(f"ok: {sum(len(s.cases) for s in suites)} cases in {len(suites)} suites")


def _register_gate_commands() -> None:
    from .gating.cli import baseline_group, gate_command  # click and errors only: keeps --help fast
    from .importers.cli import import_group  # click only, like the gate commands

    cli.add_command(gate_command)
    cli.add_command(baseline_group)
    cli.add_command(import_group)


_register_gate_commands()


def main() -> None:
    cli(prog_name="evalkit")


if __name__ == "__main__":
    main()
