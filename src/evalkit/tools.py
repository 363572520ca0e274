"""Tool definitions: normalising, legacy ``functions`` ⇄ ``tools``, pydantic models, schemas.

A tool here is always the Chat Completions shape, a plain dict::

    {"type": "function", "function": {"name", "description", "parameters", "strict"?}}

Other shapes (legacy functions, Responses API function tools) are converted at the edges.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

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
        return f"parameters of {name!r} are not a valid JSON Schema: {exc.message}"
    return None


_VALIDATORS: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}


def arguments_validator(tool: Mapping[str, Any]) -> Draft202012Validator:
    """A validator for a call's arguments. A ``strict`` tool also rejects keys it does not list,
    as OpenAI's structured outputs do, even where the schema forgot ``additionalProperties``.
    Built once per tool object (and per canonical schema text)."""
    hit = _VALIDATORS.get(id(tool))
    if hit is not None and hit[0] is tool:
        return hit[1]
    validator = _validator(json.dumps(tool_parameters(tool), sort_keys=True), is_strict(tool))
    if len(_VALIDATORS) > 20_000:
        _VALIDATORS.clear()
    _VALIDATORS[id(tool)] = (tool, validator)
    return validator


_CHECKS: dict[int, tuple[Mapping[str, Any], Callable[[Any], bool]]] = {}


def arguments_check(tool: Mapping[str, Any]) -> Callable[[Any], bool]:
    """``arguments_validator(tool).is_valid``, compiled once per tool object: a Python predicate
    (:mod:`evalkit.validation`) where the schema allows, else jsonschema's own. The cache holds
    the tool, so its id cannot be reused while the entry lives."""
    hit = _CHECKS.get(id(tool))
    if hit is not None and hit[0] is tool:
        return hit[1]
    check = _check(json.dumps(tool_parameters(tool), sort_keys=True), is_strict(tool))
    if len(_CHECKS) > 20_000:
        _CHECKS.clear()
    _CHECKS[id(tool)] = (tool, check)
    return check


def arguments_error(tool: Mapping[str, Any], arguments: Any) -> str:
    """Why ``arguments`` fail the tool's schema: jsonschema's first error by path, as
    ``path: message``; a missing or unexpected key at the root is written without jsonschema."""
    from .validation import root_error

    validator = arguments_validator(tool)
    message = root_error(validator.schema, arguments)  # the schema jsonschema reads, in its key order
    if message is not None:
        return message
    errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))
    if not errors:
        return "invalid"
    where = "/".join(str(p) for p in errors[0].absolute_path)
    return f"{where}: {errors[0].message}" if where else errors[0].message


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
def _validator(schema_json: str, strict: bool) -> Draft202012Validator:
    # Keyed on the canonical schema text: the same tool is validated for every job of a run.
    return Draft202012Validator(_closed(schema_json, strict))


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
