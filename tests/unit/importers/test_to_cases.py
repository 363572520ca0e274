"""evalkit.importers.to_cases: recorded replies as case files that load, with the right messages,
tools and expectations, and a note for every reply that could not become a case."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from evalkit.cases import load_cases
from evalkit.errors import EvalkitError
from evalkit.importers.extract import extract
from evalkit.importers.to_cases import GENERATED, to_cases


def convert(kit: SimpleNamespace, tmp_path: Path, *interactions: dict, name: str = "app.yaml") -> tuple:
    kit.write(tmp_path / "cassettes" / name, *interactions)
    written = to_cases(extract([tmp_path / "cassettes"]), tmp_path / "cases")
    documents = [yaml.safe_load(s.path.read_text()) for s in written.suites]
    return written, documents


def notes(written: object) -> list[str]:
    return [str(n) for n in written.notes]  # type: ignore[attr-defined]


def test_a_chat_cassette_becomes_a_suite_that_loads(kit: SimpleNamespace, tmp_path: Path) -> None:
    first = kit.exchange(kit.chat_request(), kit.completion({"calls": [kit.call("get_weather", {"city": "Paris"})]}))
    followup = kit.chat_request()
    followup["messages"] += [
        {"role": "assistant", "content": None, "tool_calls": [kit.call("get_weather", {"city": "Paris"})]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    second = kit.exchange(followup, kit.completion({"content": "It is sunny."}))
    written, (document,) = convert(kit, tmp_path, first, second, name="weather app.yaml")
    (suite,) = written.suites
    assert (suite.suite, suite.path.name, suite.cases, written.notes) == ("weather-app", "weather-app.yaml", 2, ())
    assert document["tools"] == [kit.tool("get_weather", city="string")]
    assert [c["id"] for c in document["cases"]] == ["interaction-0", "interaction-1"]
    assert document["cases"][0] == {
        "id": "interaction-0",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "expect": {"calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
    }
    assert document["cases"][1]["messages"] == followup["messages"]
    assert document["cases"][1]["expect"] == {"no_call": True}
    text = suite.path.read_text()
    source = tmp_path / "cassettes" / "weather app.yaml"
    assert text.startswith(f"{GENERATED} from a recorded cassette:\n#   {source}\n")
    (loaded,) = load_cases(tmp_path / "cases")
    assert [c.expect.describe() for c in loaded.cases] == ["get_weather(city='Paris')", "no call"]


def test_responses_input_becomes_chat_messages(kit: SimpleNamespace, tmp_path: Path) -> None:
    request = {
        "model": "gpt-5",
        "instructions": "Use the tools.",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Weather in "}, {"type": "input_text", "text": "Oslo?"}],
            },
            {"type": "reasoning", "id": "rs_1", "encrypted_content": "gAAA"},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
            {"type": "function_call", "call_id": "c2", "name": "get_weather", "arguments": '{"city":"Bergen"}'},
            {"type": "function_call_output", "call_id": "c1", "output": "rain"},
            {"type": "function_call_output", "call_id": "c2", "output": "snow"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "Rain in Oslo, snow in Bergen."}]},
            {"role": "user", "content": "And in Paris?"},
        ],
        "tools": [
            {
                "type": "function",
                "name": "get_weather",
                "description": "d",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                "strict": None,
            }
        ],
    }
    reply = {
        "object": "response",
        "status": "completed",
        "output": [{"type": "function_call", "call_id": "c3", "name": "get_weather", "arguments": '{"city":"Paris"}'}],
    }
    _, (document,) = convert(kit, tmp_path, kit.exchange(request, reply, uri=kit.RESPONSES))
    assert document["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "d",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    (case,) = document["cases"]
    assert case["messages"] == [
        {"role": "system", "content": "Use the tools."},
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}},
                {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Bergen"}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "rain"},
        {"role": "tool", "tool_call_id": "c2", "content": "snow"},
        {"role": "assistant", "content": "Rain in Oslo, snow in Bergen."},
        {"role": "user", "content": "And in Paris?"},
    ]
    assert case["expect"] == {"calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}


def test_responses_string_input_is_a_user_message(kit: SimpleNamespace, tmp_path: Path) -> None:
    request = {"model": "m", "input": "Weather in Lima?", "tools": [{"type": "function", "name": "get_weather"}]}
    reply = {
        "object": "response",
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "Sunny."}]}],
    }
    _, (document,) = convert(kit, tmp_path, kit.exchange(request, reply, uri=kit.RESPONSES))
    assert document["cases"][0]["messages"] == [{"role": "user", "content": "Weather in Lima?"}]
    assert document["cases"][0]["expect"] == {"no_call": True}
    assert document["tools"] == [{"type": "function", "function": {"name": "get_weather"}}]


def test_legacy_functions_become_tools(kit: SimpleNamespace, tmp_path: Path) -> None:
    function = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
    request = kit.chat_request(tools=[], functions=[function])
    reply = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "function_call": {"name": "get_weather", "arguments": '{"city": "Quito"}'},
                },
                "finish_reason": "function_call",
            }
        ]
    }
    _, (document,) = convert(kit, tmp_path, kit.exchange(request, reply))
    assert document["tools"] == [{"type": "function", "function": function}]
    assert document["cases"][0]["expect"]["calls"] == [{"name": "get_weather", "arguments": {"city": "Quito"}}]


def test_assistants_tools_and_thread_messages(kit: SimpleNamespace, tmp_path: Path) -> None:
    written, (document,) = convert(kit, tmp_path, *kit.assistants())
    assert document["tools"] == [kit.tool("get_weather", city="string")]
    assert [c["id"] for c in document["cases"]] == ["interaction-5", "interaction-7"]
    asked, done = document["cases"]
    assert asked["messages"] == [
        {"role": "system", "content": "You are a weather bot."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    assert asked["expect"] == {"calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}
    assert [m["role"] for m in done["messages"]] == ["system", "user", "assistant", "tool"]
    assert done["expect"] == {"no_call": True}
    assert notes(written) == ["app.yaml: tools that are not functions left out: code_interpreter"]


def test_replies_that_cannot_be_cases_are_skipped_with_a_note(kit: SimpleNamespace, tmp_path: Path) -> None:
    tools = [kit.tool("get_weather", city="string")]
    interactions = [
        kit.exchange(kit.chat_request(tools=tools), {"error": {"message": "overloaded"}}, status=503),
        kit.exchange(kit.chat_request(tools=tools), kit.completion({"calls": [kit.call("get_weather", "{not json")]})),
        kit.exchange(kit.chat_request(tools=tools), kit.completion({"calls": [kit.call("get_weather", "[1, 2]")]})),
        kit.exchange(kit.chat_request(tools=tools), kit.completion({"calls": [kit.call("book_flight", {})]})),
        kit.exchange(
            kit.chat_request(tools=tools), kit.completion({"calls": [kit.call("get_weather", {"town": "X"})]})
        ),
        kit.exchange({**kit.chat_request(tools=tools), "messages": []}, kit.completion({"content": "?"})),
        kit.exchange(kit.chat_request(tools=[]), kit.completion({"content": "Hello"})),
        kit.exchange(
            kit.chat_request(tools=tools), kit.completion({"calls": [kit.call("get_weather", {"city": "Paris"})]})
        ),
        kit.exchange(
            kit.chat_request(tools=tools), kit.completion({"calls": [kit.call("get_weather", {"city": "Paris"})]})
        ),
    ]
    written, (document,) = convert(kit, tmp_path, *interactions)
    assert [c["id"] for c in document["cases"]] == ["interaction-7"]
    assert notes(written) == [
        "app.yaml #0: skipped: the reply is an error (http_error: HTTP 503: overloaded)",
        "app.yaml #1: skipped: the arguments of 'get_weather' are not a JSON object: {not json",
        "app.yaml #2: skipped: the arguments of 'get_weather' are not a JSON object: [1, 2]",
        "app.yaml #3: skipped: the reply calls 'book_flight', which the request did not offer",
        "app.yaml #4: skipped: 'get_weather' has no parameter 'town' (its parameters: city)",
        "app.yaml #5: skipped: the request holds no messages",
        "app.yaml #6: skipped: the request offered no function tools (nothing about tool calling to check)",
        "app.yaml #8: skipped: same request and calls as #7",
    ]
    replies = sum(r.reply for r in extract([tmp_path / "cassettes" / "app.yaml"])[0].interactions)
    assert written.cases == replies - sum(n.skipped_case for n in written.notes)


def test_n_choices_are_cases_each(kit: SimpleNamespace, tmp_path: Path) -> None:
    reply = kit.completion({"calls": [kit.call("get_weather", {"city": "Paris"})]}, {"content": "Which Paris?"})
    _, (document,) = convert(kit, tmp_path, kit.exchange(kit.chat_request(n=2), reply))
    assert [(c["id"], c["expect"]) for c in document["cases"]] == [
        ("interaction-0-choice-0", {"calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}),
        ("interaction-0-choice-1", {"no_call": True}),
    ]


def test_recorded_values_that_look_like_matchers_stay_literal(kit: SimpleNamespace, tmp_path: Path) -> None:
    tools = [kit.tool("search", filter="object", pattern="object", tags="array")]
    arguments = {"filter": {"regex": "^a"}, "pattern": {"optional": True, "x": 1}, "tags": [{"any_of": [1]}]}
    reply = kit.completion({"calls": [kit.call("search", arguments)]})
    _, (document,) = convert(kit, tmp_path, kit.exchange(kit.chat_request(tools=tools), reply))
    assert document["cases"][0]["expect"]["calls"][0]["arguments"] == {
        "filter": {"equals": {"regex": "^a"}},
        "pattern": {"equals": {"optional": True, "x": 1}},
        "tags": {"equals": [{"any_of": [1]}]},
    }
    (suite,) = load_cases(tmp_path / "cases")
    (expected,) = suite.cases[0].expect.calls
    assert expected.arguments.mismatches(arguments) == []
    assert expected.arguments.mismatches({**arguments, "filter": "abc"}) != []


def test_the_tools_are_the_union_first_definition_wins_and_bad_ones_are_noted(
    kit: SimpleNamespace, tmp_path: Path
) -> None:
    first = [kit.tool("a", x="string"), {"type": "function", "function": {"name": "bad name!"}}]
    second = [kit.tool("a", y="string"), kit.tool("b"), {"type": "custom", "custom": {"name": "grammar"}}]
    written, (document,) = convert(
        kit,
        tmp_path,
        kit.exchange(kit.chat_request(tools=first), kit.completion({"calls": [kit.call("a", {"x": "1"})]})),
        kit.exchange(kit.chat_request(tools=second), kit.completion({"calls": [kit.call("grammar", "1+1")]})),
    )
    assert document["tools"] == [kit.tool("a", x="string"), kit.tool("b")]
    assert notes(written) == [
        "app.yaml: tool 'bad name!' left out: function name 'bad name!' must be 1-64 letters, digits, '_', '.' or '-'",
        "app.yaml: tools that are not functions left out: grammar (custom)",
        "app.yaml: the requests offered different tools; every case offers all 2 (a case file has one tool set)",
        "app.yaml #1: skipped: the reply calls 'grammar', which is not a function tool (case files offer functions only)",
    ]


def test_suite_names_are_unique_and_other_files_are_left_alone(kit: SimpleNamespace, tmp_path: Path) -> None:
    exchange = kit.exchange(kit.chat_request(), kit.completion({"calls": [kit.call("get_weather", {"city": "Oslo"})]}))
    for folder in ("together", "groq"):
        kit.write(tmp_path / "cassettes" / folder / "test_chat[tool-call].yaml", exchange)
    out = tmp_path / "cases"
    out.mkdir()
    mine = (
        "version: 1\nsuite: test_chat-tool-call-2\ntools: []\ncases: [{id: a, prompt: hi, expect: {no_call: true}}]\n"
    )
    (out / "test_chat-tool-call.yaml").write_text(mine)
    written = to_cases(extract([tmp_path / "cassettes"]), out)
    assert [(s.suite, s.path.name) for s in written.suites] == [
        ("test_chat-tool-call-3", "test_chat-tool-call-3.yaml"),
        ("test_chat-tool-call-4", "test_chat-tool-call-4.yaml"),
    ]
    assert (out / "test_chat-tool-call.yaml").read_text() == mine
    assert len(load_cases(out)) == 3
    again = to_cases(extract([tmp_path / "cassettes"]), out)  # a rerun overwrites what it wrote
    assert [s.suite for s in again.suites] == ["test_chat-tool-call-3", "test_chat-tool-call-4"]
    assert len(load_cases(out)) == 3


def test_a_rerun_keeps_a_file_edited_since_it_was_written(kit: SimpleNamespace, tmp_path: Path) -> None:
    """Reviewing and loosening the expectations is the workflow the header asks for: a rerun must
    not throw that work away. It overwrites only what nobody changed."""
    exchange = kit.exchange(kit.chat_request(), kit.completion({"calls": [kit.call("get_weather", {"city": "Oslo"})]}))
    kit.write(tmp_path / "cassettes" / "app.yaml", exchange)
    out = tmp_path / "cases"
    first = to_cases(extract([tmp_path / "cassettes"]), out)
    assert [s.path.name for s in first.suites] == ["app.yaml"]
    written = (out / "app.yaml").read_text()
    again = to_cases(extract([tmp_path / "cassettes"]), out)  # unedited: overwritten in place
    assert [s.path.name for s in again.suites] == ["app.yaml"] and not again.notes
    assert (out / "app.yaml").read_text() == written
    edited = written.replace("city: Oslo", "city: {any_of: [Oslo, OSLO]}") + "# reviewed\n"
    (out / "app.yaml").write_text(edited)
    third = to_cases(extract([tmp_path / "cassettes"]), out)
    assert (out / "app.yaml").read_text() == edited
    assert [s.path.name for s in third.suites] == ["app-2.yaml"]
    assert notes(third) == [
        "app.yaml: app.yaml was edited since it was written, so it is kept; the new cases are in app-2.yaml"
    ]
    fourth = to_cases(extract([tmp_path / "cassettes"]), out)  # app-2.yaml is unedited: overwritten, no app-3
    assert [s.path.name for s in fourth.suites] == ["app-2.yaml"]
    assert sorted(p.name for p in out.iterdir()) == ["app-2.yaml", "app.yaml"]
    assert len(load_cases(out)) == 2


def test_cassettes_named_alike_but_for_letter_case_make_suites_that_load_together(
    kit: SimpleNamespace, tmp_path: Path
) -> None:
    exchange = kit.exchange(kit.chat_request(), kit.completion({"calls": [kit.call("get_weather", {"city": "Oslo"})]}))
    kit.write(tmp_path / "cassettes" / "a" / "Rain.yaml", exchange)
    kit.write(tmp_path / "cassettes" / "b" / "rain.yaml", exchange)
    written = to_cases(extract([tmp_path / "cassettes"]), tmp_path / "cases")
    assert [s.suite for s in written.suites] == ["Rain", "rain-2"]
    assert len(load_cases(tmp_path / "cases")) == 2  # one path each on macOS and Windows too


def test_a_cassette_without_a_usable_reply_writes_no_file(kit: SimpleNamespace, tmp_path: Path) -> None:
    written, documents = convert(
        kit, tmp_path, kit.exchange(kit.chat_request(), {"error": {"message": "no"}}, status=401)
    )
    assert (written.suites, documents) == ((), [])
    assert notes(written)[-1] == "app.yaml: no case file written: no model reply made a usable case"


def test_the_output_folder_must_not_be_a_file(kit: SimpleNamespace, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(EvalkitError, match="is a file; --to-cases needs a folder"):
        to_cases([], tmp_path / "file")


def test_multiline_strings_are_written_as_blocks(kit: SimpleNamespace, tmp_path: Path) -> None:
    request = kit.chat_request("Line one.\nLine two.")
    written, (document,) = convert(kit, tmp_path, kit.exchange(request, kit.completion({"content": "ok"})))
    assert "content: |-\n      Line one.\n      Line two." in written.suites[0].path.read_text()
    assert document["cases"][0]["messages"][0]["content"] == "Line one.\nLine two."
