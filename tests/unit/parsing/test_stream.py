"""The one stream aggregator (evalkit.parsing.stream), on the delta shapes real servers send.

Every shape is tested on the raw SSE body, which is what both the SDK path (``evalkit run``) and the
reader of other tools' cassettes parse, so the two paths cannot disagree. Indexed, OpenAI-shaped
streams are cross-checked against the openai SDK's own ``ChatCompletionStreamState``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk

from evalkit.calls import MALFORMED_REPLY, TRUNCATED_STREAM, ToolCall, Turn
from evalkit.parsing import turn_from_body, turn_from_http
from evalkit.parsing.chat import turn_from_chat_chunks

URL = "https://api.example.com/v1/chat/completions"


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **choice: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, **choice}],
    }


def calls_delta(*pieces: dict[str, Any]) -> dict[str, Any]:
    return {"tool_calls": list(pieces)}


def sse(*chunks: dict[str, Any], done: bool = True, eol: str = "\n") -> str:
    body = "".join(f"data: {json.dumps(c)}{eol}{eol}" for c in chunks)
    return body + (f"data: [DONE]{eol}{eol}" if done else "")


def read(body: str) -> Turn:
    """Both paths: the body as the SDK path reads it, and as a recorded exchange; they must agree."""
    live = turn_from_body("chat", body)
    recorded = turn_from_http("POST", URL, "{}", 200, {"content-type": "text/event-stream"}, body)
    assert recorded == live
    return live


def weather(city: str) -> str:
    return json.dumps({"city": city})


# --- the three inputs -------------------------------------------------------------------


def test_a_new_id_at_an_index_in_use_starts_a_new_call() -> None:
    # Ollama through LiteLLM, older vLLM builds: every parallel call at index 0, each with its own id.
    def piece(call_id: str, city: str) -> dict[str, Any]:
        return {
            "index": 0,
            "id": call_id,
            "type": "function",
            "function": {"name": "get_weather", "arguments": weather(city)},
        }

    turn = read(
        sse(
            chunk(calls_delta(piece("call_a", "Paris"))),
            chunk(calls_delta(piece("call_b", "Tokyo"))),
            chunk({}, "tool_calls"),
        )
    )
    assert turn.calls == (
        ToolCall("get_weather", '{"city": "Paris"}', "call_a"),
        ToolCall("get_weather", '{"city": "Tokyo"}', "call_b"),
    )
    assert turn.error is None


def test_b_whole_calls_in_one_delta_without_index_are_several_calls() -> None:
    # Gemini, SGLang, Mistral: no index at all.
    pieces = [
        {"id": "c1", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}},
        {"id": "c2", "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'}},
    ]
    turn = read(sse(chunk(calls_delta(*pieces), "tool_calls")))
    assert turn.calls == (
        ToolCall("get_weather", '{"city":"Oslo"}', "c1"),
        ToolCall("get_weather", '{"city":"Rome"}', "c2"),
    )


def test_c_fragments_without_index_or_id_continue_the_last_call() -> None:
    pieces = [
        {"id": "c1", "function": {"name": "get_weather", "arguments": ""}},
        {"function": {"arguments": '{"city": '}},
        {"function": {"arguments": '"Lisbon"}'}},
    ]
    turn = read(sse(*(chunk(calls_delta(p)) for p in pieces), chunk({}, "tool_calls")))
    assert turn.calls == (ToolCall("get_weather", '{"city": "Lisbon"}', "c1"),)
    assert json.loads(turn.calls[0].arguments) == {"city": "Lisbon"}


# --- other servers' shapes ----------------------------------------------------------------------


def test_a_name_resent_in_every_delta_is_not_concatenated() -> None:
    pieces = [
        {"index": 0, "id": "c1", "function": {"name": "get_weather", "arguments": '{"city": '}},
        {"index": 0, "id": "c1", "function": {"name": "get_weather", "arguments": '"Oslo"}'}},
    ]
    turn = read(sse(*(chunk(calls_delta(p)) for p in pieces), chunk({}, "tool_calls")))
    assert turn.calls == (ToolCall("get_weather", '{"city": "Oslo"}', "c1"),)


def test_a_name_resent_without_ids_or_index_continues_an_unfinished_call() -> None:
    pieces = [
        {"function": {"name": "get_weather", "arguments": '{"city": '}},
        {"function": {"name": "get_weather", "arguments": '"Oslo"}'}},
    ]
    turn = read(sse(*(chunk(calls_delta(p)) for p in pieces), chunk({}, "tool_calls")))
    assert turn.calls == (ToolCall("get_weather", '{"city": "Oslo"}'),)


def test_two_whole_calls_to_one_function_without_ids_or_index_are_two_calls() -> None:
    pieces = [
        {"function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
        {"function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}},
    ]
    turn = read(sse(*(chunk(calls_delta(p)) for p in pieces), chunk({}, "tool_calls")))
    assert [c.arguments for c in turn.calls] == ['{"city": "Oslo"}', '{"city": "Rome"}']


def test_arguments_sent_as_a_json_object_are_accepted() -> None:
    piece = {"index": 0, "id": "c1", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}
    turn = read(sse(chunk(calls_delta(piece)), chunk({}, "tool_calls")))
    assert turn.calls == (ToolCall("get_weather", '{"city": "Oslo"}', "c1"),)


def test_whole_arguments_repeated_after_the_fragments_are_not_doubled() -> None:
    # kimi-k2 through OpenRouter, some vLLM builds: the final delta repeats everything.
    pieces = [
        {"index": 0, "id": "c1", "function": {"name": "get_weather", "arguments": '{"city"'}},
        {"index": 0, "function": {"arguments": ': "Oslo"}'}},
        {"index": 0, "id": "c1", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
    ]
    turn = read(sse(*(chunk(calls_delta(p)) for p in pieces), chunk({}, "tool_calls")))
    assert turn.calls == (ToolCall("get_weather", '{"city": "Oslo"}', "c1"),)


def test_a_null_index_then_index_zero_is_one_call() -> None:
    pieces = [
        {"index": None, "id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"ci'}},
        {"index": 0, "function": {"arguments": 'ty": "Oslo"}'}},
    ]
    turn = read(sse(*(chunk(calls_delta(p)) for p in pieces), chunk({}, "tool_calls")))
    assert turn.calls == (ToolCall("get_weather", '{"city": "Oslo"}', "c1"),)


def test_interleaved_indexes_stay_apart_and_come_out_in_index_order() -> None:
    pieces = [
        {"index": 1, "id": "b", "function": {"name": "get_time", "arguments": '{"tz"'}},
        {"index": 0, "id": "a", "function": {"name": "get_weather", "arguments": '{"city"'}},
        {"index": 1, "function": {"arguments": ': "UTC"}'}},
        {"index": 0, "function": {"arguments": ': "Oslo"}'}},
    ]
    turn = read(sse(*(chunk(calls_delta(p)) for p in pieces), chunk({}, "tool_calls")))
    assert turn.calls == (ToolCall("get_weather", '{"city": "Oslo"}', "a"), ToolCall("get_time", '{"tz": "UTC"}', "b"))


def test_an_empty_id_on_later_deltas_is_no_id() -> None:
    pieces = [
        {"index": 0, "id": "c1", "function": {"name": "get_weather", "arguments": '{"city": '}},
        {"index": 0, "id": "", "function": {"arguments": '"Oslo"}'}},
    ]
    assert read(sse(*(chunk(calls_delta(p)) for p in pieces), chunk({}, "tool_calls"))).calls == (
        ToolCall("get_weather", '{"city": "Oslo"}', "c1"),
    )


def test_gemini_style_finish_reason_stop_with_calls_keeps_the_calls() -> None:
    piece = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}
    turn = read(sse(chunk(calls_delta(piece), "stop")))
    assert turn.calls == (ToolCall("get_weather", '{"city":"Oslo"}', "c1"),) and turn.finish_reason == "stop"


def test_done_without_a_finish_reason_is_a_complete_reply() -> None:
    # kimi-k2 through OpenRouter ends with [DONE] and never sends a finish_reason.
    turn = read(sse(chunk({"content": "Hello"})))
    assert (turn.content, turn.error) == ("Hello", None)


def test_usage_chunk_after_the_finish_and_crlf_lines_without_spaces() -> None:
    body = sse(chunk({"content": "Hi"}), chunk({}, "stop"), eol="\r\n").replace("data: ", "data:")
    body = body.replace(
        "data:[DONE]", 'data:{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\r\n\r\ndata:[DONE]'
    )
    turn = read(body)
    assert (turn.content, turn.finish_reason, turn.prompt_tokens, turn.completion_tokens) == ("Hi", "stop", 3, 1)


def test_legacy_function_call_deltas() -> None:
    turn = read(
        sse(
            chunk({"function_call": {"name": "get_weather", "arguments": '{"city"'}}),
            chunk({"function_call": {"arguments": ': "Oslo"}'}}),
            chunk({}, "function_call"),
        )
    )
    assert turn.calls == (ToolCall("get_weather", '{"city": "Oslo"}'),) and turn.finish_reason == "function_call"


def test_a_stream_cut_mid_call_is_truncated_and_keeps_the_partial_call() -> None:
    piece = {"index": 0, "id": "c1", "function": {"name": "get_weather", "arguments": '{"city": "Os'}}
    turn = read(sse(chunk(calls_delta(piece)), done=False))
    assert turn.error is not None and turn.error.kind == TRUNCATED_STREAM
    assert turn.calls == (ToolCall("get_weather", '{"city": "Os', "c1"),)


def test_an_error_event_name_is_an_error_of_the_server() -> None:
    body = sse(chunk({"content": "x"}), done=False) + 'event: error\ndata: {"message": "overloaded", "code": 503}\n\n'
    turn = read(body)
    assert turn.error is not None and turn.error.kind == "http_error" and "overloaded" in turn.error.message


def test_a_streamed_call_that_never_got_a_name_is_malformed() -> None:
    piece = {"index": 0, "id": "c1", "function": {"arguments": "{}"}}
    turn = read(sse(chunk(calls_delta(piece)), chunk({}, "tool_calls")))
    assert turn.error is not None and turn.error.kind == MALFORMED_REPLY


# --- a streamed request answered some other way (part 3) -----------------------------------------


def test_a_plain_completion_answering_a_stream_request_is_read_as_that_completion() -> None:
    # A proxy that ignores stream: true.
    completion = {
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
            }
        ]
    }
    turn = read(json.dumps(completion))
    assert turn.calls == (ToolCall("f", "{}", "c1"),) and turn.error is None


@pytest.mark.parametrize("body", ["<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "", "   \n"])
def test_an_html_page_or_an_empty_body_is_malformed_not_a_truncated_stream(body: str) -> None:
    turn = read(body)
    assert turn.error is not None and turn.error.kind == MALFORMED_REPLY


# --- cross-check with the openai SDK's own accumulator -------------------------------------------

_ARGUMENT_VALUES = st.one_of(st.integers(-1000, 1000), st.text(max_size=12), st.booleans(), st.none())
_CALLS = st.lists(
    st.tuples(
        st.sampled_from(["get_weather", "get_time", "lookup"]),
        st.dictionaries(st.sampled_from("abcde"), _ARGUMENT_VALUES, max_size=4),
    ),
    min_size=1,
    max_size=4,
)


@st.composite
def openai_shaped_streams(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """An OpenAI-shaped stream: each call's first delta has index, id and name; its arguments
    follow in fragments at the same index."""
    calls = draw(_CALLS)
    pending: list[list[dict[str, Any]]] = []
    expected = []
    for index, (name, arguments) in enumerate(calls):
        text = json.dumps(arguments)
        cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=4)))
        parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        call_id = f"call_{index}"
        first = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        pending.append([first] + [{"index": index, "function": {"arguments": p}} for p in parts if p])
        expected.append((name, text, call_id))
    # One call after another, as OpenAI sends them (the SDK's accumulator requires index order).
    chunks = [chunk(calls_delta(piece)) for queue in pending for piece in queue]
    chunks.append(chunk({}, "tool_calls"))
    return chunks, expected


@given(openai_shaped_streams())
def test_indexed_streams_read_like_the_openai_sdk_reads_them(
    stream: tuple[list[dict[str, Any]], list[tuple[str, str, str]]],
) -> None:
    chunks, expected = stream
    state = ChatCompletionStreamState()
    for raw in chunks:
        state.handle_chunk(ChatCompletionChunk.model_validate(raw))
    sdk_calls = state.get_final_completion().choices[0].message.tool_calls or []
    sdk = [(c.function.name, c.function.arguments, c.id) for c in sdk_calls]  # type: ignore[union-attr]
    ours = turn_from_chat_chunks(chunks).calls
    assert [(c.name, c.arguments, c.id) for c in ours] == sdk == expected
