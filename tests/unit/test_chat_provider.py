"""The Chat Completions provider through the real openai SDK, with httpx2.MockTransport as the server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from evalkit.calls import (
    CASSETTE_MISS,
    CONNECTION_ERROR,
    HTTP_ERROR,
    MALFORMED_REPLY,
    RATE_LIMITED,
    TRUNCATED_STREAM,
    ToolCall,
)
from evalkit.cases import Case, Expectation
from evalkit.config import ModelConfig
from evalkit.jobs import Job
from evalkit.providers import chat, make_client, run_job
from evalkit.recording import cassette_client
from evalkit.tools import toolset_id

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "strict": True,
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}


def job(*, legacy: bool = False, stream: bool = False, **params: object) -> Job:
    model = ModelConfig(
        name="test-model",
        model="test-model",
        base_url="http://llm.test/v1",
        stream=stream,
        legacy_functions=legacy,
        params=params,
    )
    case = Case("weather", "paris", ({"role": "user", "content": "Weather in Paris?"},), Expectation())
    return Job(case, model, (WEATHER, TIME))


class Server:
    """Answers every request with ``reply(request)`` and keeps what it was sent."""

    def __init__(self, reply: Callable[[httpx2.Request], httpx2.Response]):
        self.requests: list[httpx2.Request] = []
        self._reply = reply
        self.transport = httpx2.MockTransport(self._handle)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self._reply(request)

    def body(self, number: int = 0) -> dict:
        return json.loads(self.requests[number].content)


def send(the_job: Job, reply: Callable[[httpx2.Request], httpx2.Response]) -> tuple[Server, dict, object]:
    server = Server(reply)
    client = make_client(the_job.model, httpx2.Client(transport=server.transport), record_mode="none")
    summary, turn = run_job(client, the_job)
    return server, summary, turn


def completion(*calls: dict, content: str | None = None) -> dict:
    message = {"role": "assistant", "content": content, **({"tool_calls": list(calls)} if calls else {})}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27},
    }


def weather_call(call_id: str = "call_1", arguments: str = '{"city": "Paris"}') -> dict:
    return {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}


def sse_body(*chunks: dict, done: bool = True) -> bytes:
    text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + ("data: [DONE]\n\n" if done else "")
    return text.encode()


def chunk(delta: dict, finish_reason: str | None = None) -> dict:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def json_reply(body: dict, status: int = 200) -> Callable[[httpx2.Request], httpx2.Response]:
    return lambda request: httpx2.Response(status, json=body)


# --- build_request --------------------------------------------------------------------------------


def test_tools_request_passes_options_through():
    request = chat.build_request(
        job(
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            parallel_tool_calls=False,
            temperature=0,
        )
    )
    assert request["tools"] == [WEATHER, TIME]
    assert request["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert (request["parallel_tool_calls"], request["temperature"]) == (False, 0)
    assert "functions" not in request and "stream" not in request


@pytest.mark.parametrize(
    ("tool_choice", "function_call"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ({"type": "function", "function": {"name": "get_time"}}, {"name": "get_time"}),
        ("required", None),
    ],
)
def test_legacy_request_maps_tool_choice_and_drops_parallel_tool_calls(tool_choice, function_call):
    request = chat.build_request(job(legacy=True, tool_choice=tool_choice, parallel_tool_calls=True))
    assert request["functions"][0] == {
        k: v for k, v in WEATHER["function"].items() if k != "strict"
    }  # no legacy strict
    assert [f["name"] for f in request["functions"]] == ["get_weather", "get_time"]
    assert request.get("function_call") == function_call
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & set(request)


def test_legacy_request_goes_over_the_wire_as_functions():
    server, summary, turn = send(
        job(legacy=True, tool_choice="auto"),
        json_reply(
            {
                **completion(),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "function_call": {"name": "get_weather", "arguments": "{}"}},
                        "finish_reason": "function_call",
                    }
                ],
            }
        ),
    )
    sent = server.body()
    assert sent["function_call"] == "auto" and "tools" not in sent and "parallel_tool_calls" not in sent
    assert turn.calls == (ToolCall("get_weather", "{}", None),) and summary["legacy_functions"] is True


# --- replies --------------------------------------------------------------------------------------


def test_plain_reply_becomes_a_turn_and_a_summary():
    server, summary, turn = send(
        job(temperature=0), json_reply(completion(weather_call(), weather_call("call_2", '{"city": "Rome"}')))
    )
    assert [c.arguments for c in turn.calls] == ['{"city": "Paris"}', '{"city": "Rome"}']
    assert (turn.finish_reason, turn.prompt_tokens, turn.completion_tokens) == ("tool_calls", 20, 7)
    assert server.body()["tools"] == [WEATHER, TIME]
    assert summary == {
        "api": "chat.completions",
        "model": "test-model",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "toolset": toolset_id((WEATHER, TIME)),
        "legacy_functions": False,
        "stream": False,
        "params": {"temperature": 0},
    }


def test_streamed_deltas_are_joined_through_the_sdk():
    stream = sse_body(
        chunk(
            {
                "role": "assistant",
                "tool_calls": [
                    {"index": 0, "id": "a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
                ],
            }
        ),
        chunk(
            {
                "tool_calls": [
                    {"index": 1, "id": "b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]}),
        chunk({}, "tool_calls"),
    )
    server, summary, turn = send(
        job(stream=True),
        lambda request: httpx2.Response(200, content=stream, headers={"content-type": "text/event-stream"}),
    )
    assert server.body()["stream"] is True and summary["stream"] is True
    assert turn.calls == (ToolCall("get_weather", '{"city": "Paris"}', "a"), ToolCall("get_time", "{}", "b"))
    assert turn.error is None


def test_stream_ending_without_finish_reason_is_truncated():
    stream = sse_body(
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"ci'},
                    }
                ]
            }
        ),
        done=False,
    )
    _, _, turn = send(
        job(stream=True),
        lambda request: httpx2.Response(200, content=stream, headers={"content-type": "text/event-stream"}),
    )
    assert turn.error.kind == TRUNCATED_STREAM and turn.calls[0].arguments == '{"ci'


class BrokenStream(httpx2.SyncByteStream):
    """Sends the start of a call, then the connection drops."""

    def __iter__(self) -> Iterator[bytes]:
        yield sse_body(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "a",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"ci'},
                        }
                    ]
                }
            ),
            done=False,
        )
        raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")


def test_connection_drop_mid_stream_is_a_truncated_stream_that_keeps_the_partial_call():
    # openai 3.x wraps the drop in APIConnectionError; it must not read as "server unreachable".
    _, _, turn = send(
        job(stream=True),
        lambda request: httpx2.Response(200, stream=BrokenStream(), headers={"content-type": "text/event-stream"}),
    )
    assert turn.error.kind == TRUNCATED_STREAM
    assert (
        turn.error.message == "the connection broke after 272 bytes of the reply: RemoteProtocolError: "
        "peer closed connection without sending complete message body"
    )
    assert turn.calls == (ToolCall("get_weather", '{"ci', "a"),) and turn.finish_reason is None


def test_error_event_inside_a_200_stream_is_an_http_error_not_a_crash():
    stream = sse_body(
        chunk({"content": ""}), {"error": {"message": "Tool call validation failed", "code": "tool_use_failed"}}
    )
    _, _, turn = send(
        job(stream=True),
        lambda request: httpx2.Response(200, content=stream, headers={"content-type": "text/event-stream"}),
    )
    assert turn.error.kind == HTTP_ERROR and turn.error.message == (
        "error event in stream: tool_use_failed: Tool call validation failed"
    )


# --- failures -------------------------------------------------------------------------------------


def test_429_is_rate_limited_and_never_retried():
    server, _, turn = send(job(), json_reply({"error": {"message": "Rate limit reached", "type": "requests"}}, 429))
    assert len(server.requests) == 1  # max_retries=0: a retry would hide the limit
    assert turn.error.kind == RATE_LIMITED
    assert turn.error.message == "HTTP 429: Rate limit reached; lower --concurrency or retry later"


def test_500_is_an_http_error_with_the_servers_message():
    server, _, turn = send(job(), json_reply({"error": {"message": "The server had an error"}}, 500))
    assert len(server.requests) == 1
    assert (turn.error.kind, turn.error.message) == (HTTP_ERROR, "HTTP 500: The server had an error")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", b"<html>502 Bad Gateway</html>"),
        ("application/json", b"not json at all"),
        ("application/json", b'{"object": "chat.completion"}'),
    ],
)
def test_a_200_that_is_not_a_completion_is_malformed(content_type, body):
    # The SDK returns text for a non-JSON content type and raises JSONDecodeError for broken JSON.
    _, _, turn = send(job(), lambda request: httpx2.Response(200, content=body, headers={"content-type": content_type}))
    assert turn.error.kind == MALFORMED_REPLY and turn.calls == ()


def test_unreachable_server_is_a_connection_error():
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused")

    server, _, turn = send(job(), refuse)
    assert len(server.requests) == 1
    assert turn.error.kind == CONNECTION_ERROR and "connection refused" in turn.error.message


def test_cassette_miss_is_its_own_kind_and_names_the_cassette(tmp_path: Path):
    path = tmp_path / "test-model" / "weather" / "paris.yaml"
    offline = httpx2.MockTransport(lambda request: pytest.fail("replay must not reach the network"))
    with cassette_client(path, inner=offline) as http_client:
        _, turn = run_job(make_client(job().model, http_client, record_mode="none"), job())
    assert turn.error.kind == CASSETTE_MISS
    assert (
        turn.error.message
        == f"no recorded response in {path} for this request (the cassette is missing or empty; record it with --record-mode once)"
    )


@pytest.mark.parametrize("stream", [False, True])
def test_recorded_then_replayed_through_the_sdk(tmp_path: Path, stream: bool):
    path = tmp_path / "paris.yaml"
    sse = sse_body(
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city"'},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ': "Paris"}'}}]}),
        chunk({}, "tool_calls"),
    )
    reply = (
        (lambda request: httpx2.Response(200, content=sse, headers={"content-type": "text/event-stream"}))
        if stream
        else json_reply(completion(weather_call()))
    )
    the_job = job(stream=stream)
    with cassette_client(path, record_mode="once", inner=Server(reply).transport) as http_client:
        _, recorded = run_job(make_client(the_job.model, http_client, record_mode="once"), the_job)
    offline = httpx2.MockTransport(lambda request: pytest.fail("replay must not reach the network"))
    with cassette_client(path, inner=offline) as http_client:
        _, replayed = run_job(make_client(the_job.model, http_client, record_mode="none"), the_job)
    assert replayed == recorded and replayed.error is None
    assert replayed.calls == (ToolCall("get_weather", '{"city": "Paris"}', "a" if stream else "call_1"),)
    assert "sk-evalkit-replay" not in path.read_text()


# --- Azure OpenAI ---------------------------------------------------------------------------------


def test_azure_goes_through_azure_openai_to_the_deployment_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_KEY_FOR_TEST", "azure-secret")
    model = ModelConfig(
        name="azure-4o",
        model="my-deployment",
        api="azure",
        api_key_env="AZURE_KEY_FOR_TEST",
        azure_endpoint="https://example-resource.openai.azure.com",
        api_version="2024-10-21",
    )
    the_job = Job(job().case, model, (WEATHER,))
    server = Server(json_reply(completion(weather_call())))
    # Recording is when a real key is sent; in replay a placeholder is.
    summary, turn = run_job(make_client(model, httpx2.Client(transport=server.transport), record_mode="once"), the_job)
    request = server.requests[0]
    assert (
        str(request.url)
        == "https://example-resource.openai.azure.com/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21"
    )
    assert request.headers["api-key"] == "azure-secret"  # Azure's header, not a bearer token
    assert turn.calls == (ToolCall("get_weather", '{"city": "Paris"}', "call_1"),)
    assert summary["model"] == "my-deployment"


def test_azure_recording_without_a_key_is_a_config_error() -> None:
    from evalkit.errors import ConfigError

    model = ModelConfig(
        name="azure-4o", model="d", api="azure", azure_endpoint="https://x.openai.azure.com", api_version="2024-10-21"
    )
    with pytest.raises(ConfigError, match="recording needs an API key; set AZURE_OPENAI_API_KEY"):
        make_client(model, httpx2.Client(), record_mode="once")


# --- a streamed request answered some other way (issue 8, part 3) ---------------------------------


def test_a_streamed_request_answered_with_a_plain_completion_reads_that_completion():
    # A proxy that ignores stream: true answers one JSON object: its call is the model's answer.
    server, _, turn = send(job(stream=True), json_reply(completion(weather_call())))
    assert server.body()["stream"] is True
    assert turn.error is None and turn.calls == (ToolCall("get_weather", '{"city": "Paris"}', "call_1"),)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "text/html"),
        (b"", "text/event-stream"),
        (b"", "application/json"),
    ],
)
@pytest.mark.parametrize("stream", [True, False])
def test_an_html_page_or_an_empty_200_is_malformed_not_a_model_answer(body, content_type, stream):
    reply = lambda request: httpx2.Response(200, content=body, headers={"content-type": content_type})  # noqa: E731
    _, _, turn = send(job(stream=stream), reply)
    assert turn.error.kind == MALFORMED_REPLY and turn.calls == ()


@pytest.mark.parametrize(
    "delta_shape",
    [
        # (a): both calls at index 0, each with its own id (Ollama through LiteLLM, older vLLM)
        [
            {
                "index": 0,
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "index": 0,
                "id": "call_b",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'},
            },
        ],
        # (b): no index, two whole calls in one delta (Gemini, SGLang, Mistral)
        [
            [
                {"id": "call_a", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
                {"id": "call_b", "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'}},
            ]
        ],
    ],
)
def test_the_sdk_path_reads_other_servers_parallel_calls(delta_shape):
    chunks = [chunk({"tool_calls": piece if isinstance(piece, list) else [piece]}) for piece in delta_shape]
    body = sse_body(*chunks, chunk({}, "tool_calls"))
    _, _, turn = send(
        job(stream=True),
        lambda request: httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"}),
    )
    assert turn.error is None
    assert [(c.name, c.arguments) for c in turn.calls] == [
        ("get_weather", '{"city": "Paris"}'),
        ("get_weather", '{"city": "Tokyo"}'),
    ]
