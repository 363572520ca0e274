"""Peak memory of a whole `evalkit run` replay at 10k and 100k jobs (issue 9, part 5: < 500 MB and
flat from 10k to 100k).

A synthetic project is generated in a temporary folder: 1,000 cases (one suite), M models and T
trials, and one cassette per job holding the request evalkit sends (built with evalkit's own
request builder) and a canned reply (every tenth case replies with a wrong argument, so failures
are listed too). Then `evalkit run` replays it in a child process, writing results.json,
summary.md and report.html as a user's run does, and the child's peak RSS is read from the kernel
(``wait4``). Generating 100k cassettes takes a minute; the replay a few minutes.

    python bench/bench_memory.py                    # writes bench/results/memory.json
    python bench/bench_memory.py --jobs 2000 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average, machine, source_fingerprint, table, write_json

CASES = 1000
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def reply(city: str) -> str:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
    }
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return json.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
                       "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                       "usage": {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}})  # fmt: skip


def cassette(uri: str, request: str, response: str) -> str:
    """A standard vcrpy cassette (JSON-quoted strings are valid YAML)."""
    return (
        "interactions:\n- request:\n"
        f"    body: {json.dumps(request)}\n    headers:\n      content-type:\n      - application/json\n"
        f"    method: POST\n    uri: {uri}\n"
        "  response:\n    body:\n"
        f"      string: {json.dumps(response)}\n    headers:\n      content-type:\n      - application/json\n"
        "    status:\n      code: 200\n      message: OK\nversion: 1\n"
    )


def make_project(folder: Path, *, models: int, trials: int) -> int:
    import yaml

    from evalkit.cases import load_cases
    from evalkit.config import ModelConfig
    from evalkit.jobs import expand
    from evalkit.providers.chat import build_request

    cases = [
        {"id": f"c{n}", "prompt": f"Weather in city {n}?", "expect": {"calls": [{"name": "get_weather", "arguments": {"city": f"city {n}"}}]}}
        for n in range(CASES)
    ]  # fmt: skip
    (folder / "cases").mkdir(parents=True)
    (folder / "cases" / "bench.yaml").write_text(
        yaml.safe_dump({"version": 1, "suite": "bench", "tools": [TOOL], "cases": cases})
    )
    names = [f"m{n}" for n in range(models)]
    config = [f"models = {json.dumps(names)}", f"trials = {trials}", "concurrency = 4"]
    config += [f'[model.{name}]\nmodel = "m"\nbase_url = "http://127.0.0.1:9/v1"' for name in names]
    (folder / "evalkit.toml").write_text("\n".join(config) + "\n")
    suites = load_cases(folder / "cases")
    written = 0
    for name in names:
        model = ModelConfig(name=name, model="m", base_url="http://127.0.0.1:9/v1")
        for job in expand(suites, [model]).jobs:  # one trial: the same cassette serves every trial
            number = int(job.case.id[1:])
            city = f"city {number}" if number % 10 else "somewhere else"
            text = cassette("http://127.0.0.1:9/v1/chat/completions", json.dumps(build_request(job)), reply(city))
            for trial in range(1, trials + 1):
                path = job.cassette_path(folder / "cassettes")
                if trial > 1:
                    path = path.with_name(f"{job.case.id}--trial-{trial}.yaml")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                written += 1
    return written


def replay(folder: Path) -> dict[str, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "evalkit.cli", "run", "cases/", "--no-progress", "--failures", "5"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    error = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"evalkit run failed: {error[-2000:]}")
    results = folder / "reports" / "latest" / "results.json"
    jobs = sum(1 for line in results.open() if line.startswith('{"model"'))
    return {
        "jobs": jobs,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "seconds": seconds,
        "results_mb": results.stat().st_size / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load_at_start, source_at_start = load_average(), source_fingerprint()
    rows = []
    for jobs in args.jobs:
        models = max(1, jobs // (CASES * 10))
        trials = max(1, jobs // (CASES * models))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            started = time.perf_counter()
            made = make_project(folder, models=models, trials=trials)
            print(f"{made} cassettes in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            row = {"models": models, "trials": trials, **replay(folder)}
        print(row, file=sys.stderr)
        rows.append(row)
    shown = [[f"{r['jobs']:,}", r["models"], r["trials"], f"{r['peak_rss_mb']:.0f} MB", f"{r['seconds']:.0f} s",
              f"{r['results_mb']:.0f} MB"] for r in rows]  # fmt: skip
    text = table(["jobs", "models", "trials", "peak RSS", "wall time", "results.json"], shown)
    print(text)
    if not args.no_write:
        print(
            f"wrote {write_json('memory', {'machine': machine(load_at_start, source_at_start), 'rows': rows, 'table': text})}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
