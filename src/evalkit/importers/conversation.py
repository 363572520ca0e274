"""The request side of recorded exchanges, in evalkit's own vocabulary: the Chat Completions messages
and tools a model was given, whichever API the request went to.

- Chat Completions: ``messages`` as sent; ``tools``, and legacy ``functions`` as tools; ``n`` choices.
- Responses: ``instructions`` as a system message; ``input`` items back to Chat messages (the reverse of
  :func:`evalkit.providers.responses.messages_to_input`); flat function tools to the nested shape.
- Assistants: the server keeps the conversation, so :class:`Conversation` follows the cassette in order:
  assistants created or fetched (instructions, tools), messages posted to each thread, runs (their
  ``instructions``/``tools`` overrides) and the tool outputs submitted after a ``requires_action``.

Only ``type: function`` tools are tools here; custom and built-in tools (code interpreter, web search…)
are kept by name in :attr:`Request.other_tools`, because a case file can only offer functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..calls import ToolCall, Turn
from ..tools import function_to_tool
from .cassettes import Interaction

Message = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """What a recorded request gave the model, as Chat Completions messages and tools."""

    messages: tuple[Message, ...] = ()
    tools: tuple[dict[str, Any], ...] = ()  # function tools, Chat shape, as the request defined them
    other_tools: tuple[str, ...] = ()  # tools that are not functions, e.g. "code_interpreter", "math_exp (custom)"
    offered: tuple[str, ...] = ()  # every named tool the model could call (functions and custom tools)
    choices: int = 1  # Chat Completions ``n``
    problem: str | None = None  # why the messages are not the whole conversation, when they are not
    dropped: tuple[str, ...] = ()  # input item types with no Chat form that were left out


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


# --- tools ---------------------------------------------------------------------------------------


@dataclass
class _Tools:
    tools: list[dict[str, Any]] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)

    def add(self, raw: Mapping[str, Any]) -> None:
        """One tool in any of the shapes the APIs use: Chat's nested function, Responses' flat
        function, a custom tool (either shape) or a built-in tool."""
        kind = raw.get("type", "function")
        nested = raw.get(kind) if isinstance(raw.get(kind), Mapping) else None
        name = (nested or raw).get("name")
        if kind == "function" and isinstance(name, str):
            function = dict(nested) if nested is not None else _flat_function(raw)
            self.tools.append({"type": "function", "function": function})
            self.offered.append(name)
        elif kind == "custom" and isinstance(name, str):
            self.other.append(f"{name} (custom)")
            self.offered.append(name)
        else:
            self.other.append(str(kind))

    def request(self, **fields: Any) -> Request:
        return Request(tools=tuple(self.tools), other_tools=tuple(self.other), offered=tuple(self.offered), **fields)


def _flat_function(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A Responses function tool (``{type, name, description, parameters, strict}``) as Chat's
    ``function`` object; the inverse of :func:`evalkit.tools.tool_to_responses`."""
    return {k: v for k, v in raw.items() if k != "type" and v is not None}


def _tools(*lists: Any, functions: Any = None) -> _Tools:
    found = _Tools()
    for raw in (tool for value in lists for tool in _mappings(value)):
        found.add(raw)
    for function in _mappings(functions):  # legacy `functions`
        if isinstance(function.get("name"), str):
            found.tools.append(function_to_tool(function))
            found.offered.append(function["name"])
    return found


# --- Chat Completions and Responses ---------------------------------------------------------------


def chat_request(body: Any) -> Request:
    if not isinstance(body, Mapping):
        return Request(problem="the request body is not a JSON object")
    n = body.get("n")
    choices = n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else 1
    messages = tuple(dict(m) for m in _mappings(body.get("messages")))
    return _tools(body.get("tools"), functions=body.get("functions")).request(messages=messages, choices=choices)


def responses_request(body: Any) -> Request:
    if not isinstance(body, Mapping):
        return Request(problem="the request body is not a JSON object")
    messages: list[Message] = []
    if isinstance(body.get("instructions"), str) and body["instructions"]:
        messages.append({"role": "system", "content": body["instructions"]})
    dropped: list[str] = []
    raw_input = body.get("input")
    if isinstance(raw_input, str):
        messages.append({"role": "user", "content": raw_input})
    else:
        messages += input_to_messages(_mappings(raw_input), dropped)
    problem = None
    if previous := body.get("previous_response_id"):
        problem = f"it continues response {previous} (previous_response_id), whose turns are not in the request"
    return _tools(body.get("tools")).request(messages=tuple(messages), problem=problem, dropped=tuple(dropped))


def input_to_messages(items: Sequence[Mapping[str, Any]], dropped: list[str] | None = None) -> list[Message]:
    """Responses ``input`` items as Chat messages: ``function_call`` items become the ``tool_calls``
    of an assistant message (consecutive calls share one), ``function_call_output`` items ``tool``
    messages. Reasoning items have no Chat form and are left out; other unknown items are left out
    and their types appended to ``dropped``."""
    messages: list[Message] = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message" and isinstance(item.get("role"), str):
            messages.append({"role": item["role"], "content": _content(item.get("content"))})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": _arguments(item.get("arguments"))},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and not isinstance(last.get("content"), list):
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": _text(item.get("output"))})
        elif kind != "reasoning" and dropped is not None:
            dropped.append(str(kind))
    return messages


_TEXT_PARTS = ("input_text", "output_text", "text")


def _content(content: Any) -> Any:
    """Responses (or Assistants) content as Chat content: text parts joined into a string; with an
    image, a list of Chat parts."""
    if not isinstance(content, list):
        return content
    parts = _mappings(content)
    if all(p.get("type") in _TEXT_PARTS for p in parts):
        return "".join(_part_text(p) for p in parts)
    converted: list[Any] = []
    for part in parts:
        if part.get("type") in _TEXT_PARTS:
            converted.append({"type": "text", "text": _part_text(part)})
        elif part.get("type") == "input_image" and isinstance(part.get("image_url"), str):
            converted.append({"type": "image_url", "image_url": {"url": part["image_url"]}})
        else:
            converted.append(dict(part))
    return converted


def _part_text(part: Mapping[str, Any]) -> str:
    text = part.get("text")
    if isinstance(text, Mapping):  # Assistants message parts: {"type": "text", "text": {"value": ...}}
        text = text.get("value")
    return text if isinstance(text, str) else ""


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    content = _content(value)
    return content if isinstance(content, str) else json.dumps(value, ensure_ascii=False)


def _arguments(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value if value is not None else {}, ensure_ascii=False)


# --- Assistants ------------------------------------------------------------------------------------

_THREAD = re.compile(r"/threads/(?P<thread>[^/]+)/(?P<rest>messages|runs.*)$")
_NEW_THREAD = re.compile(r"/threads/?$")
_NEW_THREAD_AND_RUN = re.compile(r"/threads/runs/?$")
_SUBMIT = re.compile(r"/runs/[^/]+/submit_tool_outputs/?$")
_THREAD_ID = re.compile(r'"thread_id"\s*:\s*"([^"]+)"')


@dataclass
class _Thread:
    messages: list[Message] = field(default_factory=list)
    assistant_id: str | None = None
    instructions: str | None = None  # the run's override of the assistant's
    additional_instructions: str | None = None
    tools: Any = None  # the run's override of the assistant's
    pending: tuple[ToolCall, ...] = ()  # the calls of the last requires_action, until outputs come


@dataclass
class _Assistant:
    instructions: str | None
    tools: Any


class Conversation:
    """Reads one cassette's requests in order. Call :meth:`request` for each interaction, then
    :meth:`observe` with its parsed turns: the Assistants API keeps assistants and threads on the
    server, so what a run saw is put together from the requests and replies before it."""

    def __init__(self) -> None:
        self._assistants: dict[str, _Assistant] = {}
        self._threads: dict[str, _Thread] = {}
        self._last_assistant: str | None = None

    def request(self, interaction: Interaction, api: str | None) -> Request:
        body = _json(interaction.request_body)
        if api == "chat":
            return chat_request(body)
        if api == "responses":
            return responses_request(body)
        path = urlsplit(interaction.uri).path
        post = interaction.method == "POST" and isinstance(body, Mapping)
        match = _THREAD.search(path)
        known = match is not None and match["thread"] in self._threads
        if post and match and match["rest"] == "messages":
            self._thread(match["thread"]).messages += _thread_messages([body])
        if api != "assistants":
            return Request()
        if post and _NEW_THREAD_AND_RUN.search(path):
            thread_body = body.get("thread") if isinstance(body.get("thread"), Mapping) else {}
            thread = self._threads[""] = _Thread(_thread_messages(_mappings(thread_body.get("messages"))))
            _start_run(thread, body)
            known = True
        elif match is None:
            return Request(problem="the run's thread is not in its URL")
        else:
            thread = self._thread(match["thread"])
            if post and match["rest"].rstrip("/") == "runs":
                _start_run(thread, body)
            elif post and _SUBMIT.search(path):
                _submit(thread, _mappings(body.get("tool_outputs")))
        return self._run_request(thread, known=known)

    def observe(self, interaction: Interaction, api: str | None, turns: Sequence[Turn | None]) -> None:
        """What the replies add: assistants (created or fetched), new threads, and the calls a run
        requires (answered by a later ``submit_tool_outputs``)."""
        body = _json(interaction.body)
        path = urlsplit(interaction.uri).path
        if isinstance(body, Mapping) and body.get("object") == "assistant" and isinstance(body.get("id"), str):
            # The assistant as the server holds it; fields a reply leaves out, as the request set them.
            request = _json(interaction.request_body) if interaction.method == "POST" else None
            sent = request if isinstance(request, Mapping) else {}
            instructions = body["instructions"] if "instructions" in body else sent.get("instructions")
            self._assistants[body["id"]] = _Assistant(instructions, body.get("tools", sent.get("tools")))
            self._last_assistant = body["id"]
        if interaction.method == "POST" and _NEW_THREAD.search(path) and isinstance(body, Mapping):
            request = _json(interaction.request_body)
            messages = _mappings(request.get("messages")) if isinstance(request, Mapping) else []
            if isinstance(body.get("id"), str):
                self._threads[body["id"]] = _Thread(_thread_messages(messages))
        if api != "assistants":
            return
        match = _THREAD.search(path)
        thread_id = match["thread"] if match else ""
        if thread_id == "" and "" in self._threads and (found := _THREAD_ID.search(interaction.body)):
            thread_id = found[1]  # a thread created with its run: now it has an id
            self._threads[thread_id] = self._threads.pop("")
        calls = tuple(call for turn in turns if turn is not None for call in turn.calls)
        if calls and thread_id in self._threads:
            self._threads[thread_id].pending = calls

    def _thread(self, thread_id: str) -> _Thread:
        return self._threads.setdefault(thread_id, _Thread())

    def _run_request(self, thread: _Thread, *, known: bool) -> Request:
        assistant = self._assistants.get(thread.assistant_id or "") or self._assistants.get(self._last_assistant or "")
        instructions = thread.instructions or (assistant.instructions if assistant else None)
        system = "\n\n".join(t for t in (instructions, thread.additional_instructions) if isinstance(t, str) and t)
        messages = ([{"role": "system", "content": system}] if system else []) + [dict(m) for m in thread.messages]
        tools = thread.tools if thread.tools is not None else (assistant.tools if assistant else None)
        problem = None if known else "the thread was created before the cassette began"
        return _tools(tools).request(messages=tuple(messages), problem=problem)


def _thread_messages(raw: Sequence[Mapping[str, Any]]) -> list[Message]:
    return [{"role": m.get("role", "user"), "content": _content(m.get("content"))} for m in raw]


def _start_run(thread: _Thread, body: Mapping[str, Any]) -> None:
    thread.assistant_id = body.get("assistant_id") or thread.assistant_id
    thread.instructions = body.get("instructions")
    thread.additional_instructions = body.get("additional_instructions")
    thread.tools = body.get("tools")
    thread.messages += _thread_messages(_mappings(body.get("additional_messages")))
    thread.pending = ()


def _submit(thread: _Thread, outputs: Sequence[Mapping[str, Any]]) -> None:
    """The calls a run required and the outputs submitted for them, as Chat messages."""
    if thread.pending:
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in thread.pending
        ]
        thread.messages.append({"role": "assistant", "content": None, "tool_calls": calls})
    for output in outputs:
        thread.messages.append(
            {"role": "tool", "tool_call_id": output.get("tool_call_id"), "content": _text(output.get("output"))}
        )
    thread.pending = ()
