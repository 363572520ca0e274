"""Expected argument values that no valid call can give: caught when a case file is loaded.

``unit: Celsius`` for a parameter whose ``enum`` is ``[celsius, fahrenheit]``, ``count: "3"`` for an
integer, ``{approx: 3}`` for a string: a model that gives exactly the expected value sends arguments
that fail the tool's schema (``validity``), and one that follows the schema never matches
(``correctness``), so the case could never pass. That is a mistake in the case file, reported as one.

Only values whose meaning is plain are checked: an exact value (``equals``, or a bare value, without
``ignore_case``), ``any_of`` whose options are all such values (one valid option is enough), and
``approx``. Patterns, ``not``, nested objects and items are left alone. Suites written by ``evalkit
import bfcl`` are not checked: BFCL's answers break their own schemas on purpose (it does not check
them), and bfcl mode scores them as BFCL does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..matchers import AnyOf, Approx, Equals, Matcher
from ..schemas import ArgumentsValidator

BFCL_SUITE_PREFIX = "bfcl-"  # the suites `evalkit import bfcl` writes

# Keywords about the object as a whole: dropped from the wrapper schema below, which checks one
# property's value on its own (any other key the instance lacks or has is not this value's fault).
_OBJECT_KEYWORDS = frozenset(
    {
        "required", "additionalProperties", "properties", "patternProperties", "propertyNames",
        "minProperties", "maxProperties", "dependentRequired", "dependentSchemas", "dependencies",
        "unevaluatedProperties", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    }
)  # fmt: skip


def impossible_value(parameters: Mapping[str, Any], key: str, expected: Matcher) -> str | None:
    """Why ``expected`` (the matcher of parameter ``key``) can never be met by arguments valid for the
    tool's ``parameters`` schema, or ``None``. The reason names the value and the schema's rule."""
    if expected.must_be_absent:
        required = parameters.get("required")
        if isinstance(required, list) and key in required:
            return "expected absent, but the tool requires this parameter"
        return None
    schema = (parameters.get("properties") or {}).get(key)
    if not isinstance(schema, Mapping):
        return None
    if isinstance(expected, Approx):
        kinds = _types(schema)
        if kinds is not None and not kinds & {"number", "integer"}:
            return f"approx needs a number, but the parameter takes {_either(kinds)}"
        return None
    values = _exact_values(expected)
    if not values:
        return None
    problems = [_problem(parameters, key, schema, value) for value in values]
    if any(problem is None for problem in problems):
        return None
    if len(values) == 1:
        return f"the expected value {_show(values[0])} is not valid for the parameter: {problems[0]}"
    return f"none of the expected values is valid for the parameter ({problems[0]}, …)"


def _exact_values(matcher: Matcher) -> list[Any]:
    if isinstance(matcher, Equals) and not matcher.ignore_case:
        return [matcher.value]
    if isinstance(matcher, AnyOf) and matcher.options:
        values = [_exact_values(option) for option in matcher.options]
        return [v[0] for v in values] if all(len(v) == 1 for v in values) else []
    return []


def _problem(parameters: Mapping[str, Any], key: str, schema: Mapping[str, Any], value: Any) -> str | None:
    # The property checked inside its tool's schema (its $defs stay reachable by $ref), alone.
    wrapper = {k: v for k, v in parameters.items() if k not in _OBJECT_KEYWORDS}
    wrapper["properties"] = {key: schema}
    error = next(ArgumentsValidator.for_schema(wrapper).iter_errors({key: value}), None)
    return None if error is None else error.message


def _types(schema: Mapping[str, Any]) -> set[str] | None:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list) and all(isinstance(k, str) for k in kind):
        return set(kind)
    return None


def _either(kinds: set[str]) -> str:
    return " or ".join(f"a {k}" if k != "array" else "an array" for k in sorted(kinds))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
