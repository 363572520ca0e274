"""Click options that several commands share (``evalkit run``, ``report``, ``gate`` …), declared once."""

from __future__ import annotations

from pathlib import Path

import click

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="evalkit.toml or pyproject.toml.",
)

failures_option = click.option(
    "--failures",
    "failure_limit",
    type=click.IntRange(min=-1),
    default=30,
    show_default=True,
    help="Failures to print (0: none, -1: all).",
)
