"""evalkit.importers.extract: the calls in cassettes written by other tools, in all their layouts."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from evalkit.errors import EvalkitError
from evalkit.importers.extract import ExtractedCall, as_json, extract, redact_uri, render_table


def only(kit: SimpleNamespace, tmp_path: Path, *interactions: dict) -> list:
    path = kit.write(tmp_path / "c.yaml", *interactions)
    (cassette,) = extract([path])
    assert cassette.note is None
    return list(cassette.interactions)


def test_standard_vcrpy_chat_reply(kit: SimpleNamespace, tmp_path: Path) -> None:
    reply = kit.completion({"calls": [kit.call("get_weather", {"city": "Paris"})]})
    (row,) = only(kit, tmp_path, kit.exchange(kit.chat_request(), reply))
    assert (row.index, row.choice, row.method, row.api, row.status, row.reply) == (0, None, "POST", "chat", 200, True)
    assert row.calls == (ExtractedCall("get_weather", '{"city": "Paris"}'),)
    assert (row.finish_reason, row.error_kind, row.offered) == ("tool_calls", None, ("get_weather",))
    assert row.request.messages == ({"role": "user", "content": "Weather in Paris?"},)


def test_gzip_binary_body(kit: SimpleNamespace, tmp_path: Path) -> None:
    reply = kit.completion({"calls": [kit.call("get_weather", {"city": "Oslo"})]})
    (row,) = only(kit, tmp_path, kit.exchange(kit.chat_request(), reply, gzipped=True))
    assert "!!binary" in (tmp_path / "c.yaml").read_text()
    assert row.calls == (ExtractedCall("get_weather", '{"city": "Oslo"}'),)


def test_old_vcrpy_httpx_layout(kit: SimpleNamespace, tmp_path: Path) -> None:
    reply = kit.completion({"calls": [kit.call("get_weather", {"city": "Rome"})]})
    (row,) = only(kit, tmp_path, kit.old_httpx(kit.chat_request(), reply))
    assert (row.status, [c.name for c in row.calls]) == (200, ["get_weather"])


@pytest.mark.parametrize("content_type", ["application/json", None])
def test_sse_with_a_wrong_or_missing_content_type(
    kit: SimpleNamespace, tmp_path: Path, content_type: str | None
) -> None:
    body = kit.sse(
        kit.chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "get_weather", "arguments": ""}}]}),
        kit.chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
        kit.chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "Lima"}'}}]}, "tool_calls"),
    )
    exchange = kit.exchange(kit.chat_request(stream=True), body, content_type=content_type)
    (row,) = only(kit, tmp_path, exchange)
    assert row.calls == (ExtractedCall("get_weather", '{"city": "Lima"}'),)
    assert row.finish_reason == "tool_calls"


def test_azure_url_keeps_the_api_version_and_never_shows_a_secret(kit: SimpleNamespace, tmp_path: Path) -> None:
    uri = "https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-06-01&key=SECRET"
    reply = kit.completion({"calls": [kit.call("get_weather", {"city": "Bern"})]})
    path = kit.write(tmp_path / "azure.yaml", kit.exchange(kit.chat_request(), reply, uri=uri))
    found = extract([path])
    row = found[0].interactions[0]
    assert row.uri == (
        "https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-06-01&key=REDACTED"
    )
    assert row.api == "chat" and row.calls[0].name == "get_weather"
    for shown in (render_table(found), json.dumps(as_json(found))):
        assert "SECRET" not in shown and kit.SECRET not in shown


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://h/v1beta/x?key=AIzaXYZ", "https://h/v1beta/x?key=REDACTED"),
        ("https://h/p?api_key=a&api-key=b&apikey=c", "https://h/p?api_key=REDACTED&api-key=REDACTED&apikey=REDACTED"),
        ("https://h/p?sv=2024&sig=abc%2F&se=1", "https://h/p?sv=2024&sig=REDACTED&se=1"),
        (
            "https://h/p?access_token=t&subscription-key=s&code=c",
            "https://h/p?access_token=REDACTED&subscription-key=REDACTED&code=REDACTED",
        ),
        ("https://user:pw@h/p?model=gpt&stream=true#frag", "https://REDACTED@h/p?model=gpt&stream=true#frag"),
        ("https://h/v1/chat/completions", "https://h/v1/chat/completions"),
        ("https://h/p?api-version=2024-06-01&model=a%2Fb&n=2", "https://h/p?api-version=2024-06-01&model=a%2Fb&n=2"),
    ],
)
def test_redact_uri(uri: str, expected: str) -> None:
    assert redact_uri(uri) == expected


def test_responses_request_and_reply(kit: SimpleNamespace, tmp_path: Path) -> None:
    request = {
        "model": "gpt-5",
        "instructions": "Be brief.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Weather in Oslo?"}]}],
        "tools": [
            {"type": "function", "name": "get_weather", "parameters": {"type": "object"}},
            {"type": "web_search"},
        ],
    }
    reply = {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
        ],
    }
    (row,) = only(kit, tmp_path, kit.exchange(request, reply, uri=kit.RESPONSES))
    assert (row.api, row.calls, row.finish_reason) == (
        "responses",
        (ExtractedCall("get_weather", '{"city":"Oslo"}'),),
        "tool_calls",
    )
    assert row.offered == ("get_weather",)
    assert row.request.other_tools == ("web_search",)
    assert row.request.messages == (
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Oslo?"},
    )


def test_assistants_run_calls_and_what_the_run_saw(kit: SimpleNamespace, tmp_path: Path) -> None:
    rows = only(kit, tmp_path, *kit.assistants())
    assert [(r.index, r.api, r.reply) for r in rows] == [
        (0, None, False),
        (1, None, False),
        (2, None, False),
        (3, "assistants", False),  # queued: no reply yet
        (4, "assistants", False),
        (5, "assistants", True),
        (6, "assistants", False),
        (7, "assistants", True),
    ]
    asked, done = rows[5], rows[7]
    assert asked.calls == (ExtractedCall("get_weather", '{"city": "Paris"}'),)
    assert asked.offered == ("get_weather",) and asked.request.other_tools == ("code_interpreter",)
    assert asked.request.messages == (
        {"role": "system", "content": "You are a weather bot."},
        {"role": "user", "content": "Weather in Paris?"},
    )
    assert (done.calls, done.finish_reason) == ((), "stop")
    assert done.request.messages[2:] == (
        {"role": "assistant", "content": None, "tool_calls": [kit.call("get_weather", {"city": "Paris"}, "call_9")]},
        {"role": "tool", "tool_call_id": "call_9", "content": "sunny"},
    )


@pytest.mark.parametrize(("status", "kind"), [(500, "http_error"), (429, "rate_limited")])
def test_error_reply(kit: SimpleNamespace, tmp_path: Path, status: int, kind: str) -> None:
    body = {"error": {"message": "The server had an error", "type": "server_error"}}
    (row,) = only(kit, tmp_path, kit.exchange(kit.chat_request(), body, status=status))
    assert (row.reply, row.status, row.error_kind, row.calls) == (True, status, kind, ())
    assert row.error_message == f"HTTP {status}: The server had an error"


def test_n_choices_are_listed_each(kit: SimpleNamespace, tmp_path: Path) -> None:
    reply = kit.completion(
        {"calls": [kit.call("get_weather", {"city": "Paris"})]},
        {"calls": [kit.call("get_weather", {"city": "Paris, FR"}), kit.call("get_weather", {"city": "Nice"}, "c2")]},
    )
    rows = only(kit, tmp_path, kit.exchange(kit.chat_request(n=2), reply))
    assert [(r.index, r.choice, len(r.calls)) for r in rows] == [(0, 0, 1), (0, 1, 2)]
    assert [r.label for r in rows] == ["0/c0", "0/c1"]


def test_one_error_for_n_choices_is_one_row(kit: SimpleNamespace, tmp_path: Path) -> None:
    rows = only(kit, tmp_path, kit.exchange(kit.chat_request(n=3), {"error": {"message": "bad key"}}, status=401))
    assert [(r.choice, r.error_kind) for r in rows] == [(None, "http_error")]


def test_exchanges_that_are_not_model_replies_are_listed_as_such(kit: SimpleNamespace, tmp_path: Path) -> None:
    rows = only(
        kit,
        tmp_path,
        kit.exchange({"model": "llama3", "messages": []}, {"message": {}}, uri="http://127.0.0.1:11434/api/chat"),
        kit.exchange(None, {"object": "list", "data": []}, uri="https://api.openai.com/v1/files", method="GET"),
    )
    assert [(r.api, r.reply, r.calls, r.offered) for r in rows] == [(None, False, (), ())] * 2
    table = render_table(extract([tmp_path / "c.yaml"]))
    assert "POST /api/chat" in table and "GET /v1/files" in table and "not a reply" in table


def test_a_folder_is_searched_and_a_file_that_is_not_a_cassette_is_a_note(kit: SimpleNamespace, tmp_path: Path) -> None:
    reply = kit.completion({"content": "Hi"})
    kit.write(tmp_path / "sub" / "a.yml", kit.exchange(kit.chat_request(), reply))
    (tmp_path / "b.yaml").write_text("version: 1\nsuite: not-a-cassette\n")
    (tmp_path / "c.yaml").write_bytes(b"\xff\xfe\x00binary")
    cut = kit.exchange(kit.chat_request(), reply, gzipped=True)
    cut["response"]["body"]["string"] = cut["response"]["body"]["string"][:20]  # a gzip body cut short
    kit.write(tmp_path / "d.yaml", cut)
    (tmp_path / ".hidden").mkdir()
    kit.write(tmp_path / ".hidden" / "d.yaml", kit.exchange(kit.chat_request(), reply))
    (tmp_path / "notes.txt").write_text("interactions: []")
    found = extract([tmp_path])
    assert [(c.name, c.note is None) for c in found] == [
        ("b.yaml", False),
        ("c.yaml", False),
        ("d.yaml", False),
        ("sub/a.yml", True),
    ]
    assert found[0].note == "not a vcrpy cassette (no 'interactions' list at the top level)"
    assert found[1].note is not None and found[1].note.startswith("cannot read")
    table = render_table(found)
    assert "note: b.yaml: not a vcrpy cassette" in table
    assert found[2].note == (
        "interaction 0: cannot read it: EOFError: Compressed file ended before the end-of-stream marker was reached"
    )
    assert table.splitlines()[-1] == "1 cassette, 1 interaction, 1 model reply (0 errors), 0 calls; 3 files not read"


def test_a_path_that_does_not_exist_or_holds_no_cassette_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EvalkitError, match=r"nope: no such file or directory; pass vcrpy cassettes"):
        extract([tmp_path / "nope"])
    with pytest.raises(EvalkitError, match=r"holds no vcrpy cassette \(no \*\.yaml or \*\.yml file in it\)"):
        extract([tmp_path])
    (tmp_path / "cases.yaml").write_text("version: 1\n")
    with pytest.raises(EvalkitError, match=r"holds no vcrpy cassette: none of its 1 YAML file is one"):
        extract([tmp_path])
    with pytest.raises(EvalkitError, match=r"cases.yaml: not a vcrpy cassette"):
        extract([tmp_path / "cases.yaml"])


def test_a_file_reached_twice_is_listed_once(kit: SimpleNamespace, tmp_path: Path) -> None:
    path = kit.write(tmp_path / "a.yaml", kit.exchange(kit.chat_request(), kit.completion({"content": "Hi"})))
    assert len(extract([tmp_path, path])) == 1


def test_table_fits_100_columns_and_clips_long_calls(kit: SimpleNamespace, tmp_path: Path) -> None:
    long_args = {"query": "a very long argument value " * 10}
    reply = kit.completion({"calls": [kit.call("search_the_knowledge_base", long_args)]})
    name = "a_cassette_with_a_really_long_file_name_recorded_by_some_other_tool_in_the_wild.yaml"
    kit.write(tmp_path / name, kit.exchange(kit.chat_request(), reply))
    kit.write(tmp_path / "err.yaml", kit.exchange(kit.chat_request(), {"error": {"message": "x " * 200}}, status=400))
    table = render_table(extract([tmp_path]))
    assert max(len(line) for line in table.splitlines()) <= 100
    (line,) = [line for line in table.splitlines() if "search_the_knowledge_base(" in line]
    assert line.endswith("…  tool_calls") and 'search_the_knowledge_base({"query":"a' in line  # clipped
    assert "a_cassette_with_a_" in table and "the_wild.yaml" in table  # the name wraps, never clipped


def test_json_lists_every_field(kit: SimpleNamespace, tmp_path: Path) -> None:
    reply = kit.completion({"calls": [kit.call("get_weather", {"city": "Paris"})]})
    path = kit.write(tmp_path / "c.yaml", kit.exchange(kit.chat_request(), reply))
    (data,) = as_json(extract([path]))
    assert data == {
        "file": str(path),
        "path": str(path),
        "note": None,
        "interactions": [
            {
                "index": 0,
                "choice": None,
                "method": "POST",
                "uri": kit.CHAT,
                "api": "chat",
                "status": 200,
                "reply": True,
                "calls": [{"name": "get_weather", "arguments": '{"city": "Paris"}'}],
                "finish_reason": "tool_calls",
                "error": None,
                "text": None,
                "offered": ["get_weather"],
            }
        ],
    }


def test_assistants_thread_and_run_in_one_request_with_the_run_s_tools(kit: SimpleNamespace, tmp_path: Path) -> None:
    base = "https://api.openai.com/v1"
    run = {"id": "run_1", "object": "thread.run", "thread_id": "thread_9", "assistant_id": "asst_unknown"}
    create = {
        "assistant_id": "asst_unknown",
        "instructions": "Be terse.",
        "thread": {"messages": [{"role": "user", "content": [{"type": "text", "text": "Find Ada."}]}]},
        "tools": [kit.tool("lookup", who="string")],
    }
    required = {"submit_tool_outputs": {"tool_calls": [kit.call("lookup", {"who": "Ada"})]}}
    rows = only(
        kit,
        tmp_path,
        kit.exchange(create, {**run, "status": "queued"}, uri=f"{base}/threads/runs"),
        kit.exchange(
            None,
            {**run, "status": "requires_action", "required_action": required},
            uri=f"{base}/threads/thread_9/runs/run_1",
            method="GET",
        ),
    )
    asked = rows[1]
    assert (asked.reply, asked.offered, asked.request.problem) == (True, ("lookup",), None)
    assert asked.request.messages == (
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Find Ada."},
    )


def test_a_run_on_a_thread_made_before_the_cassette_began_says_so(kit: SimpleNamespace, tmp_path: Path) -> None:
    run = {"id": "run_1", "object": "thread.run", "thread_id": "thread_0", "status": "completed"}
    (row,) = only(kit, tmp_path, kit.exchange(None, run, uri="https://x/v1/threads/thread_0/runs/run_1", method="GET"))
    assert (row.reply, row.finish_reason) == (True, "stop")
    assert row.request.problem == "the thread was created before the cassette began"
