"""Replies built from a case's expectation: the ground-truth answer, and one-argument perturbations.

The ground-truth answer of an expected call takes, for each parameter, the first accepted value
(as BFCL lists them; a parameter whose only accepted value is "may be left out" is left out; a dict
answer gives each key its first accepted value). A perfect model could send exactly this, so bfcl
mode must pass it wherever BFCL's checker does. A perturbation changes one argument of one call so
that BFCL's checker must fail it: a value no accepted value equals (strings compared as BFCL
normalises them), a required or non-optional argument left out, or an argument no one expects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..calls import ToolCall
from ..cases import Case, ExpectedCall
from ..scorers.bfcl import answers_of, normalise

_OPTIONAL = ""


def _first(options: list[Any]) -> Any:
    return next((o for o in options if not (isinstance(o, str) and o == _OPTIONAL)), _OPTIONAL)


def _plain(answer: Any) -> Any:
    """One BFCL accepted value as a value a model would send (dict answers: first value per key)."""
    if isinstance(answer, dict):
        out = {}
        for key, options in answer.items():
            value = _first(options)
            if not (isinstance(value, str) and value == _OPTIONAL):
                out[key] = value
        return out
    if isinstance(answer, list):
        return [_plain(x) if isinstance(x, dict) else x for x in answer]
    return answer


def reference_arguments(call: ExpectedCall, required: Iterable[str] = ()) -> dict[str, Any]:
    """The ground-truth arguments of an expected call. A ``required`` parameter whose only accepted
    value is "may be left out" gets ``""`` (BFCL accepts an empty string for it). A matcher BFCL
    has no accepted values for (``regex``, ``approx``, ``anything``) is left out."""
    out = {}
    needed = set(required)
    for key, matcher in call.arguments.fields:
        answers = answers_of(matcher)
        if answers is None:
            continue
        value = _first(answers)
        if not (isinstance(value, str) and value == _OPTIONAL):
            out[key] = _plain(value)
        elif key in needed:
            out[key] = _OPTIONAL
    return out


def _required(tools: Mapping[str, Mapping[str, Any]], name: str) -> list[str]:
    schema = (tools.get(name) or {}).get("function", {}).get("parameters") or {}
    return list(schema.get("required") or ())


def reference_calls(case: Case, tools: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[ToolCall, ...]:
    """The ground-truth reply of a case expecting calls (empty for no_call and any_call cases);
    ``tools``: the offered tools by name, for their required parameters."""
    tools = tools or {}
    return tuple(
        ToolCall(c.name, json.dumps(reference_arguments(c, _required(tools, c.name))), f"call_{i}")
        for i, c in enumerate(case.expect.calls)
    )


def _accepted(call: ExpectedCall, key: str) -> list[Any]:
    matcher = dict(call.arguments.fields).get(key)
    return (answers_of(matcher) or []) if matcher is not None else []


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return normalise(a) == normalise(b)
    return type(a) is type(b) and a == b


def _changed(value: Any, accepted: list[Any]) -> Any | None:
    """A value of the same JSON type that no accepted value equals, or None."""
    if isinstance(value, bool):
        candidates: list[Any] = [not value]
    elif isinstance(value, int):
        candidates = [value + 7, value - 13]
    elif isinstance(value, float):
        candidates = [value + 7.5, value - 13.25]
    elif isinstance(value, str):
        candidates = [value + " zz9", "zz9"]
    elif isinstance(value, list):
        candidates = [[*value, value[0]] if value else ["zz9"], []]
    elif isinstance(value, dict):
        candidates = [{**value, "zz9_unexpected": 1}]
    else:
        return None
    for candidate in candidates:
        if not any(_same(candidate, a) or _same(candidate, _plain(a)) for a in accepted):
            return candidate
    return None


def perturbations(case: Case, tools: Mapping[str, Mapping[str, Any]]) -> Iterator[tuple[str, tuple[ToolCall, ...]]]:
    """``(label, reply)`` for every one-argument change of the ground-truth reply that BFCL must
    fail: each argument's value changed, each argument that may not be left out left out, and one
    argument added that no one expects (``tools``: the offered tools by name, for the required list)."""
    base = [(c, reference_arguments(c, _required(tools, c.name))) for c in case.expect.calls]

    def reply(index: int, args: dict[str, Any]) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(c.name, json.dumps(args if i == index else a), f"call_{i}") for i, (c, a) in enumerate(base)
        )

    for index, (call, args) in enumerate(base):
        required = set(_required(tools, call.name))
        for key, value in args.items():
            new = _changed(value, _accepted(call, key))
            if new is not None:
                yield f"{call.name}[{index}].{key}=changed", reply(index, {**args, key: new})
            if key in required or _OPTIONAL not in _accepted(call, key):
                yield f"{call.name}[{index}].{key}=dropped", reply(index, {k: v for k, v in args.items() if k != key})
        yield f"{call.name}[{index}]+unexpected", reply(index, {**args, "zz9_unexpected": "zz9"})
