"""Tool calls written as text (evalkit.parsing.text_calls): found by their structure, not by a name."""

from __future__ import annotations

import pytest

from evalkit.parsing import find_text_tool_call


@pytest.mark.parametrize(
    ("content", "name"),
    [
        # the shipped 0.5B reply to chitchat/joke: a bare object, cut off by the model
        ('{"name": "Joke", "arguments": {"setup": "Why did the', "Joke"),
        ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>', "get_weather"),
        ('Sure! ```json\n{"name": "get_weather", "parameters": {"city": "Oslo"}}\n```', "get_weather"),
        ('[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Oslo"}}]', "get_weather"),
        ("<|python_tag|>get_weather.call(city='Oslo')", None),
        ('<function=get_weather>{"city": "Oslo"}</function>', "get_weather"),
        ('{"arguments": {"city": "Oslo"}, "name": "get_weather"}', "get_weather"),
        ('{"tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]}', "f"),
        ('{"type": "function", "function": {"name": "get_weather", "arguments": "{}"}}', "get_weather"),
        ("<tool_call>\n", None),  # markup alone, cut off before the call
    ],
)
def test_a_call_written_as_text_is_found(content: str, name: str | None) -> None:
    found = find_text_tool_call(content)
    assert found is not None and found.name == name
    assert "as text instead of calling it" in found.describe()


@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        "I can call get_weather for you if you tell me the city.",
        'Here is the person: {"name": "Ada", "born": 1815}',  # a name key alone is data, not a call
        'The function takes {"city": "Paris"} as its arguments.',
        "Use the tool_call feature of the API.",
    ],
)
def test_prose_and_plain_json_are_not_calls(content: str | None) -> None:
    assert find_text_tool_call(content) is None


def test_the_excerpt_is_short_and_on_one_line() -> None:
    found = find_text_tool_call('{"name": "f", "arguments": {"text": "' + "word " * 100 + '"}}')
    assert found is not None and len(found.excerpt) <= 84 and "\n" not in found.excerpt
