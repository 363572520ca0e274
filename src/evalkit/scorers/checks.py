"""The scorers: pure functions ``(case, turn, offered_tools) -> Score``. Definitions in the README.

Every scorer reads the same :class:`Analysis` of a reply (decoded arguments and the optimal
assignment), built once per job by :func:`analyse`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..calls import Turn
from ..cases import Case, Expectation, ExpectedCall
from ..identity_cache import IdentityCache
from ..loops.trajectory import Trajectory
from ..matchers import describe_arguments
from ..parsing.text_calls import find_text_tool_call
from ..tools import arguments_check, arguments_error, tools_by_name
from . import bfcl as bfcl_rules
from .base import (
    EXTRA_CALL,
    FORBIDDEN_CALL,
    HALLUCINATED_FUNCTION,
    INVALID_JSON,
    MISSING_CALL,
    NOT_APPLICABLE,
    PASSED,
    SCHEMA_VIOLATION,
    TEXT_TOOL_CALL,
    TRUNCATED_REPLY,
    UNEXPECTED_CALL,
    WRONG_FUNCTION,
    WRONG_ORDER,
    WRONG_VALUE,
    Failure,
    Score,
)
from .matching import FULL, NAME, NONE, Assignment, assign, assign_by_name

_NOT_JSON = object()
T = TypeVar("T")


class _cached(Generic[T]):  # lower case: it reads as the decorator it replaces
    """``functools.cached_property`` without its lock (Python 3.11 takes one per first access, a
    measurable cost on the scoring hot path); an Analysis belongs to one job on one thread."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func, self.name = func, func.__name__

    def __get__(self, obj: Any, owner: Any = None) -> T:
        if obj is None:  # looked up on the class (help(), inspect): the descriptor itself
            return self  # type: ignore[return-value]  # only instances get a T
        value = self.func(obj)
        obj.__dict__[self.name] = value  # an instance attribute from now on: no descriptor call
        return value


class OfferedTools(dict[str, Mapping[str, Any]]):
    """The offered tools by name, built once per offered list (every job of a suite at one tool
    count shares it), with each tool's compiled argument check, compiled on first use."""

    def __init__(self, tools: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(tools_by_name(tools))
        self._checks: dict[str, Callable[[Any], bool]] = {}
        # keyed on the expectation, which the per-step copies of a loop case share with the case
        self._rules: IdentityCache[Expectation, tuple[bfcl_rules.CallRule, ...]] = IdentityCache(self._compile_rules)

    def check(self, name: str) -> Callable[[Any], bool]:
        """``arguments_check`` of the tool called ``name`` (which must be offered)."""
        check = self._checks.get(name)
        if check is None:
            check = self._checks[name] = arguments_check(self[name])
        return check

    def rules(self, case: Case) -> tuple[bfcl_rules.CallRule, ...]:
        """bfcl mode: each of the case's expected calls compiled against its tool, once per
        expectation (a loop case's per-step copies share theirs)."""
        return self._rules(case.expect)

    def _compile_rules(self, expect: Expectation) -> tuple[bfcl_rules.CallRule, ...]:
        return tuple(bfcl_rules.rule_for(c, self.tool_for_bfcl(c.name)) for c in expect.calls)

    def tool_for_bfcl(self, name: str) -> Mapping[str, Any] | None:
        # `a.b` expected, `a_b` offered (or the other way round): one function for BFCL.
        tool = self.get(name)
        if tool is None:
            tool = next((t for n, t in self.items() if bfcl_rules.name(n) == bfcl_rules.name(name)), None)
        return tool


# Not frozen: a frozen dataclass sets each field through object.__setattr__, a cost paid per job;
# nothing assigns to an Analysis after it is built.
@dataclass(eq=False)
class Analysis:
    case: Case
    turn: Turn
    offered: OfferedTools
    bfcl: bool = False  # BFCL's verdict: see scorers/bfcl.py
    trajectory: Trajectory | None = None  # a loop job: its steps (``turn`` is then every call and the last reply)
    expected: tuple[ExpectedCall, ...] = field(init=False)  # the case's expected calls

    def __post_init__(self) -> None:
        self.expected = self.case.expect.calls
        self._grades: dict[tuple[int, int], int] = {}  # (expected, produced) -> FULL, NAME or NONE
        self._bfcl_reasons: dict[tuple[int, int], str] = {}  # bfcl mode: why a pair of one name failed

    @_cached
    def arguments(self) -> tuple[Any, ...]:
        """Each produced call's decoded arguments, or ``_NOT_JSON``."""
        out = []
        for call in self.turn.calls:
            if self.bfcl and not call.arguments.strip():
                out.append(_NOT_JSON)  # BFCL's json.loads("") fails: not read as "no arguments"
                continue
            try:
                out.append(call.decoded_arguments())
            except ValueError:
                out.append(_NOT_JSON)
        return tuple(out)

    @_cached
    def rules(self) -> tuple[bfcl_rules.CallRule, ...]:
        """bfcl mode: each expected call compiled against its tool (cached across jobs)."""
        return self.offered.rules(self.case)

    @_cached
    def produced_names(self) -> tuple[str, ...]:
        """bfcl mode: each produced call's name as BFCL compares it."""
        return tuple(bfcl_rules.name(c.name) for c in self.turn.calls)

    def grade(self, e: int, p: int) -> int:
        """FULL, NAME or NONE for an (expected, produced) pair, computed once per pair."""
        cached = self._grades.get((e, p))
        if cached is None:
            call, args = self.turn.calls[p], self.arguments[p]
            if self.bfcl:
                rule = self.rules[e]
                if rule.name != self.produced_names[p]:
                    cached = NONE
                elif args is _NOT_JSON:
                    cached = NAME
                elif (reason := rule.mismatch(args)) is None:
                    cached = FULL
                else:
                    cached = NAME
                    self._bfcl_reasons[(e, p)] = reason
            else:
                expected = self.expected[e]
                if expected.name != call.name:
                    cached = NONE
                else:
                    cached = FULL if args is not _NOT_JSON and expected.arguments.matches(args) else NAME
            self._grades[(e, p)] = cached
        return cached

    @_cached
    def assignment(self) -> Assignment:
        n, m, ordered = len(self.expected), len(self.turn.calls), self.case.expect.ordered
        if self.bfcl:  # BFCL pairs greedily; the differences this makes are counted in reports
            return bfcl_rules.greedy(
                [r.name for r in self.rules],
                self.produced_names,
                lambda e, p: self.grade(e, p) == FULL,
                ordered=ordered,
            )
        if not ordered:
            # When first-fit pairs every expected call fully, that pairing is optimal (no
            # assignment has more full matches, and none can add a pair): no matching needed.
            # Only calls of the expected name can match: the others are not graded.
            by_name: dict[str, list[int]] = {}
            for index, call in enumerate(self.turn.calls):
                by_name.setdefault(call.name, []).append(index)
            pairs: list[tuple[int, int]] = []
            taken: set[int] = set()
            for e, expected in enumerate(self.expected):
                for p in by_name.get(expected.name, ()):
                    if p not in taken and self.grade(e, p) == FULL:
                        pairs.append((e, p))
                        taken.add(p)
                        break
                else:
                    break  # this one has no full match left: ask the matching
            else:
                return Assignment(tuple(pairs), n)
            return assign_by_name([c.name for c in self.expected], by_name, self.grade)
        return assign(n, m, self.grade, ordered=True)

    @_cached
    def unfinished(self) -> Failure | None:
        """Why the reply is not a finished answer (cut off, or a call written as text), or ``None``."""
        if self.bfcl:
            return None
        if self.turn.finish_reason == "length":
            return Failure(TRUNCATED_REPLY, "the reply was cut off by the token limit (finish_reason=length)")
        if (text_call := find_text_tool_call(self.turn.content)) is not None:
            return Failure(TEXT_TOOL_CALL, text_call.describe())
        return None

    def mismatch(self, e: int, p: int) -> str:
        args = self.arguments[p]
        if args is _NOT_JSON:
            return f"arguments are not valid JSON: {_clip(self.turn.calls[p].arguments)}"
        if self.bfcl:
            reason = self._bfcl_reasons.get((e, p))
            return reason if reason is not None else self.rules[e].mismatch(args) or ""
        return self.expected[e].arguments.mismatch(args) or ""

    @property
    def no_call_made(self) -> bool:
        """No call in the reply; in bfcl mode also a reply BFCL cannot decode (see scorers/bfcl.py)."""
        if self.bfcl:
            return not self.turn.calls or bfcl_rules.undecodable(self.arguments, _NOT_JSON)
        return not self.turn.calls


def _failed_turn(name: str, turn: Turn) -> Score:
    assert turn.error is not None
    return Score(name, 0.0, False, (Failure(turn.error.kind, turn.error.message),))


def selection(a: Analysis) -> Score:
    """The multiset of produced function names equals the expected one."""
    if not a.case.expect.calls:  # no call, any call, or a loop (scored step by step: scorers.steps)
        return NOT_APPLICABLE["selection"]
    if a.turn.error:
        return _failed_turn("selection", a.turn)
    if a.bfcl:
        wanted, produced = sorted([r.name for r in a.rules]), sorted(a.produced_names)
    else:
        wanted, produced = sorted([c.name for c in a.expected]), sorted([c.name for c in a.turn.calls])
    if wanted == produced:  # the common case, without building two Counters
        return PASSED["selection"]
    want, got = Counter(wanted), Counter(produced)
    failures = []
    for name in got - want:
        if name in want:
            failures.append(Failure(EXTRA_CALL, f"{name} called {got[name]}×, expected {want[name]}×"))
        else:
            failures.append(Failure(WRONG_FUNCTION, f"called {name}, expected {_names(want)}"))
    failures += [
        Failure(MISSING_CALL, f"no call to {name} (expected {want[name]}×, got {got[name]}×)") for name in want - got
    ]
    return Score("selection", float(not failures), not failures, tuple(failures))


def hallucination(a: Analysis) -> Score:
    """No produced call names a function that was not offered."""
    if a.turn.error:
        return NOT_APPLICABLE["hallucination"]
    invented = [c.name for c in a.turn.calls if c.name not in a.offered]
    failures = [
        Failure(HALLUCINATED_FUNCTION, f"called {name!r}, which was not offered ({_offered(a)})") for name in invented
    ]
    return Score("hallucination", 0.0, False, tuple(failures)) if invented else PASSED["hallucination"]


def validity(a: Analysis) -> Score:
    """Share of produced calls (to offered functions) whose arguments are a JSON object that
    validates against that tool's schema (Draft 2020-12; strict tools reject extra keys)."""
    if a.turn.error:
        return NOT_APPLICABLE["validity"]
    good, total, failures = 0, 0, []
    for call, args in zip(a.turn.calls, a.arguments, strict=True):
        if call.name not in a.offered:
            continue  # no schema to check against: counted by `hallucination`
        total += 1
        if args is _NOT_JSON or not isinstance(args, dict):
            what = "not valid JSON" if args is _NOT_JSON else f"a JSON {type(args).__name__}, not an object"
            reason = f" (finish_reason={a.turn.finish_reason})" if a.turn.finish_reason == "length" else ""
            failures.append(Failure(INVALID_JSON, f"{call.name} arguments are {what}{reason}: {_clip(call.arguments)}"))
            continue
        if a.offered.check(call.name)(args):  # compiled once per tool; jsonschema only to explain a failure
            good += 1
            continue
        failures.append(Failure(SCHEMA_VIOLATION, f"{call.name}: {arguments_error(a.offered[call.name], args)}"))
    return Score.ratio("validity", good, total, failures)


def correctness(a: Analysis) -> Score:
    """Per matched call (same name, paired by the optimal assignment), every expected argument
    matches its matcher. Arguments the case does not name are ignored unless ``exact``."""
    if not a.case.expect.calls:  # no call, any call, or a loop (scored step by step: scorers.steps)
        return NOT_APPLICABLE["correctness"]
    if a.turn.error:
        return _failed_turn("correctness", a.turn)
    pairs = a.assignment.pairs
    failures = []
    for e, p in pairs:
        if a.grade(e, p) != FULL:
            kind = INVALID_JSON if a.arguments[p] is _NOT_JSON else WRONG_VALUE
            failures.append(Failure(kind, f"{a.expected[e].name}: {a.mismatch(e, p)}"))
    return Score.ratio("correctness", len(pairs) - len(failures), len(pairs), failures)


def coverage(a: Analysis) -> Score:
    """Share of expected calls matched (name and arguments) by a distinct produced call."""
    if not a.case.expect.calls:  # no call, any call, or a loop (scored step by step: scorers.steps)
        return NOT_APPLICABLE["coverage"]
    if a.turn.error:
        return _failed_turn("coverage", a.turn)
    matched = {e for e, p in a.assignment.pairs if a.grade(e, p) == FULL}
    paired = {e for e, _ in a.assignment.pairs}
    out_of_order = []
    if a.case.expect.ordered and len(matched) < len(a.expected):
        # Asked even when every call got paired: in order, A(x=2), B, A(x=1) pairs with A(x=1), B,
        # A(x=2) by name only. And a call that is there, only out of order, is not "missing".
        loose = assign(len(a.expected), len(a.turn.calls), a.grade)
        if loose.full > a.assignment.full:
            out_of_order.append(
                Failure(WRONG_ORDER, f"the calls match only in another order than expected ({_names(a.expected)})")
            )
        paired |= {e for e, _ in loose.pairs}
    # A call paired by name but with wrong arguments is explained by `correctness`; here only
    # the expected calls that no produced call even names.
    missing = [
        Failure(MISSING_CALL, f"no call matched {_described(a.expected[e])}")
        for e in range(len(a.expected))
        if e not in paired
    ]
    return Score.ratio("coverage", len(matched), len(a.expected), missing + out_of_order)


def no_call(a: Analysis) -> Score:
    """The call/no-call decision: a case expecting no call passes only on a well-formed reply with
    no call; a case expecting ``any_call`` passes on a reply with at least one call (a call to a
    function that was not offered fails ``hallucination``, not this)."""
    if not (a.case.expect.no_call or a.case.expect.any_call):
        return NOT_APPLICABLE["no_call"]
    if a.turn.error:
        return _failed_turn("no_call", a.turn)
    if a.case.expect.any_call:
        if not a.no_call_made:
            return PASSED["no_call"]
        return Score(
            "no_call", 0.0, False, (Failure(MISSING_CALL, "expected a call to any offered function, got none"),)
        )
    if not a.no_call_made:
        shown = ", ".join(f"{c.name}({_clip(c.arguments, 40)})" for c in a.turn.calls)
        return Score("no_call", 0.0, False, (Failure(UNEXPECTED_CALL, f"expected no call, got {shown}"),))
    if (problem := a.unfinished) is not None:  # cut off, or a call written as text: not an abstention
        return Score("no_call", 0.0, False, (problem,))
    return PASSED["no_call"]


def finish(a: Analysis) -> Score:
    """The reply ended on its own: not cut off by the token limit, and no tool call written as text
    instead of made. Applies to every reply that was read; not in ``bfcl`` mode, where BFCL's rule
    (undecodable output counts as no call) holds."""
    if a.turn.error or a.bfcl:
        return NOT_APPLICABLE["finish"]
    problem = a.unfinished
    return Score("finish", float(problem is None), problem is None, (problem,) if problem else ())


def forbidden(a: Analysis) -> Score:
    """No produced call matches a ``forbid:`` entry (its name, if given, and its arguments)."""
    if not a.case.forbid:
        return NOT_APPLICABLE["forbidden"]
    if a.turn.error:
        return NOT_APPLICABLE["forbidden"]
    matched: dict[str, int] = {}  # the call as written -> how many times (a loop may send it twenty times)
    for call, args in zip(a.turn.calls, a.arguments, strict=True):
        for rule in a.case.forbid:
            if (not rule.name or rule.name == call.name) and isinstance(args, dict) and _all_present(rule, args):
                text = f"{call.name}({_clip(call.arguments, 60)})"
                matched[text] = matched.get(text, 0) + 1
                break
    failures = tuple(
        Failure(FORBIDDEN_CALL, f"{text} matches a forbidden call" + (f" ({n} times)" if n > 1 else ""))
        for text, n in matched.items()
    )
    return Score("forbidden", 0.0, False, failures) if failures else PASSED["forbidden"]


# ``name(arg=…)`` for an expected call, written once per call (it is the same every job).
_described: IdentityCache[ExpectedCall, str] = IdentityCache(
    lambda call: f"{call.name}({describe_arguments(call.arguments)})", limit=100_000
)


def _all_present(rule: ExpectedCall, args: dict[str, Any]) -> bool:
    # An argument a pattern could not decide on (it ran out of time) counts as hit: a forbid rule
    # fails closed, so a model cannot slip past one with a string that makes the pattern backtrack.
    fields = rule.arguments.fields
    return all(key in args and (m.mismatch(args[key]) is None or m.undecided(args[key])) for key, m in fields)


def _names(calls: Any) -> str:
    names = list(calls) if isinstance(calls, Counter) else [c.name for c in calls]
    return ", ".join(names) or "no call"


def _offered(a: Analysis) -> str:
    names = sorted(a.offered)
    return "offered: " + ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The offered tools are one tuple per (suite, tool count) or case, shared by every job that offers
# them: their index is built once.
_offered_by_name: IdentityCache[Sequence[Mapping[str, Any]], OfferedTools] = IdentityCache(OfferedTools)


def analyse(
    case: Case,
    turn: Turn,
    offered_tools: Sequence[Mapping[str, Any]],
    *,
    bfcl: bool = False,
    trajectory: Trajectory | None = None,
) -> Analysis:
    return Analysis(case, turn, _offered_by_name(offered_tools), bfcl, trajectory)
