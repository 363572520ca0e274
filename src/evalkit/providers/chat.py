"""Chat Completions: ``tools``/``tool_calls``, legacy ``functions``/``function_call``, streamed or not."""

from __future__ import annotations

from typing import Any

from ..calls import Turn
from ..tools import tool_to_function, toolset_id
from . import call_api

# Options that only make sense with `tools`, and their legacy spelling.
_TOOLS_ONLY = ("parallel_tool_calls", "tool_choice")


def build_request(job: Any) -> dict[str, Any]:
    """The keyword arguments for ``client.chat.completions.create``."""
    model = job.model
    params = dict(model.params)
    request: dict[str, Any] = {"model": model.model, "messages": [dict(m) for m in job.case.messages]}
    if model.legacy_functions:
        request["functions"] = [tool_to_function(t) for t in job.offered_tools]
        choice = params.pop("tool_choice", None)
        for name in _TOOLS_ONLY:
            params.pop(name, None)
        if choice in ("auto", "none"):
            request["function_call"] = choice
        elif isinstance(choice, dict):
            request["function_call"] = {"name": choice["function"]["name"]}
    else:
        request["tools"] = [dict(t) for t in job.offered_tools]
    if model.stream:
        request["stream"] = True
    return {**request, **params}


def summary(request: dict[str, Any], toolset: str) -> dict[str, Any]:
    """What results.json keeps of a request: the messages sent (system prompt included), the id of
    the offered tool list (stored once in results.json's ``toolsets``), and the options."""
    return {
        "api": "chat.completions",
        "model": request["model"],
        "messages": request["messages"],
        "toolset": toolset,
        "legacy_functions": "functions" in request,
        "stream": bool(request.get("stream")),
        "params": {k: v for k, v in request.items() if k not in ("model", "messages", "tools", "functions", "stream")},
    }


def run(client: Any, job: Any) -> tuple[dict[str, Any], Turn]:
    request = build_request(job)
    turn = call_api(lambda: client.chat.completions.with_streaming_response.create(**request), "chat")
    return summary(request, toolset_id(job.offered_tools)), turn
