"""Scoring and parsing throughput: ``score_job`` on synthetic turns with 1, 4, 16 (and 64) parallel
calls against as many expected calls, and ``turn_from_chat_chunks`` on a long streamed reply
(2,000 chunks; 20,000 to check it stays linear).

    python bench/bench_scoring.py               # about a minute; rewrites its section of bench/results.md
    python bench/bench_scoring.py --repeats 3   # quicker

No I/O beyond a temporary case file; no network. Run by hand; never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt_seconds, interleaved, load_average, machine, median, source_fingerprint, table, write_section

from evalkit import load_cases
from evalkit.calls import ToolCall, Turn, sse_json, turn_from_chat_chunks, turn_from_http
from evalkit.scorers import checks, score_job
from evalkit.scorers.matching import assign
from evalkit.tools import arguments_validator

SECTION = "bench_scoring"
SIZES = (1, 4, 16, 64)
CITIES = ["Paris", "Berlin", "Madrid", "Rome", "Lisbon", "Vienna", "Prague", "Oslo"]

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["C", "F"]},
                    "days": {"type": "integer", "minimum": 1},
                },
                "required": ["city", "unit"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Local time in a time zone",
            "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
        },
    },
]


def city(i: int) -> str:
    return f"{CITIES[i % len(CITIES)]}-{i}"


def expected_call(i: int) -> dict[str, Any]:
    """A mix of matcher kinds, as real cases use them."""
    kind = i % 3
    if kind == 0:
        arguments = {"city": city(i), "unit": "C"}
    elif kind == 1:
        arguments = {"city": {"regex": f"{city(i)}(, EU)?"}, "unit": {"any_of": ["C", "F"]}}
    else:
        arguments = {
            "city": {"equals": city(i), "ignore_case": True},
            "days": {"approx": 3, "tol": 1, "optional": True},
        }
    return {"name": "get_weather", "arguments": arguments}


def synthetic_cases(folder: Path) -> dict[int, Any]:
    """One case per size: n expected get_weather calls (same function: every pair is at least a
    name match, the hardest input for the assignment)."""
    suite = {
        "version": 1,
        "suite": "synth",
        "tools": TOOLS,
        "cases": [
            {"id": f"par-{n}", "prompt": "weather please", "expect": {"calls": [expected_call(i) for i in range(n)]}}
            for n in SIZES
        ],
    }
    (folder / "synth.yaml").write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    (loaded,) = load_cases(folder)
    return dict(zip(SIZES, loaded.cases, strict=True))


def produced(n: int, *, wrong_every: int = 0, seed: int = 0) -> Turn:
    """n produced calls in a shuffled order; with ``wrong_every`` k, every k-th has a wrong city."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    calls = []
    for i in order:
        wrong = wrong_every and i % wrong_every == 0
        arguments = {"city": "Atlantis" if wrong else city(i), "unit": "C"}
        if i % 3 == 2:
            arguments["days"] = 3
        calls.append(ToolCall("get_weather", json.dumps(arguments), f"call_{i}"))
    return Turn(tuple(calls), None, "tool_calls")


# --- streamed replies ----------------------------------------------------------------------------


def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1795459721,
        "model": "bench",
        "system_fingerprint": "b1",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        body["usage"] = usage
    return body


def stream(n_chunks: int, shape: str) -> list[dict[str, Any]]:
    """A streamed reply of ``n_chunks`` chunks (role chunk and finish chunk included).
    ``one_call``: one call whose arguments arrive in pieces; ``calls_16``: 16 parallel calls, each
    streamed in pieces; ``text``: a long text reply."""
    chunks = [chunk({"role": "assistant", "content": None})]
    body_pieces = n_chunks - 2
    if shape == "text":
        chunks += [chunk({"content": f"word{i} "}) for i in range(body_pieces)]
        finish = "stop"
    else:
        n_calls = 1 if shape == "one_call" else 16
        per_call = body_pieces // n_calls
        for c in range(n_calls):
            text = json.dumps({"to": "a@example.com", "body": " ".join(f"w{c}_{i}" for i in range(per_call * 2))})
            step = max(1, -(-len(text) // (per_call - 1)))
            pieces = [text[k : k + step] for k in range(0, len(text), step)]
            pieces += [""] * (per_call - 1 - len(pieces))
            chunks.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": c,
                                "id": f"call_{c}",
                                "type": "function",
                                "function": {"name": "send_email", "arguments": ""},
                            }
                        ]
                    }
                )
            )
            chunks += [
                chunk({"tool_calls": [{"index": c, "function": {"arguments": p}}]}) for p in pieces[: per_call - 1]
            ]
        while len(chunks) < n_chunks - 1:
            chunks.append(chunk({}))
        finish = "tool_calls"
    chunks.append(
        chunk({}, finish, {"prompt_tokens": 300, "completion_tokens": n_chunks, "total_tokens": 300 + n_chunks})
    )
    return chunks


def sse_text(chunks: list[dict[str, Any]]) -> str:
    return "".join(f"data: {json.dumps(c, separators=(',', ':'))}\n\n" for c in chunks) + "data: [DONE]\n\n"


def sdk_chunk_roundtrip() -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """What the openai SDK does per SSE event during replay (construct the typed chunk, then
    evalkit's ``as_dict`` dumps it back). Uses the SDK's private ``construct_type``."""
    try:
        from openai._models import construct_type
        from openai.types.chat import ChatCompletionChunk
    except ImportError:
        return None

    def roundtrip(data: dict[str, Any]) -> dict[str, Any]:
        return construct_type(type_=ChatCompletionChunk, value=data).model_dump(mode="json")

    return roundtrip


_VALIDATORS: dict[int, tuple[Any, Any]] = {}  # id(tool) -> (tool, validator), for the what-if below


@contextmanager
def cached_validators() -> Iterator[None]:
    """WHAT-IF, not evalkit's code: one validator per tool object, built once (on first use, kept
    across jobs as a cache in evalkit would be) and reused."""
    cache = _VALIDATORS
    original = checks.arguments_validator

    def cached(tool: Any) -> Any:
        hit = cache.get(id(tool))
        if hit is None or hit[0] is not tool:
            hit = cache[id(tool)] = (tool, original(tool))
        return hit[1]

    checks.arguments_validator = cached
    try:
        yield
    finally:
        checks.arguments_validator = original


# --- timing --------------------------------------------------------------------------------------


def calibrate(fn: Callable[[], Any], target: float) -> int:
    """How many calls of ``fn`` take about ``target`` seconds (at least 1)."""
    number = 1
    while True:
        started = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - started
        if elapsed >= target / 4 or number >= 1 << 20:
            return max(1, int(number * target / max(elapsed, 1e-9)))
        number *= 4


def loop(fn: Callable[[], Any], number: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(number):
            fn()

    return run


def measure(
    variants: dict[str, Callable[[], Any]], repeats: int, target: float, label: str
) -> dict[str, dict[str, float]]:
    """Per-call seconds of each variant: median and min over ``repeats`` interleaved samples."""
    numbers = {name: calibrate(fn, target) for name, fn in variants.items()}
    times = interleaved({name: loop(fn, numbers[name]) for name, fn in variants.items()}, repeats, label=label)
    return {
        name: {
            "median": median(t) / numbers[name],
            "min": min(t) / numbers[name],
            "samples": [x / numbers[name] for x in t],
            "number": numbers[name],
        }
        for name, t in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved samples per variant (default 7)")
    parser.add_argument("--target", type=float, default=0.15, help="seconds per sample (default 0.15)")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing bench/results.md")
    args = parser.parse_args()
    load_at_start, source_at_start = load_average(), source_fingerprint()

    with tempfile.TemporaryDirectory() as tmp:
        cases = synthetic_cases(Path(tmp))
    tools = tuple(TOOLS)

    # --- scoring ---
    score_variants: dict[str, Callable[[], Any]] = {}
    turns = {}
    for n in SIZES:
        turns[(n, "all match")] = produced(n)
        turns[(n, "1 in 4 wrong")] = produced(n, wrong_every=4)
        for kind in ("all match", "1 in 4 wrong"):
            case, turn = cases[n], turns[(n, kind)]
            score_variants[f"score_job n={n} {kind}"] = lambda c=case, t=turn: score_job(c, t, tools)
        # the Hungarian assignment alone, on the grade matrix score_job computes for the mixed turn
        analysis = checks.analyse(cases[n], turns[(n, "1 in 4 wrong")], tools)
        grades = [[analysis.grade(e, p) for p in range(n)] for e in range(n)]
        score_variants[f"assign (Hungarian only) n={n}"] = lambda g=grades, k=n: assign(k, k, lambda i, j: g[i][j])
        score_variants[f"arguments_validator × n n={n}"] = lambda k=n: [arguments_validator(TOOLS[0]) for _ in range(k)]
        case, turn = cases[n], turns[(n, "1 in 4 wrong")]
        score_variants[f"what-if cached validators n={n}"] = lambda c=case, t=turn: _with_cache(c, t, tools)
    # sanity: the synthetic turns score as designed
    sanity = []
    for n in SIZES:
        status, _scores = score_job(cases[n], turns[(n, "all match")], tools)
        _, mixed = score_job(cases[n], turns[(n, "1 in 4 wrong")], tools)
        cov = {s.scorer: s.value for s in mixed}["coverage"]
        sanity.append(f"n={n}: all-match → {status}; 1-in-4-wrong → coverage {cov:.2f}")
    same_cached = True
    for turn_key, turn in turns.items():
        now = score_job(cases[turn_key[0]], turn, tools)
        with cached_validators():
            same_cached &= score_job(cases[turn_key[0]], turn, tools) == now
    score = measure(score_variants, args.repeats, args.target, "scoring")

    # --- parsing ---
    roundtrip = sdk_chunk_roundtrip()
    parse_variants: dict[str, Callable[[], Any]] = {}
    streams = {}
    for n_chunks, shape in ((2000, "one_call"), (2000, "calls_16"), (2000, "text")):
        chunks = stream(n_chunks, shape)
        text = sse_text(chunks)
        lines = [line[6:] for line in text.splitlines() if line.startswith("data: ") and line != "data: [DONE]"]
        streams[(n_chunks, shape)] = (chunks, text)
        tag = f"{n_chunks} chunks, {shape}"
        parse_variants[f"floor json.loads per data line | {tag}"] = lambda ls=lines: [json.loads(x) for x in ls]
        parse_variants[f"turn_from_chat_chunks (dicts) | {tag}"] = lambda c=chunks: turn_from_chat_chunks(c)
        parse_variants[f"sse_json + turn_from_chat_chunks | {tag}"] = lambda t=text: turn_from_chat_chunks(sse_json(t))
        parse_variants[f"turn_from_http (body text) | {tag}"] = lambda t=text: turn_from_http(
            "POST", "http://x/v1/chat/completions", "", 200, {}, t
        )
        if roundtrip:
            parse_variants[f"SDK chunk model + model_dump per chunk | {tag}"] = lambda c=chunks: [
                roundtrip(x) for x in c
            ]
    # scaling: does the per-chunk cost stay flat as the reply grows?
    for n_chunks, shape in ((8000, "one_call"), (32000, "one_call"), (32000, "text")):
        chunks = stream(n_chunks, shape)
        streams[(n_chunks, shape)] = (chunks, "")
        parse_variants[f"turn_from_chat_chunks (dicts) | {n_chunks} chunks, {shape}"] = lambda c=chunks: (
            turn_from_chat_chunks(c)
        )
    parse_sanity = []
    for (n_chunks, shape), (chunks, _text) in streams.items():
        turn = turn_from_chat_chunks(chunks)
        size = sum(len(c.arguments) for c in turn.calls) or len(turn.content or "")
        ok = turn.error is None and (shape == "text" or all(json.loads(c.arguments) for c in turn.calls))
        parse_sanity.append(
            f"{n_chunks} {shape}: {len(turn.calls)} call(s), {size} chars, finish={turn.finish_reason}, well-formed={ok}"
        )
    parse = measure(parse_variants, args.repeats, args.target, "parsing")

    # --- report ---
    def per(name: str) -> float:
        return score[name]["median"]

    score_rows = []
    for n in SIZES:
        base_all, base_mixed = per("score_job n=1 all match"), per("score_job n=1 1 in 4 wrong")
        mixed = per(f"score_job n={n} 1 in 4 wrong")
        score_rows.append(
            (
                n,
                fmt_seconds(per(f"score_job n={n} all match")),
                f"{per(f'score_job n={n} all match') / base_all:.1f}×",
                fmt_seconds(mixed),
                fmt_seconds(score[f"score_job n={n} 1 in 4 wrong"]["min"]),
                f"{mixed / base_mixed:.1f}×",
                fmt_seconds(mixed / n),
                f"{1 / mixed:,.0f}",
                f"{fmt_seconds(per(f'assign (Hungarian only) n={n}'))} ({100 * per(f'assign (Hungarian only) n={n}') / mixed:.0f}%)",
                f"{fmt_seconds(per(f'arguments_validator × n n={n}'))} ({100 * per(f'arguments_validator × n n={n}') / mixed:.0f}%)",
                f"{fmt_seconds(per(f'what-if cached validators n={n}'))} ({per(f'what-if cached validators n={n}') / mixed:.2f})",
            )
        )
    hung = [per(f"assign (Hungarian only) n={n}") for n in SIZES]

    parse_rows = []
    for n_chunks, shape in streams:
        if n_chunks != 2000:
            continue
        tag = f"{n_chunks} chunks, {shape}"
        floor = parse[f"floor json.loads per data line | {tag}"]["median"]
        for label in (
            "floor json.loads per data line",
            "turn_from_chat_chunks (dicts)",
            "sse_json + turn_from_chat_chunks",
            "turn_from_http (body text)",
            "SDK chunk model + model_dump per chunk",
        ):
            key = f"{label} | {tag}"
            if key not in parse:
                continue
            m = parse[key]
            parse_rows.append(
                (
                    tag,
                    label,
                    fmt_seconds(m["median"]),
                    fmt_seconds(m["min"]),
                    fmt_seconds(m["median"] / n_chunks),
                    f"{n_chunks / m['median']:,.0f}",
                    f"{m['median'] / floor:.2f}×",
                )
            )
    scale_rows = []
    base = {
        shape: parse[f"turn_from_chat_chunks (dicts) | 2000 chunks, {shape}"]["median"] / 2000
        for shape in ("one_call", "text")
    }
    for n_chunks, shape in streams:
        if shape == "calls_16":
            continue
        m = parse[f"turn_from_chat_chunks (dicts) | {n_chunks} chunks, {shape}"]
        turn = turn_from_chat_chunks(streams[(n_chunks, shape)][0])
        size = sum(len(c.arguments) for c in turn.calls) or len(turn.content or "")
        scale_rows.append(
            (
                shape,
                f"{n_chunks:,}",
                f"{size / 1024:,.0f} KiB",
                fmt_seconds(m["median"]),
                fmt_seconds(m["median"] / n_chunks),
                f"{m['median'] / n_chunks / base[shape]:.2f}×",
            )
        )
    lin = parse["turn_from_chat_chunks (dicts) | 32000 chunks, one_call"]["median"] / 32000 / base["one_call"]
    lin_text = parse["turn_from_chat_chunks (dicts) | 32000 chunks, text"]["median"] / 32000 / base["text"]
    sdk_key = "SDK chunk model + model_dump per chunk | 2000 chunks, one_call"
    sdk_vs_parse = (
        (parse[sdk_key]["median"] / parse["turn_from_chat_chunks (dicts) | 2000 chunks, one_call"]["median"])
        if sdk_key in parse
        else None
    )

    body = f"""## Scoring and parsing (`bench/bench_scoring.py`)

{machine(load_at_start, source_at_start)}
- run: `python bench/bench_scoring.py --repeats {args.repeats} --target {args.target}`; every number is per call, the median
  (and min) of {args.repeats} interleaved samples of about {args.target} s each.

### `score_job` with n parallel calls against n expected calls

All n calls are to the same function (every pair is at least a name match: the hardest case for the assignment), in a
shuffled order; expected arguments mix plain values, `regex`, `any_of`, `equals`+`ignore_case` and an optional `approx`.
"1 in 4 wrong" gives every 4th call a wrong city, so the optimal assignment has name-only pairs to place.
Sanity: {"; ".join(sanity)}.

{table(("n", "all match", "÷ n=1", "1 in 4 wrong (median)", "(min)", "÷ n=1", "per call", "jobs/s", "Hungarian `assign` alone (share)", "`arguments_validator` × n (share)", "what-if cached validators (÷ now)"), score_rows, "rrrrrrrrrrr")}

- The Hungarian assignment (pure Python, O(n³)): {fmt_seconds(hung[0])} at n=1, {fmt_seconds(hung[1])} at 4, {fmt_seconds(hung[2])} at 16,
  {fmt_seconds(hung[3])} at 64; 16→64 grows {hung[3] / hung[2]:.0f}× (n³ would be 64×; the O(n²) grading and matcher calls
  around it keep the whole of `score_job` closer to quadratic). At the sizes real replies have (≤ 16 calls) it is
  {100 * hung[2] / per("score_job n=16 1 in 4 wrong"):.0f}% of `score_job` at n=16 and {100 * hung[1] / per("score_job n=4 1 in 4 wrong"):.0f}% at n=4.
- `validity` builds a fresh `Draft202012Validator` (after a `copy.deepcopy` of the schema) for every produced call of every
  job: the `arguments_validator × n` column. The what-if column caches one validator per tool object (patched in the
  bench only; identical scores: {"yes" if same_cached else "NO"}).

### Parsing a long streamed reply

`one_call`: a single call whose JSON arguments arrive in ~2,000 pieces; `calls_16`: 16 parallel calls streamed
interleaved by call (≈125 pieces each); `text`: a text reply in 2,000 pieces. Chunks are shaped like llama-server's.
The floor is `json.loads` of each SSE data line. Sanity: {"; ".join(parse_sanity)}.

{table(("stream", "what", "median", "min", "per chunk", "chunks/s", "÷ floor"), parse_rows, "llrrrrr")}

Scaling of `turn_from_chat_chunks` (per-chunk cost ÷ the same shape at 2,000 chunks; 1.00 = linear):

{table(("shape", "chunks", "reply size", "median", "per chunk", "per chunk ÷ at 2,000"), scale_rows, "lrrrrr")}

- Text replies stay linear ({lin_text:.2f}× at 32,000 chunks: the pieces go to a list joined once). Call arguments do not
  ({lin:.2f}× at 32,000 chunks): `_add_delta` grows `slot["arguments"] += piece` inside a dict, which CPython cannot
  extend in place, so every piece copies everything received so far (quadratic; it bites once the arguments pass
  ~100 KiB, far beyond real tool calls).
""" + (
        f"""- During a replay the SDK builds a typed chunk per SSE event and evalkit dumps it back to a dict (`as_dict`); that
  round trip costs **{sdk_vs_parse:.1f}×** evalkit's own parse of the same 2,000 chunks (`one_call`).
"""
        if sdk_vs_parse
        else ""
    )
    if args.no_write:
        print(body)
    else:
        print(f"wrote {write_section(SECTION, body)}", file=sys.stderr)
        print(body)


def _with_cache(case: Any, turn: Turn, tools: Any) -> Any:
    with cached_validators():
        return score_job(case, turn, tools)


if __name__ == "__main__":
    main()
