"""report.html: one self-contained file (plots as data: URIs, inline CSS, no script, no network).

Self-contained because the report travels: a CI artifact, an e-mail attachment, a file opened years
later offline. Every string that came from a run (model output above all) is HTML-escaped, and a
Content-Security-Policy forbids scripts and remote loads, so a ``<script>`` a model produced is
shown as text and could not run even if an escape were missed.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..results import CaseResult, RunResult
from .compare import (
    METRIC_LABELS,
    accuracy_by_tool_count,
    accuracy_cell,
    case_differences,
    compare_models,
    paired_sentence,
    paired_tests,
)
from .tables import SCORE_COLUMNS, pct, summary_table

if TYPE_CHECKING:
    import pandas as pd

# Lists longer than this start collapsed, so a 1,000-job report opens on its summary.
OPEN_LIMIT = 25
OPEN_JOBS_LIMIT = 10  # this few failures: show each one's calls without a click
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
:root { --fg:#1d232a; --muted:#5b6570; --line:#d9dee3; --head:#f3f5f7; --pass:#1a7f37; --fail:#c62828; --err:#9a6700; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--fg); margin: 0; background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.muted, .note { color: var(--muted); } .note { font-size: 13px; margin: 4px 0 10px; }
nav { font-size: 13px; margin: 8px 0 0; } nav a { margin-right: 14px; color: #0b5cad; text-decoration: none; }
.kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.kpi b { display: block; font-size: 20px; } .kpi span { color: var(--muted); font-size: 12px; }
dl.config { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; font-size: 13px; }
dl.config dt { color: var(--muted); } dl.config dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-height: 640px; overflow-y: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 4px 10px; text-align: left; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
th { background: var(--head); position: sticky; top: 0; z-index: 1; font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; } tr.block td { border-top: 2px solid #b8c0c8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: var(--pass); } .failed { color: var(--fail); } .error { color: var(--err); }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; font-weight: 600; color: #fff; }
.badge.failed { background: var(--fail); } .badge.error { background: var(--err); }
figure { margin: 8px 0; } figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { font-size: 12px; color: var(--muted); }
details { margin: 4px 0; } summary { cursor: pointer; }
details.model > summary { font-weight: 600; font-size: 15px; padding: 4px 0; }
details.job { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; }
details.job[open] { background: #fcfcfd; } details.job ul { margin: 6px 0; padding-left: 20px; }
.calls { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; margin: 6px 0; }
.calls h4 { margin: 0 0 2px; font-size: 12px; color: var(--muted); font-weight: 600; }
pre { margin: 0; padding: 6px 8px; background: #f6f8fa; border-radius: 4px; font-size: 12px; white-space: pre-wrap;
      overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
"""


class Html(str):
    """Markup built here from escaped parts; table cells of any other type are escaped."""


def _cell(value: Any) -> str:
    if isinstance(value, Html):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return escape(str(value))


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Iterable[int] = (),
    row_classes: Sequence[str] = (),
) -> Html:
    numeric = set(numeric)
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = []
    for r, row in enumerate(rows):
        tr = f' class="{row_classes[r]}"' if r < len(row_classes) and row_classes[r] else ""
        cells = "".join(f"<td{' class=num' if i in numeric else ''}>{_cell(v)}</td>" for i, v in enumerate(row))
        body.append(f"<tr{tr}>{cells}</tr>")
    return Html(
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
    )


def _frame_table(frame: pd.DataFrame, *, numeric: Iterable[int] = (), block_column: str | None = None) -> Html:
    """A DataFrame as a table; with ``block_column``, a repeated value is blanked and a rule drawn where it changes."""
    rows: list[list[Any]] = []
    classes: list[str] = []
    previous: object = object()
    for row in frame.itertuples(index=False):
        cells = list(row)
        if block_column is not None:
            i = list(frame.columns).index(block_column)
            classes.append("block" if cells[i] != previous and rows else "")
            cells[i], previous = ("" if cells[i] == previous else cells[i]), cells[i]
        rows.append(cells)
    return _table([str(c) for c in frame.columns], rows, numeric=numeric, row_classes=classes)


def _when(created: str) -> str:
    try:
        return datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M %Z").strip()
    except (TypeError, ValueError):
        return created


def _duration(seconds: float) -> str:
    minutes, rest = divmod(float(seconds or 0), 60)
    return f"{int(minutes)} min {rest:.0f} s" if minutes else f"{rest:.1f} s"


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_compact(v)}" for k, v in value.items())
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _config_list(config: dict[str, Any]) -> Html:
    """Every config key, generically, so a field added to results.json shows up without a change here."""
    items = []
    for key, value in config.items():
        if key == "models" and isinstance(value, list):
            text = "<br>".join(escape(_compact(m)) for m in value)
        elif key == "suites" and isinstance(value, dict):
            text = "<br>".join(escape(f"{name}: {_compact(info)}") for name, info in value.items())
        else:
            text = escape(_compact(value))
        items.append(f"<dt>{escape(str(key))}</dt><dd>{text}</dd>")
    return Html(f'<details open><summary>Configuration</summary><dl class="config">{"".join(items)}</dl></details>')


def _header(run: RunResult) -> Html:
    counts = {s: sum(j.status == s for j in run.jobs) for s in ("passed", "failed", "error")}
    kpis = [
        ("jobs", len(run.jobs)),
        ("passed", counts["passed"]),
        ("failed", counts["failed"]),
        ("errors", counts["error"]),
        ("run time", _duration(run.seconds)),
    ]
    boxes = "".join(f'<div class="kpi"><b>{escape(str(v))}</b><span>{escape(k)}</span></div>' for k, v in kpis)
    facts = (
        f"{escape(_when(run.created))} · models: {escape(', '.join(run.models) or 'none')} · "
        f"record mode: {escape(str(run.config.get('record_mode', '?')))} · results version {run.version}"
    )
    nav = "".join(
        f'<a href="#{a}">{t}</a>'
        for a, t in (
            ("curve", "Accuracy vs tools"),
            ("scores", "Scores"),
            ("compare", "Models"),
            ("suites", "Suites"),
            ("diffs", "Differences"),
            ("failures", "Failures"),
        )
    )
    return Html(
        f'<header><h1>evalkit run {escape(run.run_id)}</h1><div class="muted">{facts}</div><nav>{nav}</nav>'
        f'<div class="kpis">{boxes}</div>{_config_list(run.config)}</header>'
    )


def _image(png: bytes, alt: str) -> Html:
    data = base64.b64encode(png).decode("ascii")
    return Html(f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">')


def _plots_section(run: RunResult) -> Html:
    from .plots import figure_accuracy_vs_tools, figure_score_breakdown, has_sweep, png_bytes

    data = ""
    if has_sweep(run):  # without one, suites' own tool counts are no axis to tabulate
        curve = accuracy_by_tool_count(run)
        rows = [
            [
                r["model"],
                r["tool_count"],
                r["n"],
                accuracy_cell(r),
                r["errors"],
                "–" if math.isnan(r["prompt_tokens"]) else f"{r['prompt_tokens']:.0f}",
            ]
            for r in curve.to_dict("records")
        ]
        data = f"<details><summary>Curve data</summary>{_table(['model', 'tools', 'n', 'accuracy (95% CI)', 'errors', 'mean prompt tokens'], rows, numeric=range(1, 6))}</details>"
    return Html(
        '<section id="curve"><h2>Accuracy vs number of tools offered</h2>'
        '<p class="note">Accuracy = share of scored jobs passing every applicable check; errored jobs (HTTP, cassette miss) are left out of n.</p>'
        f"<figure>{_image(png_bytes(figure_accuracy_vs_tools(run)), 'Accuracy by number of offered tools, per model, with 95% Wilson intervals')}</figure>"
        f"{data}</section>"
        '<section id="scores"><h2>Scores per model</h2>'
        '<p class="note">Each score is a mean over the jobs it applies to (no-call only on cases expecting no call, and so on); "n/a" means no job applied.</p>'
        f"<figure>{_image(png_bytes(figure_score_breakdown(run)), 'Mean of each score per model')}</figure></section>"
    )


def _comparison_section(run: RunResult) -> Html:
    table = compare_models(run)
    tests = paired_tests(run)
    sentences = "".join(f"<li>{escape(paired_sentence(r))}</li>" for r in tests.to_dict("records"))
    paired = (
        f'<p class="note">Paired comparison on the same jobs (exact McNemar test):</p><ul class="note">{sentences}</ul>'
        if sentences
        else ""
    )
    return Html(
        f'<section id="compare"><h2>Models side by side</h2>{_frame_table(table, numeric=range(2, len(table.columns)), block_column="suite")}{paired}</section>'
    )


def _suite_section(run: RunResult) -> Html:
    table = summary_table(run)
    if table.empty:
        return Html('<section id="suites"><h2>Per suite</h2><p class="note">No jobs.</p></section>')
    present = [c for c in SCORE_COLUMNS if c in table and table[c].notna().any()]
    headers = ["model", "suite", "accuracy (95% CI)", *(METRIC_LABELS.get(c, c) for c in present), "errors"]
    rows, classes, previous = [], [], None
    for r in table.to_dict("records"):
        rows.append([r["model"], r["suite"], accuracy_cell(r), *[pct(r[c]) for c in present], r["errors"]])
        classes.append("block" if previous not in (None, r["model"]) else "")  # a rule between models
        previous = r["model"]
    return Html(
        f'<section id="suites"><h2>Per model and suite</h2>{_table(headers, rows, numeric=range(2, len(headers)), row_classes=classes)}</section>'
    )


def _verdict_cell(text: str) -> Html:
    status = text.split(":", 1)[0]
    css = status if status in ("passed", "failed", "error") else "muted"
    return Html(f'<span class="{css}">{escape(text)}</span>')


def _differences_section(run: RunResult) -> Html:
    title = '<section id="diffs"><h2>Cases where the models disagree</h2>'
    if len(run.models) < 2:
        return Html(f'{title}<p class="note">One model in this run: nothing to compare.</p></section>')
    diffs = case_differences(run)
    if diffs.empty:
        return Html(f'{title}<p class="note">The models agree on every case.</p></section>')
    models = run.models
    rows = [[*r[:4], *(_verdict_cell(v) for v in r[4:])] for r in diffs.itertuples(index=False)]
    table = _table(["suite", "case", "tools", "trial", *models], rows, numeric=(2, 3))
    opened = " open" if len(diffs) <= OPEN_LIMIT else ""
    return Html(
        f"{title}<details{opened}><summary>{len(diffs)} case runs where one model passed and another failed</summary>{table}</details></section>"
    )


def format_call(call: dict[str, Any]) -> str:
    """A produced call as text: its name, then its arguments as indented JSON (raw when they do not decode)."""
    raw = call.get("arguments")
    try:
        decoded = json.loads(raw) if isinstance(raw, str) else raw
        arguments = json.dumps(decoded, indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        arguments = f"{raw}\n(arguments are not valid JSON)"
    return f"{call.get('name')}\n{arguments}"


def _where(job: CaseResult) -> str:
    tools = job.tool_count if job.tool_count is not None else job.n_offered
    return f"{job.suite}/{job.case_id} · {tools} tool{'' if tools == 1 else 's'}" + (
        f" · trial {job.trial}" if job.trial > 1 else ""
    )


def _failure_item(job: CaseResult, *, opened: bool = False) -> str:
    failures = job.failures or (("failed", "no scorer explained it"),)
    kinds = ", ".join(dict.fromkeys(k for k, _ in failures))
    reasons = "".join(f"<li><b>{escape(k)}</b>: {escape(why)}</li>" for k, why in failures)
    produced = "\n\n".join(format_call(c) for c in job.calls) or "(no call)"
    extra = []
    if job.content:
        extra.append(f"<h4>text reply</h4><pre>{escape(job.content)}</pre>")
    facts = " · ".join(f"{k}: {v}" for k, v in (("finish_reason", job.finish_reason), ("cassette", job.cassette)) if v)
    return (
        f'<details class="job"{" open" if opened else ""}><summary><span class="badge {escape(job.status)}">{escape(job.status)}</span> '
        f"{escape(_where(job))} — {escape(kinds)} <span class=muted>— {escape(failures[0][1])}</span></summary>"
        f"<ul>{reasons}</ul>"
        f'<div class="calls"><div><h4>expected</h4><pre>{escape(job.expected or "(not recorded)")}</pre></div>'
        f"<div><h4>produced</h4><pre>{escape(produced)}</pre></div></div>{''.join(extra)}"
        f"{f'<div class=note>{escape(facts)}</div>' if facts else ''}</details>"
    )


def _failures_section(run: RunResult) -> Html:
    failed = [j for j in run.jobs if not j.passed]
    parts = [f'<section id="failures"><h2>Failures ({len(failed)})</h2>']
    if not failed:
        parts.append('<p class="note">No failures.</p>')
    for model in run.models:
        jobs = [j for j in failed if j.model == model]
        if not jobs:
            continue
        opened = " open" if len(failed) <= OPEN_LIMIT else ""
        items = "".join(_failure_item(j, opened=len(failed) <= OPEN_JOBS_LIMIT) for j in jobs)
        parts.append(
            f'<details class="model"{opened}><summary>{escape(model)} — {len(jobs)} failed or errored jobs</summary>{items}</details>'
        )
    parts.append("</section>")
    return Html("".join(parts))


def render_html(run: RunResult) -> str:
    """The whole page as a string (write_html saves it)."""
    body = "".join(
        (
            _header(run),
            _plots_section(run),
            _comparison_section(run),
            _suite_section(run),
            _differences_section(run),
            _failures_section(run),
        )
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>evalkit run {escape(run.run_id)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def write_html(run: RunResult, folder: str | Path) -> Path:
    """Write ``folder/report.html`` and return its path."""
    target = Path(folder) / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(run), encoding="utf-8")
    return target
