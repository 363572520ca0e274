"""Scorers, driven by golden data: tests/data/scorer_golden.yaml (its header explains an entry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from evalkit import Case, ToolCall, Turn, TurnError, UnknownNameError
from evalkit.cases import load_suite_file
from evalkit.scorers import DEFAULT_SCORERS, SCORERS, Failure, Score, failures_of, resolve_scorers, score_job
from evalkit.tools import tool_name

GOLDEN_FILE = Path(__file__).resolve().parents[1] / "data" / "scorer_golden.yaml"
GOLDEN = yaml.safe_load(GOLDEN_FILE.read_text(encoding="utf-8"))
ENTRIES = GOLDEN["entries"]


def build_case(entry: dict[str, Any], folder: Path) -> tuple[Case, list[dict[str, Any]]]:
    """The entry as a one-case suite file, loaded like any other; and the tools offered."""
    suite = {
        "version": 1,
        "suite": "golden",
        "tools": GOLDEN["toolsets"][entry["tools"]],
        "cases": [{"id": entry["id"], **entry["case"]}],
    }
    path = folder / "golden.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    loaded = load_suite_file(path)
    names = entry.get("offered")
    offered = [dict(t) for t in loaded.tools if names is None or tool_name(t) in names]
    return loaded.cases[0], offered


def build_turn(raw: dict[str, Any]) -> Turn:
    calls = tuple(
        ToolCall(c["name"], c.get("arguments", "{}"), f"call_{i}") for i, c in enumerate(raw.get("calls", ()))
    )
    error = TurnError(**raw["error"]) if "error" in raw else None
    default_finish = None if error else "tool_calls" if calls else "stop"
    return Turn(calls, raw.get("content"), raw.get("finish_reason", default_finish), error)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_golden(entry: dict[str, Any], tmp_path: Path) -> None:
    case, offered = build_case(entry, tmp_path)
    want = entry["want"]
    status, scores = score_job(
        case,
        build_turn(entry["turn"]),
        offered,
        scorers=entry.get("scorers", DEFAULT_SCORERS),
        bfcl=entry.get("bfcl", False),
    )

    values = {s.scorer: s.value for s in scores}
    assert values.keys() == want["scores"].keys()
    for name, expected in want["scores"].items():
        assert values[name] == (None if expected is None else pytest.approx(expected, abs=1e-4)), name
    for score in scores:  # `passed` is the pass/fail reading of `value`
        assert score.passed == (None if score.value is None else score.value == 1.0), score.scorer
    assert status == want["status"]

    failures = failures_of(scores)
    assert [f.kind for f in failures] == want["failures"]
    for text in want.get("explain", ()):
        assert any(text in f.explanation for f in failures), f"{text!r} not in {[f.explanation for f in failures]}"
    if status == "passed":
        assert not failures
    else:
        assert failures, "a job that does not pass must say why"


# --- the golden file itself ---------------------------------------------------------------------


def test_golden_entries_are_complete() -> None:
    ids = [e["id"] for e in ENTRIES]
    assert len(ids) == len(set(ids))
    for entry in ENTRIES:
        scored = entry.get("scorers", DEFAULT_SCORERS)
        assert sorted(entry["want"]["scores"]) == sorted(scored), (
            f"{entry['id']}: give a value (or null) for every scorer run"
        )
        assert entry["want"]["status"] in ("passed", "failed", "error")


def test_golden_file_covers_every_failure_kind() -> None:
    kinds = {kind for entry in ENTRIES for kind in entry["want"]["failures"]}
    assert kinds >= {
        "wrong_function", "missing_call", "extra_call", "invalid_json", "schema_violation", "wrong_value",
        "hallucinated_function", "unexpected_call", "forbidden_call", "wrong_order",
        "http_error", "cassette_miss", "rate_limited", "truncated_stream", "malformed_reply",
    }  # fmt: skip
    assert {e["want"]["status"] for e in ENTRIES} == {"passed", "failed", "error"}
    assert any(e.get("bfcl") for e in ENTRIES)


# --- the registry and failures_of ---------------------------------------------------------------


def test_registry_names() -> None:
    assert tuple(SCORERS) == DEFAULT_SCORERS
    assert set(SCORERS) == {
        "selection",
        "hallucination",
        "validity",
        "correctness",
        "coverage",
        "no_call",
        "forbidden",
        "finish",
        "trajectory",
        "answer",
        "loop",
    }


def test_resolve_scorers() -> None:
    assert resolve_scorers(None) == DEFAULT_SCORERS
    assert resolve_scorers(["coverage", "selection"]) == ("coverage", "selection")
    with pytest.raises(UnknownNameError) as info:
        resolve_scorers(["selection", "coverge"])
    assert str(info.value) == (
        "'coverge' is not a scorer. Valid scorers: answer, correctness, coverage, finish, forbidden, hallucination, "
        "loop, no_call, selection, trajectory, validity. Set `scorers` in [tool.evalkit] (or leave it out for every scorer)."
    )


def test_failures_of_reports_each_kind_once_most_specific_first() -> None:
    missing_by_selection = Failure("missing_call", "no call to f (expected 1×, got 0×)")
    missing_by_coverage = Failure("missing_call", "no call matched f()")
    scores = [
        Score("selection", 0.0, False, (missing_by_selection, Failure("wrong_function", "called g, expected f"))),
        Score("coverage", 0.0, False, (missing_by_coverage,)),
        Score("hallucination", 0.0, False, (Failure("hallucinated_function", "called 'g'"),)),
        Score("validity", None, None),
    ]
    assert failures_of(scores) == (
        Failure("hallucinated_function", "called 'g'"),
        missing_by_coverage,
        Failure("wrong_function", "called g, expected f"),
    )


def test_failures_of_keeps_several_failures_of_one_kind_from_one_scorer() -> None:
    a, b = Failure("wrong_value", "f: x: expected 1, got 2"), Failure("wrong_value", "f: x: expected 2, got 1")
    assert failures_of([Score("correctness", 0.0, False, (a, b))]) == (a, b)


def test_score_ratio() -> None:
    assert Score.ratio("validity", 0, 0) == Score("validity", None, None)
    assert Score.ratio("validity", 1, 4) == Score("validity", 0.25, False)
    assert Score.ratio("validity", 3, 3) == Score("validity", 1.0, True)
    assert not Score.not_applicable("x").applies


def test_a_forbid_rule_fails_closed_when_its_pattern_runs_out_of_time(tmp_path: Path) -> None:
    # A model must not slip past a forbid rule with a string that makes the pattern backtrack.
    entry = {
        "tools": "weather",
        "case": {
            "prompt": "Weather?",
            "expect": {"calls": [{"name": "get_weather"}]},
            "forbid": [{"name": "get_weather", "arguments": {"city": {"regex": "(a|a)*$"}}}],
        },
    }
    case, offered = build_case({"id": "slow-forbid", **entry}, tmp_path)
    turn = Turn((ToolCall("get_weather", '{"city": "' + "a" * 40 + '!"}', "c"),), None, "tool_calls")
    status, scores = score_job(case, turn, offered)
    assert status == "failed"
    assert [f.kind for f in failures_of(scores)] == ["forbidden_call"]
