"""Laws: a schema compiled by evalkit.validation gives jsonschema's verdict on every value, for
schemas generated from the keywords it compiles (empty subschemas, boolean schemas and nesting
included), and it never fails to compile one of them; the error reported for arguments that fail
is jsonschema's first by path, however evalkit finds it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from evalkit.schemas import ArgumentsValidator
from evalkit.validation import compile_schema, root_error

KEYS = ["a", "b", "c"]
TYPES = ["string", "integer", "number", "boolean", "object", "array", "null"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 6)
    | st.floats(-2, 7, allow_nan=False)
    | st.sampled_from(["", "a", "bb"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=8,
)
bounds = st.integers(-2, 5) | st.floats(-2, 5, allow_nan=False)
leaf_schemas = st.booleans() | st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(TYPES) | st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True),
        "enum": st.lists(values, min_size=1, max_size=3),
        "const": values,
        "minimum": bounds,
        "maximum": bounds,
        "exclusiveMinimum": bounds,
        "exclusiveMaximum": bounds,
        "minLength": st.integers(0, 3),
        "maxLength": st.integers(0, 3),
        "description": st.just("annotations are ignored"),
    },
)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    objects = st.fixed_dictionaries(
        {},
        optional={
            "type": st.just("object"),
            "properties": st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
            "required": st.lists(st.sampled_from(KEYS), max_size=2, unique=True),
            "additionalProperties": inner,
        },
    )
    arrays = st.fixed_dictionaries(
        {},
        optional={
            "type": st.just("array"),
            "items": inner,
            "minItems": st.integers(0, 2),
            "maxItems": st.integers(0, 3),
        },
    )
    return objects | arrays


schemas = st.recursive(leaf_schemas, _containers, max_leaves=10)


@settings(max_examples=400, deadline=None)
@given(schemas, values)
def test_compiled_schemas_give_jsonschemas_verdict(schema, value):
    check = compile_schema(schema)
    assert check is not None  # every keyword generated here is one it compiles
    assert check(value) == Draft202012Validator(schema).is_valid(value)


# Tool parameters: an object schema at the root (its keys in any order, so root keywords meet in any
# order), and arguments that are mostly objects.
root_schemas = st.fixed_dictionaries(
    {},
    optional={
        "type": st.just("object") | st.sampled_from(TYPES) | st.just(["object", "null"]),
        "properties": st.dictionaries(st.sampled_from(KEYS), schemas | st.just(False), max_size=3),
        "required": st.lists(st.sampled_from(KEYS), max_size=2, unique=True),
        "additionalProperties": schemas,
        "enum": st.lists(values, min_size=1, max_size=2),
        "minProperties": st.integers(0, 2),
    },
).flatmap(lambda schema: st.permutations(list(schema.items())).map(dict))
LONG_KEY = "k" * 130  # past the 120 characters a message shows of a key
arguments = st.dictionaries(st.sampled_from([*KEYS, "d", LONG_KEY]), values, max_size=4) | values


@settings(max_examples=600, deadline=None)
@given(root_schemas, arguments)
def test_the_reported_schema_error_is_jsonschemas_first_by_path(schema, value):
    """What the validity scorer says is wrong: the first by path of every error evalkit's validator
    builds (jsonschema's, with the keywords evalkit runs itself), whether it comes from root_error,
    from validating key by key, or from every error built and sorted."""
    validator = ArgumentsValidator.for_schema(schema)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
    first = validator.first_error(value)
    assert (first is None) == (not errors)
    if errors:
        assert first is not None
        assert (list(first.path), first.message) == (list(errors[0].path), errors[0].message)
    shortcut = root_error(schema, value)
    if shortcut is not None:
        assert errors and not errors[0].path and shortcut == errors[0].message
