"""Record against a real HTTP server on 127.0.0.1, then replay with the server gone.

The server is a few lines of http.server answering like an OpenAI-compatible endpoint; it lets the
test cover what the shipped cassettes cannot: the recording path itself, through real sockets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from click.testing import CliRunner

from evalkit.cli import cli

CASES = """
version: 1
suite: orders
tools:
  - type: function
    function:
      name: get_order_details
      description: Look up an order by id.
      parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
cases:
  - id: lookup
    prompt: Where is order ORD-1?
    expect: {calls: [{name: get_order_details, arguments: {order_id: ORD-1}}]}
  - id: hello
    prompt: Hello!
    expect: {no_call: true}
"""


class FakeOpenAI(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        FakeOpenAI.seen.append({"headers": dict(self.headers), "body": body})
        prompt = body["messages"][-1]["content"]
        message: dict = {"role": "assistant", "content": "Hi there!"}
        if "ORD-1" in prompt:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_order_details", "arguments": '{"order_id": "ORD-1"}'},
                    }
                ],
            }
        reply = json.dumps(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if "tool_calls" in message else "stop",
                    }
                ],
            }
        )
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("set-cookie", "session=secret-cookie")
        self.send_header("openai-organization", "org-secret")
        self.end_headers()
        self.wfile.write(reply.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    FakeOpenAI.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_record_then_replay_offline(tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "orders.yaml").write_text(CASES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MY_SERVER_KEY", "sk-test-secret-key-1234567890")
    args = [
        "run",
        "cases/",
        "--model",
        "local",
        "--base-url",
        server,
        "--api-key-env",
        "MY_SERVER_KEY",
        "--no-progress",
        "--no-html",
    ]

    recorded = CliRunner().invoke(cli, [*args, "--record-mode", "once", "--run-id", "recorded"])
    assert recorded.exit_code == 0, recorded.output
    assert len(FakeOpenAI.seen) == 2
    assert {k.lower(): v for k, v in FakeOpenAI.seen[0]["headers"].items()}[
        "authorization"
    ] == "Bearer sk-test-secret-key-1234567890"  # the key was sent…

    cassette = tmp_path / "cassettes" / "local" / "orders" / "lookup.yaml"
    text = cassette.read_text()
    for secret in ("sk-test-secret-key", "secret-cookie", "org-secret", "authorization", "set-cookie"):
        assert secret not in text.lower()  # …but none of it was written
    interaction = yaml.safe_load(text)["interactions"][0]
    assert json.loads(interaction["request"]["body"])["messages"][-1]["content"] == "Where is order ORD-1?"

    FakeOpenAI.seen.clear()
    monkeypatch.delenv("MY_SERVER_KEY")
    replayed = CliRunner().invoke(cli, [*args, "--run-id", "replayed"])
    assert replayed.exit_code == 0, replayed.output
    assert FakeOpenAI.seen == []  # replay never reached the server
    results = {
        name: json.loads((tmp_path / "reports" / name / "results.json").read_text())
        for name in ("recorded", "replayed")
    }
    statuses = {name: [(j["case_id"], j["status"], j["calls"]) for j in r["jobs"]] for name, r in results.items()}
    assert statuses["recorded"] == statuses["replayed"]
    assert [s for _, s, _ in statuses["replayed"]] == ["passed", "passed"]
