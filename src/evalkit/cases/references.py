"""``module:attribute`` references in case files (``pydantic:`` tools, ``python:`` tool outputs).

The module is ``module.py`` beside the case file if there is one, else an importable module.
Importing runs the module's code: case files that use references are code, and are reviewed like
code. Every failure is a one-line :class:`~evalkit.errors.CaseFileError`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

from ..errors import CaseFileError

_KINDS = {"ModelClass": "class name", "function": "function name"}
_REFERENCE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*", re.ASCII)


def import_reference(file: Path, ref: Any, path: str, *, what: str) -> Any:
    """The attribute ``ref`` (``"module:name"``) names, or ``None`` when the module lacks it.
    ``what`` says what the name should be, for the error message (``ModelClass``, ``function``)."""
    name = str(file)
    if not isinstance(ref, str) or not _REFERENCE.fullmatch(ref):
        raise CaseFileError(
            name,
            f"expected 'module:{what}' (a dotted module name, ':', a {_KINDS.get(what, 'name')}), got {clip(repr(ref))}",
            field=path,
        )
    module_name, _, attr = ref.partition(":")
    beside = file.parent / (module_name.replace(".", "/") + ".py")
    try:
        module = module_from_file(beside) if beside.is_file() else importlib.import_module(module_name)
    except ImportError as exc:
        raise CaseFileError(name, f"cannot import {ref!r}: {first_line(exc)}", field=path) from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001  # the module is user code: any error is theirs to fix
        raise CaseFileError(
            name,
            f"cannot import {ref!r}: importing {module_name} raised {type(exc).__name__}: {first_line(exc)}",
            field=path,
        ) from None
    return getattr(module, attr, None)


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return clip(lines[0]) if lines else "(no message)"


def clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def module_from_file(path: Path) -> Any:
    """The Python file ``path`` imported as a module (once per process), for the tools and
    functions a case file names from the ``tools.py`` beside it."""
    # Loaded under a name made from its path, so two case folders with a tools.py each never
    # get each other's module from sys.modules, and a stdlib module cannot shadow it.
    name = "evalkit_case_module_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves annotations through the module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]  # a half-run module must not be found next time
        raise
    return module
