"""report.html: one self-contained page (plots as data: URIs, inline CSS and script, nothing remote).

Self-contained because the report travels: a CI artifact, an e-mail attachment, a file opened years
later offline. The page is rendered by jinja2 with autoescape on, so every string that came from a
run (model output above all) is HTML-escaped unless this module marks it safe, which it does only
for its own script and the PNGs it drew. A Content-Security-Policy forbids every remote load and
every script but the page's own (pinned by its SHA-256), so a ``<script>`` a model produced is shown
as text and could not run even if an escape were missed.

The templates live in ``templates/`` (package data); :mod:`.cards` builds the failure view,
:mod:`.numbers` the numbers the tables do not give, :mod:`.plots` the figures.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..results import RunResult
from .cards import INLINE_TOOLS, MAX_CARDS, failure_view, format_call
from .compare import case_differences, compare_models, paired_sentence, paired_tests
from .numbers import has_sweep, has_trials
from .paths import display_path, is_absolute, scrub
from .tables import (
    SCORE_LABELS,
    is_missing,
    model_prices,
    model_rows,
    model_table,
    pct,
    present_scores,
    summary_table,
)

if TYPE_CHECKING:
    import jinja2
    import pandas as pd

__all__ = ["MAX_CARDS", "Image", "Styled", "Table", "format_call", "render_html", "write_html"]

OPEN_LIMIT = 25  # lists longer than this start collapsed, so a 1,000-job report opens on its summary
MAX_ROWS = 1000  # rows of a long table (disagreements, per-case trials); the rest are in summary.md / results.json


@dataclass(frozen=True)
class Styled:
    """A table cell shown in a CSS class (its text is still escaped)."""

    text: str
    css: str


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]  # str, Styled or None (shown as an en dash)
    numeric: frozenset[int] = frozenset()
    wrap: frozenset[int] = frozenset()
    row_classes: Sequence[str] = ()
    css: str = ""


@dataclass(frozen=True)
class Image:
    uri: str  # data:image/png;base64,…
    alt: str
    caption: str = ""


# --- the template environment --------------------------------------------------------------------


def _finalize(value: Any) -> Any:
    """Every ``{{ }}`` passes here before it is escaped: no absolute path of this machine gets out."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return scrub(value)
    return value


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("evalkit.reporting", "templates"),
        autoescape=True,  # every template, whatever its name: escaping is never opt-in
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )


@lru_cache(maxsize=1)
def page_script() -> str:
    """The page's only script (filters and search); its hash goes in the CSP."""
    text = files("evalkit.reporting").joinpath("templates/filters.js").read_text(encoding="utf-8")
    if "</" in text:
        raise AssertionError("filters.js must not contain '</': it is inlined in a <script> element")
    return text


def content_security_policy(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def render(template: str, **context: Any) -> str:
    """A page template rendered with the shared script and CSP."""
    from markupsafe import Markup

    script = page_script()
    page = (
        environment()
        .get_template(template)
        .render(
            script=Markup(script),  # our own file, checked above; never anything from a run
            csp=content_security_policy(script),
            **context,
        )
    )
    return page if page.endswith("\n") else page + "\n"


def png_image(png: bytes, alt: str, caption: str = "") -> Image:
    return Image("data:image/png;base64," + base64.b64encode(png).decode("ascii"), alt, caption)


# --- small formatting ----------------------------------------------------------------------------


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
    if isinstance(value, str):
        return display_path(value) if is_absolute(value) else value
    return json.dumps(value, ensure_ascii=False, default=str)


def interval_cell(rate: float, low: float, high: float, n: int | str) -> str:
    """``83% (71–90) n=44``: the rate, its 95% interval and n, in one readable cell."""
    if is_missing(rate):
        return f"– n={n}"
    return f"{pct(rate)} ({100 * low:.0f}–{100 * high:.0f}) n={n}"


def _status_cell(text: str) -> Styled:
    status = text.split(":", 1)[0]
    return Styled(text, status if status in ("passed", "failed", "error") else "muted")


def frame_table(frame: pd.DataFrame, *, numeric: Iterable[int] = (), block_column: str | None = None) -> Table:
    """A DataFrame as a table; with ``block_column``, a repeated value is blanked and a rule drawn where it changes."""
    rows: list[list[Any]] = []
    classes: list[str] = []
    previous: object = object()
    column = list(frame.columns).index(block_column) if block_column is not None else None
    for row in frame.itertuples(index=False):
        cells = ["–" if is_missing(v) else str(v) for v in row]
        if column is not None:
            classes.append("block" if row[column] != previous and rows else "")
            cells[column], previous = ("" if row[column] == previous else cells[column]), row[column]
        rows.append(cells)
    return Table([str(c) for c in frame.columns], rows, frozenset(numeric), row_classes=classes)


# --- sections ------------------------------------------------------------------------------------


def _header(run: RunResult) -> dict[str, Any]:
    counts = dict.fromkeys(("passed", "failed", "error"), 0)
    for job in run.jobs:
        counts[job.status] = counts.get(job.status, 0) + 1
    config: list[tuple[str, list[str]]] = []
    for key, value in run.config.items():
        if key == "models" and isinstance(value, list):
            lines = [_compact(m) for m in value]
        elif key == "suites" and isinstance(value, dict):
            lines = [f"{name}: {_compact(info)}" for name, info in value.items()]
        else:
            lines = [_compact(value)]
        config.append((str(key), lines))
    return {
        "run_id": run.run_id,
        "when": _when(run.created),
        "models": run.models,
        "record_mode": str(run.config.get("record_mode", "?")),
        "version": run.version,
        "kpis": [
            ("jobs", sum(counts.values())),
            ("passed", counts["passed"]),
            ("failed", counts["failed"]),
            ("errors", counts["error"]),
            ("run time", _duration(run.seconds)),
        ],
        "config": config,
    }


def _accuracy_section(run: RunResult) -> dict[str, Any]:
    from .plots import figure_accuracy_vs_tools, png_bytes

    sweep = has_sweep(run)
    clustered = has_trials(run)
    figure = png_bytes(figure_accuracy_vs_tools(run))
    if sweep:
        alt = "Accuracy by number of offered tools, per model, with 95% intervals"
        caption = "One line per model; the band is the 95% interval; n per point in the legend."
    else:
        alt = "Accuracy per model with 95% intervals"
        caption = "Each suite offered its own tools (no --tool-counts sweep); bars are 95% intervals."
    table = None
    if sweep:
        from .compare import accuracy_by_tool_count

        rows = [
            [
                r["model"],
                str(r["tool_count"]),
                str(r["n"]),
                interval_cell(r["accuracy"], r["ci_low"], r["ci_high"], r["n"]),
                str(r["errors"]),
                "–" if is_missing(r["prompt_tokens"]) else f"{r['prompt_tokens']:,.0f}",
            ]
            for r in accuracy_by_tool_count(run).to_dict("records")
        ]
        table = Table(
            ["model", "tools", "n", "accuracy (95% CI)", "errors", "mean prompt tokens"], rows, frozenset(range(1, 6))
        )
    return {
        "title": "Accuracy vs number of tools offered" if sweep else "Accuracy per model",
        "clustered": clustered,
        "image": png_image(figure, alt, caption),
        "table": table,
    }


def _scores_section(run: RunResult) -> dict[str, Any]:
    from .plots import figure_score_breakdown, png_bytes

    image = png_image(
        png_bytes(figure_score_breakdown(run)),
        "Mean of each score per model, with 95% intervals and n",
        "Bars: mean per model; whiskers: 95% interval (Wilson for pass/fail scores); n under each score.",
    )
    return {"image": image}


def _cost_section(run: RunResult) -> dict[str, Any] | None:
    """Latency, tokens and cost per model: :func:`.tables.model_rows`, the same cells as summary.md."""
    table = model_table(run)
    if table.empty:
        return None
    prices = model_prices(run)
    headers, rows = model_rows(table, prices)
    extra = [h for h in headers if h in ("latency", "tokens in / out", "cost")]
    if not extra:
        return None
    note = (
        "latency: median seconds per job, measured when the cassette was recorded (a replay takes none) "
        "or as the server reported it; tokens: mean prompt / completion tokens per job; "
        + (
            "cost: USD for this run's jobs at the price in the model's config (per million input / output tokens)."
            if prices
            else "add price = {input = …, output = …} (USD per million tokens) to a model's config for a cost column."
        )
    )
    return {"table": Table(headers, rows, frozenset(range(1, len(headers)))), "note": note}


def _trials_section(run: RunResult) -> dict[str, Any] | None:
    if not has_trials(run):
        return None
    from .trials_view import trials_context

    return trials_context(run, max_rows=MAX_ROWS, open_limit=OPEN_LIMIT)


def _compare_section(run: RunResult) -> dict[str, Any]:
    table = compare_models(run)
    sentences = [paired_sentence(r) for r in paired_tests(run).to_dict("records")]
    return {
        "table": frame_table(table, numeric=range(2, len(table.columns)), block_column="suite"),
        "sentences": sentences,
    }


def _suites_section(run: RunResult) -> Table | None:
    table = summary_table(run)
    if table.empty:
        return None
    present = present_scores(table)
    headers = ["model", "suite", "accuracy (95% CI)", *(SCORE_LABELS.get(c, c) for c in present), "errors"]
    rows, classes, previous = [], [], None
    for r in table.to_dict("records"):
        cell = interval_cell(r["accuracy"], r["ci_low"], r["ci_high"], r["n"])
        rows.append([r["model"], r["suite"], cell, *[pct(r[c]) for c in present], str(r["errors"])])
        classes.append("block" if previous not in (None, r["model"]) else "")  # a rule between models
        previous = r["model"]
    return Table(headers, rows, frozenset(range(2, len(headers))), row_classes=classes)


def _diffs_section(run: RunResult) -> dict[str, Any]:
    if len(run.models) < 2:
        return {"note": "One model in this run: nothing to compare.", "table": None}
    diffs = case_differences(run)
    if diffs.empty:
        return {"note": "The models agree on every case both were scored on.", "table": None}
    # The tool count and trial columns only say something in a sweep or with trials.
    keep = ["suite", "case"] + ["tool_count"] * has_sweep(run) + ["trial"] * has_trials(run)
    shown = diffs.head(MAX_ROWS)
    rows = [
        [*(str(r[c]) for c in keep), *(_status_cell(str(r[m])) for m in run.models)] for r in shown.to_dict("records")
    ]
    headers = [{"tool_count": "tools"}.get(c, c) for c in keep]
    more = f"; the first {len(shown)} are shown" if len(shown) < len(diffs) else ""
    return {
        "note": "",
        "table": Table([*headers, *run.models], rows, frozenset(range(2, len(keep)))),
        "open": len(diffs) <= OPEN_LIMIT,
        "summary": f"{len(diffs)} case runs where one model passed and another failed{more}",
    }


SECTIONS: tuple[tuple[str, str, Callable[[Mapping[str, Any]], bool]], ...] = (
    ("accuracy", "Accuracy", lambda c: True),
    ("scores", "Scores", lambda c: True),
    ("cost", "Latency & cost", lambda c: c["cost"] is not None),
    ("trials", "Trials", lambda c: c["trials"] is not None),
    ("compare", "Models", lambda c: True),
    ("suites", "Suites", lambda c: True),
    ("diffs", "Differences", lambda c: True),
    ("failures", "Failures", lambda c: True),
)


def report_context(run: RunResult, *, max_cards: int = MAX_CARDS) -> dict[str, Any]:
    """Everything report.html.j2 shows, as plain values."""
    context: dict[str, Any] = {
        **_header(run),
        "accuracy": _accuracy_section(run),
        "scores": _scores_section(run),
        "cost": _cost_section(run),
        "trials": _trials_section(run),
        "compare": _compare_section(run),
        "suites": _suites_section(run),
        "diffs": _diffs_section(run),
        "failures": failure_view(run, limit=max_cards),
        "inline_tools": INLINE_TOOLS,
    }
    context["nav"] = [(anchor, label) for anchor, label, shown in SECTIONS if shown(context)]
    if context["accuracy"]["title"] == "Accuracy per model":
        context["nav"][0] = ("accuracy", "Accuracy per model")
    return context


def render_html(run: RunResult, *, max_cards: int = MAX_CARDS) -> str:
    """The whole page as a string (:func:`write_html` saves it). At most ``max_cards`` failure cards."""
    return render("report.html.j2", **report_context(run, max_cards=max_cards))


def write_html(run: RunResult, folder: str | Path, *, max_cards: int = MAX_CARDS) -> Path:
    """Write ``folder/report.html`` and return its path."""
    target = Path(folder) / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(run, max_cards=max_cards), encoding="utf-8")
    return target
