"""``evalkit import bfcl``: thin click commands over :mod:`evalkit.importers` (imported lazily)."""

from __future__ import annotations

from pathlib import Path

import click


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
    type=click.Path(path_type=Path),
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
        say=lambda text: click.echo(f"evalkit: {text}", err=True),
    )
    write_suites(src, parts, out, seed=seed, per_category=per_category)
    for part in parts:
        left = f", {len(part.left_out)} left out" if part.left_out else ""
        click.echo(f"{out / (part.category + '.yaml')}: {len(part.cases)} cases of {part.total}{left}")
        for entry_id, why in part.left_out:
            click.echo(f"  left out {entry_id}: {why}")
    click.echo(f"bfcl-eval {src.version} from {src.where}; notice: {out / 'NOTICE.md'}. Run: evalkit run {out}")
