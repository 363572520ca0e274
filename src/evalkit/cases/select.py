"""``evalkit run --case PATTERN --tag TAG``: run some of the loaded cases (while debugging one, or a
tagged group in CI), not every case of the files given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fnmatch import fnmatchcase

from ..errors import ConfigError
from .model import Case, Suite


def select_cases(suites: Sequence[Suite], *, patterns: Sequence[str] = (), tags: Sequence[str] = ()) -> list[Suite]:
    """The suites with only the cases selected, and without the suites left empty.

    A case is selected when it matches one of ``patterns`` (shell-style, case-sensitive, against
    ``suite/case-id`` or the bare case id: ``weather/*``, ``*-rain``, ``boston-rain``), if any are
    given, and has one of ``tags``, if any are given. Raises :class:`ConfigError` when no case is
    selected, naming the options and a few case keys."""
    if not patterns and not tags:
        return list(suites)

    def chosen(case: Case) -> bool:
        named = not patterns or any(_matches(case, p) for p in patterns)
        return named and (not tags or any(tag in case.tags for tag in tags))

    kept = [replace(s, cases=tuple(c for c in s.cases if chosen(c))) for s in suites]
    kept = [s for s in kept if s.cases]
    if not kept:
        given = " ".join([*(f"--case {p}" for p in patterns), *(f"--tag {t}" for t in tags)])
        keys = [c.key for s in suites for c in s.cases]
        known = sorted({t for s in suites for c in s.cases for t in c.tags})
        raise ConfigError(
            f"{given} selects none of the {len(keys)} cases loaded (e.g. {', '.join(keys[:3]) or 'none'}; "
            f"tags: {', '.join(known) or 'none'}); --case matches suite/case-id or the case id, with * and ?"
        )
    return kept


def unmatched(suites: Sequence[Suite], patterns: Sequence[str]) -> list[str]:
    """The ``patterns`` that match no case of ``suites`` (a typo beside a pattern that matched)."""
    return [p for p in patterns if not any(_matches(c, p) for s in suites for c in s.cases)]


def _matches(case: Case, pattern: str) -> bool:
    return fnmatchcase(case.key, pattern) or fnmatchcase(case.id, pattern)
