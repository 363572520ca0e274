"""Tool schemas at scoring: a model's arguments, whatever they are, never make validation raise or
hang against a schema that passed the load checks; regexes on model output are time-bounded."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit import Case, Expectation, ExpectedCall, ToolCall, Turn
from evalkit.cases import load_cases
from evalkit.matchers import compile_arguments
from evalkit.patterns import TIMEOUT
from evalkit.schemas import schema_problem
from evalkit.scorers import failures_of, score_job
from evalkit.tools import arguments_validator, tool_problem

REPO = Path(__file__).resolve().parents[2]


def tool(parameters: dict[str, Any], *, strict: bool = False) -> dict[str, Any]:
    function: dict[str, Any] = {"name": "f", "parameters": parameters}
    if strict:
        function["strict"] = True
    return {"type": "function", "function": function}


# Schemas that pass the load checks and exercise every keyword that runs on model output.
EDGE_SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"s": {"type": "string", "pattern": "(a|a)*$"}, "t": {"pattern": r"^(\w+\s?)*$"}}},
    {"type": "object", "patternProperties": {"^a": {"type": "integer"}, "(?i)^b": {}}, "additionalProperties": False},
    {"type": "object", "patternProperties": {"(a|a)*$": {}}, "additionalProperties": {"type": "string"}},
    {
        "type": "object",
        "properties": {"kind": {"enum": ["x", "y"]}},
        "patternProperties": {"(a|a)*!": {}},
        "allOf": [{"if": {"properties": {"kind": {"const": "x"}}}, "then": {"properties": {"x": {}}}, "else": {}}],
        "dependentSchemas": {"kind": {"properties": {"k": {"type": "number"}}}},
        "anyOf": [{"properties": {"n": {}}}, {}],
        "unevaluatedProperties": False,
    },
    {"type": "object", "unevaluatedProperties": {"type": "string", "pattern": "(a|a)*$"}},
    {
        "type": "object",
        "properties": {"m": {"multipleOf": 0.1}, "c": {"multipleOf": 0.01}, "i": {"multipleOf": 3}},
        "additionalProperties": {"multipleOf": 1e-300},
    },
    {"type": "object", "properties": {"child": {"$ref": "#"}, "items": {"type": "array", "items": {"$ref": "#"}}}},
    {
        "type": "object",
        "$dynamicAnchor": "node",
        "properties": {"children": {"type": "array", "items": {"$dynamicRef": "#node"}}},
    },
    {
        "type": "object",
        "properties": {"sub": {"$id": "https://example.com/sub", "$defs": {"q": {"$anchor": "q", "type": "string"}}}},
        "additionalProperties": {"$ref": "https://example.com/sub#q"},
    },
    {"type": "object", "properties": {"schema": {"$ref": "https://json-schema.org/draft/2020-12/schema"}}},
    {
        "type": "object",
        "properties": {
            "u": {"type": "array", "uniqueItems": True},
            "e": {"enum": [{"a": [1, 2]}, None, 1.5]},
            "c": {"const": {"deep": [[1]]}},
            "p": {
                "prefixItems": [{"type": "string"}],
                "items": False,
                "contains": {"type": "integer"},
                "maxContains": 2,
            },
            "n": {"type": "object", "propertyNames": {"pattern": "(a|a)*$", "maxLength": 40}},
            "r": {"type": "number", "minimum": 0, "exclusiveMaximum": 1e308},
        },
        "required": ["u"],
    },
    {
        "type": "object",
        "$defs": {"old": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"}},
        "properties": {"o": {"$ref": "#/$defs/old"}},
    },
]

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, -(10**4000), 0, 3]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["a" * 40 + "!", "word " * 30 + "!", "B", "a1", "x", "kind"]),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["s", "t", "a", "b", "kind", "x", "k", "n", "child", "m", "u", "a" * 40 + "!"])
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def nested(depth: int, key: str) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {key: value} if key != "[" else [value]
    return value


@pytest.mark.parametrize("parameters", EDGE_SCHEMAS, ids=range(len(EDGE_SCHEMAS)))
def test_edge_schemas_pass_the_load_checks(parameters: dict[str, Any]) -> None:
    assert tool_problem(tool(parameters)) is None


def shipped_tools() -> list[dict[str, Any]]:
    return [dict(t) for suite in load_cases(REPO / "cases") for t in suite.tools]


ALL_TOOLS = [
    *shipped_tools(),
    *(tool(s) for s in EDGE_SCHEMAS),
    *(tool(s, strict=True) for s in EDGE_SCHEMAS),
]


@settings(max_examples=int(os.environ.get("EVALKIT_FUZZ_EXAMPLES", "300")), deadline=None)
@given(index=st.integers(0, len(ALL_TOOLS) - 1), arguments=JSON_VALUES)
def test_validating_any_arguments_never_raises(index: int, arguments: Any) -> None:
    validator = arguments_validator(ALL_TOOLS[index])
    errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))  # as the validity scorer does
    for error in errors:
        assert isinstance(error.message, str) and "/".join(str(p) for p in error.absolute_path) is not None


@pytest.mark.parametrize("index", range(len(ALL_TOOLS)))
def test_deeply_nested_arguments_are_an_error_not_a_crash(index: int) -> None:
    for key in ("child", "children", "["):
        for depth in (50, 400):
            list(arguments_validator(ALL_TOOLS[index]).iter_errors(nested(depth, key)))


def test_remote_refs_are_never_fetched() -> None:
    # The load check refuses it; and a validator built anyway must not reach for the network.
    parameters = {"type": "object", "properties": {"x": {"$ref": "http://127.0.0.1:9/schema.json"}}}
    assert schema_problem(parameters) is not None
    with pytest.raises(Exception, match="Unresolvable"):
        list(arguments_validator(tool(parameters)).iter_errors({"x": 1}))


def test_joined_inline_flags_do_not_break_additional_properties() -> None:
    # jsonschema joins patternProperties with '|', which `re` refuses once one has an inline flag.
    validator = arguments_validator(tool(EDGE_SCHEMAS[1]))
    assert [e.message for e in validator.iter_errors({"a": 1, "B": 2, "c": 3})] == [
        "'c' does not match any of the regexes: '(?i)^b', '^a'"
    ]


def test_multiple_of_takes_infinity_nan_and_huge_integers() -> None:
    validator = arguments_validator(tool(EDGE_SCHEMAS[5]))
    messages = {e.message for e in validator.iter_errors({"m": float("inf"), "c": float("nan"), "i": 10**400})}
    assert messages == {
        "inf is not a multiple of 0.1",
        "nan is not a multiple of 0.01",
        "1" + "0" * 118 + "… is not a multiple of 3",  # 10**400 % 3 == 1, shown clipped
    }
    assert list(validator.iter_errors({"m": 0.5, "c": 0.25, "i": 9})) == []  # as jsonschema decides


def test_unique_items_is_linear_and_keeps_jsonschemas_equality() -> None:
    validator = arguments_validator(tool(EDGE_SCHEMAS[10]))
    # 20,000 distinct objects: pairwise comparison would be 2e8 steps (minutes); linear is instant.
    # No wall-clock assertion (shared machines are noisy): bench/ measures speed, a hang stops the suite.
    assert list(validator.iter_errors({"u": [{"i": i} for i in range(20_000)]})) == []
    for duplicated in ([1, 1.0], [{"a": [1]}, {"a": [1.0]}], ["x", "x"]):
        assert [e.message for e in validator.iter_errors({"u": duplicated})] == [
            f"{duplicated!r} has non-unique elements"
        ]
    for unique in ([1, True], [0, False], [{"a": 1}, {"a": 1, "b": 2}], [[1, 2], [2, 1]], [float("nan"), float("nan")]):
        assert list(validator.iter_errors({"u": unique})) == [], unique


# --- regexes on model output ----------------------------------------------------------------------


def case_expecting(arguments: dict[str, Any]) -> Case:
    return Case("s", "c", (), Expectation((ExpectedCall("f", compile_arguments(arguments)),)))


def test_a_catastrophic_schema_pattern_is_a_schema_violation_not_a_hang() -> None:
    offered = [tool({"type": "object", "properties": {"s": {"type": "string", "pattern": "(a|a)*$"}}})]
    turn = Turn((ToolCall("f", json.dumps({"s": "a" * 50 + "!"}), "c1"),), None, "tool_calls")
    _, scores = score_job(case_expecting({}), turn, offered)  # ends: the engine has a time limit
    failures = [(f.kind, f.explanation) for f in failures_of(scores)]
    assert failures == [
        (
            "schema_violation",
            (
                f"f: s: pattern /(a|a)*$/ took too long (over {TIMEOUT:g} s) on a 51-character string, "
                "so it is not taken as a match"
            ),
        )
    ]


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|a)*$", "(a|aa)+$", r"^(\w+\s?)*$"])
def test_catastrophic_regex_matchers_end_with_a_verdict(pattern: str) -> None:
    # The regex engine runs with a time limit (patterns.TIMEOUT), so these end; no wall-clock
    # assertion here (shared machines are noisy): a hang would stop the suite instead.
    offered = [tool({"type": "object", "properties": {"s": {"type": "string"}}})]
    turn = Turn((ToolCall("f", json.dumps({"s": "a" * 50 + "!"}), "c1"),), None, "tool_calls")
    _, scores = score_job(case_expecting({"s": {"regex": pattern}}), turn, offered)
    (failure,) = [f for f in failures_of(scores) if f.kind == "wrong_value"]
    assert failure.explanation.startswith("f: s: ")
    assert "took too long" in failure.explanation or "expected a string that fully matches" in failure.explanation


def test_a_regex_matcher_that_times_out_says_so() -> None:
    matcher = compile_arguments({"s": {"regex": "(a|a)*"}})
    assert matcher.mismatch({"s": "a" * 50 + "!"}) == (
        f"s: pattern /(a|a)*/ took too long (over {TIMEOUT:g} s) on a 51-character string, so it does not "
        "count as a match; got 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'"
    )
    assert matcher.mismatch({"s": "aaaa"}) is None  # the same pattern on ordinary input still matches
