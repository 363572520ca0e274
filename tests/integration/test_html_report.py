"""report.html in real headless Chromium: it renders, its images load, its console stays clean.

Skipped when no Chromium is installed (``apt-get install chromium`` on Debian). The checker is
scripts/check_html_report.py, the same one CI and people run by hand.
"""

from __future__ import annotations

import importlib.util
import os
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

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


def make_job(model: str, case: str, tools: int, status: str, calls: tuple[dict, ...] = ()) -> CaseResult:
    passed = status == "passed"
    return CaseResult(
        model=model,
        suite="weather",
        case_id=case,
        status=status,
        tool_count=tools,
        scores={
            "selection": ScoreRecord(1.0 if passed else 0.0, passed),
            "validity": ScoreRecord(1.0, True),
            "no_call": ScoreRecord(None, None),
        },
        failures=() if passed else (("missing_call", f"no call matched get_weather(city='{case}')"),),
        expected=f"get_weather(city='{case}')",
        calls=calls or ({"name": "get_weather", "arguments": '{"city": "Lyon"}', "id": "c1"},),
        prompt_tokens=30 * tools,
        n_offered=tools,
    )


@pytest.fixture
def report(tmp_path: Path) -> Path:
    evil = (
        {
            "name": "get_weather",
            "arguments": '{"city": "<script>console.error(1)</script><img src=x onerror=alert(1)>"}',
            "id": "x",
        },
    )
    jobs = [
        make_job(model, f"city-{c}", tools, "passed" if (c * 7 + tools + m) % 5 else "failed", evil if c == 0 else ())
        for m, model in enumerate(("qwen-0.5b", "qwen-1.5b"))
        for tools in (1, 4, 16, 64)
        for c in range(12)
    ]
    run = RunResult(
        "20250102-030405",
        "2025-01-02T03:04:05+00:00",
        {"record_mode": "none", "models": [{"name": "qwen-0.5b"}, {"name": "qwen-1.5b"}]},
        tuple(jobs),
        42.0,
    )
    return write_html(run, tmp_path)


def test_report_renders_in_chromium_without_errors(report: Path, tmp_path: Path) -> None:
    result = checker.check_report(report, tmp_path / "report.png", min_images=2)
    assert result.problems == []
    assert len(result.images) == 2 and all(i["width"] > 500 for i in result.images)
    data = result.screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == checker.WIDTH and height >= checker.HEIGHT


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
