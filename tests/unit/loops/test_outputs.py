"""Tool outputs inside a loop (evalkit.loops.outputs): canned rules chosen by argument matchers, a
Python callable, and the error texts a real app would send back instead of failing."""

from __future__ import annotations

import json

import pytest

from evalkit.calls import ToolCall
from evalkit.loops.outputs import UNKNOWN_FUNCTION, OutputRule, ToolImplementation, ToolOutput, ToolOutputs, as_text
from evalkit.matchers import compile_arguments


def rule(output: object, when: dict | None = None) -> OutputRule:
    return OutputRule(output, compile_arguments(when) if when is not None else None)


def canned(*rules: OutputRule, function: str = "get_weather", **options: str) -> ToolOutputs:
    return ToolOutputs({function: ToolImplementation(rules=rules)}, **options)


def python(function: object, name: str = "get_weather") -> ToolOutputs:
    return ToolOutputs({name: ToolImplementation(function=function, reference=f"tools:{name}")})  # type: ignore[arg-type]


def weather(arguments: object) -> ToolCall:
    return ToolCall("get_weather", arguments if isinstance(arguments, str) else json.dumps(arguments), "call_1")


# --- canned rules ---------------------------------------------------------------------------------

RULES = canned(
    rule("18C and sunny", when={"city": "Paris"}),
    rule("a city starting with P", when={"city": {"regex": "P.*"}}),
    rule("Rome, in Fahrenheit", when={"city": "Rome", "unit": "F"}),
    rule("no data for that city"),
    rule("never reached: the default above wins"),
)


@pytest.mark.parametrize(
    ("arguments", "text"),
    [
        ({"city": "Paris"}, "18C and sunny"),  # the first two rules both match: the first wins
        ({"city": "Prague"}, "a city starting with P"),
        ({"city": "Rome", "unit": "F"}, "Rome, in Fahrenheit"),
        ({"city": "Rome", "unit": "C"}, "no data for that city"),  # no `when` matches: the default
        ({"city": "Paris", "unit": "C"}, "18C and sunny"),  # arguments a `when` does not name are ignored
        ({}, "no data for that city"),
    ],
)
def test_the_first_rule_whose_when_matches_wins(arguments, text):
    assert RULES.output_for(weather(arguments)) == ToolOutput(text)


def test_a_default_rule_before_others_shadows_them():
    outputs = canned(rule("default"), rule("Paris only", when={"city": "Paris"}))
    assert outputs.output_for(weather({"city": "Paris"})).text == "default"


def test_matchers_in_when():
    outputs = canned(
        rule("warm", when={"city": {"any_of": ["Rome", "Athens"]}}),
        rule("near zero", when={"lat": {"approx": 0, "tol": 0.5}}),
        rule("any unit", when={"unit": {"anything": True}}),
    )
    assert outputs.output_for(weather({"city": "Athens"})).text == "warm"
    assert outputs.output_for(weather({"city": "Quito", "lat": -0.2})).text == "near zero"
    assert outputs.output_for(weather({"city": "Oslo", "unit": "C"})).text == "any unit"


def test_no_default_rule_sends_an_error_text():
    outputs = canned(rule("18C", when={"city": "Paris"}))
    assert outputs.output_for(weather({"city": "Oslo"})) == ToolOutput(
        "error: get_weather has no output for these arguments", error=True
    )


@pytest.mark.parametrize(
    ("output", "text"),
    [
        ("18C", "18C"),  # strings as they are
        ('{"already": "json"}', '{"already": "json"}'),  # a string is never encoded again
        ({"temp": 18, "unit": "C"}, '{"temp": 18, "unit": "C"}'),
        ([1, 2.5, None], "[1, 2.5, null]"),
        (42, "42"),
        (True, "true"),
        (None, "null"),
        ({"city": "Zürich"}, '{"city": "Zürich"}'),  # not \u-escaped: the model reads it as written
    ],
)
def test_outputs_that_are_not_strings_are_sent_as_json(output, text):
    assert as_text(output) == text
    assert canned(rule(output)).output_for(weather({"city": "Paris"})).text == text


# --- a Python callable ----------------------------------------------------------------------------


def test_a_callable_gets_the_arguments_as_keywords():
    seen = []

    def get_weather(city: str, unit: str = "C") -> str:
        seen.append((city, unit))
        return f"{city}: 18{unit}"

    outputs = python(get_weather)
    assert outputs.output_for(weather({"city": "Paris"})) == ToolOutput("Paris: 18C")
    assert outputs.output_for(weather({"unit": "F", "city": "Rome"})) == ToolOutput("Rome: 18F")
    assert seen == [("Paris", "C"), ("Rome", "F")]


@pytest.mark.parametrize(
    ("returned", "text"),
    [
        ("sunny", "sunny"),
        ({"temp": 18.5, "tags": ["dry"]}, '{"temp": 18.5, "tags": ["dry"]}'),
        (7, "7"),
        (None, "null"),
    ],
)
def test_a_callables_return_value_is_text_or_json(returned, text):
    assert python(lambda **_: returned).output_for(weather({"city": "Paris"})) == ToolOutput(text)


def test_a_callable_that_raises_sends_an_error_text():
    def get_weather(city: str) -> str:
        raise LookupError(f"no station in {city}\nsecond line of detail")

    assert python(get_weather).output_for(weather({"city": "Atlantis"})) == ToolOutput(
        "error: get_weather failed: LookupError: no station in Atlantis", error=True
    )


def test_an_exception_without_a_message_names_only_its_type():
    def get_weather(**_: object) -> str:
        raise RuntimeError

    assert python(get_weather).output_for(weather({})) == ToolOutput(
        "error: get_weather failed: RuntimeError", error=True
    )


def test_arguments_the_callable_does_not_take_are_its_type_error():
    def get_weather(city: str) -> str:
        return city

    output = python(get_weather).output_for(weather({"city": "Paris", "town": "x"}))
    assert output.error
    assert output.text.startswith("error: get_weather failed: TypeError: ")
    assert "unexpected keyword argument 'town'" in output.text


# --- what a real app sends for a call it cannot serve ---------------------------------------------


def test_unknown_function_text():
    outputs = canned(rule("18C"))
    assert UNKNOWN_FUNCTION == "error: unknown function {name!r}"
    assert outputs.output_for(ToolCall("get_time", "{}", "call_2")) == ToolOutput(
        "error: unknown function 'get_time'", error=True
    )


def test_a_suites_unknown_tool_output():
    outputs = canned(rule("18C"), unknown="no tool named {name} here")
    assert outputs.output_for(ToolCall("get_time", "{}")) == ToolOutput("no tool named get_time here", error=True)


def test_an_unknown_tool_output_written_as_json():
    # BUG: ToolOutputs.output_for calls self.unknown.format(name=...), so any brace in the suite's
    # unknown_tool_output (JSON is the natural way to write a tool error) raises KeyError('"error"')
    # out of output_for, which promises never to raise; the runner turns the job into internal_error.
    outputs = canned(rule("18C"), unknown='{"error": "no tool {name}"}')
    assert outputs.output_for(ToolCall("get_time", "{}")) == ToolOutput('{"error": "no tool get_time"}', error=True)
    outputs = canned(rule("18C"), unknown='{"error": "unknown tool"}')
    assert outputs.output_for(ToolCall("get_time", "{}")) == ToolOutput('{"error": "unknown tool"}', error=True)


@pytest.mark.parametrize("outputs", [RULES, python(lambda **_: "never called")], ids=["canned", "python"])
def test_invalid_json_arguments_send_an_error_text(outputs):
    assert outputs.output_for(weather('{"city": ')) == ToolOutput(
        "error: the arguments of get_weather are not valid JSON (Expecting value: line 1 column 10 (char 9))",
        error=True,
    )
    assert outputs.output_for(weather('["Paris"]')) == ToolOutput(
        "error: the arguments of get_weather must be a JSON object", error=True
    )


def test_a_callable_is_not_run_for_arguments_it_cannot_take():
    def get_weather(**_: object) -> str:
        raise AssertionError("must not be called")

    assert python(get_weather).output_for(weather("not json")).error


def test_empty_arguments_are_no_arguments():
    # Some servers stream "" for a function without parameters.
    assert RULES.output_for(ToolCall("get_weather", "", "call_1")) == ToolOutput("no data for that city")


def test_the_same_call_gets_the_same_output():
    # A replay sends the outputs again: a different text would be a different request (a miss).
    call = weather({"city": "Paris"})
    assert RULES.output_for(call) == RULES.output_for(call)


def test_tool_outputs_are_truthy_only_with_implementations():
    assert not ToolOutputs()
    assert RULES
