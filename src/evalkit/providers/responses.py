"""Responses API: ``client.responses.create`` with function tools, streamed or not.

Case files hold Chat Completions messages; they are converted here to Responses ``input`` items
(assistant ``tool_calls`` become ``function_call`` items, ``tool`` messages ``function_call_output``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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


class ResponsesConversation:
    """A job over the Responses API. In a loop, the model's calls go back as ``function_call`` items
    and each output as a ``function_call_output`` item naming its ``call_id``: with the whole input
    sent again each step (``history = "input"``, the default: works with stateless servers), or
    only the new outputs and ``previous_response_id`` (``history = "previous_response_id"``)."""

    def __init__(self, client: Any, job: Any):
        self.client, self.job = client, job
        self.request = build_request(job)
        self.input: list[dict[str, Any]] = list(self.request["input"])
        self.chained = job.model.history == "previous_response_id"
        self.previous: str | None = None
        self._summary = summary(self.request, toolset_id(job.offered_tools))
        self._steps = 0

    def send(self) -> Turn:
        self._steps += 1
        request = {**self.request, "input": list(self.input)}
        if self.chained and self.previous:
            request["previous_response_id"] = self.previous
        return call_api(lambda: self.client.responses.with_streaming_response.create(**request), "responses")

    def answer_calls(self, turn: Turn, outputs: Sequence[str]) -> None:
        ids = [call.id or f"call_{self._steps}_{number}" for number, call in enumerate(turn.calls)]
        produced = [
            {"type": "function_call", "call_id": call_id, "name": call.name, "arguments": call.arguments}
            for call_id, call in zip(ids, turn.calls, strict=True)
        ]
        answers = [
            {"type": "function_call_output", "call_id": call_id, "output": output}
            for call_id, output in zip(ids, outputs, strict=True)
        ]
        if self.chained and turn.reply_id:  # the server has the calls: send only their outputs
            self.previous, self.input = turn.reply_id, answers
        else:  # the text the model wrote beside its calls goes back too, as Chat's assistant message does
            said = [{"role": "assistant", "content": turn.content}] if turn.content else []
            self.input += [*said, *produced, *answers]

    def summary(self) -> dict[str, Any]:
        return self._summary
