"""Counting words for messages: ``plural(1, "case")`` is "1 case", ``plural(3, "case")`` "3 cases"."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, the noun in the plural unless the count is 1 (``many`` for irregular ones)."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"
