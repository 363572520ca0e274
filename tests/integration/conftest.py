"""Integration fixtures: a scripted OpenAI-compatible server on 127.0.0.1 for fault tests. Each
request's behaviour is chosen by its last user message and consumed in order, so a test can say
"429, then 200" (the last action repeats)."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest


def completion(prompt: str, *, call: bool = True) -> dict[str, Any]:
    """A well-formed reply: a call to get_weather(city=<prompt>) or a text answer."""
    message: dict[str, Any] = {"role": "assistant", "content": None if call else f"About {prompt}."}
    if call:
        message["tool_calls"] = [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": json.dumps({"city": prompt})},
            }
        ]
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": 1,
        "model": "fault-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if call else "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


class FaultHandler(BaseHTTPRequestHandler):
    # prompt -> the actions still to play, in order; the last one repeats
    script: ClassVar[dict[str, list[tuple[Any, ...]]]] = {}
    seen: ClassVar[dict[str, int]] = defaultdict(int)
    headers_seen: ClassVar[list[dict[str, str]]] = []
    paths_seen: ClassVar[list[str]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()
    delay: ClassVar[float] = 0.0

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        prompt = body["messages"][-1]["content"]
        with self.lock:
            self.seen[prompt] += 1
            self.headers_seen.append(dict(self.headers))
            self.paths_seen.append(self.path)
            actions = self.script.get(prompt, [("ok",)])
            action = actions.pop(0) if len(actions) > 1 else actions[0]
        if self.delay:
            time.sleep(self.delay)
        kind = action[0]
        if kind == "ok":
            self._json(200, completion(prompt, call=not prompt.startswith("chat")))
        elif kind == "status":  # ("status", code, headers, body)
            _, code, headers, payload = action
            self._json(code, payload, headers)
        elif kind == "sleep":  # longer than the client's timeout
            time.sleep(action[1])
            self._json(200, completion(prompt))
        elif kind == "reset":  # close the connection without a reply
            self.close_connection = True
            self.connection.shutdown(2)
        elif kind == "cut_stream":  # a stream that stops mid-call
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            piece = {
                "index": 0,
                "id": "c",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"ci'},
            }
            chunk = {"choices": [{"index": 0, "delta": {"tool_calls": [piece]}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
        elif kind == "echo_key":  # a 401 that quotes the credentials it was sent
            echoed = {
                "authorization": self.headers.get("authorization"),
                "path": self.path,
                "headers": dict(self.headers),
            }
            self._json(
                401,
                {"error": {"message": f"Incorrect API key provided: {json.dumps(echoed)}", "code": "invalid_api_key"}},
            )
        else:
            raise AssertionError(f"unknown action {action!r}")

    def _json(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def fault_server(
    script: dict[str, list[tuple[Any, ...]]], *, delay: float = 0.0
) -> Iterator[tuple[str, type[FaultHandler]]]:
    """Serve ``script`` on 127.0.0.1; yields (base_url, the handler class holding what it saw)."""
    handler = type("Handler", (FaultHandler,), {})
    handler.script = {k: list(v) for k, v in script.items()}
    handler.seen = defaultdict(int)
    handler.headers_seen = []
    handler.paths_seen = []
    handler.lock = threading.Lock()
    handler.delay = delay
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def serve_faults() -> Any:
    """``with serve_faults(script, delay=0) as (base_url, seen): ...``"""
    return fault_server
