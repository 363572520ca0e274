"""Tool calls written as text: a reply that *says* it calls a function instead of calling it.

Small models and servers without a tool parser for a model's chat template put the call in the
message text (Qwen/Hermes ``<tool_call>{…}</tool_call>``, Mistral ``[TOOL_CALLS]``, Llama
``<|python_tag|>`` or ``<function=…>``, or a bare ``{"name": …, "arguments": …}`` object, often cut
off). Such a reply made no call the app could run, but it is not an abstention either: on a case
that expects no call it must not pass as a correct refusal. The patterns look for the *structure*
of a call (a name key followed by an arguments key, or a template's call markup), so prose that
merely mentions a function does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Markup that chat templates use around a call. Seeing one in the text means the server did not
# turn the model's call into a tool call.
_MARKUP = (
    "<tool_call>",
    "</tool_call>",
    "<tool_calls>",
    "[TOOL_CALLS]",
    "<|python_tag|>",
    "<|tool_call|>",
    "<|tool_calls_section_begin|>",
    "<｜tool▁calls▁begin｜>",
    "<｜tool▁call▁begin｜>",
    "<function_call>",
    "<|action_start|>",
)
_FUNCTION_TAG = re.compile(r"<function=([A-Za-z0-9_.\-]{1,64})>")
# {"name": "get_weather", "arguments": …} / "parameters" / "args" (OpenAI-, Llama- and Hermes-style),
# balanced or cut off: only the start of the object is needed.
_NAME_THEN_ARGUMENTS = re.compile(
    r'\{\s*"(?:name|function|tool|tool_name)"\s*:\s*"([^"\\\n]{1,64})"\s*,\s*"(?:arguments|parameters|args|input)"\s*:'
)
_ARGUMENTS_THEN_NAME = re.compile(
    r'\{\s*"(?:arguments|parameters)"\s*:\s*\{[^{}]{0,400}\}\s*,\s*"name"\s*:\s*"([^"\\\n]{1,64})"'
)
_OPENAI_SHAPED = re.compile(
    r'"(?:tool_calls|function_call)"\s*:\s*[\[{]|"function"\s*:\s*\{\s*"name"\s*:\s*"([^"\\\n]{1,64})"'
)


@dataclass(frozen=True)
class TextToolCall:
    """Where a reply's text holds a call: the function name when it can be read, and an excerpt."""

    name: str | None
    excerpt: str

    def describe(self) -> str:
        called = f"a call to {self.name!r}" if self.name else "tool-call markup"
        return f"the reply writes {called} as text instead of calling it: {self.excerpt}"


def find_text_tool_call(content: str | None) -> TextToolCall | None:
    """The first tool call written in ``content``, or ``None`` when the text holds none."""
    if not content:
        return None
    for pattern in (_NAME_THEN_ARGUMENTS, _ARGUMENTS_THEN_NAME, _FUNCTION_TAG, _OPENAI_SHAPED):
        if match := pattern.search(content):
            return TextToolCall(match.group(1) if match.lastindex else None, _excerpt(content, match.start()))
    for marker in _MARKUP:
        if (at := content.find(marker)) >= 0:
            name = _NAME_THEN_ARGUMENTS.search(content, at)
            return TextToolCall(name.group(1) if name else None, _excerpt(content, at))
    return None


def _excerpt(content: str, start: int, limit: int = 80) -> str:
    text = " ".join(content[start:].split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
