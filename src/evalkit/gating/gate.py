"""The regression gate: a current :class:`RunResult` against a baseline → a :class:`Verdict`.

The gate must block a merge that makes tool calling worse without being fooled by noise. It pairs
each job with its twin in the baseline on (model, suite, case id, tool count) and asks, per model and
overall, three questions:

1. Significance: do more cases go pass→fail (b) than fail→pass (c) than chance allows? One-sided
   exact McNemar test, ``p = P(X ≥ b | X ~ Bin(b + c, 1/2))``; a regression when ``p < alpha`` and
   ``b > c``. With several trials per case, the same exact test runs on the *signs* of the per-case
   pass-rate changes (a paired sign test); with one trial the sign test *is* McNemar, so one code
   path serves both. The sign test was chosen over a paired bootstrap of the mean rate change: it is
   exact and deterministic for the few dozen cases a suite has (a bootstrap is anti-conservative
   there and needs a seed), and it assumes nothing about the size of the changes, which rule 2
   judges. It is exact when both sides ran each case the same number of times; errored trials or a
   different ``--trials`` make the rate changes slightly asymmetric under "no change".
2. Size: did accuracy on the paired cases drop by more than ``max_drop`` (a fraction: 0.05 = 5
   points)? This catches a drop too small in count to be significant but too big to accept.
3. Floors: is any suite (``min_accuracy``) or the whole run (``min_overall_accuracy``) of a model
   below its minimum in the current run?

Nothing is silently dropped: cases present on one side only and jobs that errored are listed in the
verdict. Errored jobs are left out of the test (an HTTP error says nothing about tool calling), and
missing cases fail the gate only with ``require_same_cases``. A model present in both runs whose cases
could not be paired at all fails: a gate that compared nothing must not vouch for anything.

Nothing here prints or exits; :mod:`evalkit.gating.cli` turns the verdict into output and an exit code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ..errors import ConfigError
from ..results import CaseResult, RunResult
from ..stats import mcnemar_one_sided

GATE_KEYS = ("alpha", "max_drop", "min_accuracy", "min_overall_accuracy", "require_same_cases")
ALL_MODELS = "(all)"
# Accuracies are ratios of small integers: 0.95 - 0.90 is 0.05000000000000004 in floating point,
# and a drop of exactly max_drop must pass. Comparisons allow this much slack.
_EPS = 1e-9

PairKey = tuple[str, str, str, int | None]  # a job's key without its trial: what the gate pairs on


# options


@dataclass(frozen=True)
class GateOptions:
    """Thresholds of the gate; ``[tool.evalkit.gating.gate]`` in the config, overridden by CLI options."""

    max_drop: float = 0.05  # accuracy points as a fraction: 0.05 = 5 points
    alpha: float = 0.05  # significance level of the one-sided test
    min_accuracy: Mapping[str, float] = field(default_factory=dict)  # suite → minimum accuracy
    min_overall_accuracy: float | None = None  # per model, over every suite
    require_same_cases: bool = False  # fail when a case is on one side only

    def __post_init__(self) -> None:
        _check_fraction("max_drop", self.max_drop, "accuracy points as a fraction: 0.05 = 5 points")
        _check_fraction("alpha", self.alpha, "a significance level, e.g. 0.05")
        if self.alpha == 0:
            raise ConfigError("gate option alpha must be above 0 (a significance level, e.g. 0.05), got 0")
        if not isinstance(self.min_accuracy, Mapping):
            raise ConfigError(
                f"gate option min_accuracy must be a table of suite = minimum, e.g. {{weather = 0.8}}; got {self.min_accuracy!r}"
            )
        for suite, minimum in self.min_accuracy.items():
            _check_fraction(f"min_accuracy.{suite}", minimum, "an accuracy, e.g. 0.8 = 80%")
        if self.min_overall_accuracy is not None:
            _check_fraction("min_overall_accuracy", self.min_overall_accuracy, "an accuracy, e.g. 0.8 = 80%")
        if not isinstance(self.require_same_cases, bool):
            raise ConfigError(f"gate option require_same_cases must be true or false, got {self.require_same_cases!r}")
        # Frozen all the way down: a verdict keeps its options, and nobody should edit them after the fact.
        object.__setattr__(self, "min_accuracy", MappingProxyType(dict(self.min_accuracy)))

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> GateOptions:
        """Options from the ``[tool.evalkit.gating.gate]`` table; an unknown key is an error, not ignored,
        because a misspelt threshold would otherwise silently not apply."""
        for key in raw:
            if key not in GATE_KEYS:
                raise ConfigError(
                    f"[tool.evalkit.gating.gate] {key!r} is not a gate option. Valid options: {', '.join(GATE_KEYS)}."
                )
        return cls(**dict(raw))

    def with_overrides(self, **changes: Any) -> GateOptions:
        """A copy with the CLI's options applied; ``None`` means "not given", keep the config's value."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _check_fraction(name: str, value: Any, meaning: str) -> None:
    # bool is an int in Python; `max_drop = true` is a mistake, not 1.0. And `max_drop = 5` most likely
    # means 5 points, which is 0.05: refuse it rather than accept a gate that can never fail.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"gate option {name} must be a number from 0 to 1 ({meaning}), got {value!r}")


# the verdict


@dataclass(frozen=True)
class CaseRef:
    """One paired unit: a case of a suite, for one model, at one tool count (all its trials)."""

    model: str
    suite: str
    case_id: str
    tool_count: int | None = None

    @property
    def label(self) -> str:
        return f"{self.suite}/{self.case_id}" + (f" @{self.tool_count} tools" if self.tool_count is not None else "")


@dataclass(frozen=True)
class Flip:
    """A paired case whose pass rate changed; with one trial a rate is 0 or 1, so this is a pass↔fail flip."""

    case: CaseRef
    baseline_passes: int
    baseline_trials: int
    current_passes: int
    current_trials: int
    failures: tuple[tuple[str, str], ...] = ()  # the current run's (kind, explanation), for a reader of a regression

    @property
    def baseline_rate(self) -> float:
        return self.baseline_passes / self.baseline_trials

    @property
    def current_rate(self) -> float:
        return self.current_passes / self.current_trials

    @property
    def worse(self) -> bool:
        return self.current_passes * self.baseline_trials < self.baseline_passes * self.current_trials

    @property
    def direction(self) -> str:
        if self.baseline_trials == self.current_trials == 1:
            return "pass→fail" if self.worse else "fail→pass"
        return f"{self.baseline_passes}/{self.baseline_trials}→{self.current_passes}/{self.current_trials}"


@dataclass(frozen=True)
class ErroredJob:
    """A job that errored (HTTP error, cassette miss…): listed, and left out of the test."""

    side: str  # "current" | "baseline"
    case: CaseRef
    trial: int
    explanation: str


@dataclass(frozen=True)
class ModelStats:
    """The test for one model (or ``(all)``, every model pooled) over its paired cases."""

    model: str
    n_paired: int
    baseline_accuracy: float  # mean per-case pass rate (= plain accuracy with one trial)
    current_accuracy: float
    b: int  # pass→fail (with trials: cases whose pass rate fell)
    c: int  # fail→pass (with trials: cases whose pass rate rose)
    p_value: float  # one-sided: P(X ≥ b | n = b + c, p = 1/2)
    regressed: bool = False

    @property
    def delta(self) -> float:
        return self.current_accuracy - self.baseline_accuracy


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: tuple[str, ...]  # one line each: why it failed (or, when it passed, why each model passed)
    models: tuple[ModelStats, ...]  # per model; then (all) when there is more than one model
    flips: tuple[Flip, ...]  # worse first
    only_in_current: tuple[CaseRef, ...]
    only_in_baseline: tuple[CaseRef, ...]
    errors: tuple[ErroredJob, ...]
    options: GateOptions
    trials: bool  # True when some case had several trials: rates and the sign test were compared
    current_run: str = ""
    baseline_run: str = ""
    failed_checks: tuple[str, ...] = ()  # what failed, in words: "regression", "below an accuracy floor"…

    @property
    def headline(self) -> str:
        """``PASS: no regression``, or ``FAIL:`` and what failed (``regression``, ``below an accuracy
        floor``, ``nothing compared``, ``different cases``): a floor missed is not a regression."""
        return "PASS: no regression" if self.passed else f"FAIL: {', '.join(self.failed_checks) or 'regression'}"

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    @property
    def regressions(self) -> tuple[Flip, ...]:
        return tuple(f for f in self.flips if f.worse)

    @property
    def improvements(self) -> tuple[Flip, ...]:
        return tuple(f for f in self.flips if not f.worse)

    @property
    def test(self) -> str:
        if self.trials:
            return (
                "one-sided exact sign test on per-case pass-rate changes (McNemar's test when each case has one trial)"
            )
        return "one-sided exact McNemar test on discordant pairs"


# pairing and counting


@dataclass(frozen=True)
class _Tally:
    """A case's scored trials on one side (errored trials are not scored)."""

    passes: int
    trials: int
    failures: tuple[tuple[str, str], ...]


def _group(run: RunResult) -> dict[PairKey, list[CaseResult]]:
    groups: dict[PairKey, list[CaseResult]] = {}
    for job in run.jobs:
        groups.setdefault((job.model, job.suite, job.case_id, job.tool_count), []).append(job)
    return groups


def _tally(jobs: list[CaseResult]) -> _Tally:
    scored = [j for j in jobs if j.status != "error"]
    failures = (f for j in scored if not j.passed for f in (j.failures or (("failed", "no scorer explained it"),)))
    return _Tally(sum(j.passed for j in scored), len(scored), tuple(dict.fromkeys(failures)))


def _errored(run: RunResult, side: str) -> list[ErroredJob]:
    return [
        ErroredJob(
            side,
            CaseRef(j.model, j.suite, j.case_id, j.tool_count),
            j.trial,
            j.failures[0][1] if j.failures else "error",
        )
        for j in run.jobs
        if j.status == "error"
    ]


def _flip(key: PairKey, base: _Tally, cur: _Tally) -> Flip | None:
    if cur.passes * base.trials == base.passes * cur.trials:
        return None
    flip = Flip(CaseRef(*key), base.passes, base.trials, cur.passes, cur.trials)
    return replace(flip, failures=cur.failures) if flip.worse else flip


def _stats(model: str, pairs: list[tuple[_Tally, _Tally]], options: GateOptions) -> ModelStats:
    n = len(pairs)
    base_acc = sum(b.passes / b.trials for b, _ in pairs) / n if n else math.nan
    cur_acc = sum(c.passes / c.trials for _, c in pairs) / n if n else math.nan
    worse = sum(c.passes * b.trials < b.passes * c.trials for b, c in pairs)
    better = sum(c.passes * b.trials > b.passes * c.trials for b, c in pairs)
    p = mcnemar_one_sided(worse, better)
    stats = ModelStats(model, n, base_acc, cur_acc, worse, better, p)
    return replace(stats, regressed=_significant(stats, options) or _too_big_a_drop(stats, options))


def _significant(s: ModelStats, options: GateOptions) -> bool:
    return s.p_value < options.alpha and s.b > s.c


def _too_big_a_drop(s: ModelStats, options: GateOptions) -> bool:
    return s.n_paired > 0 and -s.delta > options.max_drop + _EPS


# the gate


def gate(current: RunResult, baseline: RunResult, options: GateOptions | None = None) -> Verdict:
    """Compare ``current`` with ``baseline``; the verdict says whether tool calling got worse, and why."""
    options = options or GateOptions()
    cur_groups, base_groups = _group(current), _group(baseline)
    cur = {k: _tally(v) for k, v in cur_groups.items()}
    base = {k: _tally(v) for k, v in base_groups.items()}
    # A case pairs when both sides have at least one scored trial; all-errored cases are in `errors`.
    paired = [k for k in cur if k in base and cur[k].trials and base[k].trials]
    models = list(dict.fromkeys([*current.models, *baseline.models]))
    stats = [_stats(m, [(base[k], cur[k]) for k in paired if k[0] == m], options) for m in models]
    if len(models) > 1:
        stats.append(_stats(ALL_MODELS, [(base[k], cur[k]) for k in paired], options))
    floors = _floor_reasons(current, baseline, options)
    stats = [replace(s, regressed=True) if floors.get(s.model) else s for s in stats]
    only_cur = tuple(CaseRef(*k) for k in cur_groups if k not in base_groups)
    only_base = tuple(CaseRef(*k) for k in base_groups if k not in cur_groups)
    trials = any(cur[k].trials > 1 or base[k].trials > 1 for k in paired)
    failing = _failing_reasons(current, baseline, stats, floors, (only_cur, only_base), options, trials)
    flips = [f for k in paired if (f := _flip(k, base[k], cur[k]))]
    return Verdict(
        passed=not failing,
        reasons=tuple([reason for _, reason in failing] or [_pass_reason(s, options, trials) for s in stats]),
        models=tuple(stats),
        flips=tuple(sorted(flips, key=lambda f: not f.worse)),  # stable: worse first, run order within
        only_in_current=only_cur,
        only_in_baseline=only_base,
        errors=tuple(_errored(current, "current") + _errored(baseline, "baseline")),
        options=options,
        trials=trials,
        current_run=current.run_id,
        baseline_run=baseline.run_id,
        failed_checks=tuple(dict.fromkeys(check for check, _ in failing)),  # for the headline, each once
    )


def _failing_reasons(
    current: RunResult,
    baseline: RunResult,
    stats: list[ModelStats],
    floors: dict[str, list[str]],
    missing: tuple[tuple[CaseRef, ...], tuple[CaseRef, ...]],
    options: GateOptions,
    trials: bool,
) -> list[tuple[str, str]]:
    """Why the gate fails, a line each, with the check that failed (``regression``, ``below an
    accuracy floor``, ``nothing compared``, ``different cases``); empty when it passes."""
    reasons: list[tuple[str, str]] = []
    for s in stats:
        if _significant(s, options):
            reasons.append(("regression", _significance_reason(s, options, trials)))
        if _too_big_a_drop(s, options):
            drop = (
                f"{s.model}: accuracy fell from {format_pct(s.baseline_accuracy)} to {format_pct(s.current_accuracy)} on "
                f"{s.n_paired} paired cases, a drop of {format_points(-s.delta)} > max_drop {format_points(options.max_drop)}"
            )
            reasons.append(("regression", drop))
        reasons += [("below an accuracy floor", floor) for floor in floors.get(s.model, [])]
    reasons += [("nothing compared", r) for r in _nothing_compared(current, baseline, stats)]
    only_cur, only_base = missing
    if options.require_same_cases and (only_cur or only_base):
        different = (
            f"the runs hold different cases ({len(only_cur)} only in current, {len(only_base)} only in baseline) "
            "and require_same_cases is set"
        )
        reasons.append(("different cases", different))
    return reasons


def _significance_reason(s: ModelStats, options: GateOptions, trials: bool) -> str:
    if trials:
        return (
            f"{s.model}: pass rate fell on {s.b} cases and rose on {s.c} of {s.n_paired} paired, "
            f"one-sided exact sign test p = {format_p(s.p_value)} < alpha {options.alpha:g}"
        )
    return (
        f"{s.model}: {s.b} pass→fail vs {s.c} fail→pass of {s.n_paired} paired cases, "
        f"one-sided exact McNemar p = {format_p(s.p_value)} < alpha {options.alpha:g}"
    )


def _pass_reason(s: ModelStats, options: GateOptions, trials: bool) -> str:
    if not s.n_paired:  # a model new in the current run (or dropped from it): its cases are listed as missing
        return f"{s.model}: not compared: no case of it is in both runs"
    change = f"pass rate fell on {s.b}, rose on {s.c}" if trials else f"{s.b} pass→fail, {s.c} fail→pass"
    return (
        f"{s.model}: no regression: {change} of {s.n_paired} paired cases (p = {format_p(s.p_value)}); "
        f"accuracy {format_pct(s.baseline_accuracy)} → {format_pct(s.current_accuracy)}, within max_drop {format_points(options.max_drop)}"
    )


def _nothing_compared(current: RunResult, baseline: RunResult, stats: list[ModelStats]) -> list[str]:
    """A model present in both runs must have something to compare; so must the gate as a whole."""
    both = set(current.models) & set(baseline.models)
    reasons = [
        f"{s.model}: no case could be paired with the baseline (errored on a side, or renamed); nothing was compared"
        for s in stats
        if s.model in both and s.n_paired == 0
    ]
    if not any(s.n_paired for s in stats) and not reasons:
        reasons.append(
            f"no case could be paired: the current run ({', '.join(current.models) or 'no jobs'}) and the baseline "
            f"({', '.join(baseline.models) or 'no jobs'}) share no scored case; nothing was compared"
        )
    return reasons


def _floor_reasons(current: RunResult, baseline: RunResult, options: GateOptions) -> dict[str, list[str]]:
    """Per model, the minimum accuracies it misses. Floors hold for the current run as it stands:
    every scored job counts, paired or not, because a floor is about today's quality, not the change."""
    _check_floor_suites(current, baseline, options)
    reasons: dict[str, list[str]] = {}
    for model in current.models:
        jobs = [j for j in current.jobs if j.model == model]
        for suite, minimum in options.min_accuracy.items():
            suite_jobs = [j for j in jobs if j.suite == suite]
            if suite_jobs:
                reasons.setdefault(model, []).extend(
                    _below(f"{model} {suite}", suite_jobs, minimum, f"its min_accuracy {format_pct(minimum)}")
                )
            elif any(j.model == model and j.suite == suite for j in baseline.jobs):
                reasons.setdefault(model, []).append(
                    f"{model} {suite}: suite absent from the current run, but it has min_accuracy {format_pct(minimum)}"
                )
        if options.min_overall_accuracy is not None:
            reasons.setdefault(model, []).extend(
                _below(
                    model,
                    jobs,
                    options.min_overall_accuracy,
                    f"min_overall_accuracy {format_pct(options.min_overall_accuracy)}",
                )
            )
    return {m: r for m, r in reasons.items() if r}


def _below(what: str, jobs: Iterable[CaseResult], minimum: float, rule: str) -> list[str]:
    scored = [j for j in jobs if j.status != "error"]
    if not scored:
        return [f"{what}: no scored job (all errored) to hold to {rule}"]
    passes, n = sum(j.passed for j in scored), len(scored)
    if passes / n < minimum - _EPS:
        return [f"{what}: accuracy {format_pct(passes / n)} ({passes}/{n}) is below {rule}"]
    return []


def _check_floor_suites(current: RunResult, baseline: RunResult, options: GateOptions) -> None:
    # A suite that neither run knows is a typo in the config; ignoring it would disable the floor.
    known = {j.suite for j in current.jobs} | {j.suite for j in baseline.jobs}
    for suite in options.min_accuracy:
        if suite not in known:
            raise ConfigError(
                f"gate min_accuracy names suite {suite!r}, which neither run has. Suites: {', '.join(sorted(known)) or '(none)'}."
            )


def format_pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.1f}%"


def format_points(fraction: float) -> str:
    return f"{100 * fraction:.1f} points"


def format_p(p: float) -> str:
    return f"{p:.3g}"
