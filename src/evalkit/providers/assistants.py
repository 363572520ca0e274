"""Assistants API runs: assistant → thread → message(s) → run → poll → ``requires_action`` (one or
several calls) → all outputs in one ``submit_tool_outputs`` → … → ``completed`` (the answer is the
thread's newest assistant message). Streamed runs read the event stream instead of polling.

OpenAI shut this API down on 2026-08-26: recorded runs replay, and recording works against any
server that still serves it. Replay never sleeps between polls (the recorded polls answer at once).
A run still ``queued``/``in_progress`` when the job's ``timeout`` runs out is an error; it is never
started again. The case's system prompt becomes the assistant's instructions; thread messages may
only be user and assistant messages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..calls import MALFORMED_REPLY, RUN_TIMEOUT, Turn
from ..errors import ConfigError
from ..parsing import shape
from ..parsing.assistants import PENDING_RUN_STATUSES
from ..parsing.sse import is_sse, parse_events
from ..tools import toolset_id
from . import RawReply, fetch, turn_from_exception

_THREAD_ROLES = ("user", "assistant")


def build_thread(job: Any) -> tuple[str | None, list[dict[str, Any]]]:
    """(the instructions, the thread's messages) for a job's messages."""
    instructions = [m.get("content") for m in job.case.messages if m.get("role") in ("system", "developer")]
    messages = []
    for message in job.case.messages:
        role = message.get("role")
        if role in ("system", "developer"):
            continue
        if role not in _THREAD_ROLES or message.get("tool_calls") or message.get("function_call"):
            raise ConfigError(
                f"case {job.case.key}: an Assistants thread holds only user and assistant text messages, "
                f'not a {role!r} message with tool calls or outputs; use api = "chat" or "responses" for this case'
            )
        messages.append({"role": role, "content": message.get("content") or ""})
    text = "\n\n".join(str(i) for i in instructions if i) or None
    return text, messages


class AssistantsConversation:
    """A job as one Assistants run (see the module docstring)."""

    def __init__(self, client: Any, job: Any, *, poll_every: float, live: Callable[[], bool] = lambda: True):
        self.client, self.job, self.poll_every, self.live = client, job, poll_every, live
        self.instructions, self.messages = build_thread(job)
        self.stream = job.model.stream
        self.params = dict(job.model.params)
        self.thread_id: str | None = None
        self.run_id: str | None = None
        self.pending: list[dict[str, str]] | None = None  # tool outputs to submit on the next send
        self._summary = {
            "api": "assistants",
            "model": job.model.model,
            "messages": job.case.messages,
            "toolset": toolset_id(job.offered_tools),
            "stream": self.stream,
            "params": self.params,
        }

    def summary(self) -> dict[str, Any]:
        return self._summary

    def send(self) -> Turn:
        reply = self._start() if self.run_id is None else self._submit()
        return reply if isinstance(reply, Turn) else self._settle(reply)

    def answer_calls(self, turn: Turn, outputs: Sequence[str]) -> None:
        # All the run's calls are answered in one submit_tool_outputs, sent by the next send().
        self.pending = [
            {"tool_call_id": call.id or "", "output": output} for call, output in zip(turn.calls, outputs, strict=True)
        ]

    # --- the requests ---------------------------------------------------------------------------

    def _start(self) -> RawReply | Turn:
        beta = self.client.beta
        tools = [dict(t) for t in self.job.offered_tools]
        try:
            assistant = beta.assistants.create(model=self.job.model.model, instructions=self.instructions, tools=tools)
            thread = beta.threads.create(messages=self.messages)
        except Exception as exc:  # noqa: BLE001 - an SDK or transport error: a failed turn, as for any request
            return _failed(exc)
        self.thread_id = thread.id
        runs = beta.threads.runs.with_streaming_response
        extra = {"stream": True} if self.stream else {}
        return fetch(lambda: runs.create(thread_id=thread.id, assistant_id=assistant.id, **self.params, **extra))

    def _submit(self) -> RawReply | Turn:
        runs = self.client.beta.threads.runs.with_streaming_response
        extra = {"stream": True} if self.stream else {}
        outputs, self.pending = self.pending or [], None
        return fetch(
            lambda: runs.submit_tool_outputs(
                run_id=self.run_id, thread_id=self.thread_id, tool_outputs=outputs, **extra
            )
        )

    def _settle(self, reply: RawReply) -> Turn:
        """Poll a run until it needs the caller or has ended (streamed: read the events), then the
        answer's text from the thread when it completed."""
        deadline = time.monotonic() + self.job.model.timeout
        while True:
            if reply.broke is not None or reply.status >= 400:
                return reply.turn("assistants")
            run = _run_object(reply.text)
            if run is None:
                return reply.turn("assistants")
            self.run_id = run.get("id") if isinstance(run.get("id"), str) else self.run_id
            status = run.get("status")
            if not (isinstance(status, str) and status in PENDING_RUN_STATUSES):
                break
            if time.monotonic() > deadline:
                return Turn.failed(
                    RUN_TIMEOUT,
                    f"run {self.run_id} was still {status} after {self.job.model.timeout:g} s; it is not started again",
                )
            if self.poll_every and self.live():  # a replayed poll is answered at once: never wait for it
                time.sleep(self.poll_every)
            polled = fetch(
                lambda: self.client.beta.threads.runs.with_streaming_response.retrieve(
                    run_id=self.run_id, thread_id=self.thread_id
                )
            )
            if isinstance(polled, Turn):
                return polled
            reply = polled
        turn = reply.turn("assistants")
        if turn.error is None and turn.finish_reason == "stop" and not turn.content:
            turn = _with_answer(turn, self._answer_text())
        return turn

    def _answer_text(self) -> str | None:
        """The newest assistant message of the thread: a completed run's answer."""
        listed = fetch(
            lambda: self.client.beta.threads.messages.with_streaming_response.list(
                thread_id=self.thread_id, order="desc", limit=1
            )
        )
        if isinstance(listed, Turn):
            return None
        try:
            data = shape.loads(listed.text).get("data") or []
            message = data[0] if data and isinstance(data[0], dict) else {}
        except (ValueError, AttributeError):
            return None
        if message.get("role") != "assistant":
            return None
        parts = message.get("content") or []
        texts = [
            ((p.get("text") or {}).get("value") or "") for p in parts if isinstance(p, dict) and p.get("type") == "text"
        ]
        return "".join(texts) or None


def _run_object(text: str) -> dict[str, Any] | None:
    """The run a reply describes: the object itself, or the last ``thread.run`` of an event stream."""
    if is_sse(text):
        run = None
        for event in parse_events(text).events:
            try:
                data = json.loads(event.data)
            except ValueError:
                return None
            if isinstance(data, dict) and data.get("object") == "thread.run":
                run = data
        return run
    try:
        body = shape.loads(text)
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("object", "thread.run") == "thread.run" else None


def _with_answer(turn: Turn, text: str | None) -> Turn:
    from dataclasses import replace

    return replace(turn, content=text)


def _failed(exc: Exception) -> Turn:
    try:
        return turn_from_exception(exc)
    except Exception:  # noqa: BLE001 - not an SDK error: a reply of a shape the SDK could not read
        return Turn.failed(MALFORMED_REPLY, f"{type(exc).__name__}: {shape.short(str(exc))}")
