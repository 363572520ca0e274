"""Law: decode_json (orjson where it can read the text) gives json.loads's value, of the same types
and key order, or fails where json.loads fails, on any text: JSON written by json.dumps, numbers
of every length and exponent, and text built from JSON's own characters."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.calls import decode_json


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types and key order, compared without recursion (Python 3.12+'s
    json reads 1,100 nested lists, deeper than a recursive comparison could walk)."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if not (x == y or (math.isnan(x) and math.isnan(y))):
                return False
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            pending += zip(x, y, strict=True)
        elif isinstance(x, dict):
            if list(x) != list(y):
                return False
            pending += ((x[k], y[k]) for k in x)
        elif x != y:
            return False
    return True


def _outcome(decode: Any, text: str) -> Any:
    try:
        return decode(text)
    except (ValueError, RecursionError) as exc:
        return ValueError if isinstance(exc, ValueError) else RecursionError


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)
numbers = st.from_regex(r"\A-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,4})?\Z")
json_characters = st.text(alphabet='{}[]",:0123456789.eE-+ \t\n\\/untrlfasINaiy\u00e9\ud800', max_size=30)


@settings(max_examples=1000, deadline=None)
@given(values, st.booleans())
def test_json_text_decodes_as_json_loads_reads_it(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert _same(decode_json(text), json.loads(text))


@settings(max_examples=1000, deadline=None)
@given(numbers)
def test_numbers_of_any_length_decode_as_json_loads_reads_them(text: str) -> None:
    # An integer past 64 bits stays an exact int; a float past the float range is inf, as json reads it.
    assert _same(decode_json(text), json.loads(text))


@settings(max_examples=1000, deadline=None)
@given(json_characters)
def test_any_text_decodes_or_fails_as_json_loads(text: str) -> None:
    ours, theirs = _outcome(decode_json, text), _outcome(json.loads, text)
    assert ours is theirs if isinstance(theirs, type) else _same(ours, theirs)


@pytest.mark.parametrize(
    "text",
    [
        "123456789012345678901234567890",  # orjson would give a float
        "-9223372036854775809",  # just past int64
        "18446744073709551616",  # just past uint64
        "1e400",
        "NaN",
        '"\\ud800"',
        '{"a": 1, "b": 2, "a": 3}',
        "[" * 1100 + "]" * 1100,  # deeper than orjson reads
    ],
)
def test_what_orjson_reads_otherwise_or_refuses_is_read_by_json(text: str) -> None:
    ours, theirs = _outcome(decode_json, text), _outcome(json.loads, text)
    assert ours is theirs if isinstance(theirs, type) else _same(ours, theirs)
