"""A run beside its baseline, as one self-contained HTML page: ``evalkit gate CURRENT --html out.html``.

The page shows the gate's :class:`~evalkit.gating.gate.Verdict` as it is (its verdict, reasons, test
and counts are never recomputed here), and adds what a reviewer needs to believe it: per model the
accuracy of both runs on the paired cases with 95% intervals and the change with its interval
(:func:`.numbers.paired_difference`), and every flipped case with both replies side by side (the
messages sent, the calls aligned argument by argument, the reply text) so a pass→fail can be read,
not just counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..results import CaseResult, RunResult
from .cards import Card, card
from .html import Styled, Table, render
from .numbers import paired_difference, rate_interval
from .tables import MISSING

if TYPE_CHECKING:
    from ..gating.gate import CaseRef, Flip, Verdict

MAX_FLIPS = 300  # flipped cases shown with both replies; the rest are in the gate's markdown
OPEN_FLIPS = 10  # this few flips: each starts open

PairKey = tuple[str, str, str, int | None]


@dataclass(frozen=True)
class Side:
    """One run's jobs of a flipped case (all its trials)."""

    run_id: str
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class FlipView:
    anchor: str
    model: str
    label: str
    direction: str
    worse: bool
    failures: tuple[tuple[str, str], ...]
    baseline: Side
    current: Side
    same_messages: bool  # both runs sent the same messages: shown once, above the two replies
    opened: bool


def _key(job: CaseResult) -> PairKey:
    return (job.model, job.suite, job.case_id, job.tool_count)


def _ref_key(ref: CaseRef) -> PairKey:
    return (ref.model, ref.suite, ref.case_id, ref.tool_count)


def _tallies(run: RunResult) -> dict[PairKey, tuple[int, int]]:
    """(passes, scored trials) per case, as the gate counts them (errored trials are not scored)."""
    tallies: dict[PairKey, tuple[int, int]] = {}
    for job in run.jobs:
        passes, trials = tallies.get(_key(job), (0, 0))
        if job.status != "error":
            passes, trials = passes + job.passed, trials + 1
        tallies[_key(job)] = (passes, trials)
    return tallies


def paired_rates(current: RunResult, baseline: RunResult) -> dict[str, list[tuple[float, float]]]:
    """Per model (and ``(all)``), the (baseline rate, current rate) of each case the gate paired."""
    from ..gating.gate import ALL_MODELS

    cur, base = _tallies(current), _tallies(baseline)
    rates: dict[str, list[tuple[float, float]]] = {ALL_MODELS: []}
    for key, (c_passes, c_trials) in cur.items():
        b_passes, b_trials = base.get(key, (0, 0))
        if c_trials and b_trials:
            pair = (b_passes / b_trials, c_passes / c_trials)
            rates.setdefault(key[0], []).append(pair)
            rates[ALL_MODELS].append(pair)
    return rates


def _interval(rate: float, values: Sequence[float]) -> str:
    if not values or math.isnan(rate):
        return MISSING
    low, high = rate_interval(values)
    return f"{100 * rate:.1f}% ({100 * low:.0f}–{100 * high:.0f})"


def model_table(verdict: Verdict, current: RunResult, baseline: RunResult) -> Table:
    """The verdict's per-model rows, each accuracy with its 95% interval and the change with its own."""
    rates = paired_rates(current, baseline)
    worse, better = ("rate↓ (b)", "rate↑ (c)") if verdict.trials else ("pass→fail (b)", "fail→pass (c)")
    rows: list[list[Any]] = []
    for s in verdict.models:
        pairs = rates.get(s.model, [])
        delta, low, high = paired_difference(pairs)
        change = MISSING if math.isnan(delta) else f"{100 * delta:+.1f} ({100 * low:+.0f} to {100 * high:+.0f})"
        result = "REGRESSION" if s.regressed else "ok" if s.n_paired else "not compared"
        rows.append(
            [
                s.model,
                str(s.n_paired),
                _interval(s.baseline_accuracy, [b for b, _ in pairs]),
                _interval(s.current_accuracy, [c for _, c in pairs]),
                Styled(change, "failed" if delta < 0 else "passed" if delta > 0 else "muted"),
                str(s.b),
                str(s.c),
                f"{s.p_value:.3g}" if s.n_paired else MISSING,  # no pairs, no test: not p = 1
                Styled(result, "failed" if s.regressed else "passed" if s.n_paired else "muted"),
            ]
        )
    headers = [
        "model",
        "paired",
        "baseline (95% CI)",
        "current (95% CI)",
        "Δ points (95% CI)",
        worse,
        better,
        "p (one-sided)",
        "result",
    ]
    return Table(headers, rows, frozenset(range(1, 8)))


def _jobs_of(run: RunResult, keys: set[PairKey]) -> dict[PairKey, list[CaseResult]]:
    found: dict[PairKey, list[CaseResult]] = {}
    for job in run.jobs:
        if _key(job) in keys:
            found.setdefault(_key(job), []).append(job)
    for jobs in found.values():
        jobs.sort(key=lambda j: j.trial)
    return found


def flip_views(verdict: Verdict, current: RunResult, baseline: RunResult, *, limit: int = MAX_FLIPS) -> list[FlipView]:
    """The first ``limit`` flips of each direction (worse first), each with both runs' replies."""
    flips = list(verdict.regressions[:limit]) + list(verdict.improvements[:limit])
    keys = {_ref_key(f.case) for f in flips}
    cur_jobs, base_jobs = _jobs_of(current, keys), _jobs_of(baseline, keys)
    appendix: dict[str, Any] = {}  # schemas of long tool lists are not shown on this page
    views = []
    for number, flip in enumerate(flips, 1):
        key = _ref_key(flip.case)
        base = tuple(card(j, n, baseline.toolsets, appendix) for n, j in enumerate(base_jobs.get(key, ()), 1))
        cur = tuple(card(j, n, current.toolsets, appendix) for n, j in enumerate(cur_jobs.get(key, ()), 1))
        views.append(_view(flip, number, Side(baseline.run_id, base), Side(current.run_id, cur), len(flips)))
    return views


def _view(flip: Flip, number: int, base: Side, cur: Side, count: int) -> FlipView:
    first = [side.cards[0].messages for side in (base, cur) if side.cards]
    return FlipView(
        anchor=f"flip-{number}",
        model=flip.case.model,
        label=flip.case.label,
        direction=flip.direction,
        worse=flip.worse,
        failures=flip.failures,
        baseline=base,
        current=cur,
        same_messages=len(first) == 2 and first[0] == first[1],
        opened=count <= OPEN_FLIPS,
    )


def _refs(refs: Iterable[CaseRef]) -> Table:
    return Table(["model", "case"], [[r.model, r.label] for r in refs])


def _options_line(verdict: Verdict) -> str:
    o = verdict.options
    parts = [f"Test: {verdict.test}", f"alpha {o.alpha:g}", f"max_drop {100 * o.max_drop:.1f} points"]
    parts += [f"min_accuracy {suite} ≥ {100 * v:.1f}%" for suite, v in o.min_accuracy.items()]
    if o.min_overall_accuracy is not None:
        parts.append(f"min_overall_accuracy {100 * o.min_overall_accuracy:.1f}%")
    if o.require_same_cases:
        parts.append("require_same_cases")
    return "; ".join(parts)


def baseline_context(verdict: Verdict, current: RunResult, baseline: RunResult) -> dict[str, Any]:
    flips = flip_views(verdict, current, baseline)
    errors = Table(
        ["side", "model", "case", "error"],
        [
            [e.side, e.case.model, e.case.label + (f" #{e.trial}" if e.trial > 1 else ""), e.explanation]
            for e in verdict.errors
        ],
        wrap=frozenset({3}),
    )
    return {
        "verdict": verdict,
        "headline": verdict.headline,
        "options": _options_line(verdict),
        "models": model_table(verdict, current, baseline),
        "worse": [f for f in flips if f.worse],
        "better": [f for f in flips if not f.worse],
        "n_worse": len(verdict.regressions),
        "n_better": len(verdict.improvements),
        "max_flips": MAX_FLIPS,
        "only_current": _refs(verdict.only_in_current),
        "only_baseline": _refs(verdict.only_in_baseline),
        "errors": errors,
        "current_created": current.created,
        "baseline_created": baseline.created,
    }


def render_baseline_html(verdict: Verdict, current: RunResult, baseline: RunResult) -> str:
    """The page as a string; ``verdict`` is ``gate(current, baseline, options)``."""
    return render("baseline.html.j2", **baseline_context(verdict, current, baseline))


def write_baseline_html(verdict: Verdict, current: RunResult, baseline: RunResult, path: str | Path) -> Path:
    """Write the page to ``path`` (a file name, not a folder) and return it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_baseline_html(verdict, current, baseline), encoding="utf-8")
    return target
