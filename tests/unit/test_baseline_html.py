"""The run-beside-its-baseline page (`evalkit gate … --html`): the verdict as the gate gave it, per-model
changes with intervals, flipped cases with both replies; and Newcombe's paired interval behind it."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from markupsafe import escape

from evalkit.cli import _Group
from evalkit.gating.cli import COMMANDS
from evalkit.gating.gate import gate
from evalkit.reporting.baseline import paired_rates, render_baseline_html, write_baseline_html
from evalkit.reporting.numbers import paired_difference
from evalkit.results import CaseResult, RunResult, save_results

XSS = "<script>alert(1)</script>"


def pairs(both: int, worse: int, better: int, neither: int) -> list[tuple[float, float]]:
    """(baseline, current) outcomes: both passed, passed→failed, failed→passed, both failed."""
    return [(1.0, 1.0)] * both + [(1.0, 0.0)] * worse + [(0.0, 1.0)] * better + [(0.0, 0.0)] * neither


def test_paired_difference_matches_newcombe_1998() -> None:
    # Newcombe (1998), Statistics in Medicine 17:2635, the worked example (a, b, c, d) = (36, 12, 2, 0):
    # difference 0.2, method 10 (hybrid score, φ-corrected) 95% interval 0.0569 to 0.3404.
    delta, low, high = paired_difference(pairs(36, 2, 12, 0))
    assert (round(delta, 4), round(low, 4), round(high, 4)) == (0.2, 0.0569, 0.3404)


def test_paired_difference_laws() -> None:
    forward = paired_difference(pairs(20, 7, 1, 16))
    backward = paired_difference([(c, b) for b, c in pairs(20, 7, 1, 16)])
    assert forward[0] == pytest.approx(-backward[0])
    assert (forward[1], forward[2]) == pytest.approx((-backward[2], -backward[1]))
    assert forward[1] < forward[0] < forward[2] < 0  # 7 vs 1 of 44: a drop the interval does not cross 0 for
    same = paired_difference(pairs(10, 0, 0, 10))
    assert same[0] == 0 and same[1] <= 0 <= same[2]
    assert all(-1 <= v <= 1 for v in paired_difference(pairs(0, 5, 0, 0)))
    assert all(math.isnan(v) for v in paired_difference([]))


def job(model: str, case: str, status: str, **extra: Any) -> CaseResult:
    fields: dict[str, Any] = {
        "failures": () if status == "passed" else (("unexpected_call", f"expected no call, got send_email in {case}"),),
        "expected": "no call",
        "calls": ()
        if status == "passed"
        else ({"name": "send_email", "arguments": '{"to": "x@example.com"}', "id": "1"},),
        "content": "Hello there!" if status == "passed" else None,
        "finish_reason": "stop" if status == "passed" else "tool_calls",
        "request": {
            "api": "chat.completions",
            "messages": [
                {"role": "system", "content": "Only call a tool when needed."},
                {"role": "user", "content": f"Hi ({case})"},
            ],
            "toolset": "t",
            "params": {"temperature": 0},
        },
        "alignment": ()
        if status == "passed"
        else (
            {
                "name": "send_email",
                "expected": None,
                "produced": 0,
                "match": "extra",
                "arguments": [{"name": "to", "expected": "<not expected>", "got": '"x@example.com"', "ok": False}],
            },
        ),
        **extra,
    }
    return CaseResult(model, "chitchat", case, status, **fields)


def runs(current: str, baseline: str, **extra: Any) -> tuple[RunResult, RunResult]:
    """One job per character (P passed, F failed, E error), case c0, c1, … of model m."""
    status = {"P": "passed", "F": "failed", "E": "error"}

    def run(pattern: str, run_id: str) -> RunResult:
        jobs = tuple(job("m", f"c{i}", status[ch], **extra) for i, ch in enumerate(pattern))
        return RunResult(run_id, "2025-01-01T00:00:00+00:00", {}, jobs, toolsets={"t": []})

    return run(current, "cur"), run(baseline, "base")


def test_the_page_shows_the_verdict_the_model_table_and_both_replies() -> None:
    current, baseline = runs("FFFFFFP" + "P" * 13, "P" * 20)
    verdict = gate(current, baseline)
    html = render_baseline_html(verdict, current, baseline)
    assert not verdict.passed
    assert '<p class="verdict failed">✗ FAIL: regression</p>' in html
    for reason in verdict.reasons:
        assert str(escape(reason)) in html
    assert "one-sided exact McNemar test on discordant pairs" in html
    # per model: both accuracies with intervals, the change with its interval, b, c, p
    row = re.search(r"<tr><td>m</td>.*?</tr>", html, re.S)
    assert row
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0))
    assert cells[:4] == ["m", "20", "100.0% (84–100)", "70.0% (48–85)"]
    assert cells[4].startswith('<span class="failed">-30.0 (') and cells[5:8] == ["6", "0", "0.0156"]
    assert "REGRESSION" in cells[8]
    # the flipped cases, each with both replies
    assert "<h2>Got worse (6)</h2>" in html and "<h2>Got better (0)</h2>" in html
    flip = re.search(r'<details class="card flip is-failed" id="flip-1" open>.*?\n</details>', html, re.S)
    assert flip
    text = flip.group(0)
    assert "pass→fail" in text and "chitchat/c0" in text
    assert "Messages sent (the same in both runs)" in text and "Only call a tool when needed." in text
    baseline_side, current_side = text.split("<h3>")[1:3]
    assert baseline_side.startswith("baseline") and "Hello there!" in baseline_side
    assert (
        current_side.startswith("current")
        and '<mark class="diff"><code>&#34;x@example.com&#34;</code></mark>' in current_side
    )


def test_different_messages_are_shown_on_each_side() -> None:
    current, baseline = runs("F", "P")
    changed = RunResult(
        current.run_id,
        current.created,
        {},
        tuple(
            job(
                "m",
                "c0",
                "failed",
                request={
                    "messages": [{"role": "system", "content": "You are a helpful assistant."}],
                    "api": "chat.completions",
                },
            )
            for _ in range(1)
        ),
    )
    html = render_baseline_html(gate(changed, baseline), changed, baseline)
    assert "The runs sent different messages: each side shows its own." in html
    assert html.count("<details open><summary>Messages sent</summary>") == 2


def test_a_passing_gate_and_unpaired_cases() -> None:
    current, baseline = runs("PPE", "PP")
    verdict = gate(current, baseline)
    html = render_baseline_html(verdict, current, baseline)
    assert '<p class="verdict passed">✓ PASS: no regression</p>' in html
    assert "No case got worse." in html and "Errored jobs (1)" in html
    assert "<summary>Only in current (1)</summary>" in html


def test_paired_rates_pair_as_the_gate_does() -> None:
    current, baseline = runs("PFEP", "PPPE")
    verdict = gate(current, baseline)
    assert len(paired_rates(current, baseline)["m"]) == verdict.models[0].n_paired == 2


def test_the_page_escapes_everything_and_loads_nothing() -> None:
    current, baseline = runs("F", "P", content=XSS, expected=XSS)
    html = render_baseline_html(gate(current, baseline), current, baseline)
    assert html.lower().count("<script") == 1 and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html)
    assert "default-src &#39;none&#39;" in html


def test_write_baseline_html(tmp_path: Path) -> None:
    current, baseline = runs("P", "P")
    path = write_baseline_html(gate(current, baseline), current, baseline, tmp_path / "out" / "gate.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_gate_command_writes_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    current, baseline = runs("F" * 6 + "P" * 14, "P" * 20)
    base = save_results(baseline, tmp_path / "base")
    cur = save_results(current, tmp_path / "reports")
    group = _Group(name="evalkit")
    for command in COMMANDS:
        group.add_command(command)
    result = CliRunner().invoke(
        group, ["gate", str(cur), "--baseline", str(base), "--html", "out/gate.html"], catch_exceptions=False
    )
    assert result.exit_code == 1  # the page changes nothing about the verdict
    assert "evalkit: gate HTML written to out/gate.html\n" in result.stderr
    assert "Got worse (6)" in (tmp_path / "out" / "gate.html").read_text(encoding="utf-8")
