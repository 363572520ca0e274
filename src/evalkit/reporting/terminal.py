"""The terminal view of a run (``evalkit run``, ``evalkit report``): rich tables that fold to the width.

Summary first, details after: accuracy per model with its interval (and latency, tokens, cost when
known), then what only some runs have (paired tests between models, the tool-count curve, trials),
then each model's scores per suite, the cases the models disagree on, and the failures. A column
that would be empty for this run (no sweep, no trials, no errors, no price) is not drawn. Plain
text, no colour: the output is read in CI logs as often as in a terminal, and must survive a pipe.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from ..results import RunResult
from ..words import plural
from .console import (
    console_text,
    fits,
    plain,
    plain_table,
    print_fitting,
    print_legend,
    print_table,
    table_parts,
    text_console,
)
from .numbers import has_sweep, ran_trials
from .tables import (
    MISSING,
    TOOL_COUNT_HEADERS,
    ci_text,
    failure_rows,
    model_legend,
    model_prices,
    model_rows,
    model_table,
    pct,
    present_scores,
    shared_frame,
    summary_table,
    tool_count_rows,
)

if TYPE_CHECKING:
    from rich.console import Console

# Score headers short enough for 100 columns; a space lets a narrow terminal wrap them onto two lines.
SHORT_LABELS = {
    "selection": "select",
    "validity": "valid",
    "correctness": "args",
    "coverage": "cover",
    "no_call": "no call",
    "no_hallucination": "no hal.",
    "no_forbidden": "no forb.",
    "finish": "finish",
    "trajectory": "traj.",
    "answer": "answer",
    "loop": "loop",
}
SHORT_MEANINGS = {
    "selection": "right functions called",
    "validity": "arguments valid against the schema",
    "correctness": "arguments as expected",
    "coverage": "share of expected calls made",
    "no_call": "no call where none was expected",
    "no_hallucination": "no call to a function not offered",
    "no_forbidden": "no call matched a forbid rule",
    "finish": "reply not cut off, no call written as text",
    "trajectory": "share of the loop's expected calls made",
    "answer": "final answer's checks passed",
    "loop": "loop ended with an answer, no call repeated",
}
DEFAULT_WIDTH = 100  # when the output is not a terminal and $COLUMNS is not set (CI logs, pipes)
MIN_WIDTH = 40


def terminal_width() -> int:
    """$COLUMNS, else the terminal's width, else 100 (a pipe, a CI log)."""
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def render_run(run: RunResult, *, width: int | None = None, failure_limit: int | None = 30) -> str:
    """The whole terminal report as text no wider than ``width`` (default :func:`terminal_width`).
    ``failure_limit`` caps the failures listed (None or negative: all; 0: none)."""
    console = text_console(width or terminal_width())
    if not run.jobs:
        console.print("No jobs in this run.")
        return console_text(console)
    _models(console, run)
    compared = len(run.models) > 1 and _paired(console, run)
    if has_sweep(run):
        _curve(console, run)
    if run.config.get("trials", 1) > 1 or ran_trials(run):
        _trials(console, run)
    _suites(console, run)
    _bfcl_modes(console, run)
    if compared:
        _disagreements(console, run)
    if failure_limit != 0:
        _failures(console, run, failure_limit)
    return console_text(console)


def _models(console: Console, run: RunResult) -> None:
    headers, rows = model_rows(model_table(run), model_prices(run))
    # Names do not wrap: "qwen2.5-coder-0" over ".5b" misreads; a narrow table goes on below instead.
    print_table(console, "Per model", headers, rows)
    print_legend(console, model_legend(headers))


def _paired(console: Console, run: RunResult) -> bool:
    """The paired tests between models; False when no job could be paired (nothing was compared)."""
    from .compare import paired_tests

    tests = paired_tests(run)
    console.print()
    if not int(tests["pairs"].sum()):
        print_legend(console, "No case was scored for two models, so the models were not compared.")
        return False
    title = "Paired tests: jobs both models were scored on, passed by one only"
    numbers = [[r["pairs"], r["a_only"], r["b_only"], f"{r['p_value']:.3g}"] for r in tests.to_dict("records")]
    pairs = [(str(r["model_a"]), str(r["model_b"])) for r in tests.to_dict("records")]
    one_line = [[a, b, *n] for (a, b), n in zip(pairs, numbers, strict=True)]
    two_lines = [[f"{a}\n  vs {b}", *n] for (a, b), n in zip(pairs, numbers, strict=True)]
    three_lines = [[f"{a}\n  vs\n{b}", *n] for (a, b), n in zip(pairs, numbers, strict=True)]
    wide_headers = ["model A", "model B", "pairs", "only A", "only B", "p"]
    narrow_headers = ["model A vs model B", "pairs", "only A", "only B", "p"]
    # The models side by side; in a narrower terminal, one under the other, then "vs" on a line of
    # its own: whichever takes the fewest tables (the first of those), each model name whole.
    print_fitting(
        console,
        title,
        table_parts(console, wide_headers, one_line, left=2),
        table_parts(console, narrow_headers, two_lines),
        table_parts(console, narrow_headers, three_lines),
    )
    print_legend(console, "p: exact McNemar test, two-sided; a small p says the gap is more than chance.")
    return True


def _disagreements(console: Console, run: RunResult) -> None:
    from .compare import case_differences

    diffs = case_differences(run)
    console.print()
    if diffs.empty:
        print_legend(console, "The models agree on every case both were scored on.")
        return
    sweep, trials = has_sweep(run), ran_trials(run)
    shown = diffs.head(20)
    console.print(f"Cases the models disagree on ({len(diffs)})")
    for r in shown.to_dict("records"):
        case = f"{r['suite']}/{r['case']}" + (f" @{r['tool_count']} tools" if sweep else "")
        case += f" #{r['trial']}" if trials and r["trial"] > 1 else ""
        verdicts = {m: str(r[m]) for m in run.models if str(r[m]) != MISSING}
        passed = ", ".join(m for m, v in verdicts.items() if v == "passed")
        other = ", ".join(f"{m} ({v.removeprefix('failed: ')})" for m, v in verdicts.items() if v != "passed")
        _wrapped(console, f"{case}: passed by {passed}; not by {other}")
    if len(diffs) > len(shown):
        print_legend(console, f"… and {len(diffs) - len(shown)} more: see report.html")


def _wrapped(console: Console, text: str) -> None:
    """An item of a list: indented, its continuation lines indented further."""
    import textwrap

    for line in textwrap.wrap(
        plain(text), width=console.width, initial_indent="  ", subsequent_indent="      ", break_on_hyphens=False
    ):
        console.print(line, overflow="fold")


def _curve(console: Console, run: RunResult) -> None:
    console.print()
    # a row is a model at a tool count: a table going on below names both
    print_table(console, "Accuracy vs offered tools", TOOL_COUNT_HEADERS, tool_count_rows(run), labels=2)


def _bfcl_modes(console: Console, run: RunResult) -> None:
    """BFCL suites: evalkit's default verdict and BFCL's side by side, and why they differ."""
    from .modes import modes_rows, reason_counts

    rows = modes_rows(run)
    if not rows:
        return
    console.print()
    print_table(
        console,
        "BFCL suites: evalkit's verdict (default) and BFCL's (bfcl mode)",
        ["model", "suite", "n", "default", "bfcl mode", "verdicts differ"],
        [
            [r["model"], r["suite"], r["n"], pct(r["default"] / r["n"]), pct(r["bfcl"] / r["n"]), r["differ"]]
            for r in rows
        ],
        left=2,
    )
    counts = reason_counts(run)
    if counts:
        console.print()
        print_table(
            console,
            "Why verdicts differ",
            ["reason", "which verdict passes", "jobs"],
            [[reason, side, n] for (reason, side), n in counts.most_common()],
            left=2,
            wrap=(0,),
        )


def _trials(console: Console, run: RunResult) -> None:
    from ..gating.trials import TRIAL_HEADERS, TRIALS_LEGEND, flaky_rows, trial_rows

    rows = trial_rows(run)
    errors = any(r[-1] for r in rows)
    keep = [i for i in range(1, len(TRIAL_HEADERS)) if errors or TRIAL_HEADERS[i] != "errors"]
    for model in run.models:
        mine = [[r[i] for i in keep] for r in rows if r[0] == model]
        if mine:
            console.print()
            print_table(console, f"{model}: trials", [TRIAL_HEADERS[i] for i in keep], mine)
    print_legend(console, TRIALS_LEGEND)
    flaky = flaky_rows(run)
    console.print()
    if not flaky:
        print_legend(console, "No flaky cases: every case passed all or none of its trials.")
        return
    several = len(run.models) > 1
    shown = flaky[:30]
    print_table(
        console,
        f"Flaky cases ({len(flaky)}), closest to a coin flip first",
        ["case", "passed", *(["model"] * several)],
        [[case, passed, *([model] * several)] for model, case, passed in shown],
    )
    if len(flaky) > len(shown):
        print_legend(console, f"… and {len(flaky) - len(shown)} more: see summary.md")


def _suites(console: Console, run: RunResult) -> None:
    table = summary_table(run)
    present = present_scores(table)
    errors = bool(table["errors"].astype(bool).any())
    headers = ["suite", "n", "pass", "95% CI", *(SHORT_LABELS[c] for c in present), *(["errors"] * errors)]
    for model in run.models:
        rows = [
            [
                r["suite"],
                r["n"],
                pct(r["accuracy"]),
                ci_text(r),
                *(pct(r[c]) for c in present),
                *([r["errors"] or ""] * errors),
            ]
            for r in table[table["model"] == model].to_dict("records")
        ]
        console.print()
        title = f"{model}: per suite"
        if fits(console, plain_table(headers, rows, tight=True)):
            print_table(console, title, headers, rows)
            continue
        # Too narrow for every score in one table: the scores go on in a second table (and each half
        # in further ones below it, print_table's way, when it is too wide too).
        half = 4 + (len(headers) - 4 + 1) // 2
        print_table(console, title, headers[:half], [r[:half] for r in rows])
        print_table(console, None, headers[:1] + headers[half:], [r[:1] + r[half:] for r in rows])
    if present:  # no score column when every job errored
        print_legend(
            console,
            "Scores are means over the jobs each applies to (– where none does): "
            + "; ".join(f"{SHORT_LABELS[c]}: {SHORT_MEANINGS[c]}" for c in present)
            + ".",
        )


def _failures(console: Console, run: RunResult, limit: int | None) -> None:
    """One line per failure, ``case  kind: why``, wrapped under itself: the explanation gets the width."""
    rows = failure_rows(run)
    console.print()
    if not rows:
        console.print("No failures.")
        return
    shown = rows if limit is None or limit < 0 else rows[:limit]
    jobs = len({(r[0], r[1]) for r in rows})  # report.html counts these: the jobs that did not pass
    # Errored jobs (HTTP errors, cassette misses, unreadable replies) are listed with their reason
    # too, but they were not scored: say how many, so they are not read as the model's failures.
    errors = int(shared_frame(run)["error"].sum())
    more = f" (the first {len(shown)} here; all in summary.md)" if len(shown) < len(rows) else ""
    console.print(f"Failures: {plural(len(rows), 'reason')} in {plural(jobs, 'job')} that did not pass{more}")
    if errors:
        console.print(f"Of those, {plural(errors, 'job')} errored: no readable reply, so not scored.")
    for model in dict.fromkeys(r[0] for r in shown):
        console.print(f"{model}:")
        for _, case, kind, why in (r for r in shown if r[0] == model):
            _wrapped(console, f"{case}  {kind}: {why}")
