"""PNG plots of a run: accuracy as the number of offered tools grows (or per model, without a sweep),
and each score per model with its 95% interval and n.

Intervals come from :func:`.tables.aggregate` (accuracy) and :func:`.numbers.score_intervals` (scores):
Wilson intervals in which a case's jobs (its trials) count as one cluster.

matplotlib is imported inside the functions (``import evalkit`` must stay fast), and figures are
built with :class:`matplotlib.figure.Figure` and the Agg canvas rather than ``pyplot``: no global
figure registry to leak from, no GUI backend picked from the environment, safe from threads.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

from ..results import RunResult
from .numbers import ScoreInterval, has_sweep, has_trials, score_intervals
from .tables import SCORE_COLUMNS, SCORE_LABELS, aggregate, shared_frame

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 144  # sharp on a laptop screen and in a PR, ~100 kB per plot
# A sweep spanning 8× or more (4 → 64) is read on a log axis, where each doubling is one step.
LOG_SPAN = 8


def model_colors(models: list[str]) -> dict[str, str]:
    """One color per model, the same in every plot of a report."""
    palette = [
        "#1f77b4",
        "#d62728",
        "#2ca02c",
        "#ff7f0e",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#7f7f7f",
        "#bcbd22",
    ]
    return {m: palette[i % len(palette)] for i, m in enumerate(models)}


def _new_figure(width: float = 8.0, height: float = 4.8) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: savefig renders through Agg whatever MPLBACKEND says
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _save(figure: Figure, path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(png_bytes(figure))
    return target


def _note(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11, color="#555", wrap=True)


def _n_label(ns: list[int]) -> str:
    low, high = min(ns), max(ns)
    return f"n={low}" if low == high else f"n={low}–{high}"


def _percent_axis(ax: Axes) -> None:
    from matplotlib.ticker import PercentFormatter

    ax.set_ylim(-2, 102)  # a little room so 0% and 100% markers are not cut in half
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=100))
    ax.grid(True, axis="y", alpha=0.3)


def _tool_axis(ax: Axes, counts: list[int]) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    positive = [c for c in counts if c > 0]
    if positive and len(positive) == len(counts) and max(counts) / min(counts) >= LOG_SPAN:
        ax.set_xscale("log", base=2)
        ax.xaxis.set_minor_locator(NullLocator())
    # Ticks at the counts actually run: 1, 4, 16, 64 reads better than 2^0, 2^2…
    ax.xaxis.set_major_locator(FixedLocator(counts))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.set_xlabel("tools offered to the model")


def _accuracy_axes(title: str, *, empty: bool, height: float = 4.8) -> tuple[Figure, Axes]:
    """A figure with one 0–100% accuracy axis; with a note instead of data when ``empty``."""
    figure = _new_figure(height=height)
    ax = figure.add_subplot()
    ax.set_title(title, fontsize=11)
    ax.set_ylabel("jobs passing every check")
    _percent_axis(ax)
    if empty:
        _note(ax, "No scored jobs in this run.")
    return figure, ax


def figure_overall_accuracy(run: RunResult) -> Figure:
    """Without a sweep there is no tool-count axis (suites differ in size): accuracy per model."""
    data = _accuracy(run, ["model"])
    figure, ax = _accuracy_axes(
        f"Accuracy per model, each suite with its own tools\nbars: {_interval_name(run)}", empty=data.empty, height=3.8
    )
    if data.empty:
        return figure
    colors = model_colors(run.models)
    for i, row in enumerate(data.to_dict("records")):
        y, low, high = (100 * float(row[c]) for c in ("accuracy", "ci_low", "ci_high"))
        ax.errorbar(
            [i],
            [y],
            yerr=[[max(0.0, y - low)], [max(0.0, high - y)]],
            fmt="o",
            color=colors[row["model"]],
            capsize=6,
            markersize=8,
        )
        ax.annotate(f"{y:.0f}%", (i, y), xytext=(9, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xticks(
        range(len(data)), [f"{m}\n(n={n})" for m, n in zip(data["model"], data["n"], strict=True)], fontsize=8
    )
    ax.set_xlim(-0.6, len(data) - 0.4)
    ax.text(
        0.5,
        0.02,
        "no tool-count sweep: run with --tool-counts 4,16,64 for a curve",
        transform=ax.transAxes,
        ha="center",
        fontsize=8,
        color="#666",
    )
    return figure


def figure_accuracy_vs_tools(run: RunResult) -> Figure:
    """One line per model, with its 95% interval band; points alone when the run has one count."""
    if not has_sweep(run):
        return figure_overall_accuracy(run)
    data = _accuracy(run, ["model", "tool_count"])
    figure, ax = _accuracy_axes(f"Accuracy by number of tools offered\nshaded: {_interval_name(run)}", empty=data.empty)
    if data.empty:
        return figure
    counts = sorted(int(c) for c in data["tool_count"].unique())
    colors = model_colors(run.models)
    sweep = len(counts) > 1
    for model_key, rows in data.sort_values("tool_count").groupby("model", sort=False):
        model = str(model_key)
        x = rows["tool_count"].astype(float).to_numpy()
        y, low, high = (100 * rows[c].to_numpy(dtype=float) for c in ("accuracy", "ci_low", "ci_high"))
        label = f"{model} ({_n_label(rows['n'].astype(int).tolist())} per point)"
        if sweep:
            ax.fill_between(x, low, high, color=colors[model], alpha=0.15, linewidth=0)
            ax.plot(x, y, marker="o", color=colors[model], label=label, linewidth=2, markersize=6)
        else:  # one x value: a line would be a dot and a band invisible, so draw the interval as an error bar
            ax.errorbar(
                x,
                y,
                yerr=[(y - low).clip(min=0), (high - y).clip(min=0)],
                fmt="o",
                color=colors[model],
                capsize=5,
                markersize=7,
                label=label,
            )
    _tool_axis(ax, counts)
    if not sweep:
        ax.set_title(f"Accuracy with {counts[0]} tools offered\nbars: {_interval_name(run)}", fontsize=11)
        ax.text(
            0.5,
            0.02,
            "single tool count: run with --tool-counts 4,16,64 for a curve",
            transform=ax.transAxes,
            ha="center",
            fontsize=8,
            color="#666",
        )
    ax.legend(loc="best", fontsize=8, frameon=False)
    return figure


def plot_accuracy_vs_tools(run: RunResult, path: str | Path) -> Path:
    """Save :func:`figure_accuracy_vs_tools` as a PNG at ``path``; return the path."""
    return _save(figure_accuracy_vs_tools(run), path)


def _interval_name(run: RunResult) -> str:
    return "95% interval, a case's trials one cluster" if has_trials(run) else "95% Wilson interval"


def _accuracy(run: RunResult, by: list[str]) -> pd.DataFrame:
    """Accuracy with its interval per group, groups with no scored job left out (nothing to draw)."""
    frame = shared_frame(run)
    if frame.empty:
        return frame.copy()
    table = aggregate(frame, by)
    return table[table["n"] > 0]


def score_bars(run: RunResult) -> tuple[list[str], dict[str, list[ScoreInterval]]]:
    """The scores some model has a value for, and per model each one's mean, 95% interval and n."""
    frame = shared_frame(run)
    if frame.empty:
        return [], {}
    scored = frame[~frame["error"].astype(bool)]
    names = [c for c in SCORE_COLUMNS if c in scored and scored[c].notna().any()]
    return names, score_intervals(frame, run.models, names)


def figure_score_breakdown(run: RunResult) -> Figure:
    """Grouped bars: each score's mean per model with its 95% interval, and n under each score;
    scores no job applied to are left out, and a model with no value for a score gets an "n/a"
    mark instead of a misleading zero bar."""
    names, bars = score_bars(run)
    figure = _new_figure(width=min(14.0, max(8.0, 0.45 * len(names) * len(bars) + 2)))  # room for every bar
    ax = figure.add_subplot()
    ax.set_title(
        f"Mean score per model, over the jobs each score applies to\nwhiskers: {_interval_name(run)}", fontsize=11
    )
    _percent_axis(ax)
    if not names:
        _note(ax, "No scores in this run.")
        return figure
    colors = model_colors(run.models)
    width = 0.8 / len(bars)
    for i, (model, values) in enumerate(bars.items()):
        offsets = [k + (i - (len(bars) - 1) / 2) * width for k in range(len(names))]
        heights = [0.0 if math.isnan(b.mean) else 100 * b.mean for b in values]
        below = [0.0 if math.isnan(b.mean) else max(0.0, 100 * (b.mean - b.low)) for b in values]
        above = [0.0 if math.isnan(b.mean) else max(0.0, 100 * (b.high - b.mean)) for b in values]
        ax.bar(
            offsets,
            heights,
            width * 0.92,
            color=colors[model],
            label=model,
            yerr=[below, above],
            error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333"},
        )
        for x, bar in zip(offsets, values, strict=True):
            if len(bars) <= 4 or math.isnan(bar.mean):  # labels crowd out the bars past four models
                top = 0.0 if math.isnan(bar.mean) else 100 * bar.high
                text = "n/a" if math.isnan(bar.mean) else f"{100 * bar.mean:.0f}"
                ax.annotate(text, (x, top), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7)
    labels = []
    for k, name in enumerate(names):
        ns = [values[k].n for values in bars.values() if values[k].n]
        labels.append(f"{SCORE_LABELS.get(name, name)}\n{_n_label(ns)}" if ns else SCORE_LABELS.get(name, name))
    ax.set_xticks(range(len(names)), labels, fontsize=8)
    ax.set_ylim(0, 112)  # headroom for the value labels above 100% bars
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(4, len(bars)), fontsize=8, frameon=False)
    return figure


def plot_score_breakdown(run: RunResult, path: str | Path) -> Path:
    """Save :func:`figure_score_breakdown` as a PNG at ``path``; return the path."""
    return _save(figure_score_breakdown(run), path)
