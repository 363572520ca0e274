"""The ``evalkit`` command: thin commands over the library. Exit codes: 0 ok, 1 the run had errors
(or the gate found a regression), 2 a usage or configuration error (one line on stderr)."""

from __future__ import annotations

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
@click.argument("cases", required=False, type=click.Path(path_type=Path))
@click.option("-m", "--model", "models", multiple=True, help="Model(s) from the config to run; repeat or comma-separate.")
@click.option("--record-mode", default=None, help="none (default: replay only), once, new_episodes or all.")
@click.option("--base-url", default=None, help="An OpenAI-compatible server; with --model NAME, defines NAME ad hoc.")
@click.option("--api-key-env", default=None, help="Environment variable holding the API key (with --base-url).")
@click.option("--stream/--no-stream", default=None, help="Stream replies (with --base-url).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None, help="Jobs in flight at once.")
@click.option("--trials", type=click.IntRange(1, 100), default=1, show_default=True, help="Send each job K times.")
@click.option("--config", "config_path", type=click.Path(exists=True, path_type=Path), default=None, help="evalkit.toml or pyproject.toml.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Reports folder (default from config: reports/).")
@click.option("--failures", "failure_limit", type=int, default=30, show_default=True, help="Failures to print (0: none, -1: all).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar on stderr.")
def run(cases: Path | None, models: tuple[str, ...], record_mode: str | None, base_url: str | None, api_key_env: str | None,
        stream: bool | None, concurrency: int | None, trials: int, config_path: Path | None, out: Path | None,
        failure_limit: int, progress: bool) -> None:
    """Run the cases (default: the config's `cases` folder) and print scores per model and suite."""
    from .cases import load_cases
    from .config import load_config
    from .recording import check_record_mode
    from .report import render_failures, render_table, write_summary
    from .results import save_results
    from .runner import run_suites

    config = load_config(config_path)
    config = _choose_models(config, _split(models), base_url=base_url, api_key_env=api_key_env, stream=stream)
    config = config.with_options(
        record_mode=check_record_mode(record_mode) if record_mode else None,
        concurrency=concurrency,
        reports=out,
        cases=cases,
    )
    suites = load_cases(config.cases)  # every file validated before the first model call
    n_jobs = sum(len(s.cases) for s in suites) * len(config.models) * trials
    click.echo(f"evalkit: {n_jobs} jobs: {sum(len(s.cases) for s in suites)} cases in {len(suites)} suites × "
               f"{len(config.models)} models ({', '.join(m.name for m in config.models)}), record mode {config.record_mode}", err=True)
    result = run_suites(config, suites, trials=trials, progress=progress and sys.stderr.isatty())
    path = save_results(result, config.reports)
    write_summary(result, path.parent)
    click.echo(render_table(result))
    if failure_limit:
        click.echo("\nFailures:\n" + render_failures(result, limit=None if failure_limit < 0 else failure_limit))
    click.echo(f"\nResults: {path}  (summary.md beside it; `evalkit report {path}` re-renders)")
    errors = [j for j in result.jobs if j.status == "error"]
    if errors:
        first = errors[0]
        click.echo(f"evalkit: {len(errors)} job(s) errored, e.g. {first.model} {first.suite}/{first.case_id}: "
                   f"{first.failures[0][1] if first.failures else '?'}", err=True)
        sys.exit(1)


def _choose_models(config: Any, names: list[str], *, base_url: str | None, api_key_env: str | None, stream: bool | None) -> Any:
    from dataclasses import replace

    from .config import ModelConfig, select_models

    if base_url:
        if not names:
            raise click.UsageError("--base-url needs --model NAME (the model id to send)")
        adhoc = {n: replace(config.defined.get(n) or ModelConfig(name=n, model=n), base_url=base_url,
                            api_key_env=api_key_env or (config.defined[n].api_key_env if n in config.defined else None),
                            stream=bool(stream) if stream is not None else (config.defined[n].stream if n in config.defined else False))
                 for n in names}
        config = replace(config, defined={**config.defined, **adhoc})
    if names:
        return select_models(config, names)
    if not config.models:
        raise click.UsageError("no models configured: add [tool.evalkit.model.NAME] to pyproject.toml, or pass --model and --base-url")
    return config


@cli.command()
@click.argument("results", required=False, default="reports/latest")
@click.option("--format", "fmt", type=click.Choice(["table", "md"]), default="table", show_default=True)
@click.option("--failures", "failure_limit", type=int, default=30, show_default=True, help="Failures to print (-1: all).")
def report(results: str, fmt: str, failure_limit: int) -> None:
    """Re-render a results.json (or a report folder) without calling any model."""
    from .report import render_failures, render_markdown, render_table
    from .results import read_results

    run_result = read_results(results)
    if fmt == "md":
        click.echo(render_markdown(run_result), nl=False)
        return
    click.echo(render_table(run_result))
    if failure_limit:
        click.echo("\nFailures:\n" + render_failures(run_result, limit=None if failure_limit < 0 else failure_limit))


@cli.command()
@click.argument("cases", type=click.Path(path_type=Path))
def validate(cases: Path) -> None:
    """Check case files without calling a model."""
    from .cases import load_cases

    suites = load_cases(cases)
    click.echo(f"ok: {sum(len(s.cases) for s in suites)} cases in {len(suites)} suites")


def main() -> None:
    cli(prog_name="evalkit")


if __name__ == "__main__":
    main()
