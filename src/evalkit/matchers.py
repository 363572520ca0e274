"""Argument expectations: compiled once when a case file loads, applied by the scorers.

The literal rule, used everywhere a plain value is expected:

- numbers compare by value (``5`` equals ``5.0``); booleans are not numbers (``true`` ≠ ``1``);
- strings compare exactly, unless ``ignore_case: true`` relaxes them;
- ``null`` equals only ``null``;
- arrays compare element by element, in order; an object checks the keys it names, values
  compared recursively (and may themselves hold matchers); keys it does not name are ignored, as
  for a call's arguments (``{equals: {...}}`` compares a whole object exactly).

A mapping is a matcher when all its keys are matcher keys (below); write ``{equals: {...}}`` to
expect a literal object whose keys look like matcher keys.

    equals: V          the literal rule (the same as writing V)
    any_of: [V, …]     any one of the values (each may be a matcher)
    regex: P           a string that fully matches the regex P (Python syntax, run with a time limit)
    approx: N, tol: T  a number within T of N (T defaults to 1e-6)
    anything: true     any value, but the argument must be there
    absent: true       the argument must not be there
    not: V             any value but V (V may be a matcher); the argument must be there
    none_of: [V, …]    none of the values (each may be a matcher); the argument must be there
    optional: true     with another matcher: the argument may be left out
    ignore_case: true  with equals / any_of / regex: compare strings case-insensitively
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .patterns import PatternTimeout, fullmatch, pattern_problem, search

MATCHER_KEYS = frozenset(
    {"equals", "any_of", "regex", "approx", "tol", "anything", "absent", "not", "none_of", "optional", "ignore_case"}
)
_PRIMARY = ("equals", "any_of", "regex", "approx", "anything", "absent", "not", "none_of")


class MatcherError(ValueError):
    """A matcher that cannot be compiled; ``path`` says where inside the arguments."""

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(message)


def values_equal(expected: Any, got: Any, *, ignore_case: bool = False) -> bool:
    """The literal rule (see the module docstring)."""
    if isinstance(expected, str):  # the common case first
        if not isinstance(got, str):
            return False
        return expected.casefold() == got.casefold() if ignore_case else expected == got
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(expected) is type(got) and expected == got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return expected == got
    if isinstance(expected, str) and isinstance(got, str):
        return expected.casefold() == got.casefold() if ignore_case else expected == got
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(
            values_equal(e, g, ignore_case=ignore_case) for e, g in zip(expected, got, strict=True)
        )
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(
            values_equal(v, got[k], ignore_case=ignore_case) for k, v in expected.items()
        )
    return expected is None and got is None


@dataclass(frozen=True)
class Matcher:
    optional: bool = False

    def mismatch(self, got: Any) -> str | None:
        """``None`` when ``got`` matches, else a short reason (``expected …, got …``)."""
        raise NotImplementedError

    def undecided(self, got: Any) -> bool:
        """Whether the verdict on ``got`` could not be reached (a pattern ran out of time somewhere).
        Such a value does not *match*, but it must not *escape* either: a ``not`` does not pass it
        and a ``forbid`` rule counts it as hit (fail closed)."""
        return False

    def matches(self, got: Any) -> bool:
        """``mismatch(got) is None``, without building the reason (the scorers' hot path)."""
        return self.mismatch(got) is None

    @property
    def must_be_absent(self) -> bool:
        return False


@dataclass(frozen=True)
class Equals(Matcher):
    value: Any = None
    ignore_case: bool = False

    def matches(self, got: Any) -> bool:
        return values_equal(self.value, got, ignore_case=self.ignore_case)

    def mismatch(self, got: Any) -> str | None:
        if values_equal(self.value, got, ignore_case=self.ignore_case):
            return None
        return f"expected {_show(self.value)}{' (any case)' if self.ignore_case else ''}, got {_show(got)}"


@dataclass(frozen=True)
class AnyOf(Matcher):
    options: tuple[Matcher, ...] = ()

    def matches(self, got: Any) -> bool:
        for option in self.options:  # noqa: SIM110  # a loop: no generator per call on the hot path
            if option.matches(got):
                return True
        return False

    def mismatch(self, got: Any) -> str | None:
        if any(option.matches(got) for option in self.options):
            return None
        return f"expected one of {_show([_describe(o) for o in self.options])}, got {_show(got)}"

    def undecided(self, got: Any) -> bool:
        return any(option.undecided(got) for option in self.options)


@dataclass(frozen=True)
class Regex(Matcher):
    pattern: str = ""
    ignore_case: bool = False

    def mismatch(self, got: Any) -> str | None:
        try:  # the `regex` engine with a timeout: model output must not hang a run (see patterns.py)
            if isinstance(got, str) and fullmatch(self.pattern, got, ignore_case=self.ignore_case):
                return None
        except PatternTimeout as exc:
            return f"{exc}, so it does not count as a match; got {_show(got)}"
        return f"expected a string that fully matches /{self.pattern}/{self._partly(got)}, got {_show(got)}"

    def _partly(self, got: Any) -> str:
        # The hint only where it helps: the pattern is in the text, but the text says more.
        try:
            return (
                " (only a part matches: add .* for the rest)"
                if isinstance(got, str) and search(self.pattern, got, ignore_case=self.ignore_case)
                else ""
            )
        except PatternTimeout:
            return ""

    def undecided(self, got: Any) -> bool:
        if not isinstance(got, str):
            return False
        try:
            fullmatch(self.pattern, got, ignore_case=self.ignore_case)
        except PatternTimeout:
            return True  # remembered by patterns.py: asking again costs nothing
        return False


@dataclass(frozen=True)
class Approx(Matcher):
    value: float = 0.0
    tol: float = 1e-6

    def mismatch(self, got: Any) -> str | None:
        # |got - value| <= tol, compared exactly where a float would overflow: a model may answer
        # 10**400, which math.isclose cannot turn into a float.
        if isinstance(got, int | float) and not isinstance(got, bool) and _within(got, self.value, self.tol):
            return None
        return f"expected {self.value} ± {self.tol}, got {_show(got)}"


@dataclass(frozen=True)
class Anything(Matcher):
    def mismatch(self, got: Any) -> str | None:
        return None


@dataclass(frozen=True)
class Absent(Matcher):
    optional: bool = True

    def mismatch(self, got: Any) -> str | None:
        return f"must be absent, got {_show(got)}"

    @property
    def must_be_absent(self) -> bool:
        return True


@dataclass(frozen=True)
class Not(Matcher):
    """Passes when ``inner`` does not (``not: V``; ``none_of: [...]`` is ``not`` of ``any_of``)."""

    inner: Matcher = field(default_factory=Anything)

    def mismatch(self, got: Any) -> str | None:
        if self.inner.mismatch(got) is None:
            return f"expected anything but {brief(self.inner)}, got {_show(got)}"
        if self.inner.undecided(got):
            return f"could not tell whether {_show(got)} is {brief(self.inner)} (a pattern took too long), so it is not taken as anything else"
        return None

    def undecided(self, got: Any) -> bool:
        return self.inner.undecided(got)


@dataclass(frozen=True)
class Fields(Matcher):
    """An object: each named key checked by its matcher. With ``exact``, other keys fail too."""

    fields: tuple[tuple[str, Matcher], ...] = ()
    exact: bool = False
    # [uses so far, matches() compiled to one function or None] (evalkit.matcher_code): asked as
    # objects at first, compiled from the _COMPILE_AFTER-th use on, when compiling pays for itself
    # (a few µs, ~100 µs for a new shape, against ~1 µs saved a use); never pickled
    _compiled: list[Any] = field(default_factory=lambda: [0, None], init=False, repr=False, compare=False)

    def matches(self, got: Any) -> bool:
        state = self._compiled
        match = state[1]
        if match is not None:
            return bool(match(got))
        state[0] += 1
        if state[0] >= _COMPILE_AFTER:  # two threads may both compile it: the same function, harmless
            from .matcher_code import compile_fields  # it builds on this module

            state[1] = compile_fields(self)
        if not isinstance(got, dict):
            return False
        for key, matcher in self.fields:
            if key in got:
                if not matcher.matches(got[key]):
                    return False
            elif not matcher.optional:
                return False
        return not self.exact or all(any(key == k for k, _ in self.fields) for key in got)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_compiled": [0, None]}  # a generated function does not pickle

    def mismatches(self, got: Any) -> list[str]:
        """Every reason ``got`` fails, one per argument, e.g. ``location: expected …, got …``."""
        if not isinstance(got, dict):
            return [f"expected an object, got {_show(got)}"]
        reasons = []
        for key, matcher in self.fields:
            if key not in got:
                if not matcher.optional:
                    reasons.append(f"{key}: missing (expected {brief(matcher)})")
            elif (reason := matcher.mismatch(got[key])) is not None:
                reasons.append(f"{key}: {reason}")
        if self.exact:
            named = {key for key, _ in self.fields}
            reasons += [f"{key}: not expected, got {_show(got[key])}" for key in got if key not in named]
        return reasons

    def mismatch(self, got: Any) -> str | None:
        reasons = self.mismatches(got)
        return "; ".join(reasons) if reasons else None

    def undecided(self, got: Any) -> bool:
        return isinstance(got, dict) and any(key in got and m.undecided(got[key]) for key, m in self.fields)


_COMPILE_AFTER = 8


@dataclass(frozen=True)
class Items(Matcher):
    items: tuple[Matcher, ...] = ()

    def matches(self, got: Any) -> bool:
        return (
            isinstance(got, list)
            and len(got) == len(self.items)
            and all(m.matches(v) for m, v in zip(self.items, got, strict=True))
        )

    def mismatch(self, got: Any) -> str | None:
        if not isinstance(got, list) or len(got) != len(self.items):
            return f"expected a list of {len(self.items)}, got {_show(got)}"
        for index, (matcher, value) in enumerate(zip(self.items, got, strict=True)):
            if (reason := matcher.mismatch(value)) is not None:
                return f"[{index}]: {reason}"
        return None

    def undecided(self, got: Any) -> bool:
        return isinstance(got, list) and any(m.undecided(v) for m, v in zip(self.items, got, strict=False))


def compile_arguments(raw: Mapping[str, Any] | None, *, exact: bool = False, path: str = "arguments") -> Fields:
    """Compile a call's ``arguments:`` mapping into a :class:`Fields` matcher."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise MatcherError(path, f"expected a mapping of argument name to expected value, got {_show(raw)}")
    return Fields(fields=tuple((str(k), compile_matcher(v, f"{path}.{k}")) for k, v in raw.items()), exact=exact)


def compile_matcher(raw: Any, path: str) -> Matcher:
    """Compile one expected value (a literal or a matcher mapping); raises :class:`MatcherError`."""
    if isinstance(raw, Mapping) and raw and set(raw) <= MATCHER_KEYS:
        return _compile_mapping(raw, path)
    if isinstance(raw, Mapping):
        loose = sorted(set(raw) & MATCHER_KEYS)
        if loose and not set(raw) & set(_PRIMARY):
            pass  # an ordinary object that happens to have a key like "optional"
        elif loose:
            raise MatcherError(
                path,
                f"mixes matcher keys {loose} with other keys {sorted(set(raw) - MATCHER_KEYS)}; "
                "wrap a literal object in {equals: ...}",
            )
        if misspelt := _misspelt_matcher_keys(raw):
            raise MatcherError(path, misspelt)
        if not raw:  # an expected {} means an empty object, not "any object"
            return Equals(value={})
        # A nested object follows the top-level rule: the keys it names are checked, others ignored
        # ({equals: {...}} compares an object exactly).
        return Fields(fields=tuple((str(k), compile_matcher(v, f"{path}.{k}")) for k, v in raw.items()))
    if isinstance(raw, list):
        return Items(items=tuple(compile_matcher(v, f"{path}[{i}]") for i, v in enumerate(raw)))
    return Equals(value=raw)


def _misspelt_matcher_keys(raw: Mapping[str, Any]) -> str | None:
    """Why a mapping that is not a matcher looks like one with a typo (``{regx: "Paris.*"}``), or ``None``."""
    for key in raw:
        close = difflib.get_close_matches(str(key), sorted(MATCHER_KEYS), n=1, cutoff=0.75)
        if close and str(key) not in MATCHER_KEYS:
            return (
                f"unknown matcher key {key!r} (did you mean {close[0]!r}?). Valid matcher keys: "
                f"{', '.join(sorted(MATCHER_KEYS))}; write {{equals: {{...}}}} for a literal object with such a key"
            )
    return None


def _compile_mapping(raw: Mapping[str, Any], path: str) -> Matcher:
    primary = [key for key in _PRIMARY if key in raw]
    optional = _flag(raw, "optional", path)
    ignore_case = _flag(raw, "ignore_case", path)
    if len(primary) > 1:
        raise MatcherError(path, f"has several matchers {primary}; use one of {list(_PRIMARY)} per value")
    if not primary:
        raise MatcherError(path, f"has {sorted(raw)} but no matcher; add one of {list(_PRIMARY)}")
    kind = primary[0]
    value = raw[kind]
    if "tol" in raw and kind != "approx":
        raise MatcherError(path, "'tol' goes with 'approx'")
    if ignore_case and kind not in ("equals", "any_of", "regex", "not", "none_of"):
        raise MatcherError(
            path, f"'ignore_case' does not go with {kind}; it goes with equals, any_of, regex, not or none_of"
        )
    if kind in ("not", "none_of"):
        return Not(optional=optional, inner=_negated(raw, kind, value, ignore_case, path))
    if kind == "equals":
        return Equals(optional=optional, value=value, ignore_case=ignore_case)
    if kind == "any_of":
        if not isinstance(value, list) or not value:
            raise MatcherError(path, f"any_of needs a non-empty list, got {_show(value)}")
        options = tuple(_with_case(compile_matcher(v, f"{path}.any_of[{i}]"), ignore_case) for i, v in enumerate(value))
        return AnyOf(optional=optional, options=options)
    if kind == "regex":
        if not isinstance(value, str):
            raise MatcherError(path, f"regex needs a string pattern, got {_show(value)}")
        if (problem := pattern_problem(value, ignore_case=ignore_case)) is not None:
            raise MatcherError(path, f"regex {_show(value)} {problem}")
        return Regex(optional=optional, pattern=value, ignore_case=ignore_case)
    if kind == "approx":
        tol = raw.get("tol", 1e-6)
        for name, number in (("approx", value), ("tol", tol)):
            if not isinstance(number, int | float) or isinstance(number, bool):
                raise MatcherError(path, f"{name} needs a number, got {_show(number)}")
            if not _finite(number):  # inf, NaN, or an int no float can hold (10**400)
                raise MatcherError(
                    path,
                    f"{name} needs a finite number within ±1.8e308, got {_show(number)}; for any number use anything: true",
                )
        if not tol >= 0:  # a negative tolerance would silently fail every value
            raise MatcherError(path, f"tol must be zero or more, got {_show(tol)}")
        return Approx(optional=optional, value=float(value), tol=float(tol))
    if value is not True:
        raise MatcherError(path, f"{kind} takes 'true', got {_show(value)}")
    if kind == "absent":
        return Absent()
    return Anything(optional=optional)


def _negated(raw: Mapping[str, Any], kind: str, value: Any, ignore_case: bool, path: str) -> Matcher:
    """What ``not: V`` / ``none_of: [...]`` must not match."""
    if kind == "none_of":
        if not isinstance(value, list) or not value:
            raise MatcherError(path, f"none_of needs a non-empty list, got {_show(value)}")
        return _compile_mapping({"any_of": value, "ignore_case": ignore_case}, path)
    inner = compile_matcher(value, f"{path}.not")
    if inner.optional or isinstance(inner, Absent):
        raise MatcherError(path, "'not' takes a value or a matcher that needs the argument (not optional or absent)")
    return _with_case(inner, ignore_case)


def _finite(number: float) -> bool:
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def _within(got: float, value: float, tol: float) -> bool:
    if isinstance(got, int) and not _finite(got):  # beyond any float: far from a finite value
        return False
    return math.isclose(got, value, rel_tol=0, abs_tol=tol)


def _flag(raw: Mapping[str, Any], key: str, path: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise MatcherError(path, f"{key} takes true or false, got {_show(value)}")
    return value


def _with_case(matcher: Matcher, ignore_case: bool) -> Matcher:
    """``ignore_case`` on ``any_of`` reaches every string of every option: inside lists and
    objects too, as ``equals`` with the flag compares them (``[Paris, Rome]`` matches ``["paris", "rome"]``)."""
    if not ignore_case:
        return matcher
    if isinstance(matcher, Equals | Regex):
        return type(matcher)(**{**matcher.__dict__, "ignore_case": True})
    if isinstance(matcher, Items):
        return Items(optional=matcher.optional, items=tuple(_with_case(m, True) for m in matcher.items))
    if isinstance(matcher, Fields):
        fields = tuple((k, _with_case(m, True)) for k, m in matcher.fields)
        return Fields(optional=matcher.optional, fields=fields, exact=matcher.exact)
    if isinstance(matcher, AnyOf):
        return AnyOf(optional=matcher.optional, options=tuple(_with_case(m, True) for m in matcher.options))
    return matcher


def _describe(matcher: Matcher) -> Any:
    if isinstance(matcher, Equals):
        return matcher.value
    if isinstance(matcher, Regex):
        return f"/{matcher.pattern}/"
    if isinstance(matcher, Approx):
        return f"{matcher.value}±{matcher.tol}"
    if isinstance(matcher, AnyOf):
        return f"one of {[_describe(o) for o in matcher.options]}"
    if isinstance(matcher, Not):
        return f"not {_describe(matcher.inner)}"
    # Literal objects and arrays compile to Fields / Items: show their shape, not the class name.
    if isinstance(matcher, Fields):
        return {key: _describe(m) for key, m in matcher.fields}
    if isinstance(matcher, Items):
        return [_describe(m) for m in matcher.items]
    return type(matcher).__name__.lower()


def brief(matcher: Matcher) -> str:
    """How an expectation reads in a report: literals as repr (so an expected "5", a string, never
    reads like the number 5), anything else described (``/Paris.*/``, ``one of [...]``)."""
    return repr(matcher.value) if isinstance(matcher, Equals) else str(_describe(matcher))


def _show(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_arguments(fields: Fields) -> str:
    """``location='Paris', unit=one of ['C', 'F'], days?=3`` (``?``: may be left out), for reports."""
    parts = []
    for key, matcher in fields.fields:
        shown = "<absent>" if isinstance(matcher, Absent) else brief(matcher)
        parts.append(f"{key}{'?' if matcher.optional and not isinstance(matcher, Absent) else ''}={shown}")
    return ", ".join(parts)
