"""`evalkit run --workers N` against one process, at 1k and 10k jobs (issue 14, part 2: goal ≥ 1.7×
with 2 workers on a 2-core machine).

The synthetic project is bench_memory's (1,000 cases in one suite, trials for more jobs, one cassette
per job). Each variant is the whole `evalkit run cases/` in a fresh process (results.json, summary.md,
report.html), as a user runs it. Reported per variant:

- **wall**: the whole command; **jobs phase**: the `seconds` results.json records (replaying and scoring
  every job and journaling it: the part `--workers` spreads over processes); the rest is start-up,
  loading, compaction and reports, in the main process alone;
- **CPU**: user + system seconds of the main process and of the workers (from /proc, sampled);
- **peak memory** of the whole process tree: the largest sum of RSS over the tree at one sample (pages
  shared after fork count once per process, so this overstates), the largest sum of PSS (shared pages
  split between the processes that share them: the honest total), and `ru_maxrss`, the largest single
  process.

The machine may be shared (a local llama-server may be busy), so each repeat also times a **control**: a
pure-Python loop run twice in one process, then once in each of 2 processes. Its ratio is what 2
processes can get on this machine at that moment; evalkit's ratio is read against it. The variants are
interleaved and ratios taken per repeat (see bench/README.md).

    python bench/bench_workers.py                       # writes bench/results/workers.json
    python bench/bench_workers.py --jobs 1000 --repeats 2 --no-write
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average, machine, median, paired_ratios, source_fingerprint, table, write_json
from bench_memory import CASES, make_project

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class TreeSampler(threading.Thread):
    """Samples a process and its descendants every ``every`` seconds: the peak sums of RSS and PSS,
    and the last CPU seconds seen per process."""

    def __init__(self, root: int, every: float = 0.1):
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.stop = threading.Event()
        self.peak_rss = self.peak_pss = 0
        self.cpu: dict[int, float] = {}
        self.processes = 0

    def run(self) -> None:
        while not self.stop.is_set():
            pids = self._tree()
            self.processes = max(self.processes, len(pids))
            rss = pss = 0
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    self.cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK
                    rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
                    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                        if line.startswith("Pss:"):
                            pss += int(line.split()[1]) * 1024
                except (OSError, IndexError, ValueError):
                    continue  # it exited between the listing and the read
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.stop.wait(self.every)

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(parent, []).append(int(entry.name))
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children.get(pid, [])
        return tree


def run_evalkit(folder: Path, workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "evalkit.cli", "run", "cases/", "--no-progress", "--failures", "5", "--workers", str(workers)],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    sampler = TreeSampler(process.pid)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    error = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"evalkit run failed: {error[-2000:]}")
    results = folder / "reports" / "latest" / "results.json"
    header = json.loads(results.open(encoding="utf-8").readline().rstrip() + "]}")
    main_cpu = sampler.cpu.get(process.pid, 0.0)
    return {
        "wall": wall,
        "jobs_phase": header["seconds"],
        "cpu_total": usage.ru_utime + usage.ru_stime,  # the tree: wait4 adds the children it reaped
        "cpu_main": main_cpu,
        "cpu_workers": sum(cpu for pid, cpu in sampler.cpu.items() if pid != process.pid),
        "processes": sampler.processes,
        "peak_rss_sum_mb": sampler.peak_rss / 2**20,
        "peak_pss_sum_mb": sampler.peak_pss / 2**20,
        "maxrss_one_mb": usage.ru_maxrss / 1024,
    }


def burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def control(work: int) -> dict[str, float]:
    """The same pure-Python work twice: in one process, then split over 2 (forked) processes."""
    started = time.perf_counter()
    burn(work), burn(work)
    serial = time.perf_counter() - started
    started = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(burn, [work, work]))
    return {"serial": serial, "parallel": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="*", default=[1_000, 10_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load_at_start, source_at_start = load_average(), source_fingerprint()
    rows = []
    for jobs in args.jobs:
        trials = max(1, jobs // CASES)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            make_project(folder, models=1, trials=trials)
            run_evalkit(folder, 1)  # warm the file cache: every variant then reads cassettes from memory
            repeats: list[dict[str, Any]] = []
            for r in range(args.repeats):
                order = [1, args.workers] if r % 2 == 0 else [args.workers, 1]
                measured = {w: run_evalkit(folder, w) for w in order}
                measured["control"] = control(3_000_000)  # type: ignore[assignment]
                repeats.append(measured)
                shown = ", ".join(f"{w} worker(s) {measured[w]['wall']:.1f} s" for w in (1, args.workers))
                print(f"[{jobs} jobs] repeat {r + 1}/{args.repeats}: {shown}", file=sys.stderr, flush=True)
        one, many = [rep[1] for rep in repeats], [rep[args.workers] for rep in repeats]
        controls = [rep["control"] for rep in repeats]
        row = {
            "jobs": trials * CASES,
            "workers": args.workers,
            "repeats": repeats,
            "wall_ratio": median(paired_ratios([m["wall"] for m in one], [m["wall"] for m in many])),
            "jobs_phase_ratio": median(paired_ratios([m["jobs_phase"] for m in one], [m["jobs_phase"] for m in many])),
            "control_ratio": median([c["serial"] / c["parallel"] for c in controls]),
            "one": {k: median([m[k] for m in one]) for k in one[0]},
            "many": {k: median([m[k] for m in many]) for k in many[0]},
        }
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "repeats"}), file=sys.stderr)
    shown = []
    for r in rows:
        for label, m in (("1", r["one"]), (str(r["workers"]), r["many"])):
            shown.append([
                f"{r['jobs']:,}", label, f"{m['wall']:.1f} s", f"{m['jobs_phase']:.1f} s",
                f"{m['jobs_phase'] / r['jobs'] * 1e3:.2f} ms", f"{m['cpu_main']:.1f} / {m['cpu_workers']:.1f} s",
                f"{m['peak_pss_sum_mb']:.0f} MB", f"{m['peak_rss_sum_mb']:.0f} MB", f"{m['maxrss_one_mb']:.0f} MB",
            ])  # fmt: skip
    text = table(
        ["jobs", "workers", "wall", "jobs phase", "per job", "CPU main / workers", "peak PSS (tree)",
         "peak RSS (tree)", "largest process"],
        shown,
    )  # fmt: skip
    text += "\n\n" + table(
        ["jobs", "wall ratio", "jobs-phase ratio", "control ratio (what 2 processes got)"],
        [[f"{r['jobs']:,}", f"{r['wall_ratio']:.2f}×", f"{r['jobs_phase_ratio']:.2f}×", f"{r['control_ratio']:.2f}×"]
         for r in rows],
    )  # fmt: skip
    print(text)
    if not args.no_write:
        data = {"machine": machine(load_at_start, source_at_start), "rows": rows, "table": text}
        print(f"wrote {write_json('workers', data)}", file=sys.stderr)


if __name__ == "__main__":
    main()
