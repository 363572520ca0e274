"""Small cassettes written the ways other tools write them, for the importer tests (the ``kit`` fixture)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

CHAT = "https://api.openai.com/v1/chat/completions"
RESPONSES = "https://api.openai.com/v1/responses"
SECRET = "sk-SECRET-REQUEST-HEADER"  # in every request's headers: must never be printed


def exchange(
    request: Any,
    response: Any,
    *,
    uri: str = CHAT,
    method: str = "POST",
    status: int = 200,
    content_type: str | None = "application/json",
    gzipped: bool = False,
) -> dict[str, Any]:
    """A standard vcrpy interaction; ``gzipped`` stores the body as gzip ``!!binary`` (as openllmetry does)."""
    text = response if isinstance(response, str) else json.dumps(response)
    headers: dict[str, list[str]] = {"Content-Type": [content_type]} if content_type else {}
    body: Any = text
    if gzipped:
        body = gzip.compress(text.encode())
        headers["Content-Encoding"] = ["gzip"]
    return {
        "request": {
            "method": method,
            "uri": uri,
            "body": None if request is None else request if isinstance(request, str) else json.dumps(request),
            "headers": {"authorization": [f"Bearer {SECRET}"], "api-key": [SECRET]},
        },
        "response": {"status": {"code": status, "message": "OK"}, "headers": headers, "body": {"string": body}},
    }


def old_httpx(request: Any, response: Any, *, status: int = 200) -> dict[str, Any]:
    """vcrpy's old httpx stub: ``response.content`` + ``status_code``, with a stale gzip header."""
    return {
        "request": {"method": "POST", "uri": CHAT, "body": json.dumps(request), "headers": {}},
        "response": {
            "status_code": status,
            "http_version": "HTTP/1.1",
            "headers": {"content-encoding": "gzip", "content-type": "application/json"},
            "content": response if isinstance(response, str) else json.dumps(response),
        },
    }


def tool(name: str, **properties: str) -> dict[str, Any]:
    params = {"type": "object", "properties": {k: {"type": v} for k, v in properties.items()}}
    return {"type": "function", "function": {"name": name, "description": f"{name} tool", "parameters": params}}


def chat_request(prompt: str = "Weather in Paris?", tools: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}], **extra}
    if tools is None:
        request["tools"] = [tool("get_weather", city="string")]
    elif tools:
        request["tools"] = tools
    return request


def call(name: str, arguments: Any, call_id: str = "call_1") -> dict[str, Any]:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}


def completion(*choices: dict[str, Any]) -> dict[str, Any]:
    """A chat.completion; each choice is ``{"calls": [...]}`` or ``{"content": "..."}``."""
    out = []
    for index, choice in enumerate(choices):
        message: dict[str, Any] = {"role": "assistant", "content": choice.get("content")}
        if choice.get("calls"):
            message["tool_calls"] = choice["calls"]
        finish = "tool_calls" if choice.get("calls") else "stop"
        out.append({"index": index, "message": message, "finish_reason": finish})
    return {"id": "chatcmpl-1", "object": "chat.completion", "choices": out}


def sse(*chunks: dict[str, Any], done: bool = True) -> str:
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + ("data: [DONE]\n\n" if done else "")


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def write(path: Path, *interactions: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"interactions": list(interactions), "version": 1}), encoding="utf-8")
    return path


def assistants() -> list[dict[str, Any]]:
    """An Assistants run that requires a call, gets its output and completes (polled by GET)."""
    base = "https://api.openai.com/v1"
    run = {"id": "run_1", "object": "thread.run", "thread_id": "thread_1", "assistant_id": "asst_1"}
    required = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {"tool_calls": [call("get_weather", {"city": "Paris"}, "call_9")]},
    }
    assistant = {
        "id": "asst_1",
        "object": "assistant",
        "instructions": "You are a weather bot.",
        "tools": [tool("get_weather", city="string"), {"type": "code_interpreter"}],
    }
    return [
        exchange({"model": "gpt-4o", "name": "bot"}, assistant, uri=f"{base}/assistants"),
        exchange({}, {"id": "thread_1", "object": "thread"}, uri=f"{base}/threads"),
        exchange(
            {"role": "user", "content": "Weather in Paris?"},
            {"id": "msg_1", "object": "thread.message"},
            uri=f"{base}/threads/thread_1/messages",
        ),
        exchange({"assistant_id": "asst_1"}, {**run, "status": "queued"}, uri=f"{base}/threads/thread_1/runs"),
        exchange(None, {**run, "status": "in_progress"}, uri=f"{base}/threads/thread_1/runs/run_1", method="GET"),
        exchange(
            None,
            {**run, "status": "requires_action", "required_action": required},
            uri=f"{base}/threads/thread_1/runs/run_1",
            method="GET",
        ),
        exchange(
            {"tool_outputs": [{"tool_call_id": "call_9", "output": "sunny"}]},
            {**run, "status": "queued"},
            uri=f"{base}/threads/thread_1/runs/run_1/submit_tool_outputs",
        ),
        exchange(None, {**run, "status": "completed"}, uri=f"{base}/threads/thread_1/runs/run_1", method="GET"),
    ]


@pytest.fixture
def kit() -> SimpleNamespace:
    return SimpleNamespace(
        CHAT=CHAT,
        RESPONSES=RESPONSES,
        SECRET=SECRET,
        exchange=exchange,
        old_httpx=old_httpx,
        tool=tool,
        chat_request=chat_request,
        call=call,
        completion=completion,
        sse=sse,
        chunk=chunk,
        write=write,
        assistants=assistants,
    )
