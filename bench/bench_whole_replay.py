"""Whole-process replay against its floor (issue 12, part 11), and `evalkit --help` against `python -c pass`.

The floor is the least any replay of these cassettes must do, in a fresh process: load each
cassette with PyYAML's C loader and send its recorded request through the openai SDK over an
in-memory transport that answers with the recorded response (the SDK parses it). evalkit does the
same work plus matching, scoring, results.json, summary.md and report.html, in a fresh process too
(`evalkit run`, by default in one worker process per CPU, and with `--workers 1`). All run on the
same synthetic project of N jobs (bench_memory's generator), interleaved; the ratio is taken per
repeat. `evalkit --help` is set against `python -c pass` and, as a peer, a bare click group of nine
empty commands: the least any click command line costs.

    python bench/bench_whole_replay.py                  # writes bench/results/whole_replay.json
    python bench/bench_whole_replay.py --jobs 1000 --repeats 3 --no-write
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import interleaved, load_average, machine, median, paired_ratios, source_fingerprint, table, write_json
from bench_memory import make_project

FLOOR = r"""
import sys, json, yaml, httpx2, openai
from pathlib import Path
Loader = yaml.CSafeLoader
paths = sorted(Path(sys.argv[1]).rglob("*.yaml"))
for path in paths:
    data = yaml.load(path.read_text(), Loader=Loader)
    exchange = data["interactions"][0]
    body = exchange["response"]["body"]["string"]
    reply = httpx2.MockTransport(lambda request, body=body: httpx2.Response(200, content=body.encode(), headers={"content-type": "application/json"}))
    client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="x", max_retries=0, http_client=httpx2.Client(transport=reply))
    completion = client.chat.completions.create(**json.loads(exchange["request"]["body"]))
    assert completion.choices[0].message.tool_calls
print(len(paths))
"""

# The least a click command line costs: a group of nine empty commands (evalkit's nine), no other import.
MINIMAL_CLICK = r"""
import click
group = click.Group("evalkit", help="Measure how accurately LLMs call tools.")
for name in ("baseline", "extract", "gate", "import", "merge", "report", "run", "scan", "validate"):
    group.add_command(click.Command(name, callback=lambda: None, help=f"The {name} command."))
group(prog_name="evalkit")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load_at_start, source_at_start = load_average(), source_fingerprint()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        trials = max(1, args.jobs // 1000)
        make_project(folder, models=1, trials=trials)
        run = [sys.executable, "-m", "evalkit.cli", "run", "cases/", "--no-progress", "--failures", "5"]

        def evalkit() -> None:  # the default: one worker process per CPU (up to 4) for 200+ jobs
            subprocess.run(run, cwd=folder, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def evalkit_one() -> None:  # everything in one process, as the floor is
            subprocess.run(
                [*run, "--workers", "1"], cwd=folder, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

        def floor() -> None:
            subprocess.run(
                [sys.executable, "-c", FLOOR, str(folder / "cassettes")], check=True, stdout=subprocess.DEVNULL
            )

        def help_() -> None:
            subprocess.run([sys.executable, "-m", "evalkit.cli", "--help"], check=True, stdout=subprocess.DEVNULL)

        def bare() -> None:
            subprocess.run([sys.executable, "-c", "pass"], check=True)

        def click_only() -> None:  # a peer: the least any click command line costs
            subprocess.run([sys.executable, "-c", MINIMAL_CLICK, "--help"], check=True, stdout=subprocess.DEVNULL)

        variants = {"evalkit run": evalkit, "evalkit run --workers 1": evalkit_one, "floor": floor}
        times = interleaved(variants, args.repeats, label="replay")
        startup = interleaved(
            {"evalkit --help": help_, "python -c pass": bare, "click group --help": click_only},
            args.repeats * 4,
            label="help",
        )
    replay_ratio = paired_ratios(times["evalkit run"], times["floor"])
    one_ratio = paired_ratios(times["evalkit run --workers 1"], times["floor"])
    help_ratio = paired_ratios(startup["evalkit --help"], startup["python -c pass"])
    click_ratio = paired_ratios(startup["click group --help"], startup["python -c pass"])
    rows = [
        ["replay, whole process", f"{1000 * trials:,} jobs", f"{median(times['evalkit run']):.2f} s", f"{median(times['floor']):.2f} s",
         f"{median(replay_ratio):.2f}× (min {min(replay_ratio):.2f}×)", "≤ 1.5×"],
        ["replay, --workers 1", f"{1000 * trials:,} jobs", f"{median(times['evalkit run --workers 1']):.2f} s", f"{median(times['floor']):.2f} s",
         f"{median(one_ratio):.2f}× (min {min(one_ratio):.2f}×)", ""],
        ["evalkit --help", "", f"{median(startup['evalkit --help']) * 1000:.0f} ms", f"{median(startup['python -c pass']) * 1000:.0f} ms",
         f"{median(help_ratio):.2f}× (min {min(help_ratio):.2f}×)", "≤ 4×"],
        ["click group --help (peer)", "", f"{median(startup['click group --help']) * 1000:.0f} ms", f"{median(startup['python -c pass']) * 1000:.0f} ms",
         f"{median(click_ratio):.2f}× (min {min(click_ratio):.2f}×)", ""],
    ]  # fmt: skip
    text = table(["what", "size", "evalkit", "floor", "ratio", "goal"], rows)
    print(text)
    if not args.no_write:
        record = {"machine": machine(load_at_start, source_at_start), "jobs": 1000 * trials, "replay_seconds": times,
                  "startup_seconds": startup, "table": text}  # fmt: skip
        print(f"wrote {write_json('whole_replay', record)}", file=sys.stderr)


if __name__ == "__main__":
    main()
