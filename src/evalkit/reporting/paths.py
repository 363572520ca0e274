"""Keeping the recording machine's absolute paths out of rendered pages.

A report travels (a CI artifact, a committed example), and ``/home/alice/work/evalkit/cases`` tells
a reader nothing but the recording machine's layout. results.json already stores paths relative to
the project root; these functions are the safety net for what is not: a run made with an absolute
``cases`` argument, an error message that quotes a path.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

# Folders a project path is usually read from: an absolute path is shown from the last of them on.
ANCHORS = ("cases", "cassettes", "reports", "baselines", "tools", "examples")
_WINDOWS = re.compile(r"^[A-Za-z]:[\\/]")


def is_absolute(text: str) -> bool:
    return text.startswith("/") or bool(_WINDOWS.match(text))


def display_path(text: str) -> str:
    """``text`` as a path fit to show: unchanged when relative; else relative to the working folder
    when under it, else from the last project-like folder (``cases/…``), else ``…/<file name>``."""
    if not is_absolute(text):
        return text
    windows = bool(_WINDOWS.match(text))
    path = PureWindowsPath(ntpath.normpath(text)) if windows else PurePosixPath(posixpath.normpath(text))
    if not windows:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            pass
    parts = path.parts[1:]
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in ANCHORS:
            return "/".join(parts[index:])
    return f"…/{path.name}" if path.name else "…"


def scrub(text: str) -> str:
    """Free text with the working folder and the home folder taken out of any path it quotes:
    ``/work/main/cases/a.yaml`` → ``cases/a.yaml``, ``/home/al/x`` → ``~/x``."""
    if "/" not in text and "\\" not in text:
        return text  # most strings: no path to look at (this runs on every string a page shows)
    cwd, home = os.getcwd(), os.path.expanduser("~")
    if len(cwd) > 1 and cwd in text:
        text = re.sub(re.escape(cwd) + "/", "", text)
        text = re.sub(re.escape(cwd) + _END, ".", text)
    if len(home) > 1 and home in text:
        text = re.sub(re.escape(home) + r"(?=/)|" + re.escape(home) + _END, "~", text)
    return text


# The whole folder only: /home/al is not the start of /home/alice (a sentence's full stop may follow).
_END = r"(?![\w-]|\.\w)"
