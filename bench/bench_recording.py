"""Recording cost: evalkit recording N jobs vs a plain openai SDK loop sending the same N requests to
the same local server, at equal concurrency (issue 9, part 5).

The server is a separate process on 127.0.0.1 that answers every request with a canned Chat
Completions reply (plain or streamed) after an optional delay, so the client side is what is
measured. Variants are interleaved in each repeat and ratios taken within a repeat.

    python bench/bench_recording.py                 # ~3 min; writes bench/results/recording.json
    python bench/bench_recording.py --jobs 100 --repeats 3 --no-write

Rows:
- ``instant``: a server that answers at once (the floor: what evalkit adds per job is all there is);
- ``200 ms``: a server that takes 200 ms a reply, at concurrency 16 (jobs/s of both).

The peer, on the one-thread rows: the same SDK loop with each request recorded by vcrpy used as its
documentation shows (``use_cassette`` per cassette): what recording with vcrpy costs before anything
evalkit does (scoring, the journal, redaction).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import interleaved, load_average, machine, median, paired_ratios, source_fingerprint, table, write_json

SERVER = r"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
delay = float(sys.argv[1])
REPLY = json.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0,
  "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1",
  "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}}],
  "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}}).encode()
piece = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [piece]}, "finish_reason": None}]}]
chunks += [{"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": a}}]}, "finish_reason": None}]}
           for a in ['{"city"', ': "Par', 'is"}']]
chunks += [{"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}]
STREAM = ("".join(f"data: {json.dumps(dict(c, id='c', object='chat.completion.chunk', created=1, model='m'))}\n\n" for c in chunks) + "data: [DONE]\n\n").encode()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per reply: unbuffered header lines meet Nagle + delayed ACK (40 ms)
    def log_message(self, *a): pass
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if delay: time.sleep(delay)
        data, kind = (STREAM, "text/event-stream") if body.get("stream") else (REPLY, "application/json")
        self.send_response(200); self.send_header("content-type", kind); self.send_header("content-length", str(len(data)))
        self.end_headers(); self.wfile.write(data)
s = ThreadingHTTPServer(("127.0.0.1", 0), H); s.daemon_threads = True
print(s.server_address[1], flush=True); s.serve_forever()
"""


def start_server(delay: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(delay)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    return process, f"http://127.0.0.1:{port}/v1"


def make_project(folder: Path, jobs: int) -> Path:
    import yaml

    cases = [
        {"id": f"c{n}", "prompt": f"Weather in city {n}?", "expect": {"calls": [{"name": "get_weather"}]}}
        for n in range(jobs)
    ]
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    (folder / "cases").mkdir(parents=True)
    (folder / "cases" / "bench.yaml").write_text(
        yaml.safe_dump({"version": 1, "suite": "bench", "tools": [tool], "cases": cases})
    )
    return folder


def variants(base_url: str, folder: Path, *, stream: bool, concurrency: int) -> dict[str, Any]:
    import openai

    from evalkit.cases import load_cases
    from evalkit.config import ModelConfig, RunConfig
    from evalkit.jobs import expand
    from evalkit.providers.chat import build_request
    from evalkit.runner import run_suites

    model = ModelConfig(name="bench", model="m", base_url=base_url, stream=stream, params={"temperature": 0})
    suites = load_cases(folder / "cases")
    requests = [build_request(job) for job in expand(suites, [model]).jobs]

    def client() -> openai.OpenAI:
        # A client per timed run, as evalkit makes its transport per run: all pay for one SSL context
        # (~25 ms, even for http://) and open their connections afresh.
        return openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)

    def one(sdk: openai.OpenAI, request: dict[str, Any]) -> Any:
        reply = sdk.chat.completions.create(**request)
        if stream:  # read the stream to its end, as a caller would
            return list(reply)
        return reply.choices[0].message.tool_calls

    def raw() -> None:
        with client() as sdk, ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda request: one(sdk, request), requests))

    counter = iter(range(10**9))

    def vcrpy_alone() -> None:
        """The same loop, each request recorded by vcrpy as its README shows (one cassette a request,
        its YAML serializer, record_mode "all"): the least a recorder built on vcrpy costs. One
        thread only: vcrpy patches the HTTP client globally per cassette, so contexts on several
        threads would record into each other's cassettes."""
        import vcr

        recorder = vcr.VCR(record_mode="all")
        work = folder / f"vcrpy{next(counter)}"
        with client() as sdk:
            for number, request in enumerate(requests):
                with recorder.use_cassette(str(work / f"{number}.yaml")):
                    one(sdk, request)

    def evalkit() -> None:
        work = folder / f"run{next(counter)}"
        config = RunConfig(
            root=folder, cases=folder / "cases", cassettes=work / "cassettes", reports=work / "reports",
            models=(model,), record_mode="all", concurrency=concurrency,
        )  # fmt: skip
        run = run_suites(config, suites, progress=False, reports=config.reports)
        assert all(job.status == "passed" for job in run.jobs), [
            job.failures for job in run.jobs if job.status != "passed"
        ][:1]

    out = {"raw openai SDK": raw, "evalkit record": evalkit}
    if concurrency == 1:
        out["vcrpy alone"] = vcrpy_alone
    return out


def measure(jobs: int, repeats: int, *, delay: float, stream: bool, concurrency: int) -> dict[str, Any]:
    server, base_url = start_server(delay)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = make_project(Path(tmp), jobs)
            runs = variants(base_url, folder, stream=stream, concurrency=concurrency)
            for run in runs.values():  # warm-up: imports, connection pools
                run()
            label = f"{'stream' if stream else 'plain'} delay={delay}s c={concurrency}"
            times = interleaved(runs, repeats, label=label)
    finally:
        server.terminate()
        server.wait()
    ratios = paired_ratios(times["evalkit record"], times["raw openai SDK"])
    vcrpy = paired_ratios(times["vcrpy alone"], times["raw openai SDK"]) if "vcrpy alone" in times else None
    return {
        "jobs": jobs,
        "server_delay_s": delay,
        "stream": stream,
        "concurrency": concurrency,
        "seconds": times,
        "jobs_per_s": {name: jobs / median(values) for name, values in times.items()},
        "ratio_median": median(ratios),
        "ratio_min": min(ratios),
        "vcrpy_alone_ratio_median": median(vcrpy) if vcrpy else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load_at_start, source_at_start = load_average(), source_fingerprint()
    rows = [
        measure(args.jobs, args.repeats, delay=0.0, stream=False, concurrency=1),
        measure(args.jobs, args.repeats, delay=0.0, stream=True, concurrency=1),
        measure(args.jobs, args.repeats, delay=0.0, stream=False, concurrency=4),
        measure(min(args.jobs, 160), max(2, args.repeats // 2), delay=0.2, stream=False, concurrency=16),
        measure(min(args.jobs, 160), max(2, args.repeats // 2), delay=0.2, stream=True, concurrency=16),
    ]
    shown = [
        [
            "instant" if r["server_delay_s"] == 0 else f"{r['server_delay_s'] * 1000:.0f} ms",
            "streamed" if r["stream"] else "plain",
            r["concurrency"],
            r["jobs"],
            f"{r['jobs_per_s']['raw openai SDK']:.0f}",
            f"{r['jobs_per_s']['evalkit record']:.0f}",
            f"{r['ratio_median']:.2f}× (min {r['ratio_min']:.2f}×)",
            "–" if r["vcrpy_alone_ratio_median"] is None else f"{r['vcrpy_alone_ratio_median']:.2f}×",
        ]
        for r in rows
    ]
    text = table(
        ["server", "reply", "concurrency", "jobs", "raw SDK jobs/s", "evalkit jobs/s", "evalkit time / SDK time",
         "vcrpy alone / SDK time"],
        shown,
    )  # fmt: skip
    print(text)
    if not args.no_write:
        path = write_json(
            "recording", {"machine": machine(load_at_start, source_at_start), "rows": rows, "table": text}
        )
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
