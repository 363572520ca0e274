"""Parsing replies into turns (evalkit.parsing): Chat Completions (plain and streamed), Responses, Assistants, and
the dispatcher that reads any recorded exchange."""

from __future__ import annotations

import json

import pytest

from evalkit.calls import HTTP_ERROR, MALFORMED_REPLY, RATE_LIMITED, TRUNCATED_STREAM, ToolCall
from evalkit.parsing import is_sse, turn_from_http
from evalkit.parsing.assistants import turn_from_assistants_events, turn_from_assistants_run
from evalkit.parsing.chat import turn_from_chat_chunks, turn_from_chat_completion
from evalkit.parsing.responses import turn_from_responses, turn_from_responses_events
from evalkit.parsing.sse import Event, parse_events


def completion(message: dict, finish_reason: str = "tool_calls", **extra: object) -> dict:
    return {
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}],
        **extra,
    }


def tool_call(name: str, arguments: object, call_id: str = "call_1") -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def chunk(delta: dict, finish_reason: str | None = None, index: int = 0) -> dict:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason}],
    }


def call_delta(index: int, *, id: str | None = None, name: str | None = None, arguments: str | None = None) -> dict:
    function = {k: v for k, v in (("name", name), ("arguments", arguments)) if v is not None}
    piece = {"index": index, "function": function}
    if id:
        piece.update(id=id, type="function")
    return {"tool_calls": [piece]}


def sse(*objects: object, done: bool = True) -> str:
    lines = [f"data: {json.dumps(o)}\n\n" for o in objects]
    return "".join(lines) + ("data: [DONE]\n\n" if done else "")


# --- Chat Completions, not streamed ---------------------------------------------------------------


def test_chat_completion_tool_calls_in_order_with_ids_and_usage():
    body = completion(
        {
            "content": None,
            "tool_calls": [tool_call("get_weather", '{"city": "Paris"}', "a"), tool_call("get_time", "{}", "b")],
        },
        usage={"prompt_tokens": 12, "completion_tokens": 5},
    )
    turn = turn_from_chat_completion(body)
    assert turn.calls == (ToolCall("get_weather", '{"city": "Paris"}', "a"), ToolCall("get_time", "{}", "b"))
    assert (turn.finish_reason, turn.error, turn.prompt_tokens, turn.completion_tokens) == ("tool_calls", None, 12, 5)


def test_chat_completion_text_only_and_empty_tool_calls_list_mean_no_call():
    turn = turn_from_chat_completion(completion({"content": "Hello!", "tool_calls": []}, "stop"))
    assert turn.calls == () and turn.content == "Hello!" and turn.error is None


def test_legacy_function_call_is_one_call_without_id():
    turn = turn_from_chat_completion(
        completion({"function_call": {"name": "lookup", "arguments": '{"q": 1}'}}, "function_call")
    )
    assert turn.calls == (ToolCall("lookup", '{"q": 1}', None),)


def test_ollama_style_object_arguments_become_json_text():
    turn = turn_from_chat_completion(
        completion({"tool_calls": [tool_call("get_weather", {"city": "Paris", "days": 2})]})
    )
    assert json.loads(turn.calls[0].arguments) == {"city": "Paris", "days": 2}


@pytest.mark.parametrize("arguments", ["", None])
def test_empty_or_null_arguments_decode_as_no_arguments(arguments):
    call = turn_from_chat_completion(completion({"tool_calls": [tool_call("now", arguments)]})).calls[0]
    assert call.arguments == "" and call.decoded_arguments() == {}


def test_invalid_json_arguments_are_kept_verbatim_for_the_scorers():
    call = turn_from_chat_completion(completion({"tool_calls": [tool_call("f", '{"a": ')]})).calls[0]
    assert call.arguments == '{"a": '
    with pytest.raises(ValueError):
        call.decoded_arguments()


def test_custom_tool_call_keeps_name_and_free_form_input():
    body = completion({"tool_calls": [{"id": "c", "type": "custom", "custom": {"name": "math_exp", "input": "4 + 4"}}]})
    assert turn_from_chat_completion(body).calls == (ToolCall("math_exp", "4 + 4", "c"),)


def test_each_choice_is_its_own_turn():
    body = {
        "choices": [
            {"index": 0, "message": {"tool_calls": [tool_call("a", "{}")]}, "finish_reason": "tool_calls"},
            {"index": 1, "message": {"content": "no"}, "finish_reason": "stop"},
        ]
    }
    assert [c.name for c in turn_from_chat_completion(body).calls] == ["a"]
    assert turn_from_chat_completion(body, choice=1).content == "no"
    assert turn_from_chat_completion(body, choice=2).error.kind == MALFORMED_REPLY


@pytest.mark.parametrize("body", [{}, {"choices": []}, {"choices": [{"index": 0}]}, {"_text": "<html>"}])
def test_reply_without_a_message_is_malformed_not_a_refusal(body):
    turn = turn_from_chat_completion(body)
    assert turn.error.kind == MALFORMED_REPLY and turn.calls == ()


# --- Chat Completions, streamed -------------------------------------------------------------------


def test_stream_joins_arguments_split_mid_json():
    chunks = [
        chunk({"role": "assistant", **call_delta(0, id="call_1", name="get_weather", arguments="")}),
        chunk(call_delta(0, arguments='{"ci')),
        chunk(call_delta(0, arguments='ty": "Par')),
        chunk(call_delta(0, arguments='is"}')),
        chunk({}, "tool_calls"),
    ]
    turn = turn_from_chat_chunks(chunks)
    assert turn.calls == (ToolCall("get_weather", '{"city": "Paris"}', "call_1"),)
    assert turn.finish_reason == "tool_calls" and turn.error is None


def test_stream_keeps_interleaved_indexes_apart_and_in_index_order():
    chunks = [
        chunk(call_delta(1, id="b", name="get_time", arguments="")),
        chunk(call_delta(0, id="a", name="get_weather", arguments="")),
        chunk(call_delta(1, arguments='{"tz": ')),
        chunk(call_delta(0, arguments='{"city": ')),
        chunk(call_delta(0, arguments='"Oslo"}')),
        chunk(call_delta(1, arguments='"UTC"}')),
        chunk({}, "tool_calls"),
    ]
    turn = turn_from_chat_chunks(chunks)
    assert turn.calls == (ToolCall("get_weather", '{"city": "Oslo"}', "a"), ToolCall("get_time", '{"tz": "UTC"}', "b"))


def test_stream_reads_only_the_requested_choice():
    chunks = [
        chunk(call_delta(0, id="x", name="first", arguments="{}"), index=0),
        chunk(call_delta(0, id="y", name="second", arguments="{}"), index=1),
        chunk({}, "tool_calls", index=0),
        chunk({}, "tool_calls", index=1),
    ]
    assert [c.name for c in turn_from_chat_chunks(chunks).calls] == ["first"]
    assert [c.name for c in turn_from_chat_chunks(chunks, choice=1).calls] == ["second"]


def test_stream_legacy_function_call_deltas():
    chunks = [
        chunk({"role": "assistant", "function_call": {"name": "lookup", "arguments": ""}}),
        chunk({"function_call": {"arguments": '{"q":'}}),
        chunk({"function_call": {"arguments": ' "x"}'}}),
        chunk({}, "function_call"),
    ]
    assert turn_from_chat_chunks(chunks).calls == (ToolCall("lookup", '{"q": "x"}', None),)


def test_stream_without_finish_reason_is_truncated_and_keeps_partial_calls():
    chunks = [chunk(call_delta(0, id="a", name="get_weather", arguments='{"city": "Pa'))]
    turn = turn_from_chat_chunks(chunks)
    assert turn.error.kind == TRUNCATED_STREAM
    assert turn.error.message == "stream ended without a finish_reason or [DONE] after 1 partial call(s)"
    assert turn.calls == (ToolCall("get_weather", '{"city": "Pa', "a"),)


def test_error_event_inside_a_stream_is_an_error_not_an_empty_answer():
    chunks = [
        chunk({"reasoning": "thinking"}),
        {"error": {"message": "Tool call validation failed", "code": "tool_use_failed"}},
    ]
    turn = turn_from_chat_chunks(chunks)
    assert turn.error.kind == HTTP_ERROR and "Tool call validation failed" in turn.error.message


def test_stream_repeating_the_whole_name_and_arguments_is_not_doubled():
    # kimi-k2 through OpenRouter: the second delta repeats id and name and sends the full arguments.
    chunks = [
        chunk(call_delta(0, id="0", name="llm_version", arguments="")),
        chunk(call_delta(0, id="0", name="llm_version", arguments="{}")),
        chunk(call_delta(0, id="0", name="llm_version", arguments="{}")),
        chunk({}, "tool_calls"),
    ]
    assert turn_from_chat_chunks(chunks).calls == (ToolCall("llm_version", "{}", "0"),)


def test_stream_whole_calls_without_index_are_separate_calls():
    # Mistral: each delta carries one complete call, with no index.
    pieces = [
        {"id": "m1", "function": {"name": "a", "arguments": "{}"}},
        {"id": "m2", "function": {"name": "b", "arguments": "{}"}},
    ]
    turn = turn_from_chat_chunks([chunk({"tool_calls": [pieces[0]]}), chunk({"tool_calls": [pieces[1]]}, "tool_calls")])
    assert [(c.name, c.id) for c in turn.calls] == [("a", "m1"), ("b", "m2")]


def test_stream_usage_chunk_and_content_are_kept():
    chunks = [
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}, "stop"),
        {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
    ]
    turn = turn_from_chat_chunks(chunks)
    assert (turn.content, turn.finish_reason, turn.prompt_tokens, turn.completion_tokens) == ("Hello", "stop", 3, 2)


# --- SSE ------------------------------------------------------------------------------------------


def test_sse_events_keep_event_names_join_multiline_data_and_drop_done():
    text = 'event: a\ndata: {"x":\ndata: 1}\n\n: comment\ndata: [DONE]\n\n'
    assert parse_events(text).events == (Event("a", '{"x":\n1}'),)
    assert parse_events(text).done


@pytest.mark.parametrize(("text", "expected"), [("data: {}\n\n", True), ('{\n  "data": 1\n}', False), ("", False)])
def test_is_sse_looks_at_the_body_not_the_content_type(text, expected):
    assert is_sse(text) is expected


# --- Responses API --------------------------------------------------------------------------------


def response(*output: dict, status: str = "completed", **extra: object) -> dict:
    return {"object": "response", "status": status, "output": list(output), **extra}


def function_call_item(name: str, arguments: str, call_id: str) -> dict:
    return {
        "type": "function_call",
        "id": f"fc_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def test_responses_function_calls_skip_reasoning_items_and_use_call_id():
    body = response(
        {"type": "reasoning", "id": "rs_1", "summary": []},
        function_call_item("db_lookup", '{"key": "a"}', "call_a"),
        {"type": "reasoning", "id": "rs_2", "summary": []},
        function_call_item("db_lookup", '{"key": "b"}', "call_b"),
        usage={"input_tokens": 9, "output_tokens": 4},
    )
    turn = turn_from_responses(body)
    assert turn.calls == (
        ToolCall("db_lookup", '{"key": "a"}', "call_a"),
        ToolCall("db_lookup", '{"key": "b"}', "call_b"),
    )
    assert (turn.finish_reason, turn.prompt_tokens, turn.completion_tokens) == ("tool_calls", 9, 4)


def test_responses_message_text_and_no_call():
    body = response(
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "4"}, {"type": "output_text", "text": "2"}],
        }
    )
    turn = turn_from_responses(body)
    assert (turn.calls, turn.content, turn.finish_reason) == ((), "42", "stop")


def test_responses_built_in_tool_calls_are_not_function_calls():
    assert turn_from_responses(response({"type": "web_search_call", "id": "ws", "status": "completed"})).calls == ()


def test_responses_incomplete_for_tokens_is_length():
    turn = turn_from_responses(response(status="incomplete", incomplete_details={"reason": "max_output_tokens"}))
    assert turn.finish_reason == "length" and turn.error is None


def test_responses_failed_is_an_error_with_its_message():
    turn = turn_from_responses(response(status="failed", error={"code": "server_error", "message": "boom"}))
    assert turn.error.kind == HTTP_ERROR and turn.error.message == "response failed: server_error: boom"


def stream_events(*, complete: bool = True) -> list[dict]:
    item = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "multiply",
        "arguments": "",
        "status": "in_progress",
    }
    events = [
        {"type": "response.created", "response": response(status="in_progress")},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.function_call_arguments.delta", "output_index": 0, "item_id": "fc_1", "delta": '{"a":12'},
        {"type": "response.function_call_arguments.delta", "output_index": 0, "item_id": "fc_1", "delta": ',"b":3}'},
    ]
    if complete:
        events += [
            {
                "type": "response.function_call_arguments.done",
                "output_index": 0,
                "item_id": "fc_1",
                "arguments": '{"a":12,"b":3}',
            },
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": {**item, "arguments": '{"a":12,"b":3}', "status": "completed"},
            },
            {
                "type": "response.completed",
                "response": response(function_call_item("multiply", '{"a":12,"b":3}', "call_1")),
            },
        ]
    return events


def test_responses_stream_completed():
    turn = turn_from_responses_events(stream_events())
    assert turn.calls == (ToolCall("multiply", '{"a":12,"b":3}', "call_1"),) and turn.finish_reason == "tool_calls"


def test_responses_stream_completed_with_empty_output_uses_the_item_events():
    events = stream_events()
    events[-1] = {"type": "response.completed", "response": response()}
    assert turn_from_responses_events(events).calls == (ToolCall("multiply", '{"a":12,"b":3}', "call_1"),)


def test_responses_stream_completed_alone_carries_the_calls():
    completed = {
        "type": "response.completed",
        "response": response(function_call_item("multiply", '{"a":1}', "call_9")),
    }
    assert turn_from_responses_events([completed]).calls == (ToolCall("multiply", '{"a":1}', "call_9"),)


def test_responses_stream_without_completed_is_truncated_with_partial_call():
    turn = turn_from_responses_events(stream_events(complete=False))
    assert turn.error.kind == TRUNCATED_STREAM
    assert turn.error.message == "stream ended without response.completed after 1 partial call(s)"
    assert turn.calls == (ToolCall("multiply", '{"a":12,"b":3}', "call_1"),)


def test_responses_stream_text_deltas():
    events = [
        {"type": "response.output_text.delta", "output_index": 0, "delta": "Hi "},
        {"type": "response.output_text.delta", "output_index": 0, "delta": "there"},
        {"type": "response.completed", "response": response()},
    ]
    turn = turn_from_responses_events(events)
    assert (turn.content, turn.finish_reason, turn.calls) == ("Hi there", "stop", ())


def test_responses_stream_error_event():
    turn = turn_from_responses_events([{"type": "error", "code": "rate_limit_exceeded", "message": "slow down"}])
    assert turn.error.kind == RATE_LIMITED and "slow down" in turn.error.message


# --- Assistants API -------------------------------------------------------------------------------


def run(status: str, **extra: object) -> dict:
    return {
        "object": "thread.run",
        "id": "run_1",
        "status": status,
        "tools": [{"type": "function", "function": {"name": "sql_tool"}}],
        **extra,
    }


def requires_action(*calls: dict) -> dict:
    return run(
        "requires_action",
        required_action={"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": list(calls)}},
    )


def test_run_requiring_action_lists_its_function_calls_not_the_assistants_tools():
    turn = turn_from_assistants_run(requires_action(tool_call("sql_tool", '{"input": "SELECT 1"}', "call_s")))
    assert (
        turn.calls == (ToolCall("sql_tool", '{"input": "SELECT 1"}', "call_s"),) and turn.finish_reason == "tool_calls"
    )


def test_completed_run_has_no_call():
    turn = turn_from_assistants_run(run("completed", usage={"prompt_tokens": 5, "completion_tokens": 1}))
    assert (turn.calls, turn.finish_reason, turn.error, turn.prompt_tokens) == ((), "stop", None, 5)


def test_unfinished_and_failed_runs():
    assert turn_from_assistants_run(run("in_progress")).error.kind == TRUNCATED_STREAM
    failed = turn_from_assistants_run(run("failed", last_error={"code": "rate_limit_exceeded", "message": "quota"}))
    assert failed.error.kind == RATE_LIMITED and failed.error.message == "run failed: rate_limit_exceeded: quota"


def test_assistants_stream_takes_calls_from_requires_action_only():
    step_delta = {
        "object": "thread.run.step.delta",
        "delta": {"step_details": {"type": "tool_calls", "tool_calls": [tool_call("sql_tool", "{}")]}},
    }
    events = [
        ("thread.run.created", run("queued")),
        ("thread.run.step.delta", step_delta),
        ("thread.run.requires_action", requires_action(tool_call("sql_tool", "{}"))),
    ]
    assert [c.name for c in turn_from_assistants_events(events).calls] == ["sql_tool"]


def test_assistants_stream_text_and_truncation():
    message_delta = {
        "object": "thread.message.delta",
        "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "x = 1"}}]},
    }
    done = turn_from_assistants_events(
        [
            ("thread.run.created", run("queued")),
            ("thread.message.delta", message_delta),
            ("thread.run.completed", run("completed")),
        ]
    )
    assert (done.content, done.finish_reason, done.error) == ("x = 1", "stop", None)
    cut = turn_from_assistants_events([("thread.run.created", run("queued")), ("thread.message.delta", message_delta)])
    assert cut.error.kind == TRUNCATED_STREAM and cut.error.message == "stream ended while the run was queued"


# --- Any recorded exchange ------------------------------------------------------------------------


def http(uri: str, body: object, *, status: int = 200, method: str = "POST"):
    text = body if isinstance(body, str) else json.dumps(body)
    return turn_from_http(method, uri, "{}", status, {}, text)


def test_dispatch_by_path_for_every_api():
    chat = http(
        "https://x.openai.azure.com//openai/deployments/d/chat/completions?api-version=2024-06-01",
        completion({"tool_calls": [tool_call("a", "{}")]}),
    )
    responses = http("https://api.openai.com/v1/responses", response(function_call_item("b", "{}", "c")))
    runs = http("https://api.openai.com/v1/threads/t/runs/r/submit_tool_outputs", requires_action(tool_call("c", "{}")))
    assert [t.calls[0].name for t in (chat, responses, runs)] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("method", "uri", "body"),
    [
        ("POST", "https://api.openai.com/v1/threads", {"object": "thread", "id": "t"}),
        ("POST", "https://api.openai.com/v1/assistants", {"object": "assistant", "tools": [{"type": "function"}]}),
        ("POST", "https://api.openai.com/v1/files", {"object": "file"}),
        ("GET", "https://api.openai.com/v1/threads/t/messages?order=desc", {"object": "list", "data": []}),
        ("GET", "https://api.openai.com/v1/threads/t/runs/r", run("in_progress")),
        (
            "GET",
            "https://api.openai.com/v1/threads/t/runs",
            {"object": "list", "data": [requires_action(tool_call("a", "{}"))]},
        ),
        ("POST", "https://api.openai.com/v1/traces/ingest", ""),
        ("POST", "http://127.0.0.1:11434/api/chat", {"message": {"tool_calls": [tool_call("a", {})]}}),
    ],
)
def test_exchanges_that_are_not_model_replies_give_none(method, uri, body):
    assert http(uri, body, method=method) is None


def test_sse_is_detected_by_content_whatever_the_headers_say():
    body = sse(chunk(call_delta(0, id="a", name="f", arguments="{}")), chunk({}, "tool_calls"))
    turn = turn_from_http(
        "POST",
        "https://api.mistral.ai/v1/chat/completions#stream",
        "{}",
        200,
        {"content-type": "application/json"},
        body,
    )
    assert turn.calls == (ToolCall("f", "{}", "a"),)


def test_sse_responses_and_assistants_bodies():
    responses = http(
        "https://api.openai.com/v1/responses",
        "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in stream_events()),
    )
    assert responses.calls[0].name == "multiply"
    events = [
        ("thread.run.created", run("queued")),
        ("thread.run.requires_action", requires_action(tool_call("sql_tool", "{}"))),
    ]
    runs = http(
        "https://api.openai.com/v1/threads/t/runs",
        "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in events) + "event: done\ndata: [DONE]\n\n",
    )
    assert runs.calls[0].name == "sql_tool"


@pytest.mark.parametrize(("status", "kind"), [(429, RATE_LIMITED), (400, HTTP_ERROR), (500, HTTP_ERROR)])
def test_error_statuses_fail_with_the_servers_message(status, kind):
    turn = http(
        "https://api.openai.com/v1/chat/completions",
        {"error": {"message": "model not found", "code": "x"}},
        status=status,
    )
    assert turn.error.kind == kind and turn.error.message == f"HTTP {status}: model not found"


@pytest.mark.parametrize("body", ["<html>bad gateway</html>", "", "[1, 2]", "data: {not json\n\n"])
def test_unreadable_bodies_are_malformed(body):
    assert http("https://api.openai.com/v1/chat/completions", body).error.kind == MALFORMED_REPLY


# --- inputs that used to raise (issue 8, part 2): each is now a malformed_reply turn -----------------


@pytest.mark.parametrize(
    ("api", "body"),
    [
        ("chat", '{"choices":[{"message":{"tool_calls":3}}]}'),
        ("chat", 'data: {"choices":[null]}\n\ndata: [DONE]\n\n'),
        (
            "chat",
            (
                '{"choices":[{"index":0,"finish_reason":"tool_calls","message":{"tool_calls":'
                '[{"id":"c","type":"function","function":{"name":["get_temp"],"arguments":"{}"}}]}}]}'
            ),
        ),
        (
            "responses",
            (
                '{"status":"completed","output":[{"type":"function_call","call_id":"c","name":["get_temp"],'
                '"arguments":"{}"}]}'
            ),
        ),
        ("chat", 'data: {"choices":[{"index":0,"delta":{"content":5}}]}\n\ndata: [DONE]\n\n'),
        ("responses", 'data: {"type":"response.output_text.delta","output_index":0,"delta":{"text":"x"}}\n\n'),
        ("chat", '{"choices":[{"index":0,"message":null,"finish_reason":"stop"}]}'),
        ("chat", '{"choices":{"0":{}}}'),
        (
            "assistants",
            (
                '{"object":"thread.run","status":"requires_action","required_action":{"submit_tool_outputs":'
                '{"tool_calls":[{"type":"function","function":{"name":7}}]}}}'
            ),
        ),
    ],
)
def test_a_reply_of_the_wrong_shape_is_malformed_and_never_raises(api, body):
    from evalkit.parsing import turn_from_body

    turn = turn_from_body(api, body)
    assert turn.error is not None and turn.error.kind == MALFORMED_REPLY, turn


def test_a_streamed_null_index_then_index_zero_is_one_call():
    chunks = [
        chunk({"tool_calls": [{"index": None, "id": "c", "function": {"name": "f", "arguments": '{"a"'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
        chunk({}, "tool_calls"),
    ]
    assert turn_from_chat_chunks(chunks).calls == (ToolCall("f", '{"a": 1}', "c"),)


def test_a_responses_arguments_delta_sent_as_an_object_is_whole_arguments():
    events = [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "function_call", "name": "f", "call_id": "c"},
        },
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": {"a": 1}},
    ]
    turn = turn_from_responses_events(events)
    assert turn.calls == (ToolCall("f", '{"a": 1}', "c"),) and turn.error.kind == TRUNCATED_STREAM


# --- an unknown outcome is never an abstention (part 4) --------------------------------------------


def test_a_content_filter_stop_is_an_error_of_its_own_kind():
    from evalkit.calls import CONTENT_FILTER

    chat = turn_from_chat_completion(completion({"content": ""}, finish_reason="content_filter"))
    responses = turn_from_responses(response(status="incomplete", incomplete_details={"reason": "content_filter"}))
    assert chat.error.kind == responses.error.kind == CONTENT_FILTER


def test_responses_incomplete_for_tokens_reads_as_length_for_the_finish_scorer():
    turn = turn_from_responses(response(status="incomplete", incomplete_details={"reason": "max_output_tokens"}))
    assert (turn.finish_reason, turn.error) == ("length", None)


def test_finish_tool_calls_with_a_call_written_as_text_is_left_to_the_scorers():
    # vLLM without a tool parser: finish_reason says tool_calls, the call is in the text.
    text = '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>'
    turn = turn_from_chat_completion(completion({"content": text}, finish_reason="tool_calls"))
    assert (turn.error, turn.calls, turn.content) == (None, (), text)
