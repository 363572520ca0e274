"""report.html in real headless Chromium: it renders, its images load, its console stays clean, it loads
nothing from the network, and its failure view works: a failed case's card opens on its prompt and
argument diff, and filtering by model hides the other models' cards.

Skipped when no Chromium is installed (``apt-get install chromium`` on Debian). The checker is
scripts/check_html_report.py, the same one CI and people run by hand.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.gating.gate import gate
from evalkit.reporting.baseline import write_baseline_html
from evalkit.reporting.html import write_html
from evalkit.results import CaseResult, RunResult, ScoreRecord

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_html_report.py"


def load_checker() -> ModuleType:
    # scripts/ is not a package: load the file itself, so the test runs exactly what people run.
    spec = importlib.util.spec_from_file_location("check_html_report", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


checker = load_checker()
if checker.find_chromium() is None and os.environ.get("EVALKIT_REQUIRE_BROWSER") == "1":
    raise RuntimeError(
        "EVALKIT_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)"
    )  # CI must not skip it
pytestmark = pytest.mark.skipif(
    checker.find_chromium() is None,
    reason="no chromium on PATH (apt-get install chromium); set $CHROMIUM to point at one",
)


TOOLS = {
    "weather": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]
}


def make_job(model: str, case: str, tools: int, status: str, calls: tuple[dict, ...] = ()) -> CaseResult:
    passed = status == "passed"
    calls = calls or ({"name": "get_weather", "arguments": '{"city": "Lyon"}', "id": "c1"},)
    return CaseResult(
        model=model,
        suite="weather",
        case_id=case,
        status=status,
        tool_count=tools,
        tags=("parallel",) if tools > 4 else ("single",),
        scores={
            "selection": ScoreRecord(1.0 if passed else 0.0, passed),
            "validity": ScoreRecord(1.0, True),
            "no_call": ScoreRecord(None, None),
        },
        failures=() if passed else (("wrong_value", f"city was 'Lyon', expected '{case}'"),),
        expected=f"get_weather(city='{case}')",
        calls=calls,
        prompt_tokens=30 * tools,
        completion_tokens=12,
        latency=0.4,
        n_offered=tools,
        request={
            "api": "chat.completions",
            "messages": [
                {"role": "system", "content": "You are a weather bot."},
                {"role": "user", "content": f"How warm is it in {case} today?"},
            ],
            "toolset": "weather",
            "params": {"temperature": 0},
        },
        alignment=()
        if passed
        else (
            {
                "name": "get_weather",
                "expected": 0,
                "produced": 0,
                "match": "name",
                "arguments": [
                    {"name": "city", "expected": repr(case), "got": calls[0]["arguments"][9:-1], "ok": False}
                ],
            },
        ),
    )


EVIL = (
    {
        "name": "get_weather",
        "arguments": '{"city": "<script>console.error(1)</script><img src=x onerror=alert(1)>"}',
        "id": "x",
    },
)


def make_run() -> RunResult:
    jobs = [
        make_job(model, f"city-{c}", tools, "passed" if (c * 7 + tools + m) % 5 else "failed", EVIL if c == 0 else ())
        for m, model in enumerate(("qwen-0.5b", "qwen-1.5b"))
        for tools in (1, 4, 16, 64)
        for c in range(12)
    ]
    return RunResult(
        "20250102-030405",
        "2025-01-02T03:04:05+00:00",
        {"record_mode": "none", "models": [{"name": "qwen-0.5b"}, {"name": "qwen-1.5b"}]},
        tuple(jobs),
        42.0,
        toolsets=TOOLS,
    )


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return write_html(make_run(), tmp_path)


def test_report_renders_in_chromium_without_errors(report: Path, tmp_path: Path) -> None:
    result = checker.check_report(report, tmp_path / "report.png", min_images=2)
    assert result.problems == []
    assert len(result.images) == 2 and all(i["width"] > 500 for i in result.images)
    data = result.screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == checker.WIDTH and height >= checker.HEIGHT
    assert all(url.startswith(("file:", "data:", "about:")) for url in result.requests)  # nothing from the network


def test_a_failed_case_shows_its_prompt_and_argument_diff_in_chromium(report: Path, tmp_path: Path) -> None:
    result = checker.check_report(report, tmp_path / "report.png", min_images=2, card_screenshot=tmp_path / "card.png")
    assert result.problems == []
    view = result.failure_view
    assert view is not None and view["cards"] == sum(1 for j in make_run().jobs if not j.passed)
    opened = view["opened"]
    assert opened["open"] and opened["prompt_shown"] and opened["system_shown"]
    assert opened["prompt"].startswith("How warm is it in city-")
    assert opened["diff_shown"] and opened["diff_marked"]
    assert re.fullmatch(r"✗ city 'city-\d+' .+", opened["diff"])
    # filtering by model hides the other model's cards; a search keeps the cards that match
    filtered = view["filtered"]
    assert filtered["model"] == "qwen-1.5b" and filtered["shown"] == filtered["expected"] < filtered["of"]
    assert 1 <= view["searched"]["shown"] < view["cards"]
    assert result.card_screenshot is not None and result.card_screenshot.read_bytes()[:4] == b"\x89PNG"


def test_the_gate_page_renders_in_chromium(tmp_path: Path) -> None:
    current = make_run()
    baseline = dataclasses.replace(
        current,
        run_id="base",
        jobs=tuple(dataclasses.replace(j, status="passed", failures=(), alignment=()) for j in current.jobs),
    )
    page = write_baseline_html(gate(current, baseline), current, baseline, tmp_path / "gate.html")
    result = checker.check_report(page, tmp_path / "gate.png", min_images=0)
    assert result.problems == []
    assert result.failure_view is not None and result.failure_view["opened"]["diff_shown"]
    assert result.failure_view["filtered"] is None  # the gate's page has no filters


def test_checker_fails_on_a_dead_failure_view_and_on_network_requests(tmp_path: Path) -> None:
    # A card whose filter bar never shows (no script) and a page that reaches for the network.
    page = tmp_path / "dead.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        '<div id="filters" hidden></div><img src="http://127.0.0.1:9/pixel.png">'
        '<details class="card" id="job-1"><summary>m · s/c · 1 tool</summary><p>no messages here</p></details>'
        "</body></html>",
        encoding="utf-8",
    )
    result = checker.check_report(page, tmp_path / "dead.png", min_images=0)
    text = "\n".join(result.problems)
    assert "card job-1: its prompt is not shown when opened" in text
    assert "the filter bar is hidden: did the page's script run?" in text
    assert "network request: http://127.0.0.1:9/pixel.png" in text


def test_checker_fails_on_console_errors_and_broken_images(tmp_path: Path) -> None:
    # The check is only worth something if it can fail: a page with every problem it looks for.
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><h1>bad</h1>'
        '<img src="data:image/png;base64,AAAA"><img src="missing.png">'
        '<script>console.error("boom"); notDefined();</script></body></html>',
        encoding="utf-8",
    )
    result = checker.check_report(page, tmp_path / "bad.png", min_images=3)
    text = "\n".join(result.problems)
    assert "console.error: boom" in text
    assert "uncaught exception: ReferenceError: notDefined is not defined" in text
    assert "image did not load: data:image/png;base64,AAAA" in text
    assert "image did not load: file://" in text and "missing.png" in text
    assert "expected at least 3 images, the page has 2" in text
    assert not result.ok and result.screenshot.is_file()


def test_checker_command_line(report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shot = tmp_path / "cli.png"
    assert checker.main([str(report), "--screenshot", str(shot), "--min-images", "2"]) == 0
    assert capsys.readouterr().out.startswith("OK: 0 problems, 2/2 images loaded")
    assert shot.is_file()


def test_checker_reports_a_missing_browser(report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "no-such-chromium")
    assert checker.main([str(report), "--chromium", missing, "--screenshot", str(tmp_path / "x.png")]) == 2
    assert (
        capsys.readouterr().err
        == f"check_html_report: no Chromium found (looked for {missing!r}); install it, e.g. apt-get install chromium\n"
    )


def test_a_replayed_run_shows_a_real_failure_in_chromium(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped cassettes, replayed: the 0.5B model misses the get_weather call of datetime/time-and-weather."""
    monkeypatch.chdir(repo_root)
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        cli,
        ["run", "cases/datetime.yaml", "-m", "qwen2.5-coder-0.5b", "--out", str(out), "--run-id", "r", "--no-progress"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    page = out / "r" / "report.html"
    html = page.read_text(encoding="utf-8")
    assert str(repo_root) not in html and str(tmp_path) not in html  # no absolute path of this machine
    checked = checker.check_report(page, tmp_path / "shot.png", min_images=2)
    assert checked.problems == []
    opened = checked.failure_view["opened"]
    assert opened["prompt"] == "What time is it, and what's the weather like in Madrid?"
    assert opened["system_shown"] and opened["diff_shown"] and opened["diff"] == "✗ city 'Madrid' <missing>"
