"""Every cassette of the real-world corpus (../shared/corpus/real-cassettes) is read with
read_interactions and parsed with turn_from_http, and its tool calls are counted against the
hand count in manifest.json.

How the counts compare: an exchange that is not a model reply (turn_from_http gives None: thread
creation, trace ingestion, a run still in progress, Ollama's native /api/chat) counts 0. With
``n`` > 1 in the request the manifest counts the calls of every choice, while a Turn is one choice
(other choices are other answers, not parallel calls), so the test adds up the turns of choices
0..n-1.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from evalkit.calls import HTTP_ERROR, MALFORMED_REPLY, RATE_LIMITED, Turn
from evalkit.importers.cassettes import Interaction, read_interactions
from evalkit.parsing import is_sse, turn_from_http

pytestmark = pytest.mark.corpus

# The same place tests/conftest.py looks; needed here at collection time to parametrize by file.
_CORPUS = Path(
    os.environ.get(
        "EVALKIT_CORPUS", Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "real-cassettes"
    )
)


def _manifest() -> list[dict[str, Any]]:
    try:
        return json.loads((_CORPUS / "manifest.json").read_text(encoding="utf-8"))
    except OSError:
        return []


ENTRIES = _manifest()


def _choices(interaction: Interaction) -> int:
    try:
        request = json.loads(interaction.request_body)
    except ValueError:
        return 1
    n = request.get("n") if isinstance(request, dict) else None
    return n if isinstance(n, int) and n > 1 else 1


def turns(interaction: Interaction) -> list[Turn | None]:
    """One turn per requested choice."""
    i = interaction
    return [
        turn_from_http(i.method, i.uri, i.request_body, i.status, i.headers, i.body, choice=c)
        for c in range(_choices(i))
    ]


def calls_in(interaction: Interaction) -> int:
    return sum(len(t.calls) for t in turns(interaction) if t is not None)


def _expected(entry: dict[str, Any], field: str) -> tuple[list[int] | None, int, int | None]:
    """(per-interaction list or None, interaction count, total or None) from a manifest field that is
    either a list or one of the two summary strings: "[200 x25]", "[1 total over 19 interactions]"."""
    value = entry[field]
    if isinstance(value, list):
        return value, len(value), sum(value)
    if match := re.fullmatch(r"\[(\d+) total over (\d+) interactions\]", value):
        return None, int(match[2]), int(match[1])
    if match := re.fullmatch(r"\[(\d+) x(\d+)\]", value):
        return [int(match[1])] * int(match[2]), int(match[2]), None
    raise AssertionError(f"{entry['file']}: cannot read manifest {field} {value!r}")


def by_file(entries: list[dict[str, Any]]) -> Any:
    return pytest.mark.parametrize(
        "entry", entries or [pytest.param(None, id="no-corpus")], ids=lambda e: e["file"] if e else "no-corpus"
    )


@by_file(ENTRIES)
def test_every_interaction_is_read_with_its_status(corpus_dir: Path, entry: dict[str, Any]) -> None:
    found = read_interactions(corpus_dir / entry["file"])
    statuses, count, _ = _expected(entry, "statuses")
    assert len(found) == count, f"{entry['file']}: {len(found)} interactions read, manifest lists {count}"
    assert [i.status for i in found] == statuses


@by_file(ENTRIES)
def test_tool_calls_per_interaction_match_the_manifest(corpus_dir: Path, entry: dict[str, Any]) -> None:
    found = read_interactions(corpus_dir / entry["file"])
    per_interaction, count, total = _expected(entry, "tool_calls_per_interaction")
    counted = [calls_in(i) for i in found]
    if per_interaction is None:  # the two long Assistants/agent files give only a total
        assert (len(counted), sum(counted)) == (count, total), (
            f"{entry['file']}: {sum(counted)} calls over {len(counted)} interactions"
        )
    else:
        assert counted == per_interaction, f"{entry['file']}: parsed {counted}, manifest {per_interaction}"


@by_file(ENTRIES)
def test_every_reply_is_readable_and_errors_keep_their_kind(corpus_dir: Path, entry: dict[str, Any]) -> None:
    for number, interaction in enumerate(read_interactions(corpus_dir / entry["file"])):
        for turn in turns(interaction):
            if turn is None:
                continue
            where = f"{entry['file']} interaction {number}"
            assert turn.error is None or turn.error.kind != MALFORMED_REPLY, f"{where}: {turn.error.message}"
            if interaction.status >= 400:
                expected = RATE_LIMITED if interaction.status == 429 else HTTP_ERROR
                assert turn.error is not None and turn.error.kind == expected, where


@by_file(ENTRIES)
def test_streaming_files_hold_sse_bodies(corpus_dir: Path, entry: dict[str, Any]) -> None:
    bodies = [i.body for i in read_interactions(corpus_dir / entry["file"])]
    assert any(map(is_sse, bodies)) is (entry["streaming"] == "yes"), (
        f"{entry['file']}: streaming is {entry['streaming']!r}"
    )


def test_the_corpus_covers_every_api(corpus_dir: Path) -> None:
    """Guards the tests above from passing vacuously (an empty manifest, a dispatcher that reads nothing)."""
    assert len(ENTRIES) == 62
    replies = [
        turn
        for entry in ENTRIES
        for interaction in read_interactions(corpus_dir / entry["file"])
        for turn in turns(interaction)
        if turn is not None
    ]
    manifest_total = sum(_expected(entry, "tool_calls_per_interaction")[2] or 0 for entry in ENTRIES)
    assert sum(len(t.calls) for t in replies) == manifest_total == 84
    assert {t.finish_reason for t in replies} >= {"tool_calls", "function_call", "stop"}
