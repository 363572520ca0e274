"""The Responses API provider through the real openai SDK, with httpx2.MockTransport as the server,
and run_job's choice of API."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx2
import pytest

from evalkit.calls import HTTP_ERROR, RATE_LIMITED, TRUNCATED_STREAM, ToolCall
from evalkit.cases import Case, Expectation
from evalkit.config import ModelConfig
from evalkit.errors import ConfigError
from evalkit.jobs import Job
from evalkit.providers import make_client, responses, run_job
from evalkit.tools import toolset_id

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": True,
    },
}
HISTORY = (
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
    {"role": "user", "content": "And Rome?"},
)


def job(
    *, api: str = "responses", stream: bool = False, legacy: bool = False, messages: tuple = HISTORY, **params: object
) -> Job:
    model = ModelConfig(
        name="m",
        model="gpt-test",
        api=api,
        base_url="http://llm.test/v1",
        stream=stream,
        legacy_functions=legacy,
        params=params,
    )
    return Job(Case("weather", "rome", messages, Expectation()), model, (WEATHER,))


def send(the_job: Job, reply: Callable[[httpx2.Request], httpx2.Response]) -> tuple[list[httpx2.Request], dict, object]:
    seen: list[httpx2.Request] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return reply(request)

    client = make_client(the_job.model, httpx2.Client(transport=httpx2.MockTransport(handle)), record_mode="none")
    summary, turn = run_job(client, the_job)
    return seen, summary, turn


def response(*output: dict) -> dict:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "gpt-test",
        "status": "completed",
        "output": list(output),
        "usage": {"input_tokens": 30, "output_tokens": 9, "total_tokens": 39},
    }


CALL = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_2",
    "name": "get_weather",
    "arguments": '{"city":"Rome"}',
    "status": "completed",
}


def test_request_converts_tools_history_and_tool_choice():
    request = responses.build_request(
        job(tool_choice={"type": "function", "function": {"name": "get_weather"}}, max_tokens=50)
    )
    assert request["tools"] == [{"type": "function", **WEATHER["function"]}]
    assert request["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert request["max_output_tokens"] == 50 and "max_tokens" not in request
    assert request["input"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
        {"role": "user", "content": "And Rome?"},
    ]


def test_legacy_functions_have_no_responses_form():
    with pytest.raises(ConfigError, match="the Responses API has no legacy functions"):
        responses.build_request(job(legacy=True))


def test_reply_through_the_sdk():
    seen, summary, turn = send(
        job(),
        lambda request: httpx2.Response(200, json=response({"type": "reasoning", "id": "rs", "summary": []}, CALL)),
    )
    assert seen[0].url.path == "/v1/responses" and json.loads(seen[0].content)["model"] == "gpt-test"
    assert turn.calls == (ToolCall("get_weather", '{"city":"Rome"}', "call_2"),)
    assert (turn.finish_reason, turn.prompt_tokens, turn.completion_tokens) == ("tool_calls", 30, 9)
    assert summary["api"] == "responses" and len(summary["messages"]) == 5
    assert summary["toolset"] == toolset_id((WEATHER,))


def events_body(*, complete: bool = True) -> bytes:
    added = {**CALL, "arguments": "", "status": "in_progress"}
    events = [
        {"type": "response.created", "sequence_number": 0, "response": {**response(), "status": "in_progress"}},
        {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0, "item": added},
        {
            "type": "response.function_call_arguments.delta",
            "sequence_number": 2,
            "output_index": 0,
            "item_id": "fc_1",
            "delta": '{"city":',
        },
        {
            "type": "response.function_call_arguments.delta",
            "sequence_number": 3,
            "output_index": 0,
            "item_id": "fc_1",
            "delta": '"Rome"}',
        },
    ]
    if complete:
        events.append({"type": "response.completed", "sequence_number": 4, "response": response(CALL)})
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def test_streamed_reply_through_the_sdk():
    _, summary, turn = send(
        job(stream=True),
        lambda request: httpx2.Response(200, content=events_body(), headers={"content-type": "text/event-stream"}),
    )
    assert turn.calls == (ToolCall("get_weather", '{"city":"Rome"}', "call_2"),) and turn.error is None
    assert summary["stream"] is True


def test_stream_without_response_completed_is_truncated():
    _, _, turn = send(
        job(stream=True),
        lambda request: httpx2.Response(
            200, content=events_body(complete=False), headers={"content-type": "text/event-stream"}
        ),
    )
    assert turn.error.kind == TRUNCATED_STREAM and turn.calls[0].arguments == '{"city":"Rome"}'


@pytest.mark.parametrize(("status", "kind"), [(429, RATE_LIMITED), (400, HTTP_ERROR)])
def test_error_statuses(status, kind):
    seen, _, turn = send(job(), lambda request: httpx2.Response(status, json={"error": {"message": "nope"}}))
    assert len(seen) == 1 and turn.error.kind == kind


@pytest.mark.parametrize(
    ("api", "path"), [("chat", "/v1/chat/completions"), ("azure", "/openai/deployments/gpt-test/chat/completions")]
)
def test_run_job_sends_chat_and_azure_jobs_to_chat_completions(api, path, monkeypatch):
    monkeypatch.setenv("AZURE_TEST_KEY", "not-a-real-key")
    the_job = job(api=api)
    if api == "azure":
        model = the_job.model
        the_job = Job(
            the_job.case,
            ModelConfig(
                name=model.name,
                model=model.model,
                api="azure",
                api_key_env="AZURE_TEST_KEY",
                azure_endpoint="https://r.openai.azure.com",
                api_version="2024-06-01",
            ),
            the_job.offered_tools,
        )
    chat_reply = {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    }
    seen, summary, turn = send(the_job, lambda request: httpx2.Response(200, json=chat_reply))
    assert seen[0].url.path == path and summary["api"] == "chat.completions" and turn.content == "hi"
