"""Regular expressions run on model output: the ``regex`` matcher and JSON Schema ``pattern``.

A model's output is adversarial input here (a looping model writes long strings, a hostile one
writes crafted ones), and Python's ``re`` backtracks: ``(a|a)*$`` against 30 ``a`` and a ``!``
takes minutes. So every such pattern runs on the ``regex`` package, which keeps ``re``'s syntax
(the case files and schemas that worked keep working, lookarounds included) and takes a
``timeout``: a match that runs past :data:`TIMEOUT` seconds is a verdict ("took too long"),
never a hang. The same engine compiles the patterns when a case file is loaded, so one that
cannot compile is a load error, not a failure at scoring.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

import regex

TIMEOUT = 0.1  # seconds per match: well-behaved patterns take microseconds on a model's strings
# Counted repeats are unrolled when a pattern compiles, and compiling is not covered by TIMEOUT:
# ((a{100}){100}){100} takes seconds, one more level minutes. Nested counts may multiply to this.
MAX_COPIES = 100_000
_COUNT = re.compile(r"\{(\d*)(?:,(\d*))?\}")


class PatternTimeout(Exception):
    """A pattern ran past :data:`TIMEOUT` on one string (catastrophic backtracking)."""

    def __init__(self, pattern: str, text: str):
        super().__init__(
            f"pattern /{_clip(pattern)}/ took too long (over {TIMEOUT:g} s) on a {len(text):,}-character string"
        )


def pattern_problem(pattern: str, *, ignore_case: bool = False) -> str | None:
    """Why ``pattern`` does not compile (one line), or ``None``."""
    if _copies(pattern) > MAX_COPIES:
        return f"repeats too much: its counted repeats nest to over {MAX_COPIES:,} copies; use *, + or smaller counts"
    try:
        _compiled(pattern, ignore_case)
    except (regex.error, ValueError, TypeError, OverflowError, RecursionError) as exc:
        return f"does not compile: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return None


def fullmatch(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Whether ``text`` fully matches; raises :class:`PatternTimeout` past :data:`TIMEOUT`."""
    return _run("fullmatch", pattern, text, ignore_case)


def search(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Whether ``pattern`` matches anywhere in ``text`` (JSON Schema's rule); may raise :class:`PatternTimeout`."""
    return _run("search", pattern, text, ignore_case)


# (how, pattern, text, ignore_case) that timed out once. Several scorers look at the same value:
# they must all get the same verdict (a second try could finish on a less loaded machine), and
# only the first pays for the timeout.
_TIMED_OUT: dict[tuple[str, str, str, bool], None] = {}


def _run(how: str, pattern: str, text: str, ignore_case: bool) -> bool:
    key = (how, pattern, text, ignore_case)
    if key in _TIMED_OUT:
        raise PatternTimeout(pattern, text)
    compiled = _compiled(pattern, ignore_case)
    try:
        found = (
            compiled.fullmatch(text, timeout=TIMEOUT) if how == "fullmatch" else compiled.search(text, timeout=TIMEOUT)
        )
    except TimeoutError:
        if len(_TIMED_OUT) >= 1024:
            _TIMED_OUT.clear()
        _TIMED_OUT[key] = None
        raise PatternTimeout(pattern, text) from None
    return found is not None


@lru_cache(maxsize=2048)
def _compiled(pattern: str, ignore_case: bool) -> regex.Pattern[str]:
    # V0: the `re`-compatible mode (V1 would change the meaning of nested sets and case folding).
    with warnings.catch_warnings():  # "possible nested set": a FutureWarning on stderr, not our user's
        warnings.simplefilter("ignore")
        return regex.compile(pattern, regex.V0 | (regex.IGNORECASE if ignore_case else 0))


def _copies(pattern: str) -> int:
    """The largest product of counted repeats along one nesting chain: ``(a{10}){20}`` is 200,
    ``a{10}b{20}`` is 20. An estimate of how much compiling unrolls (escapes and sets skipped)."""
    frames, last, i = [1], 1, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i, last = i + 2, 1
            continue
        if char == "[":  # a set: skip to its closing ']' (a ']' first in the set is literal)
            i += 2 if pattern[i + 1 : i + 2] == "^" else 1
            i += 1 if pattern[i : i + 1] == "]" else 0
            while i < len(pattern) and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            last = 1
        elif char == "(":
            frames.append(1)
        elif char == ")" and len(frames) > 1:
            last = frames.pop()
            frames[-1] = max(frames[-1], last)
        elif char == "{" and (count := _COUNT.match(pattern, i)):
            low, high = count.group(1), count.group(2)
            last *= max(int(low or 0), int(high or 0)) if len(low) + len(high or "") < 12 else MAX_COPIES + 1
            frames[-1] = max(frames[-1], last)
            i = count.end()
            continue
        else:
            last = 1
        i += 1
    return max(frames[0], last)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
