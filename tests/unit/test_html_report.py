"""report.html and the plots: escaping, self-containedness, content, scale; plots are real PNGs."""

from __future__ import annotations

import base64
import dataclasses
import re
import struct
from pathlib import Path

import pytest

from evalkit.reporting.html import format_call, render_html, write_html
from evalkit.reporting.plots import figure_accuracy_vs_tools, plot_accuracy_vs_tools, plot_score_breakdown
from evalkit.results import CaseResult, RunResult, ScoreRecord

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XSS = "<script>alert('pwned')</script>"


def make_job(model: str, case: str, tools: int, status: str, **extra) -> CaseResult:
    passed = status == "passed"
    fields = {
        "scores": {
            "selection": ScoreRecord(1.0 if passed else 0.0, passed),
            "coverage": ScoreRecord(1.0 if passed else 0.5, passed),
            "no_call": ScoreRecord(None, None),
        },
        "failures": () if passed else (("wrong_value", f"city was 'Lyon', expected 'Paris' in {case}"),),
        "expected": "get_weather(city='Paris')",
        "calls": ({"name": "get_weather", "arguments": '{"city": "Lyon"}', "id": "call_1"},),
        "prompt_tokens": 12 * tools,
        "n_offered": tools,
        **extra,
    }
    return CaseResult(model=model, suite="weather", case_id=case, status=status, tool_count=tools, **fields)


def make_run(jobs: list[CaseResult] | tuple[CaseResult, ...]) -> RunResult:
    config = {
        "models": [{"name": "alpha", "base_url": "http://127.0.0.1:8089/v1"}],
        "record_mode": "none",
        "scorers": ["selection", "coverage"],
        "trials": 1,
    }
    return RunResult("20250102-030405", "2025-01-02T03:04:05+00:00", config, tuple(jobs), 75.0)


@pytest.fixture
def run() -> RunResult:
    jobs = []
    for m, model in enumerate(("alpha", "beta")):
        for tools in (1, 4, 16, 64):
            for c in range(4):
                jobs.append(make_job(model, f"case-{c}", tools, "passed" if c + m < 3 or tools == 1 else "failed"))
    jobs.append(
        make_job(
            "beta",
            "evil",
            4,
            "failed",
            calls=({"name": "get_weather", "arguments": f'{{"city": "{XSS}"}}', "id": "x"},),
            content=f"</pre>{XSS}",
        )
    )
    jobs.append(
        make_job("beta", "broken", 4, "error", failures=(("http_error", "HTTP 500 from the server"),), calls=())
    )
    return make_run(jobs)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_write_html_writes_report_html(run: RunResult, tmp_path: Path) -> None:
    path = write_html(run, tmp_path / "out")
    assert path == tmp_path / "out" / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_model_output_is_escaped(run: RunResult) -> None:
    html = render_html(run)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html  # in the produced arguments
    assert "&lt;/pre&gt;" in html  # the text reply cannot close the <pre> it is shown in


def test_names_from_results_are_escaped() -> None:
    job = dataclasses.replace(make_job('m"<marquee>', "c<blink>", 4, "failed"), suite="s&<u>", expected="f(x='<em>')")
    html = render_html(make_run([job]))
    for tag in ("<marquee", "<blink", "<u>", "<em>"):
        assert tag not in html
    assert (
        "m&quot;&lt;marquee&gt;" in html
        and "c&lt;blink&gt;" in html
        and "s&amp;&lt;u&gt;" in html
        and "&lt;em&gt;" in html
    )


def test_report_is_self_contained(run: RunResult) -> None:
    html = render_html(run)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) == 2
    for src in images:
        assert src.startswith("data:image/png;base64,")
        width, height = png_size(base64.b64decode(src.split(",", 1)[1]))
        assert width > 500 and height > 300


def test_report_has_every_section(run: RunResult) -> None:
    html = render_html(run)
    for anchor in ("curve", "scores", "compare", "suites", "diffs", "failures"):
        assert f'id="{anchor}"' in html
    assert "evalkit run 20250102-030405" in html
    assert "alpha, beta" in html and "record mode: none" in html
    assert "<b>34</b><span>jobs</span>" in html
    assert "1 min 15 s" in html
    assert "Paired comparison" in html and "case runs where one model passed and another failed" in html


def test_failures_show_kind_explanation_expected_and_produced_calls(run: RunResult) -> None:
    html = render_html(run)
    assert "<b>wrong_value</b>: city was &#x27;Lyon&#x27;, expected &#x27;Paris&#x27; in case-3" in html
    assert "get_weather(city=&#x27;Paris&#x27;)" in html  # expected
    assert "get_weather\n{\n  &quot;city&quot;: &quot;Lyon&quot;\n}" in html  # produced, indented JSON
    assert '<span class="badge error">error</span>' in html and "HTTP 500 from the server" in html
    assert "(no call)" in html


def test_format_call_keeps_undecodable_arguments_raw() -> None:
    assert format_call({"name": "f", "arguments": '{"a": 1'}) == 'f\n{"a": 1\n(arguments are not valid JSON)'
    assert format_call({"name": "f", "arguments": {"a": 1}}) == 'f\n{\n  "a": 1\n}'


def test_a_thousand_jobs_render_collapsed() -> None:
    jobs = [
        make_job(model, f"case-{c}", tools, "failed" if c % 3 == 0 else "passed")
        for model in ("a", "b")
        for tools in (4, 16)
        for c in range(300)
    ]
    html = render_html(make_run(jobs))
    assert html.count('<details class="job">') == 400  # every failure listed, each collapsed
    assert '<details class="model" open>' not in html
    assert len(html) < 3_000_000


def test_a_few_failures_are_open(run: RunResult) -> None:
    small = make_run([make_job("a", "c1", 4, "failed"), make_job("a", "c2", 4, "passed")])
    html = render_html(small)
    assert '<details class="model" open>' in html and '<details class="job" open>' in html
    assert "One model in this run: nothing to compare." in html


def test_empty_run_renders() -> None:
    html = render_html(make_run([]))
    assert "No failures." in html and html.count("<img ") == 2


def test_plots_are_valid_pngs(run: RunResult, tmp_path: Path) -> None:
    curve = plot_accuracy_vs_tools(run, tmp_path / "plots" / "curve.png")
    bars = plot_score_breakdown(run, tmp_path / "bars.png")
    assert curve == tmp_path / "plots" / "curve.png"
    for path in (curve, bars):
        width, height = png_size(path.read_bytes())
        assert width >= 1000 and height >= 600


def test_curve_uses_a_log2_axis_for_a_wide_sweep(run: RunResult) -> None:
    ax = figure_accuracy_vs_tools(run).axes[0]
    assert ax.get_xscale() == "log"
    assert list(ax.get_xticks()) == [1, 4, 16, 64]
    narrow = make_run([make_job("a", "c", t, "passed") for t in (2, 4)])
    assert figure_accuracy_vs_tools(narrow).axes[0].get_xscale() == "linear"


def test_single_tool_count_draws_points_with_a_note(tmp_path: Path) -> None:
    single = make_run([make_job(m, f"c{i}", 8, "passed" if i else "failed") for m in ("a", "b") for i in range(3)])
    ax = figure_accuracy_vs_tools(single).axes[0]
    assert not ax.collections or all(len(c.get_paths()) <= 2 for c in ax.collections)  # error bars, no band
    assert any("single tool count" in t.get_text() for t in ax.texts)
    png_size(plot_accuracy_vs_tools(single, tmp_path / "single.png").read_bytes())


def test_nan_scores_and_errors_only_still_plot(tmp_path: Path) -> None:
    nan_only = make_job("a", "c", 4, "passed", scores={"no_call": ScoreRecord(None, None)})
    errored = make_job("b", "c", 4, "error", scores={"selection": ScoreRecord(None, None)})
    run = make_run([nan_only, errored])
    png_size(plot_score_breakdown(run, tmp_path / "bars.png").read_bytes())
    png_size(plot_accuracy_vs_tools(run, tmp_path / "curve.png").read_bytes())
    png_size(plot_accuracy_vs_tools(make_run([errored]), tmp_path / "none.png").read_bytes())


@pytest.mark.parametrize("n", [1, 3, 10])
def test_a_model_that_passes_or_fails_everything_renders(tmp_path: Path, n: int) -> None:
    # The Wilson bounds at n/n and 0/n once gave matplotlib a negative error bar (issue 9).
    jobs = [make_job("all-pass", f"c{i}", 4, "passed") for i in range(n)]
    jobs += [make_job("all-fail", f"c{i}", 4, "failed") for i in range(n)]
    path = write_html(make_run(jobs), tmp_path)
    assert "all-pass" in path.read_text(encoding="utf-8")
