"""assert_tool_calls in a user's own test: a reply that does not match is an AssertionError listing
each failure; an expectation the test wrote wrong (a misspelt matcher) is one line naming where,
without evalkit's frames."""

from __future__ import annotations

import pytest

from evalkit.calls import ToolCall, Turn
from evalkit.pytest_plugin import assert_tool_calls

REPLY = Turn((ToolCall("get_weather", '{"city": "Paris"}'),), None, "tool_calls")


def test_a_matching_reply_passes_and_a_wrong_one_lists_its_failures() -> None:
    assert_tool_calls(REPLY, [{"name": "get_weather", "arguments": {"city": {"regex": "Par.*"}}}])
    with pytest.raises(AssertionError, match="wrong_value: get_weather: city: expected 'Rome', got 'Paris'"):
        assert_tool_calls(REPLY, [{"name": "get_weather", "arguments": {"city": "Rome"}}])


def test_a_misspelt_matcher_is_one_line_without_a_traceback() -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        assert_tool_calls(REPLY, [{"name": "get_weather", "arguments": {"city": {"regx": "Par.*"}}}])
    assert not info.value.pytrace  # pytest shows the message alone
    assert str(info.value).startswith("assert_tool_calls: arguments.city: ")
    assert "regx" in str(info.value) and "see 'Argument matchers' in the README" in str(info.value)
