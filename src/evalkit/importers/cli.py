"""``evalkit extract PATH... [--json] [--to-cases DIR]``: a thin command over :mod:`.extract` and
:mod:`.to_cases`, registered on the main group by :mod:`evalkit.cli`. Importing this module loads
click only; the work is imported when the command runs, so ``evalkit --help`` stays fast."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("extract")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (one object per file) instead of a table.")
@click.option(
    "--to-cases",
    "cases_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write a case file per cassette into this folder: each model reply becomes a regression case.",
)
def extract_command(paths: tuple[Path, ...], as_json: bool, cases_dir: Path | None) -> None:
    """Show the tool calls in vcrpy cassettes recorded by any tool (files, or folders of *.yaml).

    One row per interaction: its API, HTTP status, the calls as name(arguments), and how the reply
    ended. Request headers are never shown; credential-like query parameters are redacted."""
    from ..words import plural
    from .extract import as_json as json_data
    from .extract import extract, render_table

    found = extract(paths)
    if as_json:
        import json

        click.echo(json.dumps(json_data(found), indent=1, ensure_ascii=False))
    else:
        click.echo(render_table(found))
    if cases_dir is None:
        return
    from .to_cases import to_cases

    written = to_cases(found, cases_dir)
    for note in written.notes:
        click.echo(f"evalkit: note: {note}", err=True)
    skipped = sum(n.skipped_case for n in written.notes)
    click.echo(  # beside --json, stdout holds the JSON alone
        f"Wrote {plural(written.cases, 'case')} in {plural(len(written.suites), 'file')} to {cases_dir}"
        + (f"; {plural(skipped, 'model reply', 'model replies')} skipped (see the notes)" if skipped else "")
        + f". Check them with `evalkit validate {cases_dir}`.",
        err=as_json,
    )
