"""Case files: the YAML format (:mod:`.spec`), loading and validating it (:mod:`.load`), and the
in-memory :class:`Suite` / :class:`Case` values (:mod:`.model`).

Every file is validated completely before any model is called. Errors name the file, the case id,
the field path and the bad value, and list the valid choices.
"""

from __future__ import annotations

from .load import case_files, load_all, load_cases, load_suite_file
from .model import Case, Expectation, ExpectedCall, Suite
from .spec import ID_PATTERN, MESSAGE_ROLES

__all__ = [
    "ID_PATTERN",
    "MESSAGE_ROLES",
    "Case",
    "Expectation",
    "ExpectedCall",
    "Suite",
    "case_files",
    "load_all",
    "load_cases",
    "load_suite_file",
]
