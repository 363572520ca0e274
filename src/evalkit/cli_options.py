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
