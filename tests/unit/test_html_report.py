"""report.html and the plots: escaping, self-containedness, the failure view, trials, cost, scale; plots are real PNGs."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import struct
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from evalkit.reporting.cards import INLINE_TOOLS, fair_share, messages_of
from evalkit.reporting.html import format_call, render_html, write_html
from evalkit.reporting.paths import display_path, scrub
from evalkit.reporting.plots import (
    figure_accuracy_vs_tools,
    figure_score_breakdown,
    plot_accuracy_vs_tools,
    plot_score_breakdown,
)
from evalkit.results import CaseResult, RunResult, ScoreRecord

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XSS = "<script>alert('pwned')</script>"
IMG_XSS = "<img src=x onerror=alert(1)>"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name, e.g. Paris"}},
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "description": "Local time.", "parameters": {"type": "object", "properties": {}}},
}
TOOLSETS = {"ts-weather": [WEATHER_TOOL, TIME_TOOL]}
MESSAGES = [
    {"role": "system", "content": "You are a weather bot. Answer briefly."},
    {"role": "user", "content": "How warm is it in Paris right now?"},
]
ALIGNED = (
    {
        "name": "get_weather",
        "expected": 0,
        "produced": 0,
        "match": "name",
        "arguments": [{"name": "city", "expected": "'Paris'", "got": '"Lyon"', "ok": False}],
    },
)


def make_job(model: str, case: str, tools: int | None, status: str, **extra: Any) -> CaseResult:
    passed = status == "passed"
    fields: dict[str, Any] = {
        "scores": {
            "selection": ScoreRecord(1.0 if passed else 0.0, passed),
            "coverage": ScoreRecord(1.0 if passed else 0.5, passed),
            "no_call": ScoreRecord(None, None),
        },
        "failures": () if passed else (("wrong_value", f"city was 'Lyon', expected 'Paris' in {case}"),),
        "expected": "get_weather(city='Paris')",
        "calls": ({"name": "get_weather", "arguments": '{"city": "Lyon"}', "id": "call_1"},),
        "prompt_tokens": 12 * (tools or 2),
        "completion_tokens": 7,
        "n_offered": tools or 2,
        "tags": ("weather",),
        "request": {
            "api": "chat.completions",
            "model": model,
            "messages": MESSAGES,
            "toolset": "ts-weather",
            "stream": False,
            "params": {"temperature": 0},
        },
        "alignment": () if passed else ALIGNED,
        "finish_reason": "tool_calls",
        "latency": 0.75,
        "requests": 1,
        "cassette": f"cassettes/{model}/weather/{case}.yaml",
        "suite": "weather",
        **extra,
    }
    return CaseResult(model=model, case_id=case, status=status, tool_count=tools, **fields)


def make_run(jobs: list[CaseResult] | tuple[CaseResult, ...], **config: Any) -> RunResult:
    settings = {
        "models": [{"name": "alpha", "base_url": "http://127.0.0.1:8089/v1"}],
        "record_mode": "none",
        "scorers": ["selection", "coverage"],
        "trials": 1,
        **config,
    }
    return RunResult("20250102-030405", "2025-01-02T03:04:05+00:00", settings, tuple(jobs), 75.0, toolsets=TOOLSETS)


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
        make_job(
            "beta", "broken", 4, "error", failures=(("http_error", "HTTP 500 from the server"),), calls=(), alignment=()
        )
    )
    return make_run(jobs)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def card_of(html: str, case_id: str) -> str:
    """The failure card of ``case_id`` (the first one)."""
    match = re.search(
        r'<details class="card[^>]*>\n<summary>[^\n]*?· weather/' + re.escape(case_id) + r" ·.*?\n</details>",
        html,
        re.S,
    )
    assert match, f"no card for {case_id}"
    return match.group(0)


# --- the page --------------------------------------------------------------------------------------


def test_write_html_writes_report_html(run: RunResult, tmp_path: Path) -> None:
    path = write_html(run, tmp_path / "out")
    assert path == tmp_path / "out" / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_everything_from_a_run_is_escaped() -> None:
    # A payload in every string a run carries: ids, names, messages, tools, arguments, the reply.
    evil_tool = {
        "type": "function",
        "function": {
            "name": f"tool{XSS}",
            "description": f"does {IMG_XSS} things",
            "parameters": {"type": "object", "properties": {f"arg{XSS}": {"type": "string", "description": IMG_XSS}}},
        },
    }
    job = make_job(
        f"model{IMG_XSS}",
        f"case{XSS}",
        4,
        "failed",
        suite=f"suite{IMG_XSS}",
        tags=(f"tag{XSS}",),
        failures=((f"kind{XSS}", f"why {IMG_XSS}"),),
        expected=f"f(x='{XSS}')",
        calls=({"name": f"call{XSS}", "arguments": json.dumps({"city": XSS}), "id": "x"},),
        content=f"</pre>{XSS}{IMG_XSS}",
        request={
            "api": "chat.completions",
            "messages": [{"role": "system", "content": XSS}, {"role": f"user{IMG_XSS}", "content": IMG_XSS}],
            "toolset": "evil",
            "params": {"tool_choice": XSS},
        },
        alignment=(
            {
                "name": f"call{XSS}",
                "expected": 0,
                "produced": 0,
                "match": "name",
                "arguments": [{"name": f"city{XSS}", "expected": XSS, "got": json.dumps(IMG_XSS), "ok": False}],
            },
        ),
    )
    run = dataclasses.replace(make_run([job]), toolsets={"evil": [evil_tool]})
    html = render_html(run)
    assert html.lower().count("<script") == 1  # the page's own, and nothing from the run
    assert html.count("<img ") == 2  # the two plots
    assert "onerror=" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
    assert "&lt;/pre&gt;" in html  # the text reply cannot close the <pre> it is shown in
    for escaped in (
        "case&lt;script&gt;",
        "suite&lt;img src=x onerror=alert(1)&gt;",
        "tag&lt;script&gt;",
        "does &lt;img src=x onerror=alert(1)&gt; things",
        "city&lt;script&gt;",
    ):
        assert escaped in html, escaped


def test_the_page_script_is_pinned_by_the_content_security_policy(run: RunResult) -> None:
    html = render_html(run)
    script = re.search(r"<script>(.*?)</script>", html, re.S)
    assert script
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp
    policy = unescape(csp.group(1))
    assert f"script-src 'sha256-{digest}'" in policy
    assert (
        "default-src 'none'" in policy
        and "unsafe-eval" not in policy
        and "'unsafe-inline'" not in policy.split("script-src")[1]
    )
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html)  # no inline event handler: the CSP would block it


def test_report_is_self_contained(run: RunResult) -> None:
    html = render_html(run)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) == 2
    for src in images:
        assert src.startswith("data:image/png;base64,")
        width, height = png_size(base64.b64decode(src.split(",", 1)[1]))
        assert width > 500 and height > 300


def test_report_has_every_section(run: RunResult) -> None:
    html = render_html(run)
    for anchor in ("accuracy", "scores", "cost", "compare", "suites", "diffs", "failures"):
        assert f'id="{anchor}"' in html
    assert 'id="trials"' not in html  # one trial per case
    assert "evalkit run 20250102-030405" in html
    assert "alpha, beta" in html and "record mode: none" in html
    assert "<b>34</b><span>jobs</span>" in html
    assert "1 min 15 s" in html
    assert "<h2>Accuracy vs number of tools offered</h2>" in html
    assert "Paired comparison" in html and "case runs where one model passed and another failed" in html


def test_a_run_without_a_sweep_is_titled_for_what_it_shows() -> None:
    html = render_html(make_run([make_job("a", "c1", None, "passed"), make_job("a", "c2", None, "failed")]))
    assert "<h2>Accuracy per model</h2>" in html and "number of tools offered" not in html.split('id="scores"')[0]
    assert '<a href="#accuracy">Accuracy per model</a>' in html


# --- the failure view ------------------------------------------------------------------------------


def test_a_failure_card_shows_the_prompt_the_tools_and_the_argument_diff(run: RunResult) -> None:
    card = card_of(render_html(run), "case-3")
    assert 'data-model="alpha"' in card and "data-kinds='[\"wrong_value\"]'" in card
    # the messages, role-labelled, system prompt first
    system = card.index('<span class="role">system</span>')
    user = card.index('<span class="role">user</span>')
    assert system < user
    assert "You are a weather bot. Answer briefly." in card and "How warm is it in Paris right now?" in card
    assert "request: chat.completions · temperature=0" in card
    # the offered tools, each schema in a nested details
    assert "<h4>Offered tools (2)</h4>" in card
    assert '<details class="schema"><summary><code>get_weather</code></summary>' in card
    assert "City name, e.g. Paris" in card  # from the schema
    # expected vs produced, argument by argument: the differing value marked with a class and a symbol
    row = re.search(r'<tr class="arg mismatch">.*?</tr>', card, re.S)
    assert row
    assert '<td class="mark" title="differs">✗</td>' in row.group(0)
    assert "<code>city</code>" in row.group(0) and "<code>&#39;Paris&#39;</code>" in row.group(0)
    assert '<mark class="diff"><code>&#34;Lyon&#34;</code></mark>' in row.group(0)
    assert "right function, arguments differ" in card
    # the raw calls and the facts
    assert "get_weather\n{\n  &#34;city&#34;: &#34;Lyon&#34;\n}" in card
    for fact in ("<dt>finish_reason</dt><dd>tool_calls</dd>", "<dd>48 prompt + 7 completion</dd>", "<dd>0.75 s</dd>"):
        assert fact in card
    assert "<dd>1 (0 retried)</dd>" in card and "cassettes/alpha/weather/case-3.yaml" in card


def test_an_errored_job_and_a_text_reply_are_shown(run: RunResult) -> None:
    html = render_html(run)
    assert '<span class="badge error">error</span>' in html and "HTTP 500 from the server" in html
    assert "produced: 0 calls (no call)" in card_of(html, "broken")
    assert '<pre class="reply">&lt;/pre&gt;&lt;script&gt;' in card_of(html, "evil")


def test_filters_list_the_values_of_the_cards_with_counts(run: RunResult) -> None:
    html = render_html(run)
    selects = dict(re.findall(r'<select data-filter="(\w+)">(.*?)</select>', html, re.S))
    assert set(selects) == {"kind", "suite", "model", "tag"}
    options = {k: re.findall(r'<option value="([^"]*)">', v) for k, v in selects.items()}
    assert options == {
        "kind": ["", "wrong_value", "http_error"],
        "suite": ["", "weather"],
        "model": ["", "alpha", "beta"],
        "tag": ["", "weather"],
    }
    assert '<option value="wrong_value">wrong_value (10)</option>' in selects["kind"]
    assert '<option value="beta">beta (8)</option>' in selects["model"]
    assert '<input type="search" id="search"' in html
    assert 'id="filters" role="search" hidden' in html  # shown by the script, so it never shows dead controls


def test_results_without_stored_messages_say_so() -> None:
    job = make_job(
        "a", "old", 4, "failed", request={"api": "chat.completions", "messages": 2, "tools": ["get_weather"]}
    )
    card = card_of(render_html(make_run([job])), "old")
    assert "Not recorded: this results.json predates stored messages" in card
    assert "<li><code>get_weather</code></li>" in card


def test_long_tool_lists_inline_only_the_tools_the_job_used() -> None:
    distractors = [
        {
            "type": "function",
            "function": {
                "name": f"distractor_{i}",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
        }
        for i in range(INLINE_TOOLS + 4)
    ]
    toolsets = {"big": [*distractors[:5], WEATHER_TOOL, *distractors[5:]]}
    jobs = [
        make_job(
            "a", f"c{i}", 64, "failed", request={"messages": MESSAGES, "toolset": "big", "api": "chat.completions"}
        )
        for i in range(3)
    ]
    html = render_html(dataclasses.replace(make_run(jobs), toolsets=toolsets))
    card = card_of(html, "c0")
    assert f"<h4>Offered tools ({INLINE_TOOLS + 5})</h4>" in card
    assert '<li class="involved"><details class="schema"><summary><code>get_weather</code>' in card
    assert card.count('<details class="schema">') == 1
    link = re.search(r'<li><a href="#(t[0-9a-f]+)">distractor_0</a></li>', card)
    assert link
    assert html.count(f'id="{link.group(1)}"') == 1  # one copy of each schema, in the appendix
    assert html.count('<details class="schema" id=') == INLINE_TOOLS + 4
    assert 'id="schemas"' in html


def test_cards_are_capped_and_shared_between_models() -> None:
    jobs = [make_job("a", f"a{i}", 4, "failed") for i in range(900)]
    jobs += [make_job("b", f"b{i}", 4, "failed") for i in range(40)]
    jobs += [make_job("c", f"c{i}", 4, "passed") for i in range(10)]
    html = render_html(make_run(jobs), max_cards=200)
    assert html.count('<details class="card') == 200
    assert html.count('data-model="b"') == 40 and html.count('data-model="a"') == 160
    assert "Showing 200 of 940 failed or errored jobs (an equal share per model)" in html
    assert "summary.md beside results.json lists every failure" in html


def test_fair_share() -> None:
    assert fair_share({"a": 900, "b": 40}, 500) == {"a": 460, "b": 40}
    assert fair_share({"a": 10, "b": 10}, 500) == {"a": 10, "b": 10}
    assert fair_share({"a": 300, "b": 300, "c": 300}, 500) == {"a": 167, "b": 167, "c": 166}
    assert sum(fair_share({"a": 7, "b": 1, "c": 99}, 10).values()) == 10


def test_a_few_failures_are_open_many_are_closed() -> None:
    small = render_html(make_run([make_job("a", "c1", 4, "failed"), make_job("a", "c2", 4, "passed")]))
    assert (
        '<details class="card is-failed" id="job-1" data-model="a"' in small
        and "data-tags='[\"weather\"]' open>" in small
    )
    assert "One model in this run: nothing to compare." in small
    many = render_html(make_run([make_job("a", f"c{i}", 4, "failed") for i in range(30)]))
    assert "' open>" not in many


def test_empty_run_renders() -> None:
    html = render_html(make_run([]))
    assert "No failures." in html and html.count("<img ") == 2


def test_messages_of_reads_chat_and_responses_requests() -> None:
    chat = messages_of(
        {
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {}}]},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}],
                },
                {"role": "tool", "tool_call_id": "1", "content": "42"},
            ]
        }
    )
    assert chat is not None
    assert [(m.role, m.text) for m in chat] == [
        ("system", "sys"),
        ("user", "look\n[image_url]"),
        ("assistant", ""),
        ("tool", "42"),
    ]
    assert chat[2].calls == ('f\n{\n  "a": 1\n}',) and chat[3].note == "tool_call_id 1"
    responses = messages_of(
        {
            "params": {"instructions": "Be brief."},
            "messages": [
                {"role": "user", "content": "hi"},
                {"type": "function_call", "name": "g", "arguments": "{}", "call_id": "c"},
                {"type": "function_call_output", "call_id": "c", "output": "ok"},
            ],
        }
    )
    assert responses is not None
    assert [(m.role, m.text) for m in responses] == [
        ("system", "Be brief."),
        ("user", "hi"),
        ("assistant", ""),
        ("tool", "ok"),
    ]
    assert messages_of({"messages": 3}) is None


def test_request_headers_are_never_shown() -> None:
    request = {
        "api": "chat.completions",
        "messages": MESSAGES,
        "toolset": "ts-weather",
        "params": {"tool_choice": "required", "extra_headers": {"Authorization": "Bearer sk-live-123456"}},
    }
    card = card_of(render_html(make_run([make_job("a", "c1", 4, "failed", request=request)])), "c1")
    assert "sk-live-123456" not in card
    assert "tool_choice=&#34;required&#34;, extra_headers={&#34;Authorization&#34;: &#34;REDACTED&#34;}" in card


def test_format_call_keeps_undecodable_arguments_raw() -> None:
    assert format_call({"name": "f", "arguments": '{"a": 1'}) == 'f\n{"a": 1\n(arguments are not valid JSON)'
    assert format_call({"name": "f", "arguments": {"a": 1}}) == 'f\n{\n  "a": 1\n}'
    assert format_call({"name": "f", "arguments": ""}) == 'f\n""\n(arguments are not valid JSON)'


# --- no absolute paths -----------------------------------------------------------------------------


def test_no_absolute_path_of_the_machine_is_rendered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    job = make_job(
        "a",
        "c1",
        4,
        "error",
        cassette=str(tmp_path / "cassettes" / "a" / "weather" / "c1.yaml"),
        failures=(("cassette_miss", f"no recording in {tmp_path}/cassettes/a/weather/c1.yaml for the request"),),
    )
    run = make_run(
        [job],
        cases=str(tmp_path / "cases"),
        cassettes="/somewhere/else/project/cassettes",
        suites={"weather": {"file": str(tmp_path / "cases" / "weather.yaml"), "cases": 1}},
    )
    html = render_html(run)
    assert str(tmp_path) not in html and "/somewhere/else" not in html
    assert "cassettes/a/weather/c1.yaml" in html and "cases/weather.yaml" in html


def test_display_path_and_scrub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path("cases/a.yaml") == "cases/a.yaml"
    assert display_path(str(tmp_path / "cases" / "a.yaml")) == "cases/a.yaml"
    assert display_path("/elsewhere/proj/examples/x/../../cases/w.yaml") == "cases/w.yaml"
    assert display_path("/elsewhere/notes.txt") == "…/notes.txt"
    assert display_path("C:\\Users\\me\\proj\\cassettes\\m\\c.yaml") == "cassettes/m/c.yaml"
    assert scrub(f"see {tmp_path}/cases/a.yaml.") == "see cases/a.yaml."
    assert scrub(f"run in {tmp_path} today") == "run in . today"
    assert scrub(f"{tmp_path}x/a") == f"{tmp_path}x/a"  # another folder that merely starts alike


# --- trials and cost -------------------------------------------------------------------------------


def test_trials_section_shows_pass_rates_pass_at_k_and_flaky_cases() -> None:
    jobs = [
        make_job("a", case, None, status, trial=trial)
        for case, outcomes in (("steady", "PPPP"), ("flaky", "PFPF"), ("broken", "FFFF"))
        for trial, status in enumerate(("passed" if o == "P" else "failed" for o in outcomes), 1)
    ]
    html = render_html(make_run(jobs, trials=4))
    section = html.split('<section id="trials">')[1].split("</section>")[0]
    assert "<h3>Flaky cases (1)</h3>" in section
    assert '<span class="outcomes">✓✗✓✗</span>' in section and '<span class="outcomes">✓✓✓✓</span>' in section
    assert "pass@k" in section and "pass^k" in section and "one cluster" in section
    assert '<a href="#trials">Trials</a>' in html


def test_cost_and_latency_per_model() -> None:
    jobs = [
        make_job("alpha", f"c{i}", 4, "passed", prompt_tokens=1000, completion_tokens=100, latency=0.5 + i)
        for i in range(3)
    ]
    run = make_run(jobs, models=[{"name": "alpha", "price": [0.15, 0.6]}])
    section = render_html(run).split('<section id="cost">')[1].split("</section>")[0]
    assert "latency" in section and "1.50 s" in section  # the median
    assert "1,000 / 100" in section  # mean tokens in / out
    assert "$0.0006" in section  # 3 × (1000 × 0.15 + 100 × 0.6) / 1e6


# --- plots -----------------------------------------------------------------------------------------


def test_plots_are_valid_pngs(run: RunResult, tmp_path: Path) -> None:
    curve = plot_accuracy_vs_tools(run, tmp_path / "plots" / "curve.png")
    bars = plot_score_breakdown(run, tmp_path / "bars.png")
    assert curve == tmp_path / "plots" / "curve.png"
    for path in (curve, bars):
        width, height = png_size(path.read_bytes())
        assert width >= 1000 and height >= 600


def test_score_bars_show_n_and_intervals(run: RunResult) -> None:
    ax = figure_score_breakdown(run).axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["selection\nn=16–17", "coverage\nn=16–17"]
    assert "95% Wilson interval" in ax.get_title()
    assert len(ax.lines) + len(ax.collections) > 0  # the error bars
    caps = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
    assert caps


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


def test_without_a_sweep_accuracy_is_per_model() -> None:
    ax = figure_accuracy_vs_tools(make_run([make_job("a", "c1", None, "passed")])).axes[0]
    assert ax.get_title().startswith("Accuracy per model")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a\n(n=1)"]


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
