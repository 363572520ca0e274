"""A case file's pydantic validation errors, each as one line: the file, the case id, the field path,
the bad value as the YAML file writes it, and the valid choices (field names, with a close match)."""

from __future__ import annotations

import difflib
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from ..errors import CaseFileError
from .references import clip
from .spec import SuiteSpec


def explain(file: str, raw: dict[str, Any], error: Any) -> CaseFileError:
    """One pydantic error of a case file (an item of ``ValidationError.errors()``; ``raw``: the file as
    read) as one line: file, case id, field path, bad value, valid choices."""
    loc = error["loc"]
    shown = [p for p in loc if not (isinstance(p, str) and p.startswith("~"))]  # union tags are not fields
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in shown).lstrip(".")
    case_id = None
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        cases = raw.get("cases") or []
        if loc[1] < len(cases) and isinstance(cases[loc[1]], dict):
            case_id = cases[loc[1]].get("id")
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        fields = list(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), fields, n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        message = f"unknown field {loc[-1]!r}{hint}. Valid fields: {', '.join(fields) or '(see the README)'}"
    elif error["type"] == "missing":
        message = f"required field {loc[-1]!r} is missing"
    elif error["type"] == "literal_error" and loc == ("version",):
        message = f"version {value!r} is not supported. Valid versions: 1"
    else:
        message = (
            f"{error['msg'].removeprefix('Value error, ')} (got {_as_written(value)})"
            if not isinstance(value, dict)
            else error["msg"].removeprefix("Value error, ")
        )
    return CaseFileError(file, message, case_id=case_id, field=path or None)


def _as_written(value: Any) -> str:
    # As the YAML file writes them (`true`, `null`), not as Python prints them (True, None).
    return (
        {True: "true", False: "false", None: "null"}[value]
        if value is None or isinstance(value, bool)
        else clip(repr(value))
    )


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The spec model that owns the fields at ``loc`` (for listing valid field names): field names
    step into a model's field, list indexes, mapping keys and union tags into the type inside."""
    current: Any = SuiteSpec
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not (isinstance(part, str) and part in current.model_fields):
                return None
            current = current.model_fields[part].annotation
            continue
        current = _inside(current, part)
        if current is None:
            return None
    while not (isinstance(current, type) and issubclass(current, BaseModel)):
        members = [m for m in _members(current) if m is not type(None)]
        if len(members) != 1 or _bare(members[0]) is _bare(current):  # not one model inside: no list to give
            return None
        current = _bare(members[0])
    return current


def _inside(annotation: Any, part: Any) -> Any:
    """The type one step inside ``annotation`` at ``part`` (an index, a key, or a union tag)."""
    members = _members(annotation)
    if isinstance(part, str) and part.startswith("~"):  # a tag of a discriminated union (spec.py)
        return next(
            (m for m in members if any(getattr(x, "tag", None) == part for x in getattr(m, "__metadata__", ()))), None
        )
    for member in members:
        origin, args = get_origin(_bare(member)), get_args(_bare(member))
        if origin in (list, tuple) and isinstance(part, int) and args:
            return args[0]
        if origin is dict and isinstance(part, str) and len(args) == 2:
            return args[1]
    return None


def _members(annotation: Any) -> list[Any]:
    """The members of a union (Annotated wrappers kept, for their tags), or the annotation itself."""
    bare = _bare(annotation)
    return list(get_args(bare)) if get_origin(bare) in (Union, UnionType) else [annotation]


def _bare(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation
