"""BFCL entries as evalkit suites: one case file per category, with the notice beside them.

An entry ``{id, question: [[messages…]], function: [BFCL functions]}`` with its ground truth
``[{name: {param: [accepted values…]}}, …]`` becomes a case with its own ``tools`` (converted by
:mod:`evalkit.importers.bfcl`, ``any`` as ``string`` as BFCL sends it, ``x-bfcl-type`` where an
enum overrides BFCL's declared type) and an expectation:

- AST categories: ``calls``, one per ground-truth call, the name as OpenAI-style tools carry it
  (``math.factorial`` → ``math_factorial``); each parameter's accepted values become a matcher:
  one value → the literal, several → ``any_of``; ``""`` among them → ``optional: true``; only
  ``""`` → ``absent: true``; none at all → ``regex: "(?!)"`` (matches nothing); a string anywhere in the values → ``ignore_case: true`` (BFCL compares
  strings case-insensitively; its other normalisation is applied by bfcl mode only). A dict value
  (BFCL: key → accepted values) becomes an object of matchers, a list of them a list of objects.
- ``irrelevance``, ``live_irrelevance``: ``no_call: true``; ``live_relevance``: ``any_call: true``.

An entry that does not make a valid case (the loader's own checks) is left out, with why.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..cases import EXPLICIT_MARKER, parse_suite
from ..errors import EvalkitError
from ..matchers import MATCHER_KEYS
from .bfcl import (
    BFCL_PACKAGE,
    BFCL_URL,
    CATEGORIES,
    Source,
    answer_path,
    convert_tool,
    data_path,
    has_answers,
    read_jsonl,
    read_sources,
    tool_name,
)

NOTICE = "NOTICE.md"
NOTHING = "(?!)"  # a regex no string matches


class NotImportable(ValueError):
    """An entry evalkit cannot express; the message says why."""


def suite_name(category: str) -> str:
    """``live_simple`` → ``bfcl-live-simple``."""
    return "bfcl-" + category.replace("_", "-")


@dataclass(frozen=True)
class Imported:
    """One category: its case dicts (as the file holds them) and the entries left out, with why."""

    category: str
    cases: tuple[dict[str, Any], ...]
    total: int
    left_out: tuple[tuple[str, str], ...] = field(default=())  # (entry id, reason)


def import_bfcl(
    *,
    source: Path | None = None,
    categories: Sequence[str] = CATEGORIES,
    per_category: int | None = None,
    seed: int = 0,
    say: Callable[[str], None] | None = None,
) -> tuple[Source, list[Imported]]:
    """Read and convert the named categories. ``per_category``: a sample of that many importable
    entries per category, drawn with ``random.Random(f"{seed}:{category}")`` and kept in BFCL's order."""
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise EvalkitError(
            f"{unknown[0]!r} is not a BFCL category evalkit imports. Valid categories: {', '.join(CATEGORIES)}."
        )
    paths = tuple(
        p for c in categories for p in ((data_path(c), answer_path(c)) if has_answers(c) else (data_path(c),))
    )
    src = read_sources(source, paths, say=say)
    out = []
    for category in categories:
        entries = read_jsonl(src.files[data_path(category)])
        answers = (
            {a["id"]: a["ground_truth"] for a in read_jsonl(src.files[answer_path(category)])}
            if has_answers(category)
            else {}
        )
        cases, left_out = [], []
        for entry in entries:
            try:
                cases.append(entry_case(category, entry, answers.get(entry["id"])))
            except NotImportable as exc:
                left_out.append((str(entry.get("id")), str(exc)))
        if per_category is not None and per_category < len(cases):
            keep = set(random.Random(f"{seed}:{category}").sample(range(len(cases)), per_category))
            cases = [c for i, c in enumerate(cases) if i in keep]
        out.append(Imported(category, tuple(cases), len(entries), tuple(left_out)))
    return src, out


def entry_case(category: str, entry: Mapping[str, Any], ground_truth: Any) -> dict[str, Any]:
    """One BFCL entry as a case dict; raises :class:`NotImportable`."""
    turns = entry.get("question") or []
    if len(turns) != 1 or not turns[0]:
        raise NotImportable(f"{len(turns)} turns; evalkit imports single-turn entries")
    messages = [dict(m) for m in turns[0]]
    tools = [convert_tool(f, untyped="string", note=True) for f in entry.get("function") or []]
    case: dict[str, Any] = {"id": entry["id"]}
    if len(messages) == 1 and messages[0].get("role") == "user":
        case["prompt"] = messages[0].get("content")
    else:
        case["messages"] = messages
    if "irrelevance" in category:
        case["expect"] = {"no_call": True}
    elif "relevance" in category:
        case["expect"] = {"any_call": True}
    else:
        if not isinstance(ground_truth, list) or not ground_truth:
            raise NotImportable("no ground truth")
        known = {
            str(f.get("name")): set((f.get("parameters") or {}).get("properties") or {}) for f in entry["function"]
        }
        case["expect"] = {"calls": [_call(call, known) for call in ground_truth]}
    case["tags"] = [category]
    case["tools"] = tools
    _check(category, case)
    return case


def _check(category: str, case: dict[str, Any]) -> None:
    # The loader's own validation, one case at a time, so one bad entry leaves out only itself.
    try:
        parse_suite({"version": 1, "suite": suite_name(category), "tools": [], "cases": [case]}, Path(category))
    except EvalkitError as exc:
        raise NotImportable(str(exc).split(": ", 1)[-1]) from None


def _call(call: Mapping[str, Any], known: Mapping[str, set[str]]) -> dict[str, Any]:
    if not isinstance(call, Mapping) or len(call) != 1:
        raise NotImportable(f"a ground-truth call is not {{name: {{param: [values]}}}}: {call!r}")
    ((name, params),) = call.items()
    if not isinstance(params, Mapping):
        raise NotImportable(f"{name}: parameters are not a mapping")
    # An optional answer for a parameter the function does not have (BFCL has a few) can only be
    # met by leaving it out: any value is an unexpected parameter. So it is dropped, not an error.
    params = {
        k: v
        for k, v in params.items()
        if k in known.get(str(name), set(params)) or not (isinstance(v, list) and "" in v)
    }
    return {"name": tool_name(str(name)), "arguments": {str(k): _param(v, str(k)) for k, v in params.items()}}


def _param(options: Any, where: str, *, top: bool = True) -> Any:
    """A parameter's accepted values as a matcher (see the module docstring). Below ``top`` (the
    values of a dict answer's keys) values are literals: BFCL checks dicts one level deep."""
    if not isinstance(options, list):
        raise NotImportable(f"{where}: accepted values are not a list: {options!r}")
    if not options:  # two BFCL entries accept no value at all: a matcher that matches nothing
        return {"regex": NOTHING}
    values = [v for v in options if v != ""]
    optional = len(values) < len(options)
    if not values:
        return {"absent": True}
    converted = [_answer(v, where) if top else _literal(v) for v in values]
    strings = any(_has_string(v) for v in values)
    if len(converted) == 1 and not optional and not strings:
        return converted[0]
    matcher: dict[str, Any] = {"any_of": converted}
    if optional:
        matcher["optional"] = True
    if strings:
        matcher["ignore_case"] = True
    return matcher


def _answer(value: Any, where: str) -> Any:
    """One accepted value. A dict is BFCL's "key → accepted values" (one level deep); a list may
    hold such dicts (a list of objects); anything else is a literal."""
    if isinstance(value, dict):
        if set(value) & MATCHER_KEYS:
            raise NotImportable(f"{where}: object keys {sorted(set(value) & MATCHER_KEYS)} read as matcher keys")
        return {str(k): _param(v, f"{where}.{k}", top=False) for k, v in value.items()}
    if isinstance(value, list):
        return [_answer(v, where) if isinstance(v, dict) else _literal(v) for v in value]
    return value


def _literal(value: Any) -> Any:
    # A literal object whose keys look like matcher keys must be wrapped to stay a literal.
    if isinstance(value, dict) and set(value) & MATCHER_KEYS:
        return {"equals": value}
    return value


def _has_string(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return any(_has_string(v) for v in value)
    if isinstance(value, dict):
        return any(_has_string(v) for v in value.values())
    return False


# --- writing -----------------------------------------------------------------------------------


def write_suites(
    src: Source, imported: Iterable[Imported], out: Path, *, seed: int, per_category: int | None
) -> list[Path]:
    """``out/<category>.yaml`` per category, ``out/NOTICE.md`` and the EXPLICIT_MARKER file."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    parts = list(imported)
    for part in parts:
        path = out / f"{part.category}.yaml"
        sample = f", a sample of {len(part.cases)} (seed {seed})" if per_category is not None else ""
        head = {
            "version": 1,
            "suite": suite_name(part.category),
            "description": (
                f"BFCL v4 {part.category}: {part.total} entries, {len(part.cases)} "
                f"imported{sample}; {BFCL_PACKAGE} {src.version} (Apache-2.0, see NOTICE.md)"
            ),
            "tools": [],
        }
        path.write_text(_render(head, part.cases), encoding="utf-8")
        written.append(path)
    (out / NOTICE).write_text(notice(src, parts, seed=seed, per_category=per_category), encoding="utf-8")
    (out / EXPLICIT_MARKER).write_text(
        "Suites in this folder run only when named: `evalkit run cases/bfcl` (not in `evalkit run cases/`).\n",
        encoding="utf-8",
    )
    return written


def _render(head: dict[str, Any], cases: Iterable[dict[str, Any]]) -> str:
    """Block YAML for the head and each case, flow style inside tools and arguments (one line per
    tool): compact, and a diff still shows which case changed."""
    lines = [yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=1_000_000).rstrip("\n"), "cases:"]
    for case in cases:
        block = yaml.safe_dump([case], sort_keys=False, allow_unicode=True, width=1_000_000, default_flow_style=None)
        lines.append(block.rstrip("\n"))
    return "\n".join(lines) + "\n"


def notice(src: Source, parts: Sequence[Imported], *, seed: int, per_category: int | None) -> str:
    files = sorted(src.files)
    rows = "\n".join(
        f"| {p.category} | {p.total} | {p.total - len(p.left_out)} | {len(p.cases)} | "
        + ("; ".join(f"`{i}`: {why}" for i, why in p.left_out) or "–")
        + " |"
        for p in parts
    )
    sums = "\n".join(f"- `{f}` sha256 `{hashlib.sha256(src.files[f]).hexdigest()}`" for f in files)
    sample = (
        f"A stratified sample: {per_category} importable entries per category (all when fewer), drawn with "
        f'`random.Random("{seed}:<category>")`, kept in BFCL\'s order.'
        if per_category is not None
        else "Every importable entry."
    )
    return f"""# Notice: BFCL data in this folder

The case files in this folder contain questions, function definitions and ground-truth answers taken
from the **Berkeley Function Calling Leaderboard (BFCL)** data, part of the Gorilla project
(<{BFCL_URL}>), by Huanzhi Mao, Shishir Patil and the Sky Computing Lab, UC Berkeley, and its
contributors.

- Obtained from: the `{BFCL_PACKAGE}` package, version **{src.version}** ({src.where.rsplit("/", 1)[-1]}).
- License: **Apache License, Version 2.0** (<https://www.apache.org/licenses/LICENSE-2.0>), as declared
  in the package metadata and in the data's own README. The wheel ships no LICENSE or NOTICE file.
- Files read:
{sums}

## Modifications

Converted by `evalkit import bfcl` (`src/evalkit/importers/`), which states every rule in its docstrings:
function definitions to JSON Schema Draft 2020-12 OpenAI tools (types renamed, `any` as `string`,
non-standard keys and `pattern` removed, names made valid for the OpenAI API: `a.b` → `a_b`), each
entry's question as the case's prompt or messages, and each accepted-value list as an evalkit matcher.
{sample}

| category | entries | importable | in this folder | left out (why) |
|---|---|---|---|---|
{rows}
"""
