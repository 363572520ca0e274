"""`evalkit extract` on every cassette of the real-world corpus (../shared/corpus/real-cassettes, skipped
when absent): each one extracts, its calls per interaction equal manifest.json (counted the way
test_corpus.py counts them: every choice of an ``n`` > 1 request, 0 for an exchange that is no model
reply), the names are the offered ones, and ``--to-cases`` writes files that load."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from evalkit.cases import load_cases
from evalkit.importers.extract import CassetteCalls, extract
from evalkit.importers.to_cases import to_cases

pytestmark = pytest.mark.corpus


def _corpus_helpers() -> ModuleType:
    """test_corpus.py's manifest helpers (ENTRIES, by_file, _expected), loaded by path: the tests
    run with --import-mode=importlib, where test modules are not importable by name."""
    spec = importlib.util.spec_from_file_location("_evalkit_corpus_helpers", Path(__file__).with_name("test_corpus.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


corpus = _corpus_helpers()
ENTRIES: list[dict[str, Any]] = corpus.ENTRIES

# Calls whose name the request did not offer, each looked at by hand. dd-trace-py's streamed
# fixture sends no `tools` yet its recorded reply calls extract_student_info: the body was edited
# upstream (the non-streamed sibling offers the tool); the parser reads the reply as recorded.
UNOFFERED = {("dd-trace-py/chat_completion_tool_call_streamed.yaml", "0"): "extract_student_info"}


def _extract(corpus_dir: Path, entry: dict[str, Any]) -> CassetteCalls:
    (found,) = extract([corpus_dir / entry["file"]])
    assert found.note is None, f"{entry['file']}: {found.note}"
    return found


@corpus.by_file(ENTRIES)
def test_calls_per_interaction_match_the_manifest(corpus_dir: Path, entry: dict[str, Any]) -> None:
    found = _extract(corpus_dir, entry)
    per_interaction, count, total = corpus._expected(entry, "tool_calls_per_interaction")
    calls: Counter[int] = Counter()
    for row in found.interactions:
        calls[row.index] += len(row.calls)
    counted = [calls[index] for index in range(count)]
    assert max(calls) < count, f"{entry['file']}: more interactions than the manifest lists"
    if per_interaction is None:
        assert sum(counted) == total, f"{entry['file']}: {sum(counted)} calls, manifest {total}"
    else:
        assert counted == per_interaction, f"{entry['file']}: extracted {counted}, manifest {per_interaction}"


@corpus.by_file(ENTRIES)
def test_call_names_are_the_offered_functions(corpus_dir: Path, entry: dict[str, Any]) -> None:
    found = _extract(corpus_dir, entry)
    for row in found.interactions:
        for call in row.calls:
            assert isinstance(call.name, str) and call.name, f"{entry['file']} #{row.label}"
            if (entry["file"], row.label) in UNOFFERED:
                assert (call.name, row.offered) == (UNOFFERED[entry["file"], row.label], ())
            else:
                assert call.name in row.offered, f"{entry['file']} #{row.label}: {call.name} not in {row.offered}"


@corpus.by_file(ENTRIES)
def test_to_cases_writes_files_that_load(corpus_dir: Path, entry: dict[str, Any], tmp_path: Path) -> None:
    found = _extract(corpus_dir, entry)
    written = to_cases([found], tmp_path)
    replies = sum(row.reply for row in found.interactions)
    skipped = sum(note.skipped_case for note in written.notes)
    assert written.cases == replies - skipped
    assert len(written.suites) == (1 if written.cases else 0)
    if written.cases:
        (suite,) = load_cases(tmp_path)
        assert len(suite.cases) == written.cases


def test_the_whole_corpus_in_one_command(corpus_dir: Path, tmp_path: Path) -> None:
    """Pins the totals, so the per-file tests above cannot pass by reading nothing."""
    found = extract([corpus_dir])
    assert (len(found), [c.note for c in found if c.note]) == (62, [])
    rows = [row for cassette in found for row in cassette.interactions]
    replies = [row for row in rows if row.reply]
    assert len({(c.file, row.index) for c in found for row in c.interactions}) == 157
    assert sum(len(row.calls) for row in rows) == 84
    assert (len(replies), sum(1 for row in replies if row.error_kind)) == (111, 13)
    written = to_cases(found, tmp_path)
    suites = load_cases(tmp_path)  # every file, and their suite names unique across files
    assert (
        sum(len(s.cases) for s in suites) == written.cases == len(replies) - sum(n.skipped_case for n in written.notes)
    )
    assert (len(suites), written.cases) == (45, 76)
    reasons = Counter(_reason(n.message) for n in written.notes if n.skipped_case)
    assert reasons == {
        "error": 13,
        "no function tools": 12,
        "duplicate": 7,
        "not a function tool": 1,
        "schema-invalid value": 2,  # dd-trace-py's extract_student_info: grades 3.8 for an integer
    }


def _reason(message: str) -> str:
    if message.startswith("the reply is an error"):
        return "error"
    if message.startswith("the request offered no function tools"):
        return "no function tools"
    if message.startswith("same request and calls"):
        return "duplicate"
    if "not a function tool" in message:
        return "not a function tool"
    if "could never pass" in message:
        return "schema-invalid value"
    return message
