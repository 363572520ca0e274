"""Where evalkit's scoring time goes, against BFCL's checker, on bench_bfcl's replies.

    python bench/bench_scoring_parts.py [--bfcl-python /tmp/bfcl-venv/bin/python] [--rounds 5]

Per kind of reply (ground truth, one-argument perturbations, recorded replies, all), in µs per
reply (CPU time, median over rounds that alternate with BFCL's checker, as in bench_bfcl.py):

- **bfcl_checker**: BFCL's ``ast_checker`` on the same replies (bench/bfcl_reference.py);
- **floor**: bench_bfcl's ``floor_all`` (decode, compiled schema checks, first-fit matching);
- **evalkit**: ``score_job`` with every default scorer;
- **without_explanations**: the same, with the two explanation builders that cost the most
  replaced by a constant text (``arguments_error``: which part of the JSON Schema failed, from
  jsonschema; ``Analysis.mismatch``: which expected argument differs, and how). A what-if, not a
  mode of evalkit: it says what writing those explanations costs;
- **per scorer**: what each default scorer adds when the scorers are run one more at a time, in
  ``DEFAULT_SCORERS`` order (``analyse`` first: the shared analysis, built but not read).

Writes ``bench/results/scoring_parts.json`` (unless --no-write). No network; nothing here asserts
on time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average, machine, median, source_fingerprint
from bench_bfcl import ROOT, Reply, build_replies, floor_all, run_bfcl, write_outputs

import evalkit.scorers.checks as checks
from evalkit.cases import load_cases
from evalkit.scorers import DEFAULT_SCORERS, score_job


def _time(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def _without_explanations(work: Callable[[], object]) -> float:
    with (
        patch.object(checks, "arguments_error", lambda tool, arguments: "-"),
        patch.object(checks.Analysis, "mismatch", lambda self, e, p: "-"),
    ):
        return _time(work)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bfcl-python", default="/tmp/bfcl-venv/bin/python")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    load_start, source_start = load_average(), source_fingerprint()

    replies = build_replies(load_cases(ROOT / "cases" / "bfcl"), ROOT / "cassettes")
    tools = {key: tuple(case.tools or ()) for key, _, case, _ in replies}
    groups: dict[str, list[Reply]] = {"all": replies}
    for reply in replies:
        groups.setdefault(reply[1].split(":")[0], []).append(reply)

    def scored(group: list[Reply], scorers: tuple[str, ...]) -> Callable[[], object]:
        return lambda: [score_job(case, turn, tools[key], scorers=scorers) for key, _, case, turn in group]

    def analysed(group: list[Reply]) -> Callable[[], object]:
        return lambda: [checks.analyse(case, turn, tools[key]) for key, _, case, turn in group]

    steps = [DEFAULT_SCORERS[: i + 1] for i in range(len(DEFAULT_SCORERS))]
    seconds: dict[str, dict[str, list[float]]] = {name: {} for name in groups}

    def add(group: str, part: str, value: float) -> None:
        seconds[group].setdefault(part, []).append(value)

    with tempfile.TemporaryDirectory() as tmp:
        outputs = Path(tmp) / "outputs.jsonl"
        write_outputs(replies, outputs)
        for group in groups.values():  # warm-up: caches filled, matchers compiled
            for _ in range(8):
                scored(group, DEFAULT_SCORERS)()
        for _ in range(args.rounds):
            timing = run_bfcl(args.bfcl_python, outputs, 1)["timing"]
            for name, group in groups.items():
                add(name, "bfcl_checker", timing[name]["seconds_min"])
                add(name, "floor", _time(lambda g=group: floor_all(g, tools)))
                add(name, "evalkit", _time(scored(group, DEFAULT_SCORERS)))
                add(name, "without_explanations", _without_explanations(scored(group, DEFAULT_SCORERS)))
                add(name, "analyse", _time(analysed(group)))
                for chosen in steps:
                    add(name, f"upto:{chosen[-1]}", _time(scored(group, chosen)))

    result: dict[str, Any] = {"machine": machine(load_start, source_start), "rounds": args.rounds, "kinds": {}}
    for name, parts in seconds.items():
        n = len(groups[name])
        us = {part: median(values) / n * 1e6 for part, values in parts.items()}
        per_scorer, before = {"analyse": us["analyse"]}, us["analyse"]
        for chosen in steps:
            per_scorer[chosen[-1]] = us[f"upto:{chosen[-1]}"] - before
            before = us[f"upto:{chosen[-1]}"]
        row: dict[str, Any] = {
            "replies": n,
            "calls": sum(len(t.calls) for *_, t in groups[name]),
            "us_per_reply": {k: round(us[k], 2) for k in ("bfcl_checker", "floor", "evalkit", "without_explanations")},
            "us_per_scorer": {k: round(v, 2) for k, v in per_scorer.items()},
        }
        result["kinds"][name] = row
        shown = ", ".join(f"{k} {v:.1f}" for k, v in row["us_per_reply"].items())
        print(f"{name} ({n} replies), µs per reply: {shown}")
        print("   per scorer: " + ", ".join(f"{k} {v:.1f}" for k, v in row["us_per_scorer"].items()))
    if not args.no_write:
        path = ROOT / "bench" / "results" / "scoring_parts.json"
        path.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
