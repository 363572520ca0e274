"""Responses API: ``client.responses.create`` with function tools, streamed or not.

Case files hold Chat Completions messages; they are converted here to Responses ``input`` items
(assistant ``tool_calls`` become ``function_call`` items, ``tool`` messages ``function_call_output``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..calls import Turn
from ..errors import ConfigError
from ..tools import tool_to_responses, toolset_id
from . import call_api

# Chat Completions parameters that the Responses API spells differently.
_RENAMED = {"max_tokens": "max_output_tokens", "max_completion_tokens": "max_output_tokens"}


def build_request(job: Any) -> dict[str, Any]:
    """The keyword arguments for ``client.responses.create``."""
    model = job.model
    if model.legacy_functions:
        raise ConfigError(
            f'model {model.name!r}: the Responses API has no legacy functions; drop legacy_functions or use api = "chat"'
        )
    params = {_RENAMED.get(k, k): v for k, v in model.params.items()}
    if "tool_choice" in params:
        params["tool_choice"] = tool_choice(params["tool_choice"])
    request: dict[str, Any] = {
        "model": model.model,
        "input": messages_to_input(job.case.messages),
        "tools": [tool_to_responses(t) for t in job.offered_tools],
    }
    if model.stream:
        request["stream"] = True
    return {**request, **params}


def tool_choice(choice: Any) -> Any:
    """Chat's ``{"type": "function", "function": {"name": N}}`` is ``{"type": "function", "name": N}`` here."""
    if isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        return {"type": "function", "name": choice["function"]["name"]}
    return choice


def messages_to_input(messages: Any) -> list[dict[str, Any]]:
    """Chat Completions messages as Responses input items."""
    items: list[dict[str, Any]] = []
    legacy_id = None  # legacy function results name no call id: pair them with the last call
    for number, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.get("tool_call_id"),
                    "output": _text(message.get("content")),
                }
            )
        elif role == "function":
            items.append(
                {"type": "function_call_output", "call_id": legacy_id, "output": _text(message.get("content"))}
            )
        else:
            if message.get("content") is not None or role != "assistant":
                items.append({"role": role, "content": message.get("content") or ""})
            for call in message.get("tool_calls") or ():
                items.append(_function_call(call.get("id"), call.get("function") or {}))
            if message.get("function_call"):
                legacy_id = f"call_legacy_{number}"
                items.append(_function_call(legacy_id, message["function_call"]))
    return items


def _function_call(call_id: str | None, function: Mapping[str, Any]) -> dict[str, Any]:
    arguments = function.get("arguments")
    return {
        "type": "function_call",
        "call_id": call_id,
        "name": function.get("name"),
        "arguments": arguments if isinstance(arguments, str) else "{}",
    }


def _text(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content)


def summary(request: dict[str, Any], toolset: str) -> dict[str, Any]:
    """What results.json keeps of a request (same keys as the Chat Completions summary)."""
    return {
        "api": "responses",
        "model": request["model"],
        "messages": request["input"],
        "toolset": toolset,
        "legacy_functions": False,
        "stream": bool(request.get("stream")),
        "params": {k: v for k, v in request.items() if k not in ("model", "input", "tools", "stream")},
    }


def run(client: Any, job: Any) -> tuple[dict[str, Any], Turn]:
    request = build_request(job)
    turn = call_api(lambda: client.responses.with_streaming_response.create(**request), "responses")
    return summary(request, toolset_id(job.offered_tools)), turn
