"""Recording unattended against a real HTTP server on 127.0.0.1 that misbehaves (issue 9): retries
that honour Retry-After, error replies never saved, timeouts, resets, cut streams, secrets that never
reach a written file, and a run killed with SIGKILL that resumes without losing or repeating a job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from evalkit.cli import cli

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def write_project(root: Path, base_url: str, prompts: list[str], *, model_extra: str = "", **options: Any) -> Path:
    """A project: one suite with a case per prompt (each expects get_weather(city=<prompt>)), and a
    model `fault` at ``base_url``."""
    cases = [
        {
            "id": f"case-{n}",
            "prompt": prompt,
            "expect": {"calls": [{"name": "get_weather", "arguments": {"city": prompt}}]},
        }
        for n, prompt in enumerate(prompts)
    ]
    (root / "cases").mkdir(parents=True, exist_ok=True)
    (root / "cases" / "faults.yaml").write_text(
        yaml.safe_dump({"version": 1, "suite": "faults", "tools": [WEATHER], "cases": cases}), encoding="utf-8"
    )
    settings = {"max_retries": 2, "timeout": 2.0, **options}
    lines = [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    (root / "evalkit.toml").write_text(
        'models = ["fault"]\nconcurrency = 2\n[model.fault]\nmodel = "fault-model"\n'
        f"base_url = {json.dumps(base_url)}\n" + "\n".join(lines) + "\n" + model_extra,
        encoding="utf-8",
    )
    return root


def run(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.chdir(root)
    return CliRunner().invoke(cli, ["run", "cases/", "--no-progress", *args], catch_exceptions=False)


def jobs_of(root: Path) -> dict[str, dict[str, Any]]:
    results = json.loads((root / "reports" / "latest" / "results.json").read_text(encoding="utf-8"))
    return {job["case_id"]: job for job in results["jobs"]}


SCRIPT = {
    "Paris": [("ok",)],
    "Rome": [("status", 429, {"retry-after-ms": "300"}, {"error": {"message": "Rate limit reached"}}), ("ok",)],
    "Oslo": [
        ("status", 500, {}, {"error": {"message": "boom"}}),
        ("status", 503, {}, {"error": {"message": "busy"}}),
        ("ok",),
    ],
    "Lima": [("status", 503, {}, {"error": {"message": "down for maintenance"}})],  # every attempt
    "Kyiv": [("sleep", 3.0)],  # past the 2 s timeout, every attempt
    "Bern": [("reset",), ("ok",)],
    "Riga": [("status", 401, {}, {"error": {"message": "Incorrect API key"}}), ("ok",)],  # never retried
}


def test_faults_are_retried_counted_and_never_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve_faults: Any
) -> None:
    with serve_faults(SCRIPT) as (base_url, server):
        root = write_project(tmp_path, base_url, list(SCRIPT), max_retries=2, timeout=1.0)
        started = time.perf_counter()
        result = run(root, monkeypatch, "--record-mode", "once")
        assert result.exit_code == 1  # some jobs errored
        jobs = jobs_of(root)
        assert set(jobs) == {f"case-{n}" for n in range(len(SCRIPT))}
        outcome = {prompt: jobs[f"case-{n}"] for n, prompt in enumerate(SCRIPT)}
        assert {p: (j["status"], j["requests"], j["retries"]) for p, j in outcome.items()} == {
            "Paris": ("passed", 1, 0),
            "Rome": ("passed", 2, 1),  # a 429, then the answer
            "Oslo": ("passed", 3, 2),
            "Lima": ("error", 3, 2),  # 503 three times: max_retries = 2
            "Kyiv": ("error", 3, 2),  # timed out three times
            "Bern": ("passed", 2, 1),  # reset, then the answer
            "Riga": ("error", 1, 0),  # a 401 is not retried
        }
        assert outcome["Lima"]["failures"][0][0] == "http_error" and "503" in outcome["Lima"]["failures"][0][1]
        assert outcome["Kyiv"]["failures"][0][0] == "connection_error"
        assert outcome["Riga"]["failures"][0][0] == "http_error"
        assert time.perf_counter() - started >= 0.3  # the 429's retry-after-ms was honoured
        cassettes = root / "cassettes" / "fault" / "faults"
        saved = sorted(p.stem for p in cassettes.glob("*.yaml"))
        assert saved == ["case-0", "case-1", "case-2", "case-5"]  # the errored jobs left nothing behind
        for path in cassettes.glob("*.yaml"):  # and what was saved is only the answer, never the 429/5xx
            interactions = yaml.safe_load(path.read_text())["interactions"]
            assert [i["response"]["status"]["code"] for i in interactions] == [200]

        # A second `once` run re-sends exactly the errored jobs and replays the rest.
        before = dict(server.seen)
        run(root, monkeypatch, "--record-mode", "once")
        sent = {prompt: server.seen[prompt] - before.get(prompt, 0) for prompt in SCRIPT}
        assert sent == {"Paris": 0, "Rome": 0, "Oslo": 0, "Lima": 3, "Kyiv": 3, "Bern": 0, "Riga": 1}
        assert jobs_of(root)["case-6"]["status"] == "passed"  # Riga answers now: recorded at last


def test_a_stream_cut_mid_call_while_recording_is_an_error_and_not_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve_faults: Any
) -> None:
    with serve_faults({"Paris": [("cut_stream",)]}) as (base_url, _):
        root = write_project(tmp_path, base_url, ["Paris"], stream=True, max_retries=0)
        assert run(root, monkeypatch, "--record-mode", "once").exit_code == 1
        job = jobs_of(root)["case-0"]
        assert job["status"] == "error" and job["failures"][0][0] in ("connection_error", "truncated_stream")
        assert not list((root / "cassettes").rglob("*.yaml"))


PLANTED = {
    "key": "sk-planted-0123456789abcdefPLANTEDKEY",
    "query": "PLANTEDQUERYVALUE123",
    "extra_query": "PLANTEDEXTRAQUERY456",
    "goog": "PLANTEDGOOGHEADER789",
    "cookie": "PLANTEDCOOKIEVALUE000",
    "org": "org-PLANTEDORGANIZATION",
    "proxy": "PLANTEDPROXYAUTH111",
}


def test_no_planted_secret_reaches_a_written_file_or_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve_faults: Any
) -> None:
    monkeypatch.setenv("FAULT_API_KEY", PLANTED["key"])
    script = {"Paris": [("ok",)], "Rome": [("echo_key",)]}
    with serve_faults(script) as (base_url, server):
        extra = (
            "[model.fault.params]\n"
            f'extra_query = {{api_key = "{PLANTED["extra_query"]}"}}\n'
            f'extra_headers = {{"x-goog-api-key" = "{PLANTED["goog"]}", Cookie = "session={PLANTED["cookie"]}", '
            f'"OpenAI-Organization" = "{PLANTED["org"]}", "Proxy-Authorization" = "Basic {PLANTED["proxy"]}"}}\n'
        )
        root = write_project(
            tmp_path, f"{base_url}?key={PLANTED['query']}", list(script), api_key_env="FAULT_API_KEY", model_extra=extra
        )
        result = run(root, monkeypatch, "--record-mode", "once")
        assert result.exit_code == 1  # the 401
        # the server really was sent every planted value, so finding none below means something
        sent = json.dumps(server.headers_seen) + json.dumps(server.paths_seen)
        assert all(value in sent for value in PLANTED.values())
        gate = CliRunner().invoke(
            cli,
            ["gate", "reports/latest", "--baseline", "reports/latest/results.json", "--junit", "reports/junit.xml",
             "--markdown", "reports/gate.md"],
            catch_exceptions=False,
        )  # fmt: skip
        assert gate.exit_code == 0, gate.output
        report = CliRunner().invoke(cli, ["report", "reports/latest"], catch_exceptions=False)
    written = {path: path.read_text(encoding="utf-8", errors="replace") for path in root.rglob("*") if path.is_file()}
    assert any(p.name == "report.html" for p in written) and any(
        p.suffix == ".yaml" and "cassettes" in p.parts for p in written
    )
    leaks = [
        (str(path), name)
        for path, text in written.items()
        for name, value in PLANTED.items()
        if value in text and path.name != "evalkit.toml"
    ]
    terminal = result.output + gate.output + report.output
    leaks += [("terminal", name) for name, value in PLANTED.items() if value in terminal]
    assert leaks == []
    # and the echoed 401 still says what went wrong, with the key replaced
    job = jobs_of(root)["case-1"]
    assert job["failures"][0][0] == "http_error" and "Incorrect API key provided" in job["failures"][0][1]
    assert "REDACTED" in job["failures"][0][1]
    scan = CliRunner().invoke(cli, ["scan", "cassettes", "reports"], catch_exceptions=False)
    assert scan.exit_code == 0, scan.output


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_run_killed_with_sigkill_resumes_without_losing_or_repeating_a_job(tmp_path: Path, serve_faults: Any) -> None:
    prompts = [f"City{n}" for n in range(24)]
    with serve_faults({}, delay=0.15) as (base_url, server):
        # No retries and a long timeout: on a loaded machine a retry would add requests this test counts.
        root = write_project(tmp_path, base_url, prompts, max_retries=0, timeout=60.0)
        command = [
            sys.executable,
            "-m",
            "evalkit.cli",
            "run",
            "cases/",
            "--no-progress",
            "--record-mode",
            "once",
            "--run-id",
            "killed",
        ]
        process = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        journal = root / "reports" / "killed" / "jobs.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not journal.is_file() or journal.read_text().count("\n") < 8):
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        finished_before = journal.read_text().count("\n")
        assert 8 <= finished_before < len(prompts), "the run was not killed half-way"
        assert not (root / "reports" / "killed" / "results.json").exists()
        resumed = subprocess.run(
            [*command[:-2], "--resume", "killed"], cwd=root, capture_output=True, text=True, timeout=120, check=False
        )
        assert resumed.returncode == 0, resumed.stderr
    jobs = json.loads((root / "reports" / "killed" / "results.json").read_text())["jobs"]
    ids = [job["case_id"] for job in jobs]
    assert sorted(ids) == sorted(f"case-{n}" for n in range(len(prompts)))  # none lost, none twice
    assert ids == [f"case-{n}" for n in range(len(prompts))]  # in plan order
    assert all(job["status"] == "passed" for job in jobs)
    # every prompt reached the server at least once; the only repeats are jobs in flight at the kill
    assert all(server.seen[p] >= 1 for p in prompts)
    assert sum(server.seen.values()) - len(prompts) <= 2  # concurrency 2: at most 2 were in flight at the kill


def test_a_cassette_that_cannot_be_written_is_that_jobs_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve_faults: Any
) -> None:
    """Recording threads only send; the cassettes are saved by the thread that scores. A save that
    fails (here: a folder stands where the cassette file goes) is that job's internal_error, with the
    reason, and every other job is still saved and scored."""
    script = {city: [("ok",)] for city in ("Paris", "Rome", "Oslo", "Bern")}
    with serve_faults(script) as (base_url, _):
        root = write_project(tmp_path, base_url, list(script))
        blocked = root / "cassettes" / "fault" / "faults" / "case-1.yaml"
        blocked.mkdir(parents=True)  # os.replace cannot put a file where a folder is
        result = run(root, monkeypatch, "--record-mode", "once")
        assert result.exit_code == 1
        jobs = jobs_of(root)
        assert {case: job["status"] for case, job in jobs.items()} == {
            "case-0": "passed",
            "case-1": "error",
            "case-2": "passed",
            "case-3": "passed",
        }
        kind, why = jobs["case-1"]["failures"][0]
        assert kind == "internal_error" and "IsADirectoryError" in why
        saved = sorted(p.name for p in blocked.parent.glob("*.yaml") if p.is_file())
        assert saved == ["case-0.yaml", "case-2.yaml", "case-3.yaml"]
        assert not list(blocked.parent.glob(".*.tmp"))  # no temporary file left behind


def test_replies_received_before_a_run_stops_are_still_saved(tmp_path: Path, serve_faults: Any) -> None:
    """Recording threads send while this thread saves and scores. A run stopped early (Ctrl-C, or a
    caller that stops reading) still saves every reply already received: a resumed run replays them
    instead of paying for them again. Here the caller reads one result and stops."""
    from evalkit.cases import load_all
    from evalkit.config import load_config
    from evalkit.recording import NetworkTransports
    from evalkit.redaction import Redactor
    from evalkit.runner import _run_all, plan_run
    from evalkit.scorers import resolve_scorers

    cities = ["Paris", "Rome", "Oslo", "Bern", "Lima", "Kyiv"]
    with serve_faults({city: [("ok",)] for city in cities}, delay=0.2) as (base_url, server):
        root = write_project(tmp_path, base_url, cities, max_retries=0)
        config = load_config(start=root)
        config = config.with_options(record_mode="all", concurrency=3)
        jobs = plan_run(config, load_all([root / "cases"])).jobs
        network = NetworkTransports()
        results = _run_all(jobs, config, resolve_scorers(None), Redactor(), network)
        first = next(results)
        assert first.status == "passed"
        results.close()  # the caller stops: the other sent jobs are not finished (scored) here
        network.close()
        saved = sorted(p.stem for p in (root / "cassettes" / "fault" / "faults").glob("*.yaml"))
        answered = sum(server.seen.values())
        assert 1 < answered < len(cities) + 1  # a window of jobs was in flight, not the whole plan
        assert len(saved) == answered  # every reply received was saved, the finished one and the rest
