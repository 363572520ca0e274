"""Case files: the YAML format (:mod:`.spec`), loading and validating it (:mod:`.load`), and the
in-memory :class:`Suite` / :class:`Case` values (:mod:`.model`).

Every file is validated completely before any model is called. Errors name the file, the case id,
the field path and the bad value, and list the valid choices.
"""

from __future__ import annotations

from .load import (
    EXPLICIT_MARKER,
    case_files,
    explicit_only,
    load_all,
    load_cases,
    load_suite_file,
    parse_suite,
    skipped_under,
)
from .model import Case, Expectation, ExpectedCall, Suite
from .spec import ID_PATTERN, MESSAGE_ROLES

__all__ = [
    "EXPLICIT_MARKER",
    "ID_PATTERN",
    "MESSAGE_ROLES",
    "Case",
    "Expectation",
    "ExpectedCall",
    "Suite",
    "case_files",
    "explicit_only",
    "load_all",
    "load_cases",
    "load_suite_file",
    "parse_suite",
    "skipped_under",
]
