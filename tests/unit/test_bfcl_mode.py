"""bfcl mode (scorers/bfcl.py): each rule of BFCL's checker as a one-line example, both modes side
by side where they differ, the any_call expectation, the ignore_case fix, and the compiled
argument validation against jsonschema itself."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from evalkit import Case, Expectation, ExpectedCall, ToolCall, Turn
from evalkit.matchers import compile_arguments, compile_matcher
from evalkit.scorers import score_job
from evalkit.scorers.bfcl import normalise
from evalkit.scorers.modes import other_mode
from evalkit.validation import compile_schema

PROPS = {
    "s": {"type": "string"},
    "n": {"type": "integer"},
    "x": {"type": "number"},
    "b": {"type": "boolean"},
    "floats": {"type": "array", "items": {"type": "number"}},
    "words": {"type": "array", "items": {"type": "string"}},
    "o": {"type": "object"},
    "objs": {"type": "array", "items": {"type": "object"}},
    "flag": {"type": "string", "enum": ["True", "False"], "x-bfcl-type": "boolean"},
    "u": {"type": "string", "enum": ["celsius", "fahrenheit"]},
}
TOOLS = (
    {
        "type": "function",
        "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": PROPS}},
    },
    {
        "type": "function",
        "function": {
            "name": "g",
            "description": "d",
            "parameters": {"type": "object", "properties": {"k": {"type": "integer"}}},
        },
    },
    {
        "type": "function",
        "function": {"name": "a.b", "description": "dotted", "parameters": {"type": "object", "properties": {}}},
    },
)


def case(*calls: tuple[str, dict[str, Any]], no_call: bool = False, any_call: bool = False) -> Case:
    expected = tuple(ExpectedCall(name, compile_arguments(args)) for name, args in calls)
    return Case("s", "c", ({"role": "user", "content": "hi"},), Expectation(expected, any_call=any_call))


def verdict(c: Case, *produced: tuple[str, Any], bfcl: bool = True, content: str | None = None) -> str:
    calls = tuple(ToolCall(n, a if isinstance(a, str) else json.dumps(a)) for n, a in produced)
    return score_job(c, Turn(calls, content, "tool_calls" if calls else "stop"), TOOLS, bfcl=bfcl)[0]


# --- one line per rule: (expected arguments, produced arguments, BFCL's verdict) -----------------

RULES = [
    # strings: normalised on both sides (case; spaces and , . / - _ * ^ removed)
    ({"s": "San Francisco, CA"}, {"s": "san francisco ca"}, "passed"),
    ({"s": "April 1, 2024"}, {"s": "april-1-2024"}, "passed"),
    ({"s": "Paris"}, {"s": "Pariss"}, "failed"),
    # an int for a float parameter passes; a float for an integer does not; a bool is never a number
    ({"x": 5.0}, {"x": 5}, "passed"),
    ({"n": 10}, {"n": 10.0}, "failed"),
    ({"n": 1}, {"n": True}, "failed"),
    ({"b": True}, {"b": 1}, "failed"),
    # element types are strict inside lists; lists compare in order, strings in them normalised
    ({"floats": [1.5, 2.0]}, {"floats": [1.5, 2]}, "failed"),
    ({"words": ["Paris", "Rome"]}, {"words": ["paris", "ROME"]}, "passed"),
    ({"words": ["Paris", "Rome"]}, {"words": ["Rome", "Paris"]}, "failed"),
    # objects one level deep: keys must be expected, values accepted (normalised), missing keys optional only
    ({"o": {"city": "Paris"}}, {"o": {"city": "paris"}}, "passed"),
    ({"o": {"city": "Paris"}}, {"o": {"city": "Paris", "zip": 1}}, "failed"),
    ({"o": {"city": "Paris", "zip": {"any_of": [1], "optional": True}}}, {"o": {"city": "Paris"}}, "passed"),
    ({"objs": [{"a": 1}]}, {"objs": [{"a": 1}]}, "passed"),
    ({"objs": [{"a": 1}]}, {"objs": [{"a": 2}]}, "failed"),
    # parameters: unexpected fails, missing fails unless optional
    ({"s": "a"}, {"s": "a", "n": 1}, "failed"),
    ({"s": "a", "n": 1}, {"s": "a"}, "failed"),
    ({"s": "a", "n": {"any_of": [1], "optional": True}}, {"s": "a"}, "passed"),
    # an enum-typed string BFCL declares boolean: compared as is (BFCL's "variable" rule), no normalisation
    ({"flag": "True"}, {"flag": "True"}, "passed"),
    ({"flag": "True"}, {"flag": "true"}, "failed"),
    # upper-cased enum values: BFCL normalises them (evalkit's default mode fails the schema)
    ({"u": "celsius"}, {"u": "Celsius"}, "passed"),
]


@pytest.mark.parametrize(("expected", "produced", "want"), RULES)
def test_bfcl_rule(expected, produced, want):
    assert verdict(case(("f", expected)), ("f", produced)) == want


def test_default_mode_differs_where_the_readme_says():
    assert verdict(case(("f", {"n": 10})), ("f", {"n": 10.0}), bfcl=False) == "passed"  # 10.0 is 10 by value
    assert verdict(case(("f", {"u": "celsius"})), ("f", {"u": "Celsius"}), bfcl=False) == "failed"  # enum
    assert verdict(case(("f", {"s": "a"})), ("f", {"s": "a", "n": 1}), bfcl=False) == "passed"  # unnamed: ignored


def test_call_count_and_greedy_pairing():
    # BFCL pairs each expected call, in order, with the first call that passes: the first
    # expectation takes k=1 and leaves nothing for the second. evalkit's optimal pairing passes.
    c = case(("g", {"k": {"any_of": [1, 2]}}), ("g", {"k": 1}))
    assert verdict(c, ("g", {"k": 1}), ("g", {"k": 2})) == "failed"
    assert verdict(c, ("g", {"k": 1}), ("g", {"k": 2}), bfcl=False) == "passed"
    assert verdict(case(("g", {"k": 1})), ("g", {"k": 1}), ("g", {"k": 1})) == "failed"  # one call expected


def test_dotted_names_compare_as_openai_style_tools_send_them():
    assert verdict(case(("a.b", {})), ("a_b", {})) == "passed"


def test_no_call_counts_undecodable_replies_as_no_call():
    c = case(no_call=True)
    assert verdict(c, content="I can't.") == "passed"
    assert verdict(c, ("f", "{not json")) == "passed"  # BFCL cannot decode it: no call
    assert verdict(c, ("f", "")) == "passed"  # json.loads("") fails too
    assert verdict(c, ("f", {"s": "a"})) == "failed"
    assert verdict(c, ("f", "{not json"), bfcl=False) == "failed"  # evalkit: malformed, not a refusal


def test_any_call_expects_some_call_to_any_offered_function():
    c = case(any_call=True)
    assert verdict(c, ("g", {"k": 1}), bfcl=False) == "passed"
    assert verdict(c, content="No.", bfcl=False) == "failed"
    assert verdict(c, ("invented", {}), bfcl=False) == "failed"  # hallucinated
    assert verdict(c, ("invented", {})) == "passed"  # BFCL passes any call
    assert verdict(c, ("g", "{oops")) == "failed"  # ...that it can decode
    assert c.expect.describe() == "any call" and not c.expect.no_call


def test_schema_validity_is_reported_but_not_part_of_the_pass():
    c = case(("f", {"n": 1}))
    status, scores = score_job(c, Turn((ToolCall("f", '{"n": 1, "s": null}'),), None, "tool_calls"), TOOLS, bfcl=True)
    validity = next(s for s in scores if s.scorer == "validity")
    assert validity.passed is False and status == "failed"  # s is unexpected for BFCL too
    c = case(("f", {"n": 1, "s": {"any_of": [None], "optional": True}}))
    status, scores = score_job(c, Turn((ToolCall("f", '{"n": 1, "s": null}'),), None, "tool_calls"), TOOLS, bfcl=True)
    assert status == "passed" and next(s for s in scores if s.scorer == "validity").passed is False


def test_the_reason_two_modes_differ():
    def reason(c: Case, *produced: tuple[str, Any]) -> str | None:
        turn = Turn(tuple(ToolCall(n, json.dumps(a)) for n, a in produced), None, "tool_calls")
        status, scores = score_job(c, turn, TOOLS)
        return other_mode(c, turn, TOOLS, bfcl=False, status=status, scores=scores, scorers=[s.scorer for s in scores])[
            "reason"
        ]

    assert reason(case(("f", {"n": 10})), ("f", {"n": 10.0})) == "int vs float"
    assert reason(case(("g", {"k": {"any_of": [1, 2]}}), ("g", {"k": 1})), ("g", {"k": 1}), ("g", {"k": 2})) == (
        "greedy vs optimal matching"
    )
    upper = case(("f", {"u": {"any_of": ["celsius"], "ignore_case": True}}))  # as the importer writes it
    assert reason(upper, ("f", {"u": "Celsius"})) == "schema-invalid arguments BFCL accepts"
    assert reason(case(("f", {"s": "a, b"})), ("f", {"s": "a b"})) == "string normalisation"
    assert reason(case(("f", {"s": "a"})), ("f", {"s": "a", "n": 1})) == "argument the case does not name"
    assert reason(case(("f", {"s": "a"})), ("f", {"s": "a"})) is None


def test_normalise_is_bfcls():
    assert normalise("San Francisco, CA/US-1_2*3^4.") == "sanfranciscocaus1234"
    assert normalise("it's") == 'it"s'


# --- ignore_case on any_of reaches lists and objects --------------------------------------------


def test_ignore_case_on_any_of_reaches_lists_and_objects():
    assert (
        compile_matcher({"any_of": [["Paris", "Rome"]], "ignore_case": True}, "x").mismatch(["paris", "rome"]) is None
    )
    assert compile_matcher({"equals": ["Paris", "Rome"], "ignore_case": True}, "x").mismatch(["paris", "rome"]) is None
    assert compile_matcher({"any_of": [{"city": "Paris"}], "ignore_case": True}, "x").matches({"city": "PARIS"})
    assert not compile_matcher({"any_of": [["Paris"]]}, "x").matches(["paris"])


# --- compiled validation: jsonschema's verdict ---------------------------------------------------

SCHEMAS = [
    {"type": "object", "properties": PROPS, "required": ["s"]},
    {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 5}},
        "additionalProperties": False,
    },
    {
        "type": "object",
        "properties": {"l": {"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": 2}},
    },
    {"type": "object", "properties": {"e": {"enum": [1, "a", None, [1], {"k": True}]}, "c": {"const": 1.0}}},
    {
        "type": "object",
        "properties": {"t": {"type": ["string", "null"], "minLength": 2}},
        "additionalProperties": {"type": "integer"},
    },
    {"type": "object", "properties": {"x": {"exclusiveMinimum": 0, "exclusiveMaximum": 1}}},
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 6)
    | st.floats(-2, 7, allow_nan=False)
    | st.sampled_from(["", "a", "celsius", "True"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["k", "s"]), inner, max_size=2),
    max_leaves=6,
)
objects = st.dictionaries(st.sampled_from([*PROPS, "l", "e", "c", "t", "x", "zz"]), json_values, max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SCHEMAS), objects | json_values)
def test_compiled_validation_agrees_with_jsonschema(schema, value):
    check = compile_schema(schema)
    assert check is not None
    assert check(value) == Draft202012Validator(schema).is_valid(value)


def test_schemas_with_other_keywords_go_to_jsonschema():
    assert compile_schema({"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}}) is None
    assert compile_schema({"anyOf": [{"type": "string"}]}) is None
    assert compile_schema({"type": "string", "pattern": "^a"}) is None


STRICT = [
    {"type": "function", "function": {"name": "t", "description": "d", "strict": True, "parameters": s}}
    for s in SCHEMAS
] + [{"type": "function", "function": {"name": "t", "description": "d", "parameters": s}} for s in SCHEMAS]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(STRICT), objects)
def test_failure_messages_are_jsonschemas_first_error(tool, value):
    from evalkit.tools import arguments_error, arguments_validator

    errors = sorted(arguments_validator(tool).iter_errors(value), key=lambda e: list(e.path))
    if not errors:
        return
    where = "/".join(str(p) for p in errors[0].absolute_path)
    assert arguments_error(tool, value) == (f"{where}: {errors[0].message}" if where else errors[0].message)
