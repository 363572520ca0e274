"""Replay benchmark: evalkit's full offline replay of the shipped plain cassettes against the floor
of just parsing the same files, where the time goes, peak memory, and start-up time.

    python bench/bench_replay.py                 # about 2-3 minutes; rewrites its section of bench/results.md
    python bench/bench_replay.py --repeats 3 --startup-repeats 5 --memory-repeats 1   # quicker

Read-only: replays with record mode ``none`` (nothing is written to cassettes/), starts no model
server and opens no socket. Cassettes whose name contains ``--tools-`` are left out (tool-count
sweeps, possibly being recorded while this runs). Run by hand; never part of the test suite.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gzip
import json
import pstats
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    ROOT,
    fmt_seconds,
    interleaved,
    load_average,
    machine,
    median,
    paired_ratios,
    source_fingerprint,
    table,
    write_section,
)

SECTION = "bench_replay"
YAML_LOADER = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
SSE_DATA = re.compile(r"^data:", re.MULTILINE)


# --- inputs --------------------------------------------------------------------------------------


def plain_cassettes() -> list[Path]:
    """The shipped one-per-job cassettes, without tool-count sweeps (``--tools-N``)."""
    return sorted(p for p in (ROOT / "cassettes").glob("*/*/*.yaml") if "--tools-" not in p.name)


def replay_setup() -> tuple[Any, list[Any], list[Any], tuple[str, ...]]:
    """The shipped configuration, replay only, no tool-count sweep, one trial: exactly the jobs
    whose cassettes are the plain files."""
    from evalkit import load_cases, load_config
    from evalkit.jobs import expand
    from evalkit.scorers import resolve_scorers

    config = load_config(ROOT / "pyproject.toml")
    config = dataclasses.replace(config, record_mode="none", tool_counts=None, trials=1)
    suites = load_cases(config.cases)
    jobs = list(expand(suites, config.models).jobs)
    return config, suites, jobs, resolve_scorers(config.scorers)


# --- the variants --------------------------------------------------------------------------------


def raw_parse(paths: list[Path]) -> int:
    """The floor: YAML-load each cassette, json.loads each response body (each SSE data line)."""
    documents = 0
    for path in paths:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        for interaction in data["interactions"]:
            body = interaction["response"]["body"]["string"]
            if isinstance(body, bytes):
                body = (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body).decode("utf-8")
            if SSE_DATA.search(body):
                for line in body.splitlines():
                    if line.startswith("data:") and (data_line := line[5:].strip()) != "[DONE]":
                        json.loads(data_line)
                        documents += 1
            else:
                json.loads(body)
                documents += 1
    return documents


def vcr_load(paths: list[Path]) -> None:
    """What evalkit does first per job: vcrpy's Cassette.load (YAML + evalkit's response filter)."""
    from evalkit.recording import open_cassette

    for path in paths:
        open_cassette(path, record_mode="none")


def http_transports(n: int) -> None:
    """What CassetteTransport does per job even in replay: build (and close) an httpx2.HTTPTransport."""
    import httpx2

    for _ in range(n):
        httpx2.HTTPTransport().close()


def client_setup(jobs: list[Any]) -> None:
    """httpx2.Client + openai.OpenAI construction per job, over a transport that is never called."""
    import httpx2

    from evalkit.providers import make_client

    class Unused(httpx2.BaseTransport):
        def handle_request(self, request: Any) -> Any:
            raise AssertionError("not called")

    for job in jobs:
        with httpx2.Client(transport=Unused(), timeout=600.0) as http_client:
            make_client(job.model, http_client, record_mode="none")


def evalkit_direct(jobs: list[Any], config: Any, scorers: tuple[str, ...]) -> list[str]:
    """evalkit without the SDK, vcrpy or httpx: read_interactions + turn_from_http + score_job."""
    from evalkit.importers.cassettes import read_interactions
    from evalkit.parsing import turn_from_http
    from evalkit.scorers import score_job

    statuses = []
    for job in jobs:
        it = read_interactions(job.cassette_path(config.cassettes))[0]
        turn = turn_from_http(it.method, it.uri, it.request_body, it.status, it.headers, it.body)
        status, _ = score_job(job.case, turn, job.offered_tools, scorers=scorers, bfcl=config.bfcl)
        statuses.append(status)
    return statuses


def replay(config: Any, suites: list[Any], concurrency: int) -> Any:
    from evalkit.runner import run_suites

    return run_suites(dataclasses.replace(config, concurrency=concurrency), suites, progress=False)


@contextmanager
def lazy_inner_transport() -> Iterator[None]:
    """WHAT-IF, not evalkit's code: CassetteTransport builds its inner httpx2.HTTPTransport only
    when a request really goes to the network (recording), not for every replayed job."""
    import httpx2

    from evalkit import recording

    class LazyInner(httpx2.BaseTransport):
        def __init__(self) -> None:
            self._real: Any = None

        def handle_request(self, request: Any) -> Any:
            if self._real is None:
                self._real = httpx2.HTTPTransport()
            return self._real.handle_request(request)

        def close(self) -> None:
            if self._real is not None:
                self._real.close()

    original = recording.CassetteTransport

    class LazyCassetteTransport(original):  # type: ignore[misc, valid-type]
        def __init__(self, cassette: Any, inner: Any = None):
            super().__init__(cassette, inner or LazyInner())

    recording.CassetteTransport = LazyCassetteTransport
    try:
        yield
    finally:
        recording.CassetteTransport = original


def replay_lazy(config: Any, suites: list[Any], concurrency: int) -> Any:
    with lazy_inner_transport():
        return replay(config, suites, concurrency)


def outcome(result: Any) -> list[tuple[Any, ...]]:
    """What must not change between variants: every job's status, scores, failures and calls."""
    return [
        (
            j.model,
            j.suite,
            j.case_id,
            j.status,
            tuple(sorted((k, v.value, v.passed) for k, v in j.scores.items())),
            j.failures,
            j.calls,
        )
        for j in result.jobs
    ]


# --- profile -------------------------------------------------------------------------------------


def _short(path: str) -> str:
    path = re.sub(r".*/site-packages/", "", path)
    path = path.replace(str(ROOT / "src") + "/", "")
    return re.sub(r".*/lib/python3\.\d+/", "", path)


def _key_of(function: Any) -> tuple[str, int, str]:
    code = getattr(function, "__wrapped__", function).__code__
    return code.co_filename, code.co_firstlineno, code.co_name


def profile_replay(jobs: list[Any], config: Any, scorers: tuple[str, ...], *, brief: bool = False) -> tuple[str, float]:
    """cProfile of evalkit.runner.run_job over every job, serially in this thread (a thread pool
    would hide the work from cProfile). One unprofiled pass first, so imports are not counted."""
    import httpx2
    import openai._utils._transform as sdk_transform
    import vcr.serializers.yamlserializer as vcr_yaml
    import vcr.stubs.httpx_stubs as vcr_httpx

    from evalkit import calls, providers, recording, runner, tools
    from evalkit.providers import chat
    from evalkit.scorers import score_job

    for job in jobs:
        runner.run_job(job, config, scorers)
    profiler = cProfile.Profile()
    profiler.enable()
    for job in jobs:
        runner.run_job(job, config, scorers)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, ncalls, tottime, cumtime, callers)
    total = sum(row[2] for row in stats.values())

    def cum(key: tuple[str, int, str]) -> tuple[int, float] | None:
        row = stats.get(key)
        return (row[1], row[3]) if row else None

    def builtin(name: str) -> tuple[str, int, str]:
        return next((k for k in stats if k[0] == "~" and name in k[2]), ("~", 0, name))

    lines = (
        []
        if brief
        else [
            (
                f"Serial `run_job` over the {len(jobs)} jobs under cProfile (after one warm-up pass): {total:.2f} s profiled, "
                f"{fmt_seconds(total / len(jobs))} per job (cProfile inflates pure-Python code more than C calls such as the "
                "SSL one, so read the shares as indicative; the unprofiled what-if above measures the SSL cost directly)."
            ),
            "",
        ]
    )
    run_job_total = (cum(_key_of(runner.run_job)) or (0, total))[1]
    categories = [
        ("`runner.run_job` (everything per job)", _key_of(runner.run_job), 0),
        ("vcrpy cassette load: `recording.open_cassette` → `Cassette.load`", _key_of(recording.open_cassette), 1),
        ("↳ YAML parse (`vcr yamlserializer.deserialize`, CSafeLoader)", _key_of(vcr_yaml.deserialize), 2),
        (
            "inner transport: `CassetteTransport.__init__` → `httpx2.HTTPTransport()`",
            _key_of(recording.CassetteTransport.__init__),
            1,
        ),
        ("↳ `ssl.SSLContext.load_verify_locations` (CA bundle)", builtin("load_verify_locations"), 2),
        ("SDK client: `providers.make_client` → `openai.OpenAI(...)`", _key_of(providers.make_client), 1),
        ("SDK call + reply parsing: `providers.run_job`", _key_of(providers.run_job), 1),
        ("↳ request building: `chat.build_request`", _key_of(chat.build_request), 2),
        ("↳ SDK request transform (`openai _transform.maybe_transform`)", _key_of(sdk_transform.maybe_transform), 2),
        (
            "↳ vcrpy playback (`httpx_stubs._vcr_handle_request`: match + build response)",
            _key_of(vcr_httpx._vcr_handle_request),
            2,
        ),
        (
            "↳↳ body matcher (`recording._body_matcher`: canonical JSON of both bodies)",
            _key_of(recording._body_matcher),
            3,
        ),
        (
            "↳ streamed replies: `providers.read_stream` (SDK SSE decode + models + model_dump + parse)",
            _key_of(providers.read_stream),
            2,
        ),
        ("↳ `providers.as_dict` (SDK `model_dump(mode='json')` per reply/chunk)", _key_of(providers.as_dict), 2),
        ("↳ evalkit parse: `calls.turn_from_chat_chunks`", _key_of(calls.turn_from_chat_chunks), 2),
        ("↳ evalkit parse: `calls.turn_from_chat_completion`", _key_of(calls.turn_from_chat_completion), 2),
        ("scoring: `scorers.score_job`", _key_of(score_job), 1),
        (
            "↳ `tools.arguments_validator` (cached per tool schema since commit 6a2bea4)",
            _key_of(tools.arguments_validator),
            2,
        ),
        ("`httpx2.Client.close` (via cassette_client exit)", _key_of(httpx2.Client.close), 1),
    ]
    rows = []
    for label, key, _depth in categories:
        found = cum(key)
        if found is None:
            rows.append((label, "–", "not called", "–", "–"))
            continue
        calls_n, seconds = found
        rows.append(
            (
                label,
                calls_n,
                f"{seconds:.3f} s",
                fmt_seconds(seconds / len(jobs)),
                f"{100 * seconds / run_job_total:.1f}%",
            )
        )
    lines.append(table(("where", "calls", "cumulative", "per job", "share of run_job"), rows))
    if brief:
        return "\n".join(lines), total
    lines += ["", "Top 15 by cumulative time:", "", "```"]
    lines.append(f"{'ncalls':>12} {'tottime':>8} {'cumtime':>8}  function")
    for key, row in sorted(stats.items(), key=lambda kv: kv[1][3], reverse=True)[:15]:
        ncalls = f"{row[1]}/{row[0]}" if row[0] != row[1] else str(row[1])
        where = key[2] if key[0] == "~" else f"{_short(key[0])}:{key[1]}({key[2]})"
        lines.append(f"{ncalls:>12} {row[2]:8.3f} {row[3]:8.3f}  {where}")
    lines += ["```", "", "Top 10 by own (self) time:", "", "```"]
    lines.append(f"{'ncalls':>12} {'tottime':>8} {'cumtime':>8}  function")
    for key, row in sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:10]:
        ncalls = f"{row[1]}/{row[0]}" if row[0] != row[1] else str(row[1])
        where = key[2] if key[0] == "~" else f"{_short(key[0])}:{key[1]}({key[2]})"
        lines.append(f"{ncalls:>12} {row[2]:8.3f} {row[3]:8.3f}  {where}")
    lines.append("```")
    return "\n".join(lines), total


# --- memory (each measurement in a fresh process) ---------------------------------------------


def child_memory(mode: str, concurrency: int) -> None:
    """Runs in a subprocess: one whole replay; prints JSON. ru_maxrss is the process's high-water
    mark (KiB on Linux); tracemalloc counts Python allocations made during run_suites only."""
    import tracemalloc

    import openai  # noqa: F401

    import evalkit.providers.chat
    import evalkit.recording
    import evalkit.runner  # noqa: F401

    config, suites, _jobs, _ = replay_setup()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if mode == "tracemalloc":
        tracemalloc.start()
    started = time.perf_counter()
    result = replay(config, suites, concurrency)
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {
        "jobs": len(result.jobs),
        "seconds": seconds,
        "rss_before_kib": rss_before,
        "rss_after_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if mode == "tracemalloc":
        current, peak = tracemalloc.get_traced_memory()
        out.update(traced_peak=peak, traced_retained=current)
        tracemalloc.stop()
    print(json.dumps(out))


def memory(repeats: int) -> list[dict[str, Any]]:
    runs = []
    for _ in range(repeats):
        for mode in ("rss", "tracemalloc"):
            for concurrency in (1, 4):
                done = subprocess.run(
                    [sys.executable, __file__, "--child-memory", mode, "--concurrency", str(concurrency)],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    check=True,
                )
                runs.append(
                    {"mode": mode, "concurrency": concurrency, **json.loads(done.stdout.strip().splitlines()[-1])}
                )
                print(f"[memory] {runs[-1]}", file=sys.stderr, flush=True)
    return runs


# --- start-up ------------------------------------------------------------------------------------


def startup(repeats: int) -> tuple[dict[str, list[float]], str]:
    executable = Path(sys.executable)
    evalkit_bin = shutil.which("evalkit", path=str(executable.parent)) or shutil.which("evalkit")
    commands = {
        "`python -c pass` (interpreter floor)": [sys.executable, "-c", "pass"],
        '`python -c "import click"` (floor for a click CLI)': [sys.executable, "-c", "import click"],
        '`python -c "import evalkit"`': [sys.executable, "-c", "import evalkit"],
        "`evalkit --help`": [evalkit_bin, "--help"] if evalkit_bin else [sys.executable, "-m", "evalkit.cli", "--help"],
    }

    def run(command: list[str]) -> Any:
        return lambda: subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT
        )

    times = interleaved({name: run(cmd) for name, cmd in commands.items()}, repeats, label="startup")
    heavy = (
        "openai",
        "pandas",
        "numpy",
        "matplotlib",
        "vcr",
        "httpx2",
        "httpcore2",
        "jsonschema",
        "pydantic",
        "rich",
        "yaml",
        "click",
        "tabulate",
    )
    probe = (
        "import sys, io, contextlib\n"
        "sys.argv = ['evalkit', '--help']\n"
        "from evalkit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))\n"
    )
    loaded_help = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    loaded_import = subprocess.run(
        [sys.executable, "-c", f"import sys, evalkit; print(','.join(m for m in {heavy!r} if m in sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    importtime = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe], capture_output=True, text=True, cwd=ROOT
    ).stderr
    cumulative: dict[str, int] = {}
    for line in importtime.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if m:
            cumulative.setdefault(m.group(3), int(m.group(2)))
    shown = [
        n
        for n in (
            "evalkit.cli",
            "evalkit",
            "click",
            "evalkit.gating.cli",
            "evalkit.errors",
            "evalkit.cases",
            "evalkit.tools",
            "jsonschema",
            "pydantic",
            "yaml",
            "evalkit.config",
            "evalkit.calls",
        )
        if n in cumulative
    ]
    names = list(commands)
    help_vs_click = paired_ratios(times[names[3]], times[names[1]])
    import_vs_pass = paired_ratios(times[names[2]], times[names[0]])
    notes = (
        f"- per-run ratios (median [min–max]): `evalkit --help` ÷ `import click` **{median(help_vs_click):.2f}×** "
        f"[{min(help_vs_click):.2f}–{max(help_vs_click):.2f}]; `import evalkit` ÷ `python -c pass` {median(import_vs_pass):.2f}× "
        f"[{min(import_vs_pass):.2f}–{max(import_vs_pass):.2f}]\n"
        f"- heavy packages in `sys.modules` after `evalkit --help`: {loaded_help or '(none)'}\n"
        f"- after `import evalkit`: {loaded_import or '(none)'}\n"
        "- `evalkit --help` under `-X importtime` (one run, cumulative, nested entries are included in their parents): "
        + ", ".join(f"{name} {cumulative[name] / 1000:.0f} ms" for name in shown)
    )
    return times, notes


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats of the replay variants (default 5)")
    parser.add_argument("--startup-repeats", type=int, default=10, help="runs of each start-up command (default 10)")
    parser.add_argument(
        "--memory-repeats", type=int, default=2, help="fresh processes per memory measurement (default 2)"
    )
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing bench/results.md")
    parser.add_argument("--child-memory", choices=("rss", "tracemalloc"), help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        child_memory(args.child_memory, args.concurrency)
        return

    load_at_start, source_at_start = load_average(), source_fingerprint()
    files = plain_cassettes()
    config, suites, jobs, scorers = replay_setup()
    job_paths = [j.cassette_path(config.cassettes) for j in jobs]
    unused = sorted(set(files) - set(job_paths))
    missing = sorted(set(job_paths) - set(files))
    if missing:
        sys.exit(
            f"bench_replay: {len(missing)} job(s) have no plain cassette, e.g. {missing[0]}; replay would be misses"
        )
    n = len(jobs)
    total_bytes = sum(p.stat().st_size for p in job_paths)
    sse = sum(1 for j in jobs if j.model.stream)

    # Sanity checks (unmeasured): the variants give the same results, and the replay is all hits.
    baseline = replay(config, suites, 1)
    status = Counter(j.status for j in baseline.jobs)
    errors = Counter(
        kind
        for j in baseline.jobs
        for kind, _ in j.failures
        if kind in ("cassette_miss", "internal_error", "config_error")
    )
    same_c4 = outcome(replay(config, suites, 4)) == outcome(baseline)
    same_lazy = outcome(replay_lazy(config, suites, 1)) == outcome(baseline)
    direct = evalkit_direct(jobs, config, scorers)
    agree_direct = sum(a == b.status for a, b in zip(direct, baseline.jobs, strict=True))
    documents = raw_parse(job_paths)

    variants = {
        "raw_parse": lambda: raw_parse(job_paths),
        "vcr_load": lambda: vcr_load(job_paths),
        "http_transport": lambda: http_transports(n),
        "client_setup": lambda: client_setup(jobs),
        "evalkit_direct": lambda: evalkit_direct(jobs, config, scorers),
        "replay_c1": lambda: replay(config, suites, 1),
        "replay_c4": lambda: replay(config, suites, 4),
        "whatif_lazy_c1": lambda: replay_lazy(config, suites, 1),
        "whatif_lazy_c4": lambda: replay_lazy(config, suites, 4),
    }
    times = interleaved(variants, args.repeats, label="replay")
    profile_text, _ = profile_replay(jobs, config, scorers)
    with lazy_inner_transport():
        lazy_profile_text, lazy_total = profile_replay(jobs, config, scorers, brief=True)
    mem = memory(args.memory_repeats)
    start_times, start_notes = startup(args.startup_repeats)

    # --- the report ---
    described = {
        "raw_parse": f"floor: `yaml.load(..., {YAML_LOADER.__name__})` + `json.loads` of each body / SSE data line",
        "vcr_load": "`recording.open_cassette` per job (vcrpy `Cassette.load`: YAML + response filter)",
        "http_transport": "`httpx2.HTTPTransport()` + close, once per job (what `CassetteTransport` builds)",
        "client_setup": "`httpx2.Client` + `make_client` (`openai.OpenAI`) per job, no request",
        "evalkit_direct": "`read_interactions` + `turn_from_http` + `score_job` (no SDK, no vcrpy, no httpx)",
        "replay_c1": "**full replay**: `run_suites`, concurrency 1 (SDK + vcrpy + scoring)",
        "replay_c4": "**full replay**: `run_suites`, concurrency 4",
        "whatif_lazy_c1": "what-if (patched in the bench only): replay c1, inner HTTPTransport built lazily",
        "whatif_lazy_c4": "what-if: same, concurrency 4",
    }
    rows = []
    for name in variants:
        per_job = [t / n for t in times[name]]
        ratios = paired_ratios(times[name], times["raw_parse"])
        rows.append(
            (
                f"`{name}`",
                described[name],
                fmt_seconds(median(times[name])),
                fmt_seconds(median(per_job)),
                fmt_seconds(min(per_job)),
                f"{median(ratios):.1f}×",
                f"{min(ratios):.1f}×",
            )
        )
    r_c1 = paired_ratios(times["replay_c1"], times["raw_parse"])
    r_c4_c1 = paired_ratios(times["replay_c4"], times["replay_c1"])
    r_lazy = paired_ratios(times["whatif_lazy_c1"], times["replay_c1"])
    r_lazy4 = paired_ratios(times["whatif_lazy_c4"], times["replay_c4"])
    r_transport = paired_ratios(times["http_transport"], times["replay_c1"])
    r_direct = paired_ratios(times["replay_c1"], times["evalkit_direct"])

    def mem_rows() -> list[tuple[Any, ...]]:
        out = []
        for concurrency in (1, 4):
            rss = [m for m in mem if m["mode"] == "rss" and m["concurrency"] == concurrency]
            tm = [m for m in mem if m["mode"] == "tracemalloc" and m["concurrency"] == concurrency]
            out.append(
                (
                    concurrency,
                    f"{median([m['rss_before_kib'] for m in rss]) / 1024:.1f} MiB",
                    f"{median([m['rss_after_kib'] for m in rss]) / 1024:.1f} MiB (max {max(m['rss_after_kib'] for m in rss) / 1024:.1f})",
                    f"{median([m['traced_peak'] for m in tm]) / 2**20:.2f} MiB",
                    f"{median([m['traced_retained'] for m in tm]) / 2**20:.2f} MiB",
                )
            )
        return out

    rss_delta = max(m["rss_after_kib"] - m["rss_before_kib"] for m in mem if m["mode"] == "rss") / 1024
    peak_over_retained = max(m["traced_peak"] - m["traced_retained"] for m in mem if m["mode"] == "tracemalloc") / 2**20
    start_rows = [
        (name, fmt_seconds(median(v)), fmt_seconds(min(v)), fmt_seconds(max(v))) for name, v in start_times.items()
    ]
    floor = start_times[next(iter(start_times))]
    start_extra = [(name, f"{median(v) - median(floor):.3f} s") for name, v in list(start_times.items())[1:]]

    body = f"""## Replay (`bench/bench_replay.py`)

{machine(load_at_start, source_at_start)}
- run: `python bench/bench_replay.py --repeats {args.repeats} --startup-repeats {args.startup_repeats} --memory-repeats {args.memory_repeats}`

**Input**: the {len(files)} shipped plain cassettes `cassettes/*/*/*.yaml` (files with `--tools-` left out),
{total_bytes / 1024:.0f} KiB, one interaction each: {n} jobs (4 models × {n // max(len(config.models), 1)} cases), {sse} of them
streamed (SSE, {documents - (n - sse)} data lines in all), {n - sse} plain JSON.{f" Plain files with no job in the config (not measured): {len(unused)}." if unused else ""}
YAML loader for the floor: `{YAML_LOADER.__module__}.{YAML_LOADER.__name__}` (libyaml {"available" if hasattr(yaml, "CSafeLoader") else "NOT available"};
vcrpy's own cassette loader also subclasses `CSafeLoader` when it exists).

**Sanity** (not timed): replay c1 = {dict(status)}, infrastructure errors {dict(errors) or "none"} (every job a cassette hit);
c4 gives identical results: {"yes" if same_c4 else "NO"}; the lazy-transport what-if gives identical results: {"yes" if same_lazy else "NO"};
`evalkit_direct` (no SDK) agrees with the SDK replay on {agree_direct}/{n} job statuses.

### Time ({args.repeats} interleaved repeats, order rotated each repeat)

Per-job = variant time / {n}. Ratios are per repeat against `raw_parse` of the same repeat, then the median (and the minimum).

{table(("variant", "what", "median total", "median per job", "min per job", "÷ raw_parse (median)", "÷ raw_parse (min)"), rows, "llrrrrr")}

Headline ratios (per-repeat pairs, median [min–max]):

- full replay (c1) ÷ raw parse: **{median(r_c1):.1f}×** [{min(r_c1):.1f}–{max(r_c1):.1f}]
- full replay c4 ÷ c1: {median(r_c4_c1):.2f} [{min(r_c4_c1):.2f}–{max(r_c4_c1):.2f}] ({"concurrency buys nothing in replay here: the work is CPU-bound Python under the GIL" if median(r_c4_c1) > 0.9 else "concurrency helps"})
- full replay ÷ evalkit's own parse + score (`evalkit_direct`): {median(r_direct):.1f}× [{min(r_direct):.1f}–{max(r_direct):.1f}]
- `httpx2.HTTPTransport()` × {n} ÷ full replay c1: **{100 * median(r_transport):.0f}%** [{100 * min(r_transport):.0f}–{100 * max(r_transport):.0f}%] of replay time is building a transport that replay never uses
- what-if lazy inner transport ÷ current, c1: **{median(r_lazy):.2f}** [{min(r_lazy):.2f}–{max(r_lazy):.2f}]; c4: {median(r_lazy4):.2f} [{min(r_lazy4):.2f}–{max(r_lazy4):.2f}]

### Where the time goes (cProfile)

{profile_text}

The same profile with the lazy-transport what-if applied ({lazy_total:.2f} s profiled, {fmt_seconds(lazy_total / n)} per job): what is left.

{lazy_profile_text}

### Peak memory (whole replay of the {n} jobs, a fresh process per measurement, {args.memory_repeats} each)

`ru_maxrss` is the process high-water mark (interpreter + imports + run; measured without tracemalloc); "before" is after
importing evalkit, openai, vcrpy and loading the config and cases. tracemalloc peak/retained count Python allocations made
during `run_suites` only (tracemalloc running, in a separate process).

{table(("concurrency", "ru_maxrss before run", "ru_maxrss after run (median)", "tracemalloc peak during run", "retained after (RunResult)"), mem_rows(), "rrrrr")}

The replay raises the process high-water mark by {rss_delta:.1f} MiB at most{" (the high-water mark is set by the imports and case loading before the run)" if rss_delta < 1 else ""};
the tracemalloc peak exceeds what is still allocated after the run by {peak_over_retained:.2f} MiB at most.

### Start-up (subprocess wall time, {args.startup_repeats} interleaved runs each)

{table(("command", "median", "min", "max"), start_rows, "lrrr")}

Above the interpreter floor (medians): {", ".join(f"{name} +{extra}" for name, extra in start_extra)}.

{start_notes}
"""
    if args.no_write:
        print(body)
    else:
        print(f"wrote {write_section(SECTION, body)}", file=sys.stderr)
        print(body)


if __name__ == "__main__":
    main()
