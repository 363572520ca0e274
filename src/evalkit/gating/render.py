"""Rendering a :class:`~evalkit.gating.gate.Verdict` as text (the terminal) and markdown (a PR comment,
``$GITHUB_STEP_SUMMARY``). Nothing here decides anything: the verdict is made by :mod:`.gate`."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from .gate import CaseRef, ErroredJob, Flip, Verdict, format_p, format_pct, format_points

# rendering


_LIST_LIMIT = 30  # rows per list in the terminal; markdown shows more, folded


def _stats_rows(verdict: Verdict) -> tuple[list[str], list[list[Any]]]:
    from ..reporting.tables import MISSING

    def pct(value: float) -> str:
        return MISSING if math.isnan(value) else format_pct(value)

    worse, better = ("rate↓ (b)", "rate↑ (c)") if verdict.trials else ("pass→fail (b)", "fail→pass (c)")
    headers = ["model", "paired", "baseline", "current", "Δ points", worse, better, "p (one-sided)", "result"]
    # A model not compared has no accuracy and no test: an en dash, as the run report marks what does
    # not apply (the test of no pairs would print p = 1, as if it had found nothing wrong).
    rows = [
        [
            s.model,
            s.n_paired,
            pct(s.baseline_accuracy),
            pct(s.current_accuracy),
            MISSING if math.isnan(s.delta) else f"{100 * s.delta:+.1f}",
            s.b,
            s.c,
            format_p(s.p_value) if s.n_paired else MISSING,
            "REGRESSION" if s.regressed else "ok" if s.n_paired else "not compared",
        ]
        for s in verdict.models
    ]
    return headers, rows


def _flip_rows(flips: Iterable[Flip], *, why: bool) -> list[list[str]]:
    return [
        [f.case.model, f.case.label, f.direction]
        + (["; ".join(f"{kind}: {text}" for kind, text in f.failures)] if why else [])
        for f in flips
    ]


def _error_rows(errors: Iterable[ErroredJob]) -> list[list[str]]:
    return [
        [e.side, e.case.model, e.case.label + (f" #{e.trial}" if e.trial > 1 else ""), e.explanation] for e in errors
    ]


def _ref_rows(refs: Sequence[CaseRef], verdict: Verdict) -> list[list[str]]:
    """A row a case; a model that has no paired case at all (it ran on one side only) is one row, not
    one per case: a run of one model against a baseline of four listed some 200 cases."""
    alone = Counter(r.model for r in refs if r.model in {s.model for s in verdict.models if s.n_paired == 0})
    rows: list[list[str]] = []
    for ref in refs:  # a model's row where its first case stood
        if ref.model not in alone:
            rows.append([ref.model, ref.label])
        elif alone[ref.model]:
            rows.append([ref.model, f"all its cases ({alone[ref.model]}): the model has no case in both runs"])
            alone[ref.model] = 0  # shown: its other cases add no row
    return rows


def _headline(verdict: Verdict) -> str:
    return f"{verdict.headline} (current {verdict.current_run} vs baseline {verdict.baseline_run})"


def _sections(verdict: Verdict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headers, rows) of every list the verdict carries, empty ones included so a reader sees 0."""
    missing_note = (
        "fails the gate" if verdict.options.require_same_cases else "reported only; require_same_cases is off"
    )
    return [
        (
            f"Got worse ({len(verdict.regressions)})",
            ["model", "case", "change", "current failure"],
            _flip_rows(verdict.regressions, why=True),
        ),
        (
            f"Got better ({len(verdict.improvements)})",
            ["model", "case", "change"],
            _flip_rows(verdict.improvements, why=False),
        ),
        (
            f"Only in current ({len(verdict.only_in_current)}; {missing_note})",
            ["model", "case"],
            _ref_rows(verdict.only_in_current, verdict),
        ),
        (
            f"Only in baseline ({len(verdict.only_in_baseline)}; {missing_note})",
            ["model", "case"],
            _ref_rows(verdict.only_in_baseline, verdict),
        ),
        (
            f"Errored jobs, left out of the test ({len(verdict.errors)})",
            ["side", "model", "case", "error"],
            _error_rows(verdict.errors),
        ),
    ]


def _options_line(verdict: Verdict) -> str:
    o = verdict.options
    floors = ", ".join(f"{s} ≥ {format_pct(m)}" for s, m in o.min_accuracy.items())
    return (
        f"Test: {verdict.test}; alpha {o.alpha:g}; max_drop {format_points(o.max_drop)}"
        + (f"; min_accuracy {floors}" if floors else "")
        + (f"; min_overall_accuracy {format_pct(o.min_overall_accuracy)}" if o.min_overall_accuracy is not None else "")
        + ("; require_same_cases" if o.require_same_cases else "")
    )


# The text table's headers, short enough that it fits 100 columns; a legend under it spells them out.
_TEXT_HEADERS = {"paired": "n", "Δ points": "Δ", "p (one-sided)": "p"}


def render_verdict_text(verdict: Verdict, *, limit: int | None = _LIST_LIMIT, width: int | None = None) -> str:
    """The verdict for a terminal: headline, reasons, the per-model table, then each non-empty list,
    folded to ``width`` columns (default: the terminal's, 100 when not a terminal). The tables are
    the run report's (rich, folded to the width: reporting/terminal.py)."""
    import textwrap

    from ..reporting.console import console_text, plain, print_legend, text_console
    from ..reporting.terminal import terminal_width

    width = width or terminal_width()
    headers, rows = _stats_rows(verdict)
    worse, better = headers[5], headers[6]  # "pass→fail (b)", "fail→pass (c)" (rates with trials)
    headers = [_TEXT_HEADERS.get(h, h) for h in headers]
    headers[5:7] = ["worse", "better"]  # spelt out in the legend
    legend = (
        f"n: cases in both runs; Δ: points; worse: {worse}; better: {better}; "
        f"p: {verdict.test}, alpha {verdict.options.alpha:g}"
    )
    lines = [
        *textwrap.wrap(plain(_headline(verdict)), width, subsequent_indent="  "),
        *(
            line
            for r in verdict.reasons
            for line in textwrap.wrap(plain(r), width, initial_indent="  - ", subsequent_indent="    ")
        ),
        "",
    ]
    console = text_console(width)
    _stats_tables(console, headers, rows)
    print_legend(console, legend)
    console.print()
    print_legend(console, _options_line(verdict))
    for title, section_headers, section_rows in _sections(verdict):
        if not section_rows:
            continue
        shown = section_rows if limit is None else section_rows[:limit]
        console.print()
        _section(console, title, section_headers, shown)
        if len(shown) < len(section_rows):
            print_legend(console, f"… and {len(section_rows) - len(shown)} more (the markdown report lists them all)")
    return "\n".join(lines) + "\n" + console_text(console)


def _stats_tables(console: Any, headers: list[str], rows: list[list[Any]]) -> None:
    """The per-model table whole when it fits; else in two (the counts, then the test), as the run
    report splits its scores; a half too wide still goes on below itself (print_table)."""
    from ..reporting.console import fits, plain_table, print_table

    whole = [plain_table(headers, rows, right=_RIGHT), plain_table(headers, rows, right=_RIGHT, tight=True)]
    fitting = next((table for table in whole if fits(console, table)), None)
    if fitting is not None:
        console.print(fitting)
        return
    for n, keep in enumerate(([0, 1, 2, 3, 4], [0, 5, 6, 7, 8])):
        if n:
            console.print()
        print_table(console, None, [headers[i] for i in keep], [[r[i] for i in keep] for r in rows],
             right=[i for i, column in enumerate(keep) if column in _RIGHT])  # fmt: skip


def _section(console: Any, title: str, headers: list[str], rows: list[list[str]]) -> None:
    """A list of the verdict as a table whose names stay whole and whose last column (a failure, an
    error, a case, a change) wraps; when that column would get under what it needs there (30 columns
    for a failure or an error, else its longest word: a case id whole), each row is a line of names
    with the last cell indented under it: easier to read than a column of fragments, and no id cut."""
    from rich.cells import cell_len
    from rich.padding import Padding
    from rich.text import Text

    from ..reporting.console import plain, print_legend, print_table

    last = len(headers) - 1
    names = sum(max(cell_len(str(cell)) for cell in [headers[i], *(r[i] for r in rows)]) for i in range(last))
    prose = headers[-1] in ("current failure", "error")
    longest = max((cell_len(word) for r in [headers, *rows] for word in str(r[-1]).split()), default=0)
    if console.width - names - 2 * last >= (30 if prose else longest):
        print_table(console, title + ":", headers, rows, left=len(headers), wrap=[last])
        return
    # Indented by 4, or less where a case id would not fit whole after 4 (a call in a failure folds).
    indent = 4 if prose else max(0, min(4, console.width - longest))
    print_legend(console, title + ":")
    for row in rows:
        print_legend(console, "  ".join(plain(str(cell)) for cell in row[:last]))
        console.print(Padding(Text(plain(str(row[last])), overflow="fold"), (0, 0, 0, indent)))


_RIGHT = (1, 2, 3, 4, 5, 6, 7)  # the per-model table's numbers; the model and the result read left


def render_verdict_markdown(verdict: Verdict, *, limit: int = 200) -> str:
    """The verdict as GitHub-flavoured markdown, for a PR comment or ``$GITHUB_STEP_SUMMARY``.

    Long lists fold into ``<details>`` so the headline and reasons stay on screen; ``limit`` rows per
    list keep it short (a PR comment holds at most 65,536 characters; the step summary 1 MiB)."""
    from ..reporting.tables import markdown_cell, markdown_table

    icon = "✅" if verdict.passed else "❌"
    headers, rows = _stats_rows(verdict)
    lines = [
        f"## {icon} evalkit gate: {_headline(verdict)}",
        "",
        *(f"- {markdown_cell(r)}" for r in verdict.reasons),
        "",
        markdown_table(rows, headers),  # unpadded: a PR comment holds at most 65,536 characters
        "",
        f"_{markdown_cell(_options_line(verdict))}_",
    ]
    for title, section_headers, section_rows in _sections(verdict):
        if not section_rows:
            continue
        shown = section_rows[:limit]
        lines += [
            "",
            f"<details{' open' if title.startswith('Got worse') else ''}><summary>{title}</summary>",
            "",
            markdown_table(shown, section_headers),
            "",
        ]
        if len(shown) < len(section_rows):
            lines += [f"… and {len(section_rows) - len(shown)} more.", ""]
        lines.append("</details>")
    return "\n".join(lines) + "\n"
