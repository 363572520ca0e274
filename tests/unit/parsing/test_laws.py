"""The "no reply raises" laws (issue 8), stated with hypothesis over realistic reply bodies and
mutations of them.

The strategies build the bodies a real server sends for six targets (Chat Completions JSON and SSE,
Responses JSON and SSE, an Assistants run as JSON and as SSE), then mutate them: any field at any
depth replaced by ``null`` or a value of the wrong type, fields deleted, list items dropped or
repeated, events dropped, repeated and reordered, garbage lines inserted, the text cut at any
character or UTF-8 byte, wrapped in an HTML page, or replaced by deeply nested JSON.

Laws (each is a test below):

(a) ``turn_from_body`` and ``turn_from_http`` never raise, whatever the body, whichever API reads it;
(b) the Turn is well formed: an ``error`` of a kind in ``TURN_ERROR_KINDS`` (one line), or calls with
    non-empty ``str`` names and ``str`` arguments; ``content`` and ``finish_reason`` ``str | None``;
(c) scoring the Turn never raises and its status is ``passed``/``failed``/``error``, ``error`` exactly
    when the Turn has an error;
(d) an unmutated body reads with no error and gives exactly the calls, text and finish it was built
    with, and a case expecting those calls passes (so the strategies are not vacuous);
(e) a stream cut before the event that completes it is an error, never a reply that passes a
    no-call case;

and for files: a mutated case file loads as a Suite or raises ``CaseFileError`` (one line); a mutated
cassette reads or raises ``EvalkitError``, and every exchange it yields reads by law (a).

The number of examples comes from the hypothesis profile (``ci`` by default, ``fuzz`` by hand; see
``tests/conftest.py``).
"""

from __future__ import annotations

import copy
import gzip
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit.calls import MALFORMED_REPLY, TRUNCATED_STREAM, TURN_ERROR_KINDS, ToolCall, Turn
from evalkit.cases import Case, Expectation, ExpectedCall, Suite, load_suite_file
from evalkit.errors import CaseFileError, EvalkitError
from evalkit.importers.cassettes import read_interactions
from evalkit.matchers import compile_arguments
from evalkit.parsing import turn_from_body, turn_from_http
from evalkit.parsing.http import Api
from evalkit.scorers import failures_of, score_job

# Generated bodies are large and some examples are slow on a busy 2-core machine: that is expected.
law = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TARGETS = ("chat-json", "chat-sse", "responses-json", "responses-sse", "assistants-json", "assistants-sse")
STREAMS = tuple(t for t in TARGETS if t.endswith("-sse"))
APIS: tuple[Api, ...] = ("chat", "responses", "assistants")
URI: dict[str, str] = {
    "chat": "https://api.openai.com/v1/chat/completions",
    "responses": "https://api.openai.com/v1/responses",
    "assistants": "https://api.openai.com/v1/threads/thread_abc123/runs",
}

NAMES = ("get_weather", "get_time", "search_docs", "book_table")
KEYS = ("city", "unit", "days", "query", "when", "guests")


def api_of(target: str) -> Api:
    api = target.split("-")[0]
    assert api in APIS
    return api  # type: ignore[return-value]


# --- values ----------------------------------------------------------------------------------------

# Reply text as models write it: words and any Unicode (accents, CJK, emoji, U+2028, NEL…), but none
# of the characters a tool call written as text needs ({ " < [ |), so a reply built without calls is
# not one. The pieces that matter to line splitting are drawn as often as words.
MODEL_TEXT = st.lists(
    st.sampled_from(("Sure", " ", "Paris", ", ", "Zürich", "日本", "🙂", "\n", "\u2028", "\x85", "\r\n"))
    | st.text(st.characters(codec="utf-8", exclude_characters='{}[]<>|"\\'), min_size=1, max_size=6),
    min_size=1,
    max_size=8,
).map("".join)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"), max_size=12)
)
ARGUMENTS = st.fixed_dictionaries({}, optional={key: SCALARS | st.lists(SCALARS, max_size=3) for key in KEYS})

# Values a broken or non-conforming server puts where something else belongs.
NASTY: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    1,
    -1,
    2**64,
    1.5,
    float("inf"),
    float("nan"),
    "",
    "x",
    "get_temp",
    "[DONE]",
    "http://[bad",
    "\u2028",
    [],
    [None],
    ["get_temp"],
    [1, 2],
    {},
    {"a": 1},
    {"name": "get_temp"},
    {"index": None},
    {"type": "function"},
)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
WRONG = st.sampled_from(NASTY) | ANY_JSON

# Lines that turn up in real streams (keep-alives, retries, pings, error events) and lines that do not.
GARBAGE = (
    ": keep-alive\n\n",
    ": OPENROUTER PROCESSING\n\n",
    "retry: 3000\n\n",
    "id: 7\n\n",
    "event: ping\n\n",
    "event: ping\ndata: {}\n\n",
    'event: error\ndata: {"message": "overloaded", "code": "server_error"}\n\n',
    'data: {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}\n\n',
    "data: {}\n\n",
    "data: null\n\n",
    "data: [1, 2]\n\n",
    'data: "x"\n\n',
    "data: 5\n\n",
    "data:\n\n",
    "data: not json\n\n",
    "data: [DONE]\n\n",
    'data: {"choices": [null]}\n\n',
    'data: {"type": "response.completed"}\n\n',
    'data: {"type": "response.completed", "response": {"output": null}}\n\n',
    'data: {"object": "thread.run", "status": "completed"}\n\n',
    "\n\n",
    "\r\n",
    "\x00",
    "\ufeff",
    "<html>",
    "}",
)
HTML_PAGE = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>{}</body></html>\n"


# --- realistic replies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What a reply says: its calls (name, arguments, id), its text, and whether the one call is a
    legacy ``function_call`` (Chat Completions only)."""

    calls: tuple[tuple[str, dict[str, Any], str], ...]
    content: str | None
    legacy: bool = False


@dataclass(frozen=True)
class Reply:
    """A realistic body before rendering: one JSON object, or the events of a stream.

    ``parts`` are the decoded ``data`` of each event (or the one JSON object), ``events`` their
    ``event:`` names, ``done`` the line the server ends a stream with, ``end`` the part whose arrival
    completes the reply (the chunk with a finish_reason, ``response.completed``, the final run)."""

    target: str
    parts: tuple[Any, ...]
    events: tuple[str | None, ...]
    done: str | None
    end: int
    calls: tuple[ToolCall, ...]
    content: str | None
    finish_reason: str
    compact: bool = True
    newline: str = "\n"

    @property
    def api(self) -> Api:
        return api_of(self.target)

    @property
    def streamed(self) -> bool:
        return self.target.endswith("-sse")

    def dumps(self, value: Any) -> str:
        # Servers send raw UTF-8 (ensure_ascii=False): U+2028 and NEL stay as they are.
        separators = (",", ":") if self.compact else (", ", ": ")
        return json.dumps(value, ensure_ascii=False, separators=separators)

    def render(self) -> tuple[str, list[tuple[int, int]]]:
        """The body text, and where each part's JSON starts and ends in it."""
        if not self.streamed:
            text = (
                self.dumps(self.parts[0]) if self.compact else json.dumps(self.parts[0], ensure_ascii=False, indent=2)
            )
            return text, [(0, len(text))]
        out, spans, at = [], [], 0
        for name, part in zip(self.events, self.parts, strict=True):
            head = (f"event: {name}{self.newline}" if name else "") + "data: "
            data = self.dumps(part)
            out.append(head + data + self.newline * 2)
            spans.append((at + len(head), at + len(head) + len(data)))
            at += len(out[-1])
        if self.done:
            out.append(self.done.replace("\n", self.newline))
        return "".join(out), spans

    @property
    def text(self) -> str:
        return self.render()[0]


# Positions and choices are drawn as one unbounded integer taken modulo the length: hypothesis then
# reuses one strategy object instead of building (and validating) a new one per draw, which is most
# of the cost of an example. Shrinking still goes towards the first choice.
INDEX = st.integers(0, 2**16)
CUTS = st.lists(INDEX, max_size=4)


def upto(draw: st.DrawFn, n: int) -> int:
    """An integer in [0, n]."""
    return draw(INDEX) % (n + 1)


def pick(draw: st.DrawFn, choices: Sequence[Any]) -> Any:
    return choices[draw(INDEX) % len(choices)]


def _fragments(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` split where a server might split it between deltas."""
    points = sorted({0, len(text), *(cut % (len(text) + 1) for cut in draw(CUTS))})
    return [text[a:b] for a, b in itertools.pairwise(points) if b > a]


CALLS = st.lists(st.tuples(st.sampled_from(NAMES), ARGUMENTS, st.sampled_from(("a7", "Xq", "00"))), max_size=3)
MAYBE_TEXT = st.none() | MODEL_TEXT


def draw_spec(draw: st.DrawFn, *, legacy_ok: bool = False) -> Spec:
    """Calls to some of NAMES with ids, text (always, when there is no call), and for Chat
    Completions sometimes the one call as a legacy ``function_call``."""
    calls = tuple((name, args, f"call_{i}{suffix}") for i, (name, args, suffix) in enumerate(draw(CALLS)))
    content = draw(MAYBE_TEXT) if calls else draw(MODEL_TEXT)
    legacy = legacy_ok and len(calls) == 1 and draw(st.booleans())
    return Spec(calls, content, legacy)


def _args(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)


def _expected(spec: Spec) -> tuple[ToolCall, ...]:
    return tuple(ToolCall(name, _args(args), None if spec.legacy else call_id) for name, args, call_id in spec.calls)


def _finish(spec: Spec) -> str:
    return ("function_call" if spec.legacy else "tool_calls") if spec.calls else "stop"


CHAT_HEAD = {
    "id": "chatcmpl-9x",
    "created": 1718000000,
    "model": "gpt-4o-mini-2024-07-18",
    "system_fingerprint": "fp_1",
}
USAGE = {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99}


def chat_json(draw: st.DrawFn) -> Reply:
    spec = draw_spec(draw, legacy_ok=True)
    message: dict[str, Any] = {"role": "assistant", "content": spec.content, "refusal": None}
    functions = [{"name": n, "arguments": _args(a)} for n, a, _ in spec.calls]
    if spec.legacy:
        message["function_call"] = functions[0]
    elif spec.calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": f} for (_, _, i), f in zip(spec.calls, functions, strict=True)
        ]
    body = {
        **CHAT_HEAD,
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(spec)}],
        "usage": USAGE,
    }
    return Reply("chat-json", (body,), (), None, 0, _expected(spec), spec.content, _finish(spec), draw(st.booleans()))


def chat_sse(draw: st.DrawFn) -> Reply:
    spec = draw_spec(draw, legacy_ok=True)

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**CHAT_HEAD, "object": "chat.completion.chunk", "choices": [choice]}

    parts = [chunk({"role": "assistant", "content": "" if spec.content else None, "refusal": None})]
    parts += [chunk({"content": piece}) for piece in _fragments(draw, spec.content or "")]
    for index, (name, args, call_id) in enumerate(spec.calls):
        pieces = _fragments(draw, _args(args))
        if spec.legacy:
            parts.append(chunk({"function_call": {"name": name, "arguments": ""}}))
            parts += [chunk({"function_call": {"arguments": p}}) for p in pieces]
            continue
        first = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        parts.append(chunk({"tool_calls": [first]}))
        parts += [chunk({"tool_calls": [{"index": index, "function": {"arguments": p}}]}) for p in pieces]
    parts.append(chunk({}, _finish(spec)))
    end = len(parts) - 1
    if draw(st.booleans()):  # stream_options.include_usage: one more chunk, with no choices
        parts.append({**CHAT_HEAD, "object": "chat.completion.chunk", "choices": [], "usage": USAGE})
    done = "data: [DONE]\n\n" if draw(st.integers(0, 4)) else None  # a few servers never send [DONE]
    return Reply(
        "chat-sse",
        tuple(parts),
        (None,) * len(parts),
        done,
        end,
        _expected(spec),
        spec.content,
        _finish(spec),
        draw(st.booleans()),
        draw(st.sampled_from(("\n", "\n", "\r\n"))),
    )


def _response(output: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "id": "resp_67ccd2bed1ec8190",
        "object": "response",
        "created_at": 1741476542,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "model": "gpt-4.1-2025-04-14",
        "output": output,
        "parallel_tool_calls": True,
        "usage": None if status == "in_progress" else {"input_tokens": 36, "output_tokens": 87, "total_tokens": 123},
    }


def _output_items(draw: st.DrawFn, spec: Spec) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if draw(st.booleans()):
        items.append({"id": "rs_1", "type": "reasoning", "summary": []})
    if spec.content is not None:
        text = {"type": "output_text", "text": spec.content, "annotations": []}
        items.append({"id": "msg_1", "type": "message", "status": "completed", "role": "assistant", "content": [text]})
    for i, (name, args, call_id) in enumerate(spec.calls):
        items.append(
            {
                "id": f"fc_{i}",
                "type": "function_call",
                "status": "completed",
                "arguments": _args(args),
                "call_id": call_id,
                "name": name,
            }
        )
    return items


def responses_json(draw: st.DrawFn) -> Reply:
    spec = draw_spec(draw)
    body = _response(_output_items(draw, spec), "completed")
    return Reply(
        "responses-json", (body,), (), None, 0, _expected(spec), spec.content, _finish(spec), draw(st.booleans())
    )


def responses_sse(draw: st.DrawFn) -> Reply:
    spec = draw_spec(draw)
    items = _output_items(draw, spec)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response([], "in_progress")},
        {"type": "response.in_progress", "response": _response([], "in_progress")},
    ]
    for index, item in enumerate(items):
        at = {"output_index": index, "item_id": item["id"]}
        if item["type"] == "function_call":
            events.append(
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "arguments": "", "status": "in_progress"},
                }
            )
            events += [
                {"type": "response.function_call_arguments.delta", **at, "delta": p}
                for p in _fragments(draw, item["arguments"])
            ]
            events.append({"type": "response.function_call_arguments.done", **at, "arguments": item["arguments"]})
        elif item["type"] == "message":
            events.append(
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "content": [], "status": "in_progress"},
                }
            )
            part = {**at, "content_index": 0}
            events.append(
                {
                    "type": "response.content_part.added",
                    **part,
                    "part": {"type": "output_text", "text": "", "annotations": []},
                }
            )
            events += [
                {"type": "response.output_text.delta", **part, "delta": p} for p in _fragments(draw, spec.content or "")
            ]
            events.append({"type": "response.output_text.done", **part, "text": spec.content})
            events.append({"type": "response.content_part.done", **part, "part": item["content"][0]})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    # Some servers send a completed response with an empty output: the item events then hold the reply.
    final_output = [] if draw(st.integers(0, 4)) == 0 else items
    events.append({"type": "response.completed", "response": _response(final_output, "completed")})
    events = [{**e, "sequence_number": n} for n, e in enumerate(events)]
    return Reply(
        "responses-sse",
        tuple(events),
        tuple(e["type"] for e in events),
        None,
        len(events) - 1,
        _expected(spec),
        spec.content,
        _finish(spec),
        draw(st.booleans()),
        draw(st.sampled_from(("\n", "\n", "\r\n"))),
    )


def _run(status: str, spec: Spec) -> dict[str, Any]:
    calls = [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": _args(args)}}
        for name, args, call_id in spec.calls
    ]
    return {
        "id": "run_PS0ksndVoX7D",
        "object": "thread.run",
        "created_at": 1774963893,
        "assistant_id": "asst_eXyrYQvl",
        "thread_id": "thread_abc123",
        "status": status,
        "required_action": (
            {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": calls}}
            if status == "requires_action"
            else None
        ),
        "last_error": None,
        "model": "gpt-4o-mini",
        "tools": [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in NAMES],
        "incomplete_details": None,
        "usage": {"prompt_tokens": 381, "completion_tokens": 88, "total_tokens": 469} if status != "queued" else None,
    }


def assistants_json(draw: st.DrawFn) -> Reply:
    spec = draw_spec(draw)
    status = "requires_action" if spec.calls else "completed"
    # A run object holds no text: a completed run's answer lives in the thread's messages.
    finish = _finish(spec)
    return Reply(
        "assistants-json", (_run(status, spec),), (), None, 0, _expected(spec), None, finish, draw(st.booleans())
    )


def _step_delta(tool_call: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A run step delta carrying one piece of one tool call."""
    details = {"type": "tool_calls", "tool_calls": [tool_call]}
    return "thread.run.step.delta", {
        "id": "step_1",
        "object": "thread.run.step.delta",
        "delta": {"step_details": details},
    }


def assistants_sse(draw: st.DrawFn) -> Reply:
    spec = draw_spec(draw)
    step = {"id": "step_1", "object": "thread.run.step", "run_id": "run_PS0ksndVoX7D", "status": "in_progress"}
    events: list[tuple[str, dict[str, Any]]] = [
        ("thread.run.created", _run("queued", spec)),
        ("thread.run.queued", _run("queued", spec)),
        ("thread.run.in_progress", _run("in_progress", spec)),
    ]
    if spec.calls:
        events.append(("thread.run.step.created", {**step, "type": "tool_calls"}))
        events.append(("thread.run.step.in_progress", {**step, "type": "tool_calls"}))
        for index, (name, args, call_id) in enumerate(spec.calls):
            function = {"name": name, "arguments": "", "output": None}
            events.append(_step_delta({"index": index, "id": call_id, "type": "function", "function": function}))
            events += [
                _step_delta({"index": index, "type": "function", "function": {"arguments": piece}})
                for piece in _fragments(draw, _args(args))
            ]
        events.append(("thread.run.requires_action", _run("requires_action", spec)))
        content = None
    else:
        message = {
            "id": "msg_1",
            "object": "thread.message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        events.append(("thread.run.step.created", {**step, "type": "message_creation"}))
        events.append(("thread.message.created", message))
        events.append(("thread.message.in_progress", message))
        for piece in _fragments(draw, spec.content or ""):
            delta = {"content": [{"index": 0, "type": "text", "text": {"value": piece, "annotations": []}}]}
            events.append(("thread.message.delta", {"id": "msg_1", "object": "thread.message.delta", "delta": delta}))
        text = {"type": "text", "text": {"value": spec.content, "annotations": []}}
        events.append(("thread.message.completed", {**message, "status": "completed", "content": [text]}))
        events.append(("thread.run.step.completed", {**step, "type": "message_creation", "status": "completed"}))
        events.append(("thread.run.completed", _run("completed", spec)))
        content = spec.content
    return Reply(
        "assistants-sse",
        tuple(data for _, data in events),
        tuple(name for name, _ in events),
        "event: done\ndata: [DONE]\n\n",
        len(events) - 1,
        _expected(spec),
        content,
        _finish(spec),
        draw(st.booleans()),
        draw(st.sampled_from(("\n", "\n", "\r\n"))),
    )


BUILDERS: dict[str, Callable[[st.DrawFn], Reply]] = {
    "chat-json": chat_json,
    "chat-sse": chat_sse,
    "responses-json": responses_json,
    "responses-sse": responses_sse,
    "assistants-json": assistants_json,
    "assistants-sse": assistants_sse,
}


@st.composite
def replies(draw: st.DrawFn, target: str) -> Reply:
    """A realistic, complete reply body of ``target``."""
    return BUILDERS[target](draw)


# --- mutations -------------------------------------------------------------------------------------


def locations(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value, the root included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += locations(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += locations(item, (*path, i))
    return found


def mutate_at(draw: st.DrawFn, root: Any, path: tuple[Any, ...]) -> tuple[Any, str]:
    """``root`` with the value at ``path`` replaced, deleted, retyped or repeated; and what was done."""
    root = copy.deepcopy(root)
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    value = parent[path[-1]] if path else root
    op = draw(st.sampled_from(("null", "wrong", "wrong", "delete", "stringify", "wrap", "repeat", "shorten")))
    if (op == "shorten" and not (isinstance(value, str | bytes | list) and value)) or (
        op in ("delete", "repeat") and not path
    ):
        op = "wrong"  # nothing to shorten, or the root: it can only be replaced
    if op == "null":
        new: Any = None
    elif op == "wrong":
        new = draw(WRONG)
    elif op == "stringify":
        new = json.dumps(value, default=str)
    elif op == "wrap":
        new = [value]
    elif op == "shorten":
        new = value[: upto(draw, len(value) - 1)]
    elif op == "wrong":
        new = draw(WRONG)
    else:
        if op == "delete":
            del parent[path[-1]]
        elif isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(value))
        else:
            parent[path[-1]] = [value, value]
        return root, f"{op} {list(path)}"
    if not path:
        return new, f"{op} root"
    parent[path[-1]] = new
    return root, f"{op} {list(path)} -> {new!r}"[:160]


def _text_op(draw: st.DrawFn, text: str) -> tuple[str, str]:
    op = draw(st.sampled_from(("cut", "cut_bytes", "insert", "html", "newlines", "bom", "flip", "nest", "replace")))
    if op == "cut":
        at = upto(draw, len(text))
        return text[:at], f"cut at char {at}"
    if op == "cut_bytes":
        data = text.encode()
        at = upto(draw, len(data))
        return data[:at].decode("utf-8", errors="replace"), f"cut at byte {at}"
    if op == "insert":
        at = upto(draw, len(text))
        garbage = draw(st.sampled_from(GARBAGE))
        return text[:at] + garbage + text[at:], f"insert {garbage!r} at {at}"
    if op == "html":
        return HTML_PAGE.format(text), "wrapped in HTML"
    if op == "newlines":
        ending = draw(st.sampled_from(("\r\n", "\r", "\n\n\n")))
        return text.replace("\n", ending), f"newlines as {ending!r}"
    if op == "bom":
        return "\ufeff" + text, "BOM"
    if op == "flip" and text:
        at = upto(draw, len(text) - 1)
        char = draw(st.characters(codec="utf-8"))
        return text[:at] + char + text[at + 1 :], f"char {at} -> {char!r}"
    if op == "nest":
        depth = draw(st.integers(1, 5000))
        nested = "[" * depth + "]" * depth
        return draw(st.sampled_from((nested, f"data: {nested}\n\n", text + f"data: {nested}\n\n"))), f"nested {depth}"
    alternatives = ("", " ", "null", "[]", "{}", "0", '"ok"', "OK", HTML_PAGE.format(""), "data: [DONE]\n\n")
    return draw(st.sampled_from(alternatives)), "replaced"


def _stream_op(
    draw: st.DrawFn, items: list[tuple[str | None, Any] | str], done: str | None
) -> tuple[list[Any], str | None, str]:
    """One change to a stream's events: drop, repeat, move, shuffle, cut, garbage, rename, [DONE]."""
    op = draw(
        st.sampled_from(("drop", "repeat", "move", "shuffle", "cut", "garbage", "rename", "no_done", "early_done"))
    )
    n = len(items)
    if op == "drop" and n:
        at = upto(draw, n - 1)
        return items[:at] + items[at + 1 :], done, f"drop event {at}"
    if op == "repeat" and n:
        at = upto(draw, n - 1)
        return [*items[: at + 1], items[at], *items[at + 1 :]], done, f"repeat event {at}"
    if op == "move" and n:
        source, target = upto(draw, n - 1), upto(draw, n - 1)
        moved = items[:source] + items[source + 1 :]
        moved.insert(target, items[source])
        return moved, done, f"move event {source} to {target}"
    if op == "shuffle":
        return list(draw(st.permutations(items))), done, "shuffle events"
    if op == "cut":
        at = upto(draw, n)
        return items[:at], None, f"keep {at} events"
    if op == "rename" and n:
        at = upto(draw, n - 1)
        item = items[at]
        if not isinstance(item, str):
            name = draw(st.sampled_from((None, "error", "done", "thread.run.completed", "response.completed", "x")))
            return [*items[:at], (name, item[1]), *items[at + 1 :]], done, f"event {at} named {name!r}"
    if op == "no_done":
        return items, None, "no [DONE]"
    if op == "early_done":
        at = upto(draw, n)
        return [*items[:at], "data: [DONE]\n\n", *items[at:]], done, f"[DONE] before event {at}"
    at = upto(draw, n)
    garbage = draw(st.sampled_from(GARBAGE))
    return [*items[:at], garbage, *items[at:]], done, f"insert {garbage!r} before event {at}"


@dataclass(frozen=True)
class Body:
    """A body as served: the target it was built for, its text, the HTTP status, and the mutations
    that made it (empty for a realistic body)."""

    target: str
    text: str
    status: int
    mutations: tuple[str, ...]
    calls: tuple[ToolCall, ...]  # the calls of the realistic body it was made from

    @property
    def api(self) -> Api:
        return api_of(self.target)


def render_items(reply: Reply, items: Sequence[tuple[str | None, Any] | str], done: str | None) -> str:
    nl = reply.newline
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        else:
            name, data = item
            out.append((f"event: {name}{nl}" if name else "") + f"data: {reply.dumps(data)}{nl}{nl}")
    return "".join(out) + (done.replace("\n", nl) if done else "")


@st.composite
def bodies(draw: st.DrawFn, target: str, *, statuses: Sequence[int] = (200,)) -> Body:
    """A realistic body of ``target``, then up to three structural, stream and text mutations."""
    reply = draw(replies(target))
    applied: list[str] = []
    parts = list(reply.parts)
    for _ in range(draw(st.integers(0, 3))):
        index = upto(draw, len(parts) - 1)
        parts[index], what = mutate_at(draw, parts[index], pick(draw, locations(parts[index])))
        applied.append(f"event {index}: {what}" if reply.streamed else what)
    if reply.streamed:
        items: list[Any] = list(zip(reply.events, parts, strict=True))
        end = reply.done
        for _ in range(draw(st.integers(0, 2))):
            items, end, what = _stream_op(draw, items, end)
            applied.append(what)
        text = render_items(reply, items, end)
    else:
        text = reply.dumps(parts[0]) if reply.compact else json.dumps(parts[0], ensure_ascii=False, indent=2)
    for _ in range(draw(st.integers(0, 2))):
        text, what = _text_op(draw, text)
        applied.append(what)
    status = draw(st.sampled_from(statuses))
    return Body(target, text, status, tuple(applied), reply.calls)


# --- what every Turn must be -----------------------------------------------------------------------


def assert_well_formed(turn: Any) -> None:
    """Law (b): an error of a known kind with a one-line message, or readable calls; right types."""
    assert isinstance(turn, Turn), f"not a Turn: {turn!r}"
    assert isinstance(turn.calls, tuple) and all(isinstance(c, ToolCall) for c in turn.calls), turn
    for call in turn.calls:
        assert isinstance(call.name, str) and isinstance(call.arguments, str), call
        assert call.id is None or isinstance(call.id, str), call
    assert turn.content is None or isinstance(turn.content, str), turn
    assert turn.finish_reason is None or isinstance(turn.finish_reason, str), turn
    for count in (turn.prompt_tokens, turn.completion_tokens):
        assert count is None or (isinstance(count, int) and not isinstance(count, bool)), turn
    if turn.error is not None:
        assert turn.error.kind in TURN_ERROR_KINDS, turn.error
        message = turn.error.message
        assert isinstance(message, str) and message.strip() and len(message.splitlines()) == 1, turn.error
    else:
        assert all(call.name for call in turn.calls), f"a call with no name in an error-free turn: {turn}"


def tool(name: str, *, strict: bool = False) -> dict[str, Any]:
    """A tool that takes any of KEYS with any value (a strict one takes no others)."""
    parameters = {"type": "object", "properties": {key: {} for key in KEYS}}
    return {"type": "function", "function": {"name": name, "parameters": parameters, "strict": strict}}


OFFERED = (tool("get_weather"), tool("get_time"), tool("search_docs"), tool("book_table", strict=True))


def case(
    calls: Sequence[tuple[str, dict[str, Any]]] = (), *, forbid: Sequence[tuple[str, dict[str, Any]]] = ()
) -> Case:
    """A case expecting ``calls`` (no call when empty), each argument a literal."""
    return Case(
        suite="laws",
        id="case",
        messages=({"role": "user", "content": "What's the weather in Paris?"},),
        expect=Expectation(tuple(ExpectedCall(name, compile_arguments(args)) for name, args in calls)),
        forbid=tuple(ExpectedCall(name, compile_arguments(args)) for name, args in forbid),
    )


NO_CALL = case()
PARIS = case([("get_weather", {"city": "Paris"})], forbid=[("", {"city": "Atlantis"})])


def assert_scores(turn: Turn, cases: Sequence[Case]) -> None:
    """Law (c): scoring never raises; status is passed/failed/error, error exactly when turn.error.
    Each case is scored with every tool offered; the first also in BFCL mode with one tool offered
    (so most calls name a function that was not offered)."""
    runs = [(the_case, OFFERED, False) for the_case in cases] + [(cases[0], OFFERED[:1], True)]
    for the_case, offered, bfcl in runs:
        status, scores = score_job(the_case, turn, offered, bfcl=bfcl)
        assert status in ("passed", "failed", "error"), status
        assert (status == "error") == (turn.error is not None), (status, turn)
        for score in scores:
            assert score.value is None or 0.0 <= score.value <= 1.0, score
        for failure in failures_of(scores):
            assert isinstance(failure.kind, str) and isinstance(failure.explanation, str), failure


def expected_calls(reply_calls: Sequence[ToolCall]) -> list[tuple[str, dict[str, Any]]]:
    return [(call.name, json.loads(call.arguments)) for call in reply_calls]


# --- the laws on reply bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
@law
@given(data=st.data())
def test_a_no_body_raises(target: str, data: st.DataObject) -> None:
    """(a) Any body, read as any API's reply, is a Turn: ``turn_from_body`` and ``turn_from_http``
    never raise (``turn_from_http`` may say ``None`` only for an Assistants exchange that is not a
    reply yet, such as a run still queued)."""
    body = data.draw(bodies(target, statuses=(200, 200, 200, 201, 400, 401, 404, 429, 500, 503)))
    for api in APIS:
        assert isinstance(turn_from_body(api, body.text, status=body.status), Turn)
        recorded = turn_from_http("POST", URI[api], "{}", body.status, {"content-type": "application/json"}, body.text)
        assert isinstance(recorded, Turn) or (recorded is None and api == "assistants"), recorded


@pytest.mark.parametrize("target", TARGETS)
@law
@given(data=st.data())
def test_b_every_turn_is_well_formed(target: str, data: st.DataObject) -> None:
    """(b) A Turn either has an error whose kind is one of ``TURN_ERROR_KINDS`` (with a one-line
    message), or every call has a non-empty ``str`` name and ``str`` arguments; ``content`` and
    ``finish_reason`` are ``str | None``."""
    body = data.draw(bodies(target))
    for api in APIS:
        assert_well_formed(turn_from_body(api, body.text))


@pytest.mark.parametrize("target", TARGETS)
@law
@given(data=st.data())
def test_c_scoring_never_raises(target: str, data: st.DataObject) -> None:
    """(c) Scoring any Turn (expecting the calls the body was built with, one call, or no call;
    with all tools offered or one) never raises, and the status is ``error`` exactly when the Turn
    has an error."""
    body = data.draw(bodies(target))
    turn = turn_from_body(body.api, body.text)
    cases = ([case(expected_calls(body.calls))] if body.calls else []) + [PARIS, NO_CALL]
    assert_scores(turn, cases)


@pytest.mark.parametrize("target", TARGETS)
@law
@given(data=st.data())
def test_d_realistic_bodies_read_exactly(target: str, data: st.DataObject) -> None:
    """(d) An unmutated body reads with no error into exactly the calls, text and finish_reason it
    was built with, and a case expecting those calls (or no call) passes."""
    reply = data.draw(replies(target))
    turn = turn_from_body(reply.api, reply.text)
    assert turn.error is None, turn.error
    assert turn.calls == reply.calls
    assert (turn.content, turn.finish_reason) == (reply.content, reply.finish_reason)
    status, scores = score_job(case(expected_calls(reply.calls)), turn, OFFERED)
    assert status == "passed", failures_of(scores)


@pytest.mark.parametrize("target", STREAMS)
@law
@given(data=st.data())
def test_e_a_cut_stream_never_passes(target: str, data: st.DataObject) -> None:
    """(e) A stream cut anywhere before the end of the event that completes it (the chunk with the
    finish_reason, ``response.completed``, the final run) is a ``truncated_stream`` or
    ``malformed_reply`` error: never a complete reply, so never a pass of a no-call case."""
    reply = data.draw(replies(target))
    text, spans = reply.render()
    cut = data.draw(st.integers(0, spans[reply.end][1] - 1), label="cut")  # before its closing brace
    turn = turn_from_body(reply.api, text[:cut])
    assert turn.error is not None and turn.error.kind in (TRUNCATED_STREAM, MALFORMED_REPLY), turn
    status, _ = score_job(NO_CALL, turn, OFFERED)
    assert status != "passed"


# The inputs issue 8 lists as raising, each through the parser and the scorers.
ISSUE_8 = [
    ("chat", '{"choices":[{"message":{"tool_calls":3}}]}'),
    ("chat", 'data: {"choices":[null]}\n\n'),
    ("chat", '{"choices":[{"message":{"tool_calls":[{"function":{"name":["get_temp"],"arguments":"{}"}}]}}]}'),
    ("responses", '{"status":"completed","output":[{"type":"function_call","name":["get_temp"],"arguments":"{}"}]}'),
    (
        "chat",
        (
            'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":null,"id":"a","function":{"name":"f","arguments":"{"}}]}}]}\n\n'
            'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]},"finish_reason":"tool_calls"}]}\n\n'
        ),
    ),
    ("chat", 'data: {"choices":[{"index":0,"delta":{"content":5}}]}\n\n'),
    ("responses", 'data: {"type":"response.output_text.delta","delta":{}}\n\n'),
]


# Inputs the laws found raising, pinned so that every CI run tries them.
FOUND = [
    # A Responses stream that ends before response.completed, with an unreadable function_call item.
    (
        "responses",
        'data: {"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","name":null}}\n\n',
    ),
    (
        "responses",
        'data: {"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","name":"f","call_id":["c"]}}\n\n',
    ),
]


@pytest.mark.parametrize(("api", "text"), [*ISSUE_8, *FOUND])
def test_inputs_that_raised_are_turns(api: Api, text: str) -> None:
    """Every input issue 8 lists as ending a run, and every one these laws found raising, is a
    well-formed Turn that scores without raising."""
    turn = turn_from_body(api, text)
    assert_well_formed(turn)
    assert_scores(turn, [NO_CALL, PARIS, case([("get_temp", {})])])


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_line_separators_in_streamed_text(separator: str) -> None:
    """Law (d) for the Unicode line separators a model may write: SSE ends lines only at CR, LF or
    CRLF, so a U+2028, U+2029 or NEL inside a JSON string (sent raw, as UTF-8) is text, not a line end."""
    chunk = {"choices": [{"index": 0, "delta": {"content": f"a{separator}b"}, "finish_reason": "stop"}]}
    text = f"data: {json.dumps(chunk, ensure_ascii=False)}\n\ndata: [DONE]\n\n"
    turn = turn_from_body("chat", text)
    assert turn.error is None and turn.content == f"a{separator}b", turn


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("template", ["{}", "data: {}\n\n"])
def test_deeply_nested_json_is_a_turn(api: Api, template: str) -> None:
    """JSON nested deeper than Python's recursion limit is a malformed reply, not a RecursionError."""
    nested = "[" * 5000 + "]" * 5000
    assert_well_formed(turn_from_body(api, template.format(nested)))


# --- case files ------------------------------------------------------------------------------------

PARAMETERS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "The city, e.g. Paris"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1},
    },
    "required": ["city"],
}
MATCHERS = (
    "Paris",
    {"any_of": ["Paris", "Paris, FR"]},
    {"regex": "Paris.*"},
    {"equals": "paris", "ignore_case": True},
    {"anything": True},
    {"regex": "P.*", "optional": True},
)


@st.composite
def case_files(draw: st.DrawFn) -> dict[str, Any]:
    """A valid case file: tools (or legacy functions), defaults, and cases with every kind of matcher."""
    functions = [
        {"name": name, "description": f"{name} for a city", "parameters": PARAMETERS}
        for name in ("get_weather", "get_forecast")
    ]
    cases = []
    for i in range(draw(st.integers(1, 3))):
        entry: dict[str, Any] = {"id": f"case-{i}"}
        if draw(st.booleans()):
            entry["prompt"] = draw(MODEL_TEXT)
        else:
            entry["messages"] = [{"role": "user", "content": draw(MODEL_TEXT)}]
        if draw(st.booleans()):
            entry["expect"] = {"no_call": True}
        else:
            calls = []
            for name in draw(st.lists(st.sampled_from(("get_weather", "get_forecast")), min_size=1, max_size=2)):
                arguments = {"city": draw(st.sampled_from(MATCHERS))}
                if draw(st.booleans()):
                    # absent only where the tool does not require it: else no valid call could match
                    arguments["days"] = draw(st.sampled_from((3, {"approx": 3, "tol": 1}, {"absent": True})))
                calls.append({"name": name, "arguments": arguments, **({"exact": True} if draw(st.booleans()) else {})})
            entry["expect"] = {"calls": calls, "ordered": draw(st.booleans())}
        if draw(st.booleans()):
            entry["forbid"] = [{"arguments": {"city": "Atlantis"}}]
        entry["tags"] = draw(st.lists(st.sampled_from(("parallel", "smoke")), max_size=2, unique=True))
        cases.append(entry)
    document: dict[str, Any] = {"version": 1, "suite": "weather", "description": "Weather lookups"}
    if draw(st.booleans()):
        document["functions"] = functions
    else:
        document["tools"] = [{"type": "function", "function": f} for f in functions]
    document["defaults"] = {"system": "You are a weather bot.", "tags": ["weather"]}
    document["cases"] = cases
    return document


# Text that breaks YAML in the ways editors and merges do (tabs, stray indicators, anchors, tags).
YAML_SNIPPETS = (
    "\t",
    ": :",
    "- ",
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "%YAML 1.1\n",
    "{",
    "[",
    "? ",
    "|",
    "'",
    "\x00",
)


@st.composite
def mutated_yaml(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> tuple[bytes, tuple[str, ...]]:
    """A YAML file of a drawn document, with up to three structural and two text mutations, saved
    as UTF-8, as Latin-1 (an editor's choice), or cut at any byte."""
    document = draw(documents)
    applied = []
    for _ in range(draw(st.integers(0, 3))):
        document, what = mutate_at(draw, document, pick(draw, locations(document)))
        applied.append(what)
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):
            text, what = _text_op(draw, text)
        else:
            at, snippet = upto(draw, len(text)), draw(st.sampled_from(YAML_SNIPPETS))
            text, what = text[:at] + snippet + text[at:], f"insert {snippet!r} at {at}"
        applied.append(what)
    data = text.encode()
    saved = draw(st.sampled_from(("utf-8", "utf-8", "utf-8", "cut", "latin-1")))
    if saved == "cut":
        at = upto(draw, len(data))
        data = data[:at]
        applied.append(f"bytes cut at {at}")
    elif saved == "latin-1":
        data = text.encode("latin-1", errors="replace")
        applied.append("saved as Latin-1")
    return data, tuple(applied)


def test_unmutated_case_files_load(tmp_path: Path) -> None:
    """The case file strategy is not vacuous: what it draws loads (checked on a few draws)."""

    @settings(law, max_examples=20)
    @given(document=case_files())
    def loads(document: dict[str, Any]) -> None:
        file = tmp_path / "weather.yaml"
        file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        assert isinstance(load_suite_file(file), Suite)

    loads()


@law
@given(mutated=mutated_yaml(case_files()))
def test_case_file_loads_or_says_why(
    tmp_path_factory: pytest.TempPathFactory, mutated: tuple[bytes, tuple[str, ...]]
) -> None:
    """A mutated case file loads as a Suite or raises CaseFileError with a one-line message;
    nothing else escapes ``load_suite_file``."""
    data, _ = mutated
    file = tmp_path_factory.mktemp("cases") / "weather.yaml"
    file.write_bytes(data)
    try:
        suite = load_suite_file(file)
    except CaseFileError as exc:
        assert len(str(exc).splitlines()) == 1, str(exc)
    else:
        assert isinstance(suite, Suite)


# --- cassettes -------------------------------------------------------------------------------------


@st.composite
def cassettes(draw: st.DrawFn) -> dict[str, Any]:
    """A vcrpy cassette of one to three exchanges with realistic bodies of any target, in the
    variants found in the wild: plain ``body.string``, gzip ``!!binary``, vcrpy's old httpx stub
    (``content`` + ``status_code``) and pydantic-ai's ``parsed_body``."""
    interactions = []
    for _ in range(draw(st.integers(1, 3))):
        reply = draw(replies(draw(st.sampled_from(TARGETS))))
        request = {
            "body": json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
            "headers": {"Content-Type": ["application/json"], "authorization": ["REDACTED"]},
            "method": "POST",
            "uri": URI[reply.api],
        }
        content_type = "text/event-stream" if reply.streamed else "application/json"
        response: dict[str, Any] = {"headers": {"Content-Type": [content_type]}}
        form = draw(st.sampled_from(("string", "gzip", "stub", "parsed")))
        if form == "stub":
            response.update(content=reply.text, status_code=200)
        else:
            response["status"] = {"code": 200, "message": "OK"}
            if form == "gzip":
                response["headers"]["Content-Encoding"] = ["gzip"]
                response["body"] = {"string": gzip.compress(reply.text.encode(), mtime=0)}
            elif form == "parsed" and not reply.streamed:
                response["parsed_body"] = reply.parts[0]
            else:
                response["body"] = {"string": reply.text}
        interactions.append({"request": request, "response": response})
    return {"interactions": interactions, "version": 1}


@law
@given(mutated=mutated_yaml(cassettes()))
def test_cassette_reads_or_says_why(
    tmp_path_factory: pytest.TempPathFactory, mutated: tuple[bytes, tuple[str, ...]]
) -> None:
    """A mutated cassette reads, or ``read_interactions`` raises EvalkitError; nothing else escapes.
    Every exchange it reads is a Turn (or ``None``: not a model reply) by laws (a) and (b)."""
    data, _ = mutated
    file = tmp_path_factory.mktemp("cassettes") / "cassette.yaml"
    file.write_bytes(data)
    try:
        interactions = read_interactions(file)
    except EvalkitError:
        return
    for exchange in interactions:
        turn = turn_from_http(
            exchange.method, exchange.uri, exchange.request_body, exchange.status, exchange.headers, exchange.body
        )
        if turn is not None:
            assert_well_formed(turn)


# Inputs the laws found, pinned so that every CI run shows them whatever the random search draws.
CASE_FILE_EDGES = {
    "Latin-1 encoded": "version: 1\nsuite: weather\ndescription: Zürich\n".encode("latin-1"),
    "NUL character": b"version: 1\nsuite: weather\x00\n",
    "nested 1000 deep": b"[" * 1000 + b"]" * 1000,
}


@pytest.mark.parametrize("data", CASE_FILE_EDGES.values(), ids=CASE_FILE_EDGES.keys())
def test_case_file_edge_cases_say_why(tmp_path: Path, data: bytes) -> None:
    """Each of these case files raises CaseFileError with a one-line message."""
    file = tmp_path / "weather.yaml"
    file.write_bytes(data)
    with pytest.raises(CaseFileError) as raised:
        load_suite_file(file)
    assert len(str(raised.value).splitlines()) == 1, str(raised.value)


_EXCHANGE = "interactions:\n- request: {method: POST, uri: '%s'}\n  response: %s\n"
_CHAT = "https://api.openai.com/v1/chat/completions"
CASSETTE_EDGES = {
    "Latin-1 encoded": (_EXCHANGE % (_CHAT, "{status: {code: 200}, body: {string: 'Zürich'}}")).encode("latin-1"),
    "response null": (_EXCHANGE % (_CHAT, "null")).encode(),
    "headers a string": (_EXCHANGE % (_CHAT, "{status: {code: 200}, headers: x, body: {string: '{}'}}")).encode(),
    "headers a list": (_EXCHANGE % (_CHAT, "{status: {code: 200}, headers: [1], body: {string: '{}'}}")).encode(),
    "body a string": (_EXCHANGE % (_CHAT, "{status: {code: 200}, body: x}")).encode(),
    "status infinite": (_EXCHANGE % (_CHAT, "{status: {code: .inf}, body: {string: '{}'}}")).encode(),
    "gzip body cut": (_EXCHANGE % (_CHAT, "{status: {code: 200}, body: {string: !!binary H4sIAAAAAAACA6uu}}")).encode(),
    "uri not a URL": (
        _EXCHANGE % ("http://[bad/v1/chat/completions", "{status: {code: 200}, body: {string: '{}'}}")
    ).encode(),
}


@pytest.mark.parametrize("data", CASSETTE_EDGES.values(), ids=CASSETTE_EDGES.keys())
def test_cassette_edge_cases_read_or_say_why(tmp_path: Path, data: bytes) -> None:
    """Each of these cassettes reads (and its exchanges are Turns) or raises EvalkitError."""
    file = tmp_path / "cassette.yaml"
    file.write_bytes(data)
    try:
        interactions = read_interactions(file)
    except EvalkitError:
        return
    for exchange in interactions:
        turn = turn_from_http(
            exchange.method, exchange.uri, exchange.request_body, exchange.status, exchange.headers, exchange.body
        )
        assert turn is None or isinstance(turn, Turn)
