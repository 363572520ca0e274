"""Tool definitions: normalising, legacy ``functions`` ⇄ ``tools``, pydantic models, schemas.

A tool here is always the Chat Completions shape, a plain dict::

    {"type": "function", "function": {"name", "description", "parameters", "strict"?}}

Other shapes (legacy functions, Responses API function tools) are converted at the edges.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .identity_cache import IdentityCache
from .schemas import ArgumentsValidator, schema_problem

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def tool_name(tool: Mapping[str, Any]) -> str:
    return str(tool["function"]["name"])


def tool_parameters(tool: Mapping[str, Any]) -> dict[str, Any]:
    return tool["function"].get("parameters") or {"type": "object", "properties": {}}


def is_strict(tool: Mapping[str, Any]) -> bool:
    return bool(tool["function"].get("strict"))


def function_to_tool(function: Mapping[str, Any]) -> dict[str, Any]:
    """A legacy ``functions`` entry as a tool."""
    return {"type": "function", "function": dict(function)}


def tool_to_function(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A tool as a legacy ``functions`` entry (``strict`` has no legacy form, so it is dropped)."""
    return {k: v for k, v in tool["function"].items() if k != "strict"}


def tool_to_responses(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A tool in the Responses API's flat shape."""
    return {"type": "function", **tool["function"]}


def tool_from_pydantic(model: type, *, name: str | None = None, description: str | None = None) -> dict[str, Any]:
    """A strict tool from a pydantic model, exactly as ``openai.pydantic_function_tool`` makes it."""
    import openai  # lazy: keeps `evalkit --help` fast

    return dict(openai.pydantic_function_tool(model, name=name, description=description))


def tool_problem(tool: Any) -> str | None:
    """Why ``tool`` is not a usable tool definition, or ``None`` when it is."""
    if not isinstance(tool, Mapping) or tool.get("type") != "function" or not isinstance(tool.get("function"), Mapping):
        return "expected {type: function, function: {name, description, parameters}}"
    function = tool["function"]
    name = function.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return f"function name {name!r} must be 1-64 letters, digits, '_', '.' or '-'"
    parameters = function.get("parameters", {"type": "object"})
    if not isinstance(parameters, Mapping) or parameters.get("type", "object") != "object":
        return f"parameters of {name!r} must be a JSON Schema of type object"
    try:
        Draft202012Validator.check_schema(parameters)
    except SchemaError as exc:
        return f"parameters of {name!r} are not a valid JSON Schema: {_clip(exc.message)}"
    except RecursionError:
        return f"parameters of {name!r} nest too deeply to check"
    if (problem := schema_problem(parameters)) is not None:  # refs, ref cycles, regexes: see schemas.py
        return f"parameters of {name!r}: {problem}"
    return None


def _clip(text: str, limit: int = 200) -> str:
    # jsonschema's messages quote the offending (sub)schema, which can be long; keep the line short.
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def arguments_validator(tool: Mapping[str, Any]) -> ArgumentsValidator:
    """A validator for a call's arguments. A ``strict`` tool also rejects keys it does not list,
    as OpenAI's structured outputs do, even where the schema forgot ``additionalProperties``.
    For a tool that passed :func:`tool_problem`, ``iter_errors`` never raises (see schemas.py).
    Built once per tool object (every job of a suite offers the same ones)."""
    return _VALIDATORS(tool)


def arguments_check(tool: Mapping[str, Any]) -> Callable[[Any], bool]:
    """``arguments_validator(tool).is_valid``, compiled once per tool object: a Python predicate
    (:mod:`evalkit.validation`) where the schema uses only keywords it compiles, else the
    validator's own (which runs patterns, ``multipleOf`` and ``uniqueItems`` safely)."""
    return _CHECKS(tool)


def arguments_error(tool: Mapping[str, Any], arguments: Any) -> str:
    """Why ``arguments`` fail the tool's schema: jsonschema's first error by path, as
    ``path: message``; a missing or unexpected key at the root is written without jsonschema."""
    from .validation import root_error

    validator = arguments_validator(tool)
    message = root_error(validator.schema, arguments)  # the schema jsonschema reads, in its key order
    if message is not None:
        return message
    error = validator.first_error(arguments)
    if error is None:
        return "invalid"
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def _canonical(tool: Mapping[str, Any]) -> tuple[str, bool]:
    # The same schema in two tools (a suite and its tool-count sweep) shares the lru caches below.
    return json.dumps(tool_parameters(tool), sort_keys=True), is_strict(tool)


@lru_cache(maxsize=4096)
def _closed(schema_json: str, strict: bool) -> Any:
    schema = json.loads(schema_json)
    if strict:
        _close_objects(schema)
    return schema


@lru_cache(maxsize=4096)
def _check(schema_json: str, strict: bool) -> Callable[[Any], bool]:
    from .validation import compile_schema

    return compile_schema(_closed(schema_json, strict)) or _validator(schema_json, strict).is_valid


@lru_cache(maxsize=4096)
def _validator(schema_json: str, strict: bool) -> ArgumentsValidator:
    # Keyed on the canonical schema text: the same tool is validated for every job of a run.
    return ArgumentsValidator.for_schema(_closed(schema_json, strict))


_VALIDATORS: IdentityCache[Mapping[str, Any], ArgumentsValidator] = IdentityCache(
    lambda tool: _validator(*_canonical(tool))
)
_CHECKS: IdentityCache[Mapping[str, Any], Callable[[Any], bool]] = IdentityCache(lambda tool: _check(*_canonical(tool)))


def _close_objects(schema: Any) -> None:
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.values():
            _close_objects(value)
    elif isinstance(schema, list):
        for value in schema:
            _close_objects(value)


def tools_by_name(tools: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {tool_name(tool): tool for tool in tools}


def toolset_id(tools: Sequence[Mapping[str, Any]]) -> str:
    """A short stable id of an offered tool list (its order included): results.json stores each
    list once, under this id, and each job names the id it was offered. Cached per list object,
    since every job of a suite (at one tool count) offers the same one."""
    return _TOOLSETS(tools)


def _digest(tools: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(list(tools), sort_keys=True, default=str).encode()).hexdigest()[:12]


_TOOLSETS: IdentityCache[Sequence[Mapping[str, Any]], str] = IdentityCache(_digest)
