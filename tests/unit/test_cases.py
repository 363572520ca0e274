"""Case files: loading, the in-memory Case, and every validation error word for word."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

from evalkit import CaseFileError, load_cases
from evalkit.cases import load_suite_file
from evalkit.errors import CaseFileErrors
from evalkit.matchers import Equals, Regex

TOOLS = """\
version: 1
suite: weather
tools:
  - type: function
    function:
      name: get_weather
      description: Weather for a city.
      parameters:
        type: object
        properties:
          city: {type: string}
          unit: {type: string, enum: [C, F]}
        required: [city]
  - type: function
    function: {name: get_time, description: The time now.}
"""


def write(folder: Path, text: str, name: str = "suite.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def suite_with(folder: Path, cases: str, *, head: str = TOOLS, name: str = "suite.yaml") -> Path:
    return write(folder, head + "cases:\n" + textwrap.indent(textwrap.dedent(cases), "  "), name)


def error_of(path: Path) -> str:
    with pytest.raises(CaseFileError) as info:
        load_suite_file(path)
    return str(info.value)


# --- loading what is right ----------------------------------------------------------------------


def test_a_suite_loads_into_cases(tmp_path):
    path = suite_with(
        tmp_path,
        """\
        - id: paris
          prompt: Weather in Paris?
          expect:
            calls:
              - {name: get_weather, arguments: {city: {regex: "Paris.*"}, unit: C}}
              - {name: get_time}
          tags: [parallel]
        - id: joke
          prompt: Tell me a joke.
          expect: {no_call: true}
        """,
    )
    (suite,) = load_cases(path)
    assert suite.name == "weather"
    assert suite.file == str(path)
    assert [t["function"]["name"] for t in suite.tools] == ["get_weather", "get_time"]
    paris, joke = suite.cases
    assert paris.key == "weather/paris"
    assert paris.messages == ({"role": "user", "content": "Weather in Paris?"},)
    assert paris.tags == ("parallel",)
    assert [c.name for c in paris.expect.calls] == ["get_weather", "get_time"]
    assert dict(paris.expect.calls[0].arguments.fields) == {"city": Regex(pattern="Paris.*"), "unit": Equals(value="C")}
    assert not paris.expect.no_call and not paris.expect.ordered
    assert paris.expect.describe() == "get_weather(city=/Paris.*/, unit='C'), get_time()"
    assert joke.expect.no_call
    assert joke.expect.describe() == "no call"


def test_defaults_add_a_system_message_and_tags(tmp_path):
    head = TOOLS + "defaults: {system: Be brief., tags: [weather]}\n"
    path = suite_with(
        tmp_path,
        """\
        - id: a
          prompt: hi
          tags: [smoke, weather]
          expect: {no_call: true}
        - id: b
          prompt: hi
          system: Be verbose.
          expect: {no_call: true}
        - id: c
          messages:
            - {role: system, content: Own system.}
            - {role: user, content: hi}
          expect: {no_call: true}
        """,
        head=head,
    )
    a, b, c = load_suite_file(path).cases
    assert a.messages[0] == {"role": "system", "content": "Be brief."}
    assert a.tags == ("weather", "smoke")  # defaults first, no repeats
    assert b.messages[0] == {"role": "system", "content": "Be verbose."}
    assert c.messages == ({"role": "system", "content": "Own system."}, {"role": "user", "content": "hi"})


def test_messages_keep_earlier_tool_calls_and_results(tmp_path):
    path = suite_with(
        tmp_path,
        """\
        - id: follow-up
          messages:
            - {role: user, content: "Weather in Paris?"}
            - role: assistant
              tool_calls: [{id: c1, type: function, function: {name: get_weather, arguments: '{"city": "Paris"}'}}]
            - {role: tool, tool_call_id: c1, content: '{"temp": 20}'}
            - {role: user, content: "And the time?"}
          expect: {calls: [{name: get_time}]}
        """,
    )
    (case,) = load_suite_file(path).cases
    assert [m["role"] for m in case.messages] == ["user", "assistant", "tool", "user"]
    assert case.messages[1]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_ordered_exact_and_forbid_are_kept(tmp_path):
    path = suite_with(
        tmp_path,
        """\
        - id: a
          prompt: hi
          expect:
            ordered: true
            calls: [{name: get_weather, arguments: {city: Paris}, exact: true}, {name: get_time}]
          forbid:
            - {name: get_weather, arguments: {city: Rome}}
            - {arguments: {unit: F}}
        """,
    )
    (case,) = load_suite_file(path).cases
    assert case.expect.ordered
    assert case.expect.calls[0].arguments.exact and not case.expect.calls[1].arguments.exact
    assert [f.name for f in case.forbid] == ["get_weather", ""]
    assert case.forbid[1].arguments.mismatch({"unit": "F"}) is None


def test_tools_file_is_read_beside_the_case_file(tmp_path):
    (tmp_path / "tools").mkdir()
    write(tmp_path / "tools", "tools:\n  - {type: function, function: {name: ping}}\n", "shared.yaml")
    write(
        tmp_path,
        """\
        version: 1
        suite: s
        tools_file: tools/shared.yaml
        cases:
          - {id: a, prompt: hi, expect: {calls: [{name: ping}]}}
        """,
    )
    # a folder load skips `tools/` folders: they hold tool files, not suites
    (suite,) = load_cases(tmp_path)
    assert [t["function"]["name"] for t in suite.tools] == ["ping"]


def test_legacy_functions_become_tools(tmp_path):
    path = write(
        tmp_path,
        """\
        version: 1
        suite: legacy
        functions:
          - name: get_weather
            description: Weather for a city.
            parameters: {type: object, properties: {city: {type: string}}}
        cases:
          - {id: a, prompt: hi, expect: {calls: [{name: get_weather, arguments: {city: Paris}}]}}
        """,
    )
    (tool,) = load_suite_file(path).tools
    assert tool == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }


def test_pydantic_tools_come_from_a_module_beside_the_case_file(tmp_path):
    module = f"evalkit_test_tools_{uuid.uuid4().hex}"  # imports are cached per name: keep it unique
    write(
        tmp_path,
        """\
        from pydantic import BaseModel, Field


        class LookupOrder(BaseModel):
            \"\"\"Look up an order by id.\"\"\"

            order_id: str = Field(description="The order id")
        """,
        f"{module}.py",
    )
    path = suite_with(
        tmp_path,
        """\
        - id: a
          prompt: Where is order 42?
          expect: {calls: [{name: LookupOrder, arguments: {order_id: "42"}}]}
        """,
        head=f'version: 1\nsuite: orders\ntools:\n  - pydantic: "{module}:LookupOrder"\n',
    )
    (tool,) = load_suite_file(path).tools
    function = tool["function"]
    assert tool["type"] == "function"
    assert function["name"] == "LookupOrder"
    assert function["strict"] is True
    assert function["description"] == "Look up an order by id."
    assert function["parameters"]["required"] == ["order_id"]
    assert function["parameters"]["additionalProperties"] is False


def test_pydantic_tool_that_cannot_be_imported(tmp_path):
    path = suite_with(
        tmp_path,
        "- {id: a, prompt: hi, expect: {no_call: true}}\n",
        head='version: 1\nsuite: s\ntools:\n  - pydantic: "no_such_module_for_evalkit_tests:Model"\n',
    )
    assert error_of(path) == (
        f"{path}, field 'tools[0].pydantic': cannot import 'no_such_module_for_evalkit_tests:Model': "
        "No module named 'no_such_module_for_evalkit_tests'"
    )


def test_pydantic_reference_needs_a_colon(tmp_path):
    path = suite_with(
        tmp_path,
        "- {id: a, prompt: hi, expect: {no_call: true}}\n",
        head="version: 1\nsuite: s\ntools:\n  - pydantic: strict_tools.GetWeather\n",
    )
    assert (
        error_of(path)
        == f"{path}, field 'tools[0].pydantic': expected 'module:ModelClass' (a dotted module name, ':', a class name), "
        "got 'strict_tools.GetWeather'"
    )


# --- errors, word for word ----------------------------------------------------------------------


def test_invalid_yaml_names_line_and_column(tmp_path):
    path = write(tmp_path, "version: 1\nsuite: s\ncases:\n  - id: a\n     prompt: hi\n")
    assert error_of(path) == f"{path}: is not valid YAML at line 5, column 12: mapping values are not allowed here"


def test_a_file_that_is_not_a_mapping(tmp_path):
    path = write(tmp_path, "- 1\n- 2\n")
    assert error_of(path) == f"{path}: must be a mapping with version, suite, tools and cases; got list"


def test_an_empty_file_says_so(tmp_path):
    path = write(tmp_path, "")
    assert error_of(path) == f"{path}: the file is empty; a case file is a mapping with version, suite, tools and cases"


def test_unknown_case_field_lists_valid_fields(tmp_path):
    path = suite_with(tmp_path, "- {id: a, promt: hi, expect: {no_call: true}}\n")
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].promt': unknown field 'promt' (did you mean 'prompt'?). "
        "Valid fields: id, prompt, messages, system, expect, forbid, tags, tools, tool_outputs, max_steps"
    )


def test_unknown_field_in_a_call_lists_valid_fields(tmp_path):
    path = suite_with(tmp_path, "- {id: a, prompt: hi, expect: {calls: [{name: get_time, args: {}}]}}\n")
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].expect.calls[0].args': unknown field 'args'. Valid fields: name, arguments, exact"
    )


def test_unknown_top_level_field_lists_valid_fields(tmp_path):
    path = write(tmp_path, TOOLS + "tags: [x]\ncases:\n  - {id: a, prompt: hi, expect: {no_call: true}}\n")
    assert error_of(path) == (
        f"{path}, field 'tags': unknown field 'tags'. "
        "Valid fields: version, suite, description, tools, tools_file, functions, defaults, tool_outputs, "
        "unknown_tool_output, cases"
    )


def test_missing_expect(tmp_path):
    path = suite_with(tmp_path, "- {id: a, prompt: hi}\n")
    assert error_of(path) == f"{path}, case 'a', field 'cases[0].expect': required field 'expect' is missing"


def test_expect_needs_calls_or_no_call(tmp_path):
    path = suite_with(tmp_path, "- {id: a, prompt: hi, expect: {calls: []}}\n")
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].expect': give one of 'calls: [...]' (one or more), 'no_call: true' or "
        "'any_call: true', or for a loop 'steps', 'trajectory' or 'answer'"
    )
    path = suite_with(tmp_path, "- {id: a, prompt: hi, expect: {no_call: true, calls: [{name: get_time}]}}\n")
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].expect': give one of 'calls: [...]' (one or more), 'no_call: true' or 'any_call: true', not calls and no_call"
    )


def test_both_prompt_and_messages(tmp_path):
    path = suite_with(
        tmp_path, "- {id: a, prompt: hi, messages: [{role: user, content: hi}], expect: {no_call: true}}\n"
    )
    assert (
        error_of(path)
        == f"{path}, case 'a', field 'cases[0]': give either 'prompt: ...' or 'messages: [...]', not both"
    )


def test_neither_prompt_nor_messages(tmp_path):
    path = suite_with(tmp_path, "- {id: a, expect: {no_call: true}}\n")
    assert error_of(path) == f"{path}, case 'a', field 'cases[0]': give either 'prompt: ...' or 'messages: [...]'"


def test_call_to_a_function_that_is_not_a_tool_lists_the_tools(tmp_path):
    path = suite_with(tmp_path, "- {id: a, prompt: hi, expect: {calls: [{name: get_wether}]}}\n")
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].expect.calls[0].name': "
        "function 'get_wether' is not one of the suite's tools: get_time, get_weather"
    )


def test_forbid_naming_a_function_that_is_not_a_tool(tmp_path):
    path = suite_with(tmp_path, "- {id: a, prompt: hi, expect: {no_call: true}, forbid: [{name: delete_all}]}\n")
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].forbid[0].name': "
        "function 'delete_all' is not one of the suite's tools: get_time, get_weather"
    )


def test_argument_the_schema_lacks_lists_the_parameters(tmp_path):
    path = suite_with(
        tmp_path, "- {id: a, prompt: hi, expect: {calls: [{name: get_weather, arguments: {town: Paris}}]}}\n"
    )
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].expect.calls[0].arguments.town': "
        "'get_weather' has no parameter 'town'; its parameters: city, unit"
    )
    path = suite_with(tmp_path, "- {id: a, prompt: hi, expect: {calls: [{name: get_time, arguments: {tz: UTC}}]}}\n")
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].expect.calls[0].arguments.tz': "
        "'get_time' has no parameter 'tz'; its parameters: (none)"
    )


def test_bad_matcher_names_the_argument_path(tmp_path):
    path = suite_with(
        tmp_path, "- {id: a, prompt: hi, expect: {calls: [{name: get_weather, arguments: {city: {regex: '('}}}]}}\n"
    )
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].expect.calls[0].arguments.city': "
        "regex '(' does not compile: missing ) at position 1 (see 'Argument matchers' in the README)"
    )


def test_duplicate_case_id(tmp_path):
    path = suite_with(
        tmp_path,
        """\
        - {id: a, prompt: hi, expect: {no_call: true}}
        - {id: b, prompt: hi, expect: {no_call: true}}
        - {id: a, prompt: ho, expect: {no_call: true}}
        """,
    )
    assert error_of(path) == f"{path}, case 'a', field 'cases[2].id': duplicate case id; ids must be unique in a suite"


@pytest.mark.parametrize(
    ("cases", "field", "message"),
    [
        (  # one cassette path on macOS and Windows
            "- {id: Paris, prompt: hi, expect: {no_call: true}}\n- {id: paris, prompt: ho, expect: {no_call: true}}\n",
            "case 'paris', field 'cases[1].id'",
            (
                "duplicate case id as 'Paris' (differing only in letter case: one cassette path on macOS and "
                "Windows); ids must be unique in a suite"
            ),
        ),
        (  # its cassette at --tool-counts 4 would be paris's
            "- {id: paris--tools-4, prompt: hi, expect: {no_call: true}}\n",
            "case 'paris--tools-4', field 'cases[0].id'",
            "'--' is kept for the --tools-N / --trial-K suffixes of cassette names; use one '-' (got 'paris--tools-4')",
        ),
        (
            "- {id: a, prompt: hi, expect: {calls: [{name: get_weather, arguments: {city: {absent: true}}}]}}\n",
            "case 'a', field 'cases[0].expect.calls[0].arguments.city'",
            "expected absent, but the tool requires this parameter; no valid call can match it",
        ),
        (
            "- {id: a, prompt: hi, expect: {any_call: true, ordered: true}}\n",
            "case 'a', field 'cases[0].expect'",
            "'ordered: true' puts expected calls in order: it needs 'calls: [...]'",
        ),
    ],
)
def test_cases_that_could_never_pass_or_would_share_a_cassette_are_refused(
    tmp_path: Path, cases: str, field: str, message: str
) -> None:
    path = suite_with(tmp_path, cases)
    assert error_of(path) == f"{path}, {field}: {message}"


def test_a_bad_value_is_shown_as_the_file_writes_it(tmp_path: Path) -> None:
    path = suite_with(tmp_path, "- {id: a, prompt: true, tags: [null], expect: {no_call: true}}\n")
    with pytest.raises(CaseFileErrors) as info:
        load_suite_file(path)
    assert [str(e) for e in info.value.errors] == [
        f"{path}, case 'a', field 'cases[0].prompt': Input should be a valid string (got true)",
        f"{path}, case 'a', field 'cases[0].tags[0]': Input should be a valid string (got null)",
    ]


def test_suite_names_differing_only_in_letter_case_are_refused(tmp_path: Path) -> None:
    suite_with(tmp_path, "- {id: a, prompt: hi, expect: {no_call: true}}\n", name="one.yaml")
    other = suite_with(
        tmp_path,
        "- {id: a, prompt: hi, expect: {no_call: true}}\n",
        head=TOOLS.replace("weather", "Weather"),
        name="two.yaml",
    )
    with pytest.raises(CaseFileError) as info:
        load_cases(tmp_path)
    assert str(info.value) == (
        f"{other}, field 'suite': suite name 'Weather' is already used by {tmp_path / 'one.yaml'} as 'weather' "
        "(differing only in letter case: one cassette path on macOS and Windows); suite names must be unique"
    )


def test_bad_role_in_messages_lists_roles(tmp_path):
    path = suite_with(
        tmp_path,
        "- {id: a, messages: [{role: user, content: hi}, {role: robot, content: x}], expect: {no_call: true}}\n",
    )
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].messages[1].role': "
        "role 'robot' is not valid. Valid roles: system, developer, user, assistant, tool, function"
    )


def test_empty_messages(tmp_path):
    path = suite_with(tmp_path, "- {id: a, messages: [], expect: {no_call: true}}\n")
    assert (
        error_of(path)
        == f"{path}, case 'a', field 'cases[0].messages': messages is empty; give at least one user message"
    )


def test_version_2_is_not_supported(tmp_path):
    path = suite_with(
        tmp_path, "- {id: a, prompt: hi, expect: {no_call: true}}\n", head=TOOLS.replace("version: 1", "version: 2")
    )
    assert error_of(path) == f"{path}, field 'version': version 2 is not supported. Valid versions: 1"


def test_tools_file_missing(tmp_path):
    path = write(
        tmp_path,
        "version: 1\nsuite: s\ntools_file: tools/gone.yaml\ncases:\n  - {id: a, prompt: hi, expect: {no_call: true}}\n",
    )
    missing = (tmp_path / "tools" / "gone.yaml").resolve()
    assert (
        error_of(path)
        == f"{path}, field 'tools_file': tools_file 'tools/gone.yaml' does not exist (looked for {missing})"
    )


def test_tools_file_that_is_not_a_list(tmp_path):
    write(tmp_path, "tools: {name: ping}\n", "t.yaml")
    path = write(
        tmp_path, "version: 1\nsuite: s\ntools_file: t.yaml\ncases:\n  - {id: a, prompt: hi, expect: {no_call: true}}\n"
    )
    assert (
        error_of(path)
        == f"{path}, field 'tools_file': tools_file 't.yaml' must hold a list of tools (or 'tools: [...]')"
    )


def test_exactly_one_tool_source(tmp_path):
    path = write(tmp_path, "version: 1\nsuite: s\ncases:\n  - {id: a, prompt: hi, expect: {no_call: true}}\n")
    assert error_of(path) == f"{path}: give exactly one of 'tools', 'tools_file' or 'functions' (got none)"
    path = write(tmp_path, TOOLS + "functions: [{name: x}]\ncases:\n  - {id: a, prompt: hi, expect: {no_call: true}}\n")
    assert (
        error_of(path)
        == f"{path}: give exactly one of 'tools', 'tools_file' or 'functions' (got ['tools', 'functions'])"
    )


def test_bad_tool_definitions(tmp_path):
    path = suite_with(
        tmp_path, "- {id: a, prompt: hi, expect: {no_call: true}}\n", head="version: 1\nsuite: s\ntools: [{name: x}]\n"
    )
    assert (
        error_of(path)
        == f"{path}, field 'tools[0]': expected {{type: function, function: {{name, description, parameters}}}}"
    )
    path = suite_with(
        tmp_path,
        "- {id: a, prompt: hi, expect: {no_call: true}}\n",
        head="version: 1\nsuite: s\ntools: [{type: function, function: {name: 'get weather'}}]\n",
    )
    assert (
        error_of(path)
        == f"{path}, field 'tools[0]': function name 'get weather' must be 1-64 letters, digits, '_', '.' or '-'"
    )
    path = suite_with(
        tmp_path,
        "- {id: a, prompt: hi, expect: {no_call: true}}\n",
        head="version: 1\nsuite: s\ntools: [{type: function, function: {name: f, parameters: {type: array}}}]\n",
    )
    assert error_of(path) == f"{path}, field 'tools[0]': parameters of 'f' must be a JSON Schema of type object"
    path = suite_with(
        tmp_path,
        "- {id: a, prompt: hi, expect: {no_call: true}}\n",
        head=TOOLS + "  - {type: function, function: {name: get_time}}\n",
    )
    assert error_of(path) == f"{path}, field 'tools': tool names must be unique; repeated: get_time"


def test_load_cases_errors(tmp_path):
    with pytest.raises(CaseFileError) as info:
        load_cases(tmp_path / "nope")
    assert str(info.value) == f"{tmp_path / 'nope'}: no such file or directory; pass a case file or a folder of them"
    with pytest.raises(CaseFileError) as info:
        load_cases(tmp_path)
    assert str(info.value) == f"{tmp_path}: holds no case files (*.yaml); see the README for the format"


def test_suite_names_are_unique_across_files(tmp_path):
    first = suite_with(tmp_path, "- {id: a, prompt: hi, expect: {no_call: true}}\n", name="a.yaml")
    second = suite_with(tmp_path, "- {id: a, prompt: hi, expect: {no_call: true}}\n", name="b.yml")
    with pytest.raises(CaseFileError) as info:
        load_cases(tmp_path)
    assert str(info.value) == (
        f"{second}, field 'suite': suite name 'weather' is already used by {first}; suite names must be unique"
    )


def test_error_is_an_evalkit_error_with_its_parts(tmp_path):
    path = suite_with(tmp_path, "- {id: a, prompt: hi, expect: {calls: [{name: nope}]}}\n")
    with pytest.raises(CaseFileError) as info:
        load_suite_file(path)
    assert (info.value.file, info.value.case_id, info.value.field) == (str(path), "a", "cases[0].expect.calls[0].name")


# --- the shipped cases --------------------------------------------------------------------------


def test_shipped_cases_load(repo_root):
    suites = load_cases(repo_root / "cases")
    cases = [case for suite in suites for case in suite.cases]
    assert len(cases) >= 40
    assert sum("parallel" in case.tags for case in cases) >= 10
    assert sum(case.expect.no_call for case in cases) >= 8
    assert len({case.key for case in cases}) == len(cases)
    for case in cases:
        assert case.messages[-1]["role"] in ("user", "tool"), case.key


def test_a_forbid_rule_for_any_function_names_a_parameter_some_tool_has(tmp_path):
    """`forbid: [{arguments: {customerid: …}}]` (a typo of customer_id) would never match anything:
    the safety rule would be off without a word. It is an error naming the parameters there are."""
    (tmp_path / "s.yaml").write_text(
        textwrap.dedent(
            """
            version: 1
            suite: s
            tools:
              - {type: function, function: {name: lookup, parameters: {type: object, properties: {customer_id: {type: string}}}}}
            cases:
              - id: c1
                prompt: hi
                expect: {no_call: true}
                forbid:
                  - arguments: {customerid: "C-2"}
            """
        )
    )
    with pytest.raises(CaseFileError) as error:
        load_cases(tmp_path)
    assert "no tool has a parameter 'customerid'" in str(error.value)
    assert "customer_id" in str(error.value) and "forbid[0].arguments.customerid" in str(error.value)


IMPOSSIBLE_TOOLS = """
version: 1
suite: {suite}
tools:
  - type: function
    function:
      name: book
      parameters:
        type: object
        properties:
          species: {{type: string, enum: [dog, cat, rabbit]}}
          nails_only: {{type: boolean}}
          name: {{type: string}}
          weight: {{type: number}}
          size: {{$ref: "#/$defs/size"}}
        required: [species]
        $defs:
          size: {{type: string, enum: [small, large]}}
cases:
  - id: c1
    prompt: book it
    expect:
      calls:
        - name: book
          arguments: {arguments}
"""


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ("{species: hamster}", "the expected value 'hamster' is not valid for the parameter: 'hamster' is not one of"),
        ("{species: 5}", "the expected value 5 is not valid for the parameter: 5 is not of type 'string'"),
        ('{nails_only: "yes"}', "the expected value 'yes' is not valid"),
        ("{name: {approx: 3}}", "approx needs a number, but the parameter takes a string"),
        ("{species: {any_of: [hamster, ferret]}}", "none of the expected values is valid for the parameter"),
        ("{size: medium}", "'medium' is not one of ['small', 'large']"),  # through a $ref
    ],
)
def test_an_expected_value_no_valid_call_can_give_is_an_error(tmp_path, arguments, reason):
    (tmp_path / "s.yaml").write_text(IMPOSSIBLE_TOOLS.format(suite="pets", arguments=arguments))
    with pytest.raises(CaseFileError) as error:
        load_cases(tmp_path)
    message = str(error.value)
    assert reason in message and "no valid call can match it" in message
    assert "case 'c1'" in message and "expect.calls[0].arguments." in message


@pytest.mark.parametrize(
    "arguments",
    [
        "{species: dog, nails_only: true, weight: 3, size: small}",
        "{species: {any_of: [hamster, cat]}}",  # one option a valid call can give is enough
        "{species: {equals: Dog, ignore_case: true}}",  # `dog` matches it
        "{species: {regex: 'd.*'}}",  # patterns are not checked
        "{weight: {approx: 3.5}}",
        "{species: {not: hamster}}",
    ],
)
def test_expected_values_a_valid_call_can_give_load(tmp_path, arguments):
    (tmp_path / "s.yaml").write_text(IMPOSSIBLE_TOOLS.format(suite="pets", arguments=arguments))
    assert len(load_cases(tmp_path)[0].cases) == 1


def test_bfcl_suites_keep_answers_that_break_their_schema(tmp_path):
    """BFCL's own answers break their schemas (its checker does not look); bfcl mode scores them."""
    (tmp_path / "s.yaml").write_text(IMPOSSIBLE_TOOLS.format(suite="bfcl-simple", arguments="{species: hamster}"))
    assert len(load_cases(tmp_path)[0].cases) == 1
