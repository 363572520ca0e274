"""Paths made from names users choose, and files that case files point at, kept where they belong.

Model names, suite names and case ids become parts of ``cassettes/<model>/<suite>/<case>.yaml``,
so a name like ``../../x`` must never reach the file system: names are checked where they are
defined (config, case files), and :func:`join_inside` refuses, again, any path that would leave
its root. A ``tools_file`` must resolve (symlinks followed) inside the project or a folder the
config allows (:func:`inside`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from .errors import ConfigError

_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}")
NAME_RULE = "letters, digits, '.', '_', '-' and ':' ('/' only between parts), each part starting with a letter or digit"


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a model name (a cassette folder), or ``None`` when it can."""
    if not isinstance(name, str) or not all(_PART.fullmatch(part) for part in name.split("/")) or len(name) > 200:
        return f"model name {name!r} is not allowed: it names the folder cassettes/<name>/, so use {NAME_RULE}"
    return None


def join_inside(root: Path, *parts: str, what: str) -> Path:
    """``root / parts``, refusing (:class:`ConfigError`) a part that would leave ``root``:
    ``..``, ``.``, an empty or absolute part, a backslash, a NUL, or a symlinked escape."""
    pieces = [piece for part in parts for piece in part.split("/")]
    bad = next((p for p in pieces if p in ("", ".", "..") or "\\" in p or "\x00" in p), None)
    path = root.joinpath(*pieces) if bad is None else None
    if path is None or not inside(path, [root]):
        shown = "/".join(parts)
        raise ConfigError(f"{what} {shown!r} would be stored outside {root}; names used in paths may hold {NAME_RULE}")
    return path


def inside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether ``path``, resolved (``..`` and symlinks), is one of ``roots`` or below one of them."""
    # On strings: pathlib's resolve() and parents cost ~0.2 ms a cassette path, once per job.
    resolved = os.path.realpath(path)
    for root in roots:
        top = os.path.realpath(root)
        if resolved == top or resolved.startswith(top.rstrip(os.sep) + os.sep):
            return True
    return False
