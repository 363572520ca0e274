"""Chat Completions: ``tools``/``tool_calls``, legacy ``functions``/``function_call``, streamed or not."""

from __future__ import annotations

from collections.abc import Sequence
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


class ChatConversation:
    """A job over Chat Completions. In a loop, the model's calls go back as an assistant message
    (``tool_calls``, or ``function_call`` with legacy functions) and each output as a ``tool``
    message naming its call id (``function`` message for legacy functions)."""

    def __init__(self, client: Any, job: Any):
        self.client, self.job = client, job
        self.request = build_request(job)
        self.messages: list[dict[str, Any]] = list(self.request["messages"])
        self.legacy = "functions" in self.request
        self._summary = summary(self.request, toolset_id(job.offered_tools))
        self._steps = 0

    def send(self) -> Turn:
        self._steps += 1
        request = {**self.request, "messages": list(self.messages)}
        return call_api(lambda: self.client.chat.completions.with_streaming_response.create(**request), "chat")

    def answer_calls(self, turn: Turn, outputs: Sequence[str]) -> None:
        if self.legacy:  # one function_call per assistant message, each answered by a function message
            for call, output in zip(turn.calls, outputs, strict=True):
                function_call = {"name": call.name, "arguments": call.arguments}
                self.messages.append({"role": "assistant", "content": turn.content, "function_call": function_call})
                self.messages.append({"role": "function", "name": call.name, "content": output})
            return
        # A call without an id (some servers send none) gets one, so its output can name it.
        ids = [call.id or f"call_{self._steps}_{number}" for number, call in enumerate(turn.calls)]
        self.messages.append(
            {
                "role": "assistant",
                "content": turn.content,
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                    for call_id, call in zip(ids, turn.calls, strict=True)
                ],
            }
        )
        for call_id, output in zip(ids, outputs, strict=True):
            self.messages.append({"role": "tool", "tool_call_id": call_id, "content": output})

    def summary(self) -> dict[str, Any]:
        return self._summary
