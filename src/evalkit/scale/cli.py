"""``evalkit merge``: thin, like every command; the work is in :mod:`evalkit.scale.merge`."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..cli_options import failures_option


@click.command("merge")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Reports folder for the merged run (it goes to OUT/<run-id>/; OUT/latest points at it).",
)
@click.option("--run-id", default=None, help="Name of the merged run's folder (default: a UTC timestamp).")
@failures_option
@click.option("--html/--no-html", default=True, help="Write report.html beside results.json.")
def merge_command(runs: tuple[Path, ...], out: Path, run_id: str | None, failure_limit: int, html: bool) -> None:
    """Join the results of every shard of a run (`evalkit run --shard K/N`) into one run.

    RUNS are the shards' results.json files or run folders, one per shard. The merged run holds the
    jobs in the order a single run writes them; report, gate and pandas read it like any run. Refused
    in one line (exit 2): a shard missing or given twice, shards of different runs or options, a job
    twice or in the wrong shard. Exit 1 when a job errored, as `evalkit run`."""
    import sys

    from ..cli_output import note, report_run
    from ..results import read_results
    from .merge import merge_runs

    if run_id is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", run_id):
        raise click.BadParameter(f"{run_id!r}: use letters, digits, '.', '_' or '-'", param_hint="--run-id")
    path = merge_runs(runs, out, run_id=run_id)
    result = read_results(path)
    note(f"merged {len(result.config['merged']['runs'])} shards into {path}")
    reported = report_run(result, path.parent, shown=path.parent, failure_limit=failure_limit, html=html)
    errors = sum(job.status == "error" for job in result.jobs)
    if errors or not reported:
        if errors:
            note(f"{errors} job(s) errored")
        sys.exit(1)
