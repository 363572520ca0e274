"""``evalkit extract PATH... [--json] [--to-cases DIR]`` and ``evalkit import bfcl``: thin commands
over :mod:`.extract`, :mod:`.to_cases` and :mod:`.bfcl_cases`, registered on the main group by
:mod:`evalkit.cli`. Importing this module loads click only; the work is imported when a command
runs, so ``evalkit --help`` stays fast."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli_output import echo


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

        echo(json.dumps(json_data(found), indent=1, ensure_ascii=False))
    else:
        echo(render_table(found))
    if cases_dir is None:
        return
    from .to_cases import to_cases

    written = to_cases(found, cases_dir)
    for note in written.notes:
        echo(f"evalkit: note: {note}", err=True)
    skipped = sum(n.skipped_case for n in written.notes)
    echo(  # beside --json, stdout holds the JSON alone
        f"Wrote {plural(written.cases, 'case')} in {plural(len(written.suites), 'file')} to {cases_dir}"
        + (f"; {plural(skipped, 'model reply', 'model replies')} skipped (see the notes)" if skipped else "")
        + f". Check them with `evalkit validate {cases_dir}`.",
        err=as_json,
    )


@click.group("import")
def import_group() -> None:
    """Convert other projects' evaluation data into evalkit case files."""


@import_group.command("bfcl")
@click.option(
    "--categories",
    default=None,
    help="Comma-separated BFCL categories (default: all 11 AST categories evalkit can express).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("cases/bfcl"),
    show_default=True,
    help="Folder for the case files, NOTICE.md and the .evalkit-explicit marker.",
)
@click.option(
    "--source",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="The bfcl-eval wheel or its unzipped folder (default: an installed bfcl_eval, else pip download).",
)
@click.option(
    "--per-category",
    type=click.IntRange(1),
    default=None,
    help="Keep a random sample of N importable entries per category (default: all).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --per-category sample.")
def bfcl_command(categories: str | None, out: Path, source: Path | None, per_category: int | None, seed: int) -> None:
    """Import BFCL v4 entries: one case file per category in OUT, the Apache-2.0 notice beside them."""
    from .bfcl import CATEGORIES
    from .bfcl_cases import import_bfcl, write_suites

    chosen = [c.strip() for c in categories.split(",") if c.strip()] if categories else list(CATEGORIES)
    src, parts = import_bfcl(
        source=source,
        categories=chosen,
        per_category=per_category,
        seed=seed,
        say=lambda text: echo(f"evalkit: {text}", err=True),
    )
    write_suites(src, parts, out, seed=seed, per_category=per_category)
    for part in parts:
        left = f", {len(part.left_out)} left out" if part.left_out else ""
        echo(f"{out / (part.category + '.yaml')}: {len(part.cases)} cases of {part.total}{left}")
        for entry_id, why in part.left_out:
            echo(f"  left out {entry_id}: {why}")
    echo(f"bfcl-eval {src.version} from {src.where}; notice: {out / 'NOTICE.md'}. Run: evalkit run {out} -m MODEL")
