"""``--batch``: recording through the Batch API with the real openai SDK, against an httpx2.MockTransport
that serves the documented objects and file formats (a File object for the upload, the Batch object
through validating → in_progress → finalizing → completed/failed/expired, output and error files of
``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}`` lines). No real batch
was ever sent: evalkit has no key for one.

The cassettes it writes replay and score exactly as live recordings do; errored lines become per-job
errors and save nothing; what a batch cannot carry is refused in one line before anything is sent."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest

from evalkit.cases import load_all
from evalkit.config import RunConfig, load_config, select_models
from evalkit.errors import ConfigError
from evalkit.results import RunResult, job_record
from evalkit.runner import run_suites
from evalkit.scale import batch as batch_module
from evalkit.scale.batch import custom_id, jobs_to_batch, record_batches

KEY = "sk-test-batch-key-0123456789abcdef"
CONFIG = """\
[tool.evalkit]
models = ["gpt-chat"]

[tool.evalkit.model."gpt-chat"]
model = "gpt-4o-mini"
base_url = "https://api.openai.test/v1"
api_key_env = "TEST_BATCH_KEY"
params = {temperature = 0}

[tool.evalkit.model."gpt-resp"]
model = "gpt-4o-mini"
api = "responses"
base_url = "https://api.openai.test/v1"
api_key_env = "TEST_BATCH_KEY"

[tool.evalkit.model."gpt-stream"]
model = "gpt-4o-mini"
base_url = "https://api.openai.test/v1"
api_key_env = "TEST_BATCH_KEY"
stream = true
"""
WEATHER = """\
version: 1
suite: weather
tools:
  - type: function
    function:
      name: get_weather
      description: Weather for a city.
      parameters: {type: object, properties: {city: {type: string}}, required: [city]}
cases:
  - id: paris
    prompt: Weather in Paris?
    expect: {calls: [{name: get_weather, arguments: {city: Paris}}]}
  - id: rome
    prompt: Weather in Rome?
    expect: {calls: [{name: get_weather, arguments: {city: Rome}}]}
  - id: joke
    prompt: Tell me a joke.
    expect: {no_call: true}
"""
LOOP = """\
version: 1
suite: orders
tools:
  - type: function
    function: {name: get_order, parameters: {type: object, properties: {order_id: {type: string}}}}
tool_outputs:
  get_order: [{output: {status: shipped}}]
cases:
  - id: status
    prompt: Where is order A1?
    expect:
      trajectory: {calls: [{name: get_order, arguments: {order_id: A1}}]}
"""


# --- the fake Batch API ------------------------------------------------------------------------


def chat_reply(prompt: str) -> dict[str, Any]:
    """A chat.completion: Paris calls get_weather(Paris), Rome calls it for Milan, anything else is text."""
    city = {"Weather in Paris?": "Paris", "Weather in Rome?": "Milan"}.get(prompt)
    message: dict[str, Any] = {"role": "assistant", "content": None if city else "Why did the cloud stay home?"}
    if city:
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
        }
        message["tool_calls"] = [call]
    return {
        "id": "chatcmpl-b",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if city else "stop"}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 8, "total_tokens": 38},
    }


def responses_reply(prompt: str) -> dict[str, Any]:
    city = {"Weather in Paris?": "Paris", "Weather in Rome?": "Milan"}.get(prompt)
    if city:
        item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
                "arguments": json.dumps({"city": city}), "status": "completed"}  # fmt: skip
    else:
        text = {"type": "output_text", "text": "Why did the cloud stay home?", "annotations": []}
        item = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [text]}
    return {"id": "resp_1", "object": "response", "created_at": 1, "model": "gpt-4o-mini", "status": "completed",
            "output": [item], "usage": {"input_tokens": 30, "output_tokens": 8, "total_tokens": 38}}  # fmt: skip


def prompt_of(body: dict[str, Any]) -> str:
    messages = body.get("messages") or body.get("input")
    return str(messages[-1]["content"])


# prompt -> how the batch answers that line (default: a 200 with the model's reply)
Script = dict[str, tuple[Any, ...]]


class BatchAPI:
    """Files and batches as the API documents them, over httpx2.MockTransport."""

    def __init__(self, script: Script | None = None, *, fail_batch: bool = False, end: str = "completed"):
        self.script, self.fail_batch, self.end = script or {}, fail_batch, end
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}
        self.seen: list[tuple[str, str]] = []
        self.uploads: list[tuple[dict[str, str], list[dict[str, Any]]]] = []
        self.created: list[dict[str, Any]] = []
        self.transport = httpx2.MockTransport(self.handle)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        method, path = request.method, request.url.path
        self.seen.append((method, path))
        assert request.headers["authorization"] == f"Bearer {KEY}"
        if (method, path) == ("POST", "/v1/files"):
            fields, content = multipart(request)
            lines = [json.loads(line) for line in content.decode().splitlines()]
            self.uploads.append((fields, lines))
            file_id = f"file-in-{len(self.files) + 1}"
            self.files[file_id] = content
            return httpx2.Response(200, json={"id": file_id, "object": "file", "bytes": len(content), "created_at": 1,
                                              "filename": fields.get("filename", ""), "purpose": "batch", "status": "processed"})  # fmt: skip
        if (method, path) == ("POST", "/v1/batches"):
            body = json.loads(request.content)
            self.created.append(body)
            batch_id = f"batch_{len(self.batches) + 1:03d}"
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": body["endpoint"], "errors": None,
                "input_file_id": body["input_file_id"], "completion_window": body["completion_window"],
                "status": "validating", "output_file_id": None, "error_file_id": None, "created_at": 1,
                "request_counts": {"total": 0, "completed": 0, "failed": 0}, "metadata": body.get("metadata"),
            }  # fmt: skip
            self.polls[batch_id] = 0
            return httpx2.Response(200, json=self.batches[batch_id])
        if method == "GET" and (match := re.fullmatch(r"/v1/batches/([\w-]+)", path)):
            return httpx2.Response(200, json=self.poll(match[1]))
        if method == "GET" and (match := re.fullmatch(r"/v1/files/([\w-]+)/content", path)):
            return httpx2.Response(
                200, content=self.files[match[1]], headers={"content-type": "application/octet-stream"}
            )
        raise AssertionError(f"unexpected {method} {path}")

    def poll(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        self.polls[batch_id] += 1
        steps = ["in_progress", "finalizing", "failed" if self.fail_batch else self.end]
        batch["status"] = steps[min(self.polls[batch_id], len(steps)) - 1]
        if batch["status"] == "failed":
            error = {
                "code": "invalid_json_line",
                "message": "This line is not parseable as valid JSON.",
                "param": None,
                "line": 2,
            }
            batch["errors"] = {"object": "list", "data": [error]}
        elif batch["status"] in ("completed", "expired") and batch["output_file_id"] is None:
            self.finish(batch)
        return batch

    def finish(self, batch: dict[str, Any]) -> None:
        out, err = [], []
        for number, line in enumerate(json.loads(t) for t in self.files[batch["input_file_id"]].decode().splitlines()):
            assert line["method"] == "POST" and line["url"] == batch["endpoint"]
            prompt = prompt_of(line["body"])
            action = self.script.get(prompt, ("ok",))
            head = {"id": f"batch_req_{number}", "custom_id": line["custom_id"]}
            if action[0] == "ok":
                body = chat_reply(prompt) if line["url"].endswith("/chat/completions") else responses_reply(prompt)
                out.append(
                    {
                        **head,
                        "response": {"status_code": 200, "request_id": f"req_{number}", "body": body},
                        "error": None,
                    }
                )
            elif action[0] == "status":  # ("status", code, body): a reply with an error status
                err.append(
                    {
                        **head,
                        "response": {"status_code": action[1], "request_id": f"req_{number}", "body": action[2]},
                        "error": None,
                    }
                )
            elif action[0] == "error":  # ("error", code, message): the line never ran
                err.append({**head, "response": None, "error": {"code": action[1], "message": action[2]}})
            # ("missing",): the batch ended without a line for it
        for kind, lines in (("output", out), ("error", err)):
            if lines:
                file_id = f"file-{kind}-{batch['id']}"
                self.files[file_id] = "".join(json.dumps(line) + "\n" for line in lines).encode()
                batch[f"{kind}_file_id"] = file_id
        batch["request_counts"] = {"total": len(out) + len(err), "completed": len(out), "failed": len(err)}


def multipart(request: httpx2.Request) -> tuple[dict[str, str], bytes]:
    """The form fields and the file of a multipart/form-data upload."""
    boundary = request.headers["content-type"].split("boundary=", 1)[1].encode()
    fields: dict[str, str] = {}
    content = b""
    for part in request.read().split(b"--" + boundary):
        head, _, body = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if name is None:
            continue
        body = body.removesuffix(b"\r\n")
        if b"filename=" in head:
            fields["filename"] = re.search(rb'filename="([^"]*)"', head)[1].decode()  # type: ignore[index]
            content = body
        else:
            fields[name[1].decode()] = body.decode()
    return fields, content


class Network:
    """Stands in for evalkit.recording.NetworkTransports: every model's requests go to the fake API."""

    def __init__(self, transport: httpx2.BaseTransport):
        self.transport = transport

    def get(self, key: str) -> httpx2.BaseTransport:
        return self.transport

    def close(self) -> None:
        pass


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "weather.yaml").write_text(WEATHER, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("TEST_BATCH_KEY", KEY)
    return tmp_path


def setup(project: Path, model: str = "gpt-chat", **options: Any) -> tuple[RunConfig, list[Any]]:
    config = select_models(load_config(start=project), [model])
    options = {"record_mode": "once", "batch": True, "batch_poll": 0, **options}
    return replace(config, **options), load_all([project / "cases"])


def run(project: Path, api: BatchAPI, monkeypatch: pytest.MonkeyPatch, **options: Any) -> RunResult:
    config, suites = setup(project, **options)
    monkeypatch.setattr("evalkit.runner.NetworkTransports", lambda: Network(api.transport))
    return run_suites(config, suites, progress=False, run_id="batch", reports=project / "reports")


def replay(project: Path, model: str = "gpt-chat") -> RunResult:
    config, suites = setup(project, model, record_mode="none", batch=False)
    return run_suites(config, suites, progress=False)  # NetworkTransports is real: nothing may be sent


def records(run: RunResult) -> list[dict[str, Any]]:
    return [{k: v for k, v in job_record(job).items() if k != "seconds"} for job in run.jobs]


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "endpoint"), [("gpt-chat", "/v1/chat/completions"), ("gpt-resp", "/v1/responses")])
def test_a_batch_records_cassettes_that_replay_like_live_ones(
    project: Path, monkeypatch: pytest.MonkeyPatch, model: str, endpoint: str
) -> None:
    api = BatchAPI()
    result = run(project, api, monkeypatch, model=model)
    assert api.seen == [
        ("POST", "/v1/files"),
        ("POST", "/v1/batches"),
        ("GET", "/v1/batches/batch_001"),  # in_progress
        ("GET", "/v1/batches/batch_001"),  # finalizing
        ("GET", "/v1/batches/batch_001"),  # completed
        ("GET", "/v1/files/file-output-batch_001/content"),
    ]
    ((fields, lines),) = api.uploads
    assert fields == {"purpose": "batch", "filename": "evalkit-batch.jsonl"}
    assert api.created == [{"input_file_id": "file-in-1", "endpoint": endpoint, "completion_window": "24h",
                            "metadata": {"evalkit_model": model}}]  # fmt: skip
    jobs = {job.case_id: job for job in result.jobs}
    from evalkit.runner import plan_run

    planned = plan_run(*setup(project, model)).jobs
    assert [line["custom_id"] for line in lines] == [custom_id(job) for job in planned]
    assert {(j.case_id, j.status) for j in result.jobs} == {("paris", "passed"), ("rome", "failed"), ("joke", "passed")}
    assert jobs["rome"].failures[0][0] == "wrong_value"
    assert result.config["batches"] == [
        {"id": "batch_001", "model": model, "endpoint": endpoint, "status": "completed", "requests": 3, "failed": 0}
    ]
    # Each line's body is the request the job sends: its cassette holds it, and a plain replay (record
    # mode none, no network) finds it and scores the same.
    for line in lines:
        assert line["method"] == "POST" and line["url"] == endpoint
        case = {"Weather in Paris?": "paris", "Weather in Rome?": "rome", "Tell me a joke.": "joke"}[
            prompt_of(line["body"])
        ]
        cassette = yaml_load(project / jobs[case].cassette)
        (interaction,) = cassette["interactions"]
        assert json.loads(interaction["request"]["body"]) == line["body"]
        assert interaction["request"]["uri"] == f"https://api.openai.test{endpoint}"
        assert set(interaction["request"]["headers"]) <= {"content-type", "accept"}  # no authorization
        assert interaction["response"]["status"]["code"] == 200
    assert records(replay(project, model)) == records(result)
    written = "".join(p.read_text(encoding="utf-8") for p in (project / "cassettes").rglob("*.yaml"))
    assert KEY not in written and KEY not in (project / "reports" / "batch" / "results.json").read_text(
        encoding="utf-8"
    )


def yaml_load(path: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_errored_lines_become_job_errors_and_save_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rate_limited = {
        "error": {
            "message": "Rate limit reached for gpt-4o-mini",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    api = BatchAPI(
        {
            "Weather in Paris?": ("status", 429, rate_limited),
            "Weather in Rome?": (
                "error",
                "batch_expired",
                "This request could not be executed before the completion window expired.",
            ),
            "Tell me a joke.": ("missing",),
        }
    )
    result = run(project, api, monkeypatch)
    assert ("GET", "/v1/files/file-error-batch_001/content") in api.seen
    failures = {job.case_id: (job.status, job.failures) for job in result.jobs}
    assert failures == {
        "paris": ("error", (("rate_limited", "HTTP 429: Rate limit reached for gpt-4o-mini"),)),
        "rome": ("error", (("http_error", "batch batch_001: batch_expired: This request could not be executed before the completion window expired."),)),
        "joke": ("error", (("http_error", "batch batch_001 ended completed with no reply for this request; run again to send it again"),)),
    }  # fmt: skip
    assert not (project / "cassettes").exists()  # an error reply is never saved
    assert result.config["batches"][0]["failed"] == 3
    job = next(iter(result.jobs))
    assert job.request["batch"] == "batch_001" and job.request["api"] == "chat.completions"
    assert "batch_001" not in json.dumps([list(j.key) for j in result.jobs])  # the batch id is never a key


def test_a_failed_batch_fails_each_of_its_jobs(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(project, BatchAPI(fail_batch=True), monkeypatch)
    message = "batch batch_001 failed: invalid_json_line: This line is not parseable as valid JSON. (line 2)"
    assert {job.failures for job in result.jobs} == {(("http_error", message),)}
    assert result.config["batches"][0]["status"] == "failed"


def test_record_mode_once_sends_only_what_is_missing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(project, BatchAPI(), monkeypatch)
    (project / "cassettes" / "gpt-chat" / "weather" / "rome.yaml").unlink()
    api = BatchAPI()
    monkeypatch.setattr("evalkit.runner.NetworkTransports", lambda: Network(api.transport))
    config, suites = setup(project)
    result = run_suites(config, suites, progress=False)
    ((_, lines),) = api.uploads
    assert [prompt_of(line["body"]) for line in lines] == ["Weather in Rome?"]
    assert all(job.status != "error" for job in result.jobs)
    nothing = BatchAPI()  # everything recorded: no batch at all
    monkeypatch.setattr("evalkit.runner.NetworkTransports", lambda: Network(nothing.transport))
    assert run_suites(config, suites, progress=False).config["batches"] == [] and nothing.seen == []


def test_batches_are_split_at_the_line_limit(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_module, "MAX_LINES", 2)
    api = BatchAPI()
    result = run(project, api, monkeypatch)
    assert [len(lines) for _, lines in api.uploads] == [2, 1]
    assert [b["id"] for b in result.config["batches"]] == ["batch_001", "batch_002"]
    assert all(job.status != "error" for job in result.jobs)


def test_a_resumed_run_polls_its_batch_instead_of_sending_it_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed while waiting (here: Ctrl-C on the first poll); --resume picks up batch_001."""
    api = BatchAPI()
    interrupted = {"once": True}

    def handle(request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET" and interrupted.pop("once", False):
            raise KeyboardInterrupt
        return api.handle(request)

    config, suites = setup(project)
    monkeypatch.setattr("evalkit.runner.NetworkTransports", lambda: Network(httpx2.MockTransport(handle)))
    with pytest.raises(KeyboardInterrupt):
        run_suites(config, suites, progress=False, run_id="r", reports=project / "reports")
    assert [(m, p) for m, p in api.seen if m == "POST"] == [("POST", "/v1/files"), ("POST", "/v1/batches")]
    state = (project / "reports" / "r" / "batches.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event"] for line in state] == ["created"]
    result = run_suites(config, suites, progress=False, run_id="r", reports=project / "reports", resume=True)
    assert [(m, p) for m, p in api.seen if m == "POST"] == [("POST", "/v1/files"), ("POST", "/v1/batches")]
    assert [b["id"] for b in result.config["batches"]] == ["batch_001"]
    assert {job.status for job in result.jobs} == {"passed", "failed"}


def test_custom_ids_are_stable_digests_of_the_job_key(project: Path) -> None:
    config, suites = setup(project)
    from evalkit.runner import plan_run

    jobs = plan_run(config, suites).jobs
    ids = [custom_id(job) for job in jobs]
    assert len(set(ids)) == 3 and all(re.fullmatch(r"evalkit-[0-9a-f]{32}", i) for i in ids)
    assert ids == [custom_id(job) for job in plan_run(config, suites).jobs]


REFUSED: list[tuple[str, dict[str, Any], Callable[[Path], None] | None, str]] = [
    ("gpt-chat", {"record_mode": "none"}, None,
     "--batch records, and record mode none does not: use --record-mode once (what is missing) or all (everything)"),
    ("gpt-stream", {}, None,
     "model 'gpt-stream' streams (stream = true) and a batch does not; record it without --batch"),
    ("gpt-chat", {}, lambda p: (p / "cases" / "orders.yaml").write_text(LOOP, encoding="utf-8"),
     ("--batch sends single-reply cases only, and 1 job(s) to record are tool loops (e.g. orders/status); "
      "record their suites without --batch")),
]  # fmt: skip


@pytest.mark.parametrize(("model", "options", "change", "message"), REFUSED)
def test_what_a_batch_cannot_carry_is_refused_in_one_line_before_anything_is_sent(
    project: Path, monkeypatch: pytest.MonkeyPatch, model: str, options: dict[str, Any], change: Any, message: str
) -> None:
    if change:
        change(project)
    config, suites = setup(project, model, **options)
    api = BatchAPI()
    monkeypatch.setattr("evalkit.runner.NetworkTransports", lambda: Network(api.transport))
    with pytest.raises(ConfigError) as error:
        run_suites(config, suites, progress=False, run_id="r", reports=project / "reports")
    assert str(error.value) == message
    assert api.seen == [] and not (project / "reports").exists()


def test_a_missing_key_is_refused_like_a_live_recording(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_BATCH_KEY")
    config, suites = setup(project)
    config = replace(config, models=tuple(replace(m, base_url=None) for m in config.models))
    from evalkit.runner import plan_run

    with pytest.raises(ConfigError, match="recording needs an API key; set TEST_BATCH_KEY"):
        jobs_to_batch(plan_run(config, suites).jobs, config)


def test_record_batches_takes_any_transport(project: Path) -> None:
    """The library function alone, without a run: cassettes written, no error."""
    config, suites = setup(project)
    from evalkit.runner import plan_run

    api = BatchAPI()
    outcome = record_batches(plan_run(config, suites).jobs, config, transport=lambda name: api.transport)
    assert outcome.errors == () and [b["status"] for b in outcome.batches] == ["completed"]
    assert len(list((project / "cassettes").rglob("*.yaml"))) == 3


def test_the_cli_refuses_batch_in_replay_in_one_line(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from evalkit.cli import cli

    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["run", "cases/", "--batch", "--batch-poll", "0", "--no-progress"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "evalkit: error: --batch records, and record mode none does not: use --record-mode once (what is missing) "
        "or all (everything)"
    )


def test_a_refused_upload_is_one_line_without_the_key(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.errors import BatchError

    def refuse(request: httpx2.Request) -> httpx2.Response:
        message = f"Incorrect API key provided: {KEY}. You can find your API key at https://platform.openai.com."
        return httpx2.Response(
            401, json={"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}}
        )

    config, suites = setup(project)
    monkeypatch.setattr("evalkit.runner.NetworkTransports", lambda: Network(httpx2.MockTransport(refuse)))
    with pytest.raises(BatchError) as error:
        run_suites(config, suites, progress=False, run_id="r", reports=project / "reports")
    message = str(error.value)
    assert message.startswith("sending a batch for model 'gpt-chat' failed: AuthenticationError: Error code: 401")
    assert message.endswith("; fix it and run again (with --resume, batches already sent are polled, not sent again)")
    assert KEY not in message and "REDACTED" in message and "\n" not in message
