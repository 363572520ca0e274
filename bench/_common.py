"""Shared helpers for the benchmarks in bench/: interleaved timing, machine description, and
rewriting one script's section of bench/results.md. Not part of evalkit, not run by the tests."""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results.md"
PACKAGES = (
    "evalkit",
    "openai",
    "httpx2",
    "httpcore2",
    "vcrpy",
    "PyYAML",
    "pydantic",
    "pydantic_core",
    "jsonschema",
    "orjson",
    "click",
    "rich",
)

HEADER = """# evalkit benchmark results

Written by the scripts in `bench/` (see `bench/README.md`); each script rewrites only its own
section. The machine was shared with other work while these ran, so compare the **ratios** (the
variants were interleaved in each repeat) rather than absolute times across sections or runs.
"""


# --- timing ----------------------------------------------------------------------------------------


def interleaved(
    variants: Mapping[str, Callable[[], object]], repeats: int, *, label: str = ""
) -> dict[str, list[float]]:
    """Run each variant once per repeat, in an order rotated every repeat (so no variant always
    follows the same neighbour or always runs first); return the wall times in seconds."""
    names = list(variants)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            gc.collect()
            started = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - started)
        if label:
            shown = ", ".join(f"{n} {times[n][-1]:.3f}s" for n in names)
            print(f"[{label}] repeat {r + 1}/{repeats}: {shown}", file=sys.stderr, flush=True)
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def paired_ratios(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    """Per-repeat ratios: both variants ran in the same repeat, so they saw similar machine load."""
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e9:.0f} ns"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    """A GitHub markdown table; ``align`` is one letter per column (l or r)."""
    align = align or "l" + "r" * (len(headers) - 1)
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if a == "r" else ":---" for a in align) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


# --- the machine -----------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def source_fingerprint() -> str:
    """A short hash of every file under src/, to tie numbers to the exact code (and to notice
    when the code changed while a benchmark ran)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def machine(load_at_start: str, source_at_start: str) -> str:
    """A markdown description of where and on what the numbers were taken."""
    versions = []
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = [
        line[3:].removeprefix("src/")
        for line in _git("status", "--porcelain", "--", "src").splitlines()
        if line.strip()
    ]
    source_now = source_fingerprint()
    changed = (
        ""
        if source_now == source_at_start
        else f" — **WARNING: src/ changed while this ran (at start {source_at_start}); rerun**"
    )
    return "\n".join(
        [
            f"- date: {_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
            f"- machine: nproc {affinity} (cpu_count {os.cpu_count()}), {_cpu_model()}, {platform.system()} {platform.release()}",
            f"- python: {platform.python_implementation()} {platform.python_version()} ({sys.executable})",
            f"- packages: {', '.join(versions)}",
            (
                f"- evalkit source: commit {commit}{' + uncommitted changes in src/ (' + ', '.join(dirty) + ')' if dirty else ''}; "
                f"src/ fingerprint {source_now}{changed}"
            ),
            f"- load average (1/5/15 min) at start: {load_at_start}; at end: {load_average()}",
        ]
    )


# --- results.md ----------------------------------------------------------------------------------


def write_section(name: str, body: str) -> Path:
    """Replace (or append) the section of bench/results.md owned by script ``name``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return RESULTS


# --- bench/results/*.json ---------------------------------------------------------------------------


def write_json(name: str, data: Mapping[str, object]) -> Path:
    """Write ``bench/results/<name>.json`` (the machine-readable record of one benchmark run)."""
    folder = BENCH / "results"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    return path
