"""evalkit's bfcl mode against BFCL's own checker: the same verdicts, and calls scored per second.

    python bench/bench_bfcl.py                                   # cases/bfcl (304 cases) + their cassettes
    python bench/bench_bfcl.py --full /tmp/bfcl/bfcl_eval-2026.3.23-py3-none-any.whl   # every importable entry
    python bench/bench_bfcl.py --bfcl-python /tmp/bfcl-venv/bin/python --rounds 5

The replies scored (the same ones on both sides):

- **truth**: each case's ground-truth reply (bfcl_answers.reference_calls; for no-call cases a
  text reply, for any-call cases a call to the first tool);
- **perturbed**: each one-argument perturbation of it (bfcl_answers.perturbations; for no-call
  cases a call, for any-call cases a text reply): BFCL's checker must fail every one;
- **recorded**: the replies in ``cassettes/<model>/bfcl-*/`` (cases/bfcl only).

BFCL's checker runs in its own venv (bench/bfcl_reference.py; see bench/README.md for how to build
it), on a JSON-lines file of the replies; evalkit scores them in this process with ``score_job``
(every default scorer, JSON Schema validity included), in both modes. Rounds alternate the two
sides so both see the same load; each side's time is one full pass over all replies, after a
warm-up pass. Each round also times a **floor** (``floor_all``): the decoding, schema checks and
first-fit matching any checker must do, with evalkit's compiled parts and nothing else, to show
what the scorers themselves cost. Writes ``bench/results/bfcl.json`` (unless --no-write) and prints a summary.
No network; nothing here is a test, and nothing asserts on time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average, machine, median, source_fingerprint

from evalkit.calls import ToolCall, Turn
from evalkit.cases import Case, Suite, load_cases, parse_suite
from evalkit.identity_cache import IdentityCache
from evalkit.importers.bfcl_answers import perturbations, reference_calls
from evalkit.importers.cassettes import read_interactions
from evalkit.parsing import turn_from_http
from evalkit.scorers import score_job
from evalkit.scorers.checks import OfferedTools
from evalkit.scorers.modes import other_mode
from evalkit.tools import tools_by_name

ROOT = Path(__file__).resolve().parents[1]
Reply = tuple[str, str, Case, Turn]  # key, kind (truth | perturbed | recorded:<model>), case, turn


def category(case: Case) -> str:
    return case.tags[0] if case.tags else case.suite.removeprefix("bfcl-").replace("-", "_")


def build_replies(suites: list[Suite], cassettes: Path | None) -> list[Reply]:
    replies: list[Reply] = []
    for suite in suites:
        for case in suite.cases:
            tools = case.tools or suite.tools
            by_name = tools_by_name(tools)
            first = next(iter(by_name), "none")
            if case.expect.no_call:
                truth, wrong = (
                    Turn((), "I cannot help with that.", "stop"),
                    [Turn((ToolCall(first, "{}"),), None, "tool_calls")],
                )
            elif case.expect.any_call:
                truth, wrong = Turn((ToolCall(first, "{}"),), None, "tool_calls"), [Turn((), "No.", "stop")]
            else:
                truth = Turn(reference_calls(case, by_name), None, "tool_calls")
                wrong = [Turn(calls, None, "tool_calls") for _, calls in perturbations(case, by_name)]
            replies.append((f"{case.key}#truth", "truth", case, truth))
            replies += [(f"{case.key}#p{i}", "perturbed", case, t) for i, t in enumerate(wrong)]
            if cassettes is None:
                continue
            for folder in sorted(cassettes.iterdir()):
                path = folder / case.suite / f"{case.id}.yaml"
                if path.is_file():
                    it = read_interactions(path)[0]
                    turn = turn_from_http(it.method, it.uri, it.request_body, it.status, it.headers, it.body)
                    if turn is not None:
                        replies.append((f"{case.key}#{folder.name}", f"recorded:{folder.name}", case, turn))
    return replies


def write_outputs(replies: list[Reply], path: Path) -> None:
    with path.open("w") as out:
        for key, kind, case, turn in replies:
            calls = [{"name": c.name, "arguments": c.arguments} for c in turn.calls] or None
            record = {
                "key": key,
                "kind": kind,
                "category": category(case),
                "id": case.id,
                "calls": calls,
                "content": turn.content,
            }
            out.write(json.dumps(record) + "\n")


def run_bfcl(python: str, outputs: Path, repeats: int) -> dict[str, Any]:
    verdicts = outputs.with_suffix(".verdicts.json")
    subprocess.run(
        [python, str(ROOT / "bench" / "bfcl_reference.py"), str(outputs), str(verdicts), "--repeats", str(repeats)],
        check=True,
    )
    return json.loads(verdicts.read_text())


def score_all(replies: list[Reply], tools: dict[str, Any], *, bfcl: bool) -> dict[str, str]:
    return {key: score_job(case, turn, tools[key], bfcl=bfcl)[0] for key, _, case, turn in replies}


offered_tools = IdentityCache(OfferedTools)  # as score_job finds them: once per offered list


def floor_all(replies: list[Reply], tools: dict[str, Any]) -> int:
    """Not a scorer: the work any checker of these replies must do, with evalkit's fastest parts
    and nothing else. Each call's arguments decoded, checked against its tool's compiled schema,
    and each expected call given the first unpaired produced call its compiled matcher accepts; no
    scores, no explanations, no other scorer. What evalkit spends beyond this is the price of its
    eleven scorers and their explanations."""
    matched = 0
    for key, _, case, turn in replies:
        offered = offered_tools(tools[key])
        decoded = []
        for call in turn.calls:
            try:
                decoded.append(call.decoded_arguments())
            except ValueError:
                decoded.append(None)
        for call, arguments in zip(turn.calls, decoded, strict=True):
            if call.name in offered and isinstance(arguments, dict):
                offered.check(call.name)(arguments)
        taken: set[int] = set()
        for expected in case.expect.calls:
            for p, call in enumerate(turn.calls):
                if p not in taken and call.name == expected.name and expected.arguments.matches(decoded[p]):
                    taken.add(p)
                    matched += 1
                    break
    return matched


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=Path, default=ROOT / "cases" / "bfcl")
    parser.add_argument("--full", type=Path, default=None, help="bfcl-eval wheel: import every entry instead")
    parser.add_argument("--bfcl-python", default="/tmp/bfcl-venv/bin/python")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    load_start, source_start = load_average(), source_fingerprint()

    if args.full:
        from evalkit.importers.bfcl_cases import import_bfcl, suite_name

        _, parts = import_bfcl(source=args.full)
        suites = [
            parse_suite(
                {"version": 1, "suite": suite_name(p.category), "tools": [], "cases": list(p.cases)}, Path(p.category)
            )
            for p in parts
        ]
        cassettes = None
    else:
        suites = load_cases(args.cases)
        cassettes = ROOT / "cassettes"
    replies = build_replies(suites, cassettes)
    tools = {key: tuple(case.tools or ()) for key, _, case, _ in replies}
    n_calls = sum(len(t.calls) for _, _, _, t in replies)

    with tempfile.TemporaryDirectory() as tmp:
        outputs = Path(tmp) / "outputs.jsonl"
        write_outputs(replies, outputs)
        reference = run_bfcl(args.bfcl_python, outputs, 1)
        groups: dict[str, list[Reply]] = {"all": replies}
        for reply in replies:
            groups.setdefault(reply[1].split(":")[0], []).append(reply)
        times: dict[str, dict[str, list[float]]] = {
            g: {"bfcl_checker": [], "evalkit_default": [], "evalkit_bfcl": [], "floor": []} for g in groups
        }
        ours_default = score_all(replies, tools, bfcl=False)  # warm-up (and the verdicts)
        ours_bfcl = score_all(replies, tools, bfcl=True)
        floor_all(replies, tools)
        for _ in range(args.rounds):
            timing = run_bfcl(args.bfcl_python, outputs, 1)["timing"]
            for name, group in groups.items():
                times[name]["bfcl_checker"].append(timing[name]["seconds_min"])
                for side, bfcl in (("evalkit_default", False), ("evalkit_bfcl", True)):
                    started = time.process_time()
                    score_all(group, tools, bfcl=bfcl)
                    times[name][side].append(time.process_time() - started)
                started = time.process_time()
                floor_all(group, tools)
                times[name]["floor"].append(time.process_time() - started)
    theirs = {k: v[0] for k, v in reference["verdicts"].items()}

    # verdicts: bfcl mode against BFCL, by kind of reply
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    disagree = []
    for key, kind, _case, _ in replies:
        ours = ours_bfcl[key] == "passed"
        group = kind.split(":")[0]
        by_kind[group]["n"] += 1
        by_kind[group]["bfcl_checker_pass"] += theirs[key]
        by_kind[group]["bfcl_mode_pass"] += ours
        by_kind[group]["default_pass"] += ours_default[key] == "passed"
        if ours != theirs[key] and ours_bfcl[key] != "error":
            disagree.append(
                {
                    "key": key,
                    "bfcl_checker": theirs[key],
                    "bfcl_mode": ours,
                    "error_type": reference["verdicts"][key][1],
                }
            )
    unpassable = [
        {"key": key, "error_type": reference["verdicts"][key][1]}
        for key, kind, _, _ in replies
        if kind == "truth" and not theirs[key]
    ]

    # side by side on the recorded replies: per model and category, and the reasons
    side: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    for key, kind, case, turn in replies:
        if kind == "perturbed":
            continue
        status, scores = score_job(case, turn, tools[key])
        modes = other_mode(
            case, turn, tools[key], bfcl=False, status=status, scores=scores, scorers=[s.scorer for s in scores]
        )
        group = kind.split(":", 1)[-1]
        if modes["reason"]:
            reasons[group][str(modes["reason"])] += 1
        if kind == "truth":
            continue
        cell = side[(group, category(case))]
        cell["n"] += 1
        cell["default"] += modes["default"] == "passed"
        cell["bfcl"] += modes["bfcl"] == "passed"
        cell["bfcl_checker"] += theirs[key]

    result = {
        "machine": machine(load_start, source_start),
        "cases": sum(len(s.cases) for s in suites),
        "replies": len(replies),
        "calls": n_calls,
        "bfcl_checker": reference["checker"],
        "rounds": args.rounds,
        "speed": {
            name: {
                "replies": len(groups[name]),
                "calls": (calls := sum(len(t.calls) for *_, t in groups[name])),
                **{f"{side}_calls_per_second": calls / median(ts) for side, ts in sides.items()},
                "ratio_default": median(
                    [b / d for b, d in zip(sides["bfcl_checker"], sides["evalkit_default"], strict=True)]
                ),
                "ratio_bfcl_mode": median(
                    [b / d for b, d in zip(sides["bfcl_checker"], sides["evalkit_bfcl"], strict=True)]
                ),
            }
            for name, sides in times.items()
        },
        "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "verdicts_differ_from_bfcl_checker": disagree,
        "bfcl_unpassable_ground_truth": unpassable,
        "side_by_side": {f"{m}/{c}": dict(v) for (m, c), v in sorted(side.items())},
        "reasons": {group: dict(c.most_common()) for group, c in sorted(reasons.items())},
    }
    for name, row in result["speed"].items():
        print(
            f"{name}: {row['replies']} replies, {row['calls']} calls. calls/s: BFCL checker "
            f"{row['bfcl_checker_calls_per_second']:,.0f}, evalkit default {row['evalkit_default_calls_per_second']:,.0f} "
            f"({row['ratio_default']:.2f}× BFCL), bfcl mode {row['evalkit_bfcl_calls_per_second']:,.0f} ({row['ratio_bfcl_mode']:.2f}×); "
            f"floor {row['floor_calls_per_second']:,.0f}"
        )
    print("by kind:", json.dumps(result["by_kind"]))
    print(f"bfcl mode ≠ BFCL checker on {len(disagree)} replies", json.dumps(disagree[:10]))
    print("BFCL-unpassable ground truth:", json.dumps(unpassable))
    print("reasons:", json.dumps(result["reasons"]))
    if not args.no_write:
        name = "bfcl-full.json" if args.full else "bfcl.json"
        path = ROOT / "bench" / "results" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
