"""bfcl mode: the verdict of BFCL's AST checker (``bfcl = true``, ``score_job(bfcl=True)``).

Written from the rules of ``bfcl_eval/eval_checker/ast_eval/ast_checker.py`` (bfcl-eval 2026.3.23)
for a Python category and an OpenAI-style function-calling model; no code is taken from it. Each
rule, with a one-line example (expected → produced: verdict):

- strings are compared after normalising both sides: lower case; spaces and ``, . / - _ * ^``
  removed. ``"San Francisco, CA"`` → ``"san francisco ca"``: pass.
- an int is accepted for a float parameter, a float is not for an integer one, a bool is never an
  int: ``x: number, 5.0`` → ``5``: pass; ``n: integer, 10`` → ``10.0``: fail; ``n`` → ``true``: fail.
- inside a list, element types are strict (no int for a float): ``[1.5, 2.0]`` → ``[1.5, 2]``: fail.
- lists compare in order, strings in them normalised: ``["a", "b"]`` → ``["B", "a"]``: fail.
- objects are checked one level deep: each key must be expected, each value one of the key's
  accepted values (strings normalised), each key without ``optional`` present; deeper values
  compare as plain JSON. ``{city: "Paris"}`` → ``{city: "paris", zip: 1}``: fail (unexpected key).
- a parameter the expectation does not name is unexpected (``exact``, always): fail; so is a
  missing required parameter, and a missing optional one whose matcher is not ``optional``.
- a value of the accepted values' own type is compared as is, without normalisation, when that
  type is not the parameter's (BFCL's "variable" rule: ``n: integer, any_of: ["x"]`` → ``"x"``: pass).
- call count: exactly as many calls as expected (one for BFCL's simple and multiple categories),
  paired greedily in expected order, each with the first unpaired call that passes; ``ordered``
  cases pair by position.
- ``no_call``: an empty reply, text, or any call whose arguments are not a JSON object (an empty
  string included: ``json.loads("")`` fails) counts as "no call" (BFCL cannot decode it): pass. ``any_call``: at least one decodable call, to any name.
- names: ``a.b`` and ``a_b`` are one name (OpenAI-style tools cannot carry a dot; BFCL renames).
- JSON Schema validity and hallucinated names are still reported but are not part of the pass.

A matcher BFCL has no equivalent for (``regex``, ``approx``, ``anything``) keeps its own meaning,
after the type rules. An ``x-bfcl-type`` in a parameter's schema (written by the importer where an
enum overrides BFCL's declared type) is the type BFCL checks against.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..cases import ExpectedCall
from ..identity_cache import IdentityCache
from ..matchers import Absent, AnyOf, Equals, Fields, Items, Matcher
from .matching import Assignment

_NORMALISE = re.compile(r"[ ,./\-_*^]")
_PY = {"string": str, "integer": int, "float": float, "boolean": bool, "array": list, "dict": dict}
_FROM_JSON = {
    "string": "string",
    "integer": "integer",
    "number": "float",
    "boolean": "boolean",
    "array": "array",
    "object": "dict",
}
_BFCL_NAMES = {"dict": "dict", "float": "float", "tuple": "array", "any": "string", "list": "array"}
_OPTIONAL = ""  # BFCL's marker among accepted values: "may be left out"


def normalise(text: str) -> str:
    """BFCL's string normalisation: ``"April 1, 2024"`` → ``"april12024"``."""
    return _NORMALISE.sub("", text).lower().replace("'", '"')


def name(raw: str) -> str:
    """A function name as BFCL compares it for OpenAI-style models: ``a.b`` → ``a_b``."""
    return raw.replace(".", "_")


class _NotRepresentable(Exception):
    pass


def _bfcl_type(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        return "string"
    declared = schema.get("x-bfcl-type")
    if isinstance(declared, str):
        return _BFCL_NAMES.get(declared, declared)
    return _FROM_JSON.get(str(schema.get("type")), "string")  # BFCL's `any` (and no type) is a string


# --- accepted values, recovered from the matchers (the importer's inverse) -----------------------


def _literal(m: Matcher) -> Any:
    if isinstance(m, Equals):
        return m.value
    if isinstance(m, Fields):
        return {k: _literal(sub) for k, sub in m.fields}
    if isinstance(m, Items):
        return [_literal(sub) for sub in m.items]
    raise _NotRepresentable


def _options(m: Matcher) -> list[Any]:
    """A dict answer's key: its accepted values (literals), ``""`` when it may be left out."""
    if isinstance(m, Absent):
        return [_OPTIONAL]
    values = [_literal(o) for o in m.options] if isinstance(m, AnyOf) else [_literal(m)]
    return values + [_OPTIONAL] * m.optional


def _top(m: Matcher) -> list[Any]:
    """One accepted value of a parameter: a dict is a dict answer (key → accepted values)."""
    if isinstance(m, AnyOf):
        return [v for o in m.options for v in _top(o)]
    if isinstance(m, Fields):
        return [{k: _options(sub) for k, sub in m.fields}]
    if isinstance(m, Items):
        return [
            [{k: _options(s) for k, s in sub.fields} if isinstance(sub, Fields) else _literal(sub) for sub in m.items]
        ]
    if isinstance(m, Equals):
        return [_as_answer(m.value)]
    raise _NotRepresentable


def _as_answer(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: [v] for k, v in value.items()}
    if isinstance(value, list):
        return [{k: [v] for k, v in x.items()} if isinstance(x, dict) else x for x in value]
    return value


def answers_of(m: Matcher) -> list[Any] | None:
    """A parameter's accepted values as BFCL writes them (``""``: may be left out), or None for a
    matcher BFCL has no equivalent for."""
    if isinstance(m, Absent):
        return [_OPTIONAL]
    try:
        return _top(m) + [_OPTIONAL] * m.optional
    except _NotRepresentable:
        return None


# --- one parameter, compiled once ----------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    kind: str  # BFCL's type: string, integer, float, boolean, array, dict
    item_kind: str | None  # for arrays: the element type
    answers: tuple[Any, ...] | None  # None: check with `matcher` instead
    matcher: Matcher
    optional: bool
    answer_type: type | None  # the type of the first accepted value (BFCL's "variable" rule)
    strings: frozenset[str]  # accepted strings, normalised
    lists: tuple[Any, ...]  # accepted lists, strings normalised ("" counts as [])
    dicts: tuple[dict[str, list[Any]], ...]  # accepted dict answers, strings normalised
    item_types: tuple[tuple[bool, type | None], ...]  # per accepted value: (is a list, its elements' type)


def _norm(value: Any) -> Any:
    return normalise(value) if isinstance(value, str) else value


def _first_type(values: Sequence[Any]) -> type | None:
    return next((type(v) for v in values if not (isinstance(v, str) and v == _OPTIONAL)), None)


def compile_param(schema: Any, matcher: Matcher) -> Param:
    kind = _bfcl_type(schema)
    items = schema.get("items") if isinstance(schema, Mapping) else None
    item_kind = _bfcl_type(items) if kind == "array" and isinstance(items, Mapping) else None
    raw = answers_of(matcher)
    answers = tuple(raw) if raw is not None else None
    values = answers or ()
    lists = tuple([_norm(x) for x in a] if isinstance(a, list) else [] if a == _OPTIONAL else a for a in values)
    dicts = tuple({k: [_norm(x) for x in opts] for k, opts in a.items()} for a in values if isinstance(a, dict))
    item_types = tuple((isinstance(a, list), _first_type(a) if isinstance(a, list) else None) for a in values)
    return Param(
        kind,
        item_kind,
        answers,
        matcher,
        _OPTIONAL in values if answers is not None else matcher.optional,
        _first_type(values),
        frozenset(normalise(a) for a in values if isinstance(a, str)),
        lists,
        dicts,
        item_types,
    )


def _type_ok(p: Param, value: Any) -> tuple[bool, bool]:
    """(type accepted, compared as a "variable"): BFCL's type rule, one level of nesting."""
    expected = _PY[p.kind]
    variable = p.answer_type is not None and p.answer_type is not expected
    if type(value) is expected:
        if p.item_kind is None or p.answers is None:
            return True, variable
        inner = _PY[p.item_kind]
        elements: Any = value  # a list: its type was just checked
        for is_list, element_type in p.item_types:
            # An accepted value that is not a list (such as "") accepts any elements: BFCL's rule.
            if not is_list or all(type(x) is inner or type(x) is element_type for x in elements):
                return True, variable
        return False, variable
    return p.answer_type is not None and type(value) is p.answer_type, True


def check_param(p: Param, value: Any) -> str | None:
    """Why ``value`` fails BFCL's checks for this parameter, or None."""
    if p.kind == "float" and type(value) is int:
        value = float(value)  # BFCL: Python's int → float promotion
    ok, variable = _type_ok(p, value)
    if not ok:
        return f"expected type {p.kind}{f' of {p.item_kind}' if p.item_kind else ''}, got {_show(value)}"
    if p.answers is None:
        return p.matcher.mismatch(value)
    if not variable:
        if p.kind == "dict":
            return None if _dict_ok(p.dicts, value) else f"expected one of {_show(list(p.answers))}, got {_show(value)}"
        if p.kind == "array" and p.item_kind == "dict":
            return (
                None if _list_of_dicts_ok(p, value) else f"expected one of {_show(list(p.answers))}, got {_show(value)}"
            )
        if p.kind == "string":
            return (
                None
                if normalise(value) in p.strings
                else f"expected one of {_show(list(p.answers))}, got {_show(value)}"
            )
        if p.kind == "array":
            got = [_norm(x) for x in value]
            return (
                None if got in p.lists else f"expected one of {_show(list(p.answers))} (in order), got {_show(value)}"
            )
    return None if value in p.answers else f"expected one of {_show(list(p.answers))}, got {_show(value)}"


def _dict_ok(answers: Sequence[Mapping[str, Sequence[Any]]], value: Mapping[str, Any]) -> bool:
    for answer in answers:
        if all(k in answer and _norm(v) in answer[k] for k, v in value.items()) and all(
            k in value or _OPTIONAL in opts for k, opts in answer.items()
        ):
            return True
    return False


def _list_of_dicts_ok(p: Param, value: list[Any]) -> bool:
    for raw in p.answers or ():
        answer = raw if isinstance(raw, list) else [] if raw == _OPTIONAL else None
        if answer is None or len(answer) != len(value):
            continue
        normalised = [
            {k: [_norm(x) for x in opts] for k, opts in a.items()} if isinstance(a, dict) else a for a in answer
        ]
        if all(
            isinstance(n, dict) and isinstance(v, dict) and _dict_ok([n], v)
            for n, v in zip(normalised, value, strict=True)
        ):
            return True
    return False


# --- one call ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRule:
    """An expected call compiled against its tool's schema."""

    name: str  # as BFCL compares it (dots as underscores)
    params: Mapping[str, Param]
    required: tuple[str, ...]  # the tool schema's required parameters
    properties: frozenset[str]

    def mismatch(self, args: Any) -> str | None:
        """Why produced arguments fail BFCL's checker for this call, or None."""
        if not isinstance(args, dict):
            return f"arguments are not an object: {_show(args)}"
        for key in self.required:
            if key not in args:
                return f"{key}: missing (required)"
        for key, value in args.items():
            param = self.params.get(key)
            if param is None or key not in self.properties:
                return f"{key}: not expected, got {_show(value)}"
            if (reason := check_param(param, value)) is not None:
                return f"{key}: {reason}"
        for key, param in self.params.items():
            if key not in args and not param.optional:
                return f"{key}: missing (expected {_show(list(param.answers)) if param.answers else 'a value'})"
        return None


def rule_for(expected: ExpectedCall, tool: Mapping[str, Any] | None) -> CallRule:
    """The compiled rule of an expected call against a tool, built once per (call, tool) object."""
    return _RULES(expected, tool)


def _rule(expected: ExpectedCall, tool: Mapping[str, Any] | None) -> CallRule:
    schema = (tool or {}).get("function", {}).get("parameters") or {}
    props = schema.get("properties") or {}
    params = {k: compile_param(props.get(k), m) for k, m in expected.arguments.fields}
    return CallRule(name(expected.name), params, tuple(schema.get("required") or ()), frozenset(props))


_RULES: IdentityCache[ExpectedCall, Mapping[str, Any] | None, CallRule] = IdentityCache(_rule, limit=100_000)


# --- the reply -----------------------------------------------------------------------------------


def undecodable(arguments: Sequence[Any], not_json: object) -> bool:
    """Whether BFCL's decoder would fail on the reply: some call's arguments are not a JSON object."""
    return any(a is not_json or not isinstance(a, dict) for a in arguments)


def greedy(
    expected_names: Sequence[str],
    produced_names: Sequence[str],
    full: Callable[[int, int], bool],
    *,
    ordered: bool = False,
) -> Assignment:
    """BFCL's pairing: each expected call, in order, takes the first unpaired produced call of its
    name that passes (``ordered``: the call at its own position). Expected calls left over are
    paired by name only, with a leftover call of that name, so a failure can say what was wrong.
    ``full(e, p)`` is asked only of pairs that share a name."""
    n_produced = len(produced_names)
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for e, wanted in enumerate(expected_names):
        candidates = range(n_produced) if not ordered else range(e, min(e + 1, n_produced))
        for p in candidates:
            if p not in taken and produced_names[p] == wanted and full(e, p):
                pairs[e] = p
                taken.add(p)
                break
    n_full = len(pairs)
    for e, wanted in enumerate(expected_names):
        if e not in pairs:
            spare = next((q for q in range(n_produced) if q not in taken and produced_names[q] == wanted), None)
            if spare is not None:
                pairs[e] = spare
                taken.add(spare)
    return Assignment(tuple(sorted(pairs.items())), n_full)


def _show(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
