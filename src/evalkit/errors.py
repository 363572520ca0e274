"""Every error evalkit raises on purpose derives from :class:`EvalkitError`.

    EvalkitError                 a user can fix it; the CLI prints one line and exits 2
    ├── CaseFileError            a case file is broken (names file, case id, field path, value)
    │   └── CaseFileErrors       several of them, every error of every file (one line each)
    ├── ConfigError              [tool.evalkit] / evalkit.toml / a CLI option is wrong
    ├── UnknownNameError         an unknown model, scorer, record mode, … (lists the valid ones)
    ├── CassetteMissError        replay found no recorded response for a request
    ├── BatchError               the Batch API refused a call (--batch: a bad key, a refused upload)
    └── ResultsFileError         results.json is missing, unreadable or of another version
        └── MergeError           shard runs that do not make one run (evalkit merge)

An OSError (a path that cannot be written or read) is one line too (:func:`os_error`), exit 2.
Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable


class EvalkitError(Exception):
    """Base class: the message is one line that names the thing, the value and the fix."""


class CaseFileError(EvalkitError):
    def __init__(self, file: str, message: str, *, case_id: str | None = None, field: str | None = None):
        where = file
        if case_id:
            where += f", case '{case_id}'"
        if field:
            where += f", field '{field}'"
        self.file, self.case_id, self.field = file, case_id, field
        # One line, always: a case id or a file name from the user may hold a line break.
        super().__init__(f"{where}: {message}".replace("\r", "\\r").replace("\n", "\\n"))


class CaseFileErrors(CaseFileError):
    """Several problems in case files, each one line. Printed one line each by ``evalkit validate``
    and ``evalkit run``; as a string, the first with a count of the others (still one line)."""

    def __init__(self, errors: list[CaseFileError]):
        self.errors = errors
        first = errors[0]
        EvalkitError.__init__(self, f"{first} (and {len(errors) - 1} more)" if len(errors) > 1 else str(first))
        self.file, self.case_id, self.field = first.file, first.case_id, first.field

    @classmethod
    def of(cls, errors: list[CaseFileError]) -> CaseFileError:
        """One error as itself, several as one CaseFileErrors (flattened)."""
        flat = [e for error in errors for e in (error.errors if isinstance(error, CaseFileErrors) else [error])]
        return flat[0] if len(flat) == 1 else cls(flat)


class ConfigError(EvalkitError):
    pass


class UnknownNameError(EvalkitError):
    def __init__(self, what: str, value: object, choices: Iterable[str], *, hint: str = ""):
        listed = ", ".join(sorted(choices)) or "(none configured)"
        message = f"{value!r} is not a {what}. Valid {what}s: {listed}."
        super().__init__(message + (f" {hint}" if hint else ""))


class CassetteMissError(EvalkitError):
    pass


class ResultsFileError(EvalkitError):
    pass


class BatchError(EvalkitError):
    pass


class MergeError(ResultsFileError):
    pass


def os_error(exc: OSError) -> str:
    """An OSError in one line: the path(s) it names and the reason, e.g. ``/tmp/a/x.md: Not a
    directory (is a folder on that path a file?)``."""
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = {
        errno.ENOTDIR: " (is a folder on that path a file?)",
        errno.EEXIST: " (a file is in the way of a folder evalkit must create)",
        errno.EACCES: " (no permission: choose another path)",
        errno.EROFS: " (a read-only file system: choose another path)",
        errno.ENOSPC: " (the disk is full)",
    }.get(exc.errno or 0, "")
    return f"{' → '.join(paths)}: {reason}{hint}" if paths else f"{reason}{hint}"
