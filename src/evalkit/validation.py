"""Fast argument validation: a tool's JSON Schema compiled once into a Python predicate.

``jsonschema`` (Draft 2020-12) stays the definition: this module only compiles the keywords whose
meaning it reproduces exactly, and answers ``None`` for any schema using another validation
keyword (``$ref``, ``anyOf``, ``pattern``, ``prefixItems``…), which then goes to jsonschema. The
keywords compiled, with jsonschema's reading of each:

- ``type`` (a name or a list): ``integer`` is an int or a float with no fraction (``10.0`` is an
  integer), ``number`` any int or float, and a bool is neither;
- ``enum``, ``const``: equality where ``1 == 1.0`` but ``True != 1``, lists and objects compared
  element by element;
- ``properties``, ``required``, ``additionalProperties`` (a bool or a schema), ``items`` (a schema),
  ``minItems``/``maxItems``, ``minLength``/``maxLength`` (code points), ``minimum``/``maximum``/
  ``exclusiveMinimum``/``exclusiveMaximum`` (numbers only);
- boolean schemas (``true``/``false``); annotations (``description``, ``default``, ``format``,
  ``title``, ``examples``, unknown keys such as ``x-bfcl-type``) are ignored, as jsonschema does
  without a format checker.

Only the verdict comes from here; the message of a failure still comes from jsonschema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Validation keywords of Draft 2020-12 (and older drafts jsonschema still reads) not compiled here.
_OTHER = frozenset(
    {
        "$ref",
        "$dynamicRef",
        "$recursiveRef",
        "$defs",
        "definitions",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
        "prefixItems",
        "additionalItems",
        "contains",
        "minContains",
        "maxContains",
        "uniqueItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "patternProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "pattern",
        "multipleOf",
        "$id",
        "$anchor",
        "$dynamicAnchor",
        "$schema",
        "$vocabulary",
    }
)


class _Unsupported(Exception):
    pass


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def equal(a: Any, b: Any) -> bool:
    """jsonschema's equality: ``1 == 1.0``, ``True != 1``, containers element by element."""
    if isinstance(a, str) or isinstance(b, str):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return bool(a == b)


def compile_schema(schema: Any) -> Check | None:
    """A predicate equal to ``Draft202012Validator(schema).is_valid``, or None when the schema
    uses a keyword not compiled here."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


def _compile(schema: Any) -> Check:
    if schema is True or schema == {}:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if not isinstance(schema, Mapping) or (_OTHER & schema.keys()):
        raise _Unsupported
    checks: list[Check] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not all(isinstance(n, str) and n in _TYPES for n in names):
            raise _Unsupported
        tests = [_TYPES[n] for n in names]
        checks.append(tests[0] if len(tests) == 1 else lambda v: any(t(v) for t in tests))
    if "enum" in schema:
        options = list(schema["enum"])
        checks.append(lambda v: any(equal(v, o) for o in options))
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v: equal(v, const))
    checks += _object_checks(schema) + _array_checks(schema) + _scalar_checks(schema)
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


def _object_checks(schema: Mapping[str, Any]) -> list[Check]:
    checks: list[Check] = []
    props = {k: _compile(s) for k, s in (schema.get("properties") or {}).items()}
    required = tuple(schema.get("required") or ())
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is True else _compile(extra)
    if props or required or extra_check is not None:

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for key in required:
                if key not in v:
                    return False
            for key, value in v.items():
                sub = props.get(key)
                if sub is not None:
                    if not sub(value):
                        return False
                elif extra_check is not None and not extra_check(value):
                    return False
            return True

        checks.append(check)
    return checks


def _array_checks(schema: Mapping[str, Any]) -> list[Check]:
    checks: list[Check] = []
    if "items" in schema:
        if isinstance(schema["items"], list):
            raise _Unsupported  # the pre-2020 tuple form
        item = _compile(schema["items"])
        checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
    low, high = schema.get("minItems"), schema.get("maxItems")
    if low is not None:
        checks.append(lambda v: not isinstance(v, list) or len(v) >= low)
    if high is not None:
        checks.append(lambda v: not isinstance(v, list) or len(v) <= high)
    return checks


def _bounded(holds: Callable[[Any, Any], bool], bound: Any) -> Check:
    return lambda v: not _is_number(v) or holds(v, bound)


def _scalar_checks(schema: Mapping[str, Any]) -> list[Check]:
    checks: list[Check] = []
    short, long = schema.get("minLength"), schema.get("maxLength")
    if short is not None:
        checks.append(lambda v: not isinstance(v, str) or len(v) >= short)
    if long is not None:
        checks.append(lambda v: not isinstance(v, str) or len(v) <= long)
    bounds: list[tuple[str, Callable[[Any, Any], bool]]] = [
        ("minimum", lambda v, b: v >= b),
        ("maximum", lambda v, b: v <= b),
        ("exclusiveMinimum", lambda v, b: v > b),
        ("exclusiveMaximum", lambda v, b: v < b),
    ]
    for key, holds in bounds:
        if key in schema:
            if not _is_number(schema[key]):
                raise _Unsupported
            checks.append(_bounded(holds, schema[key]))
    return checks
