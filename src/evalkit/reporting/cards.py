"""The failure view of report.html, as values: one :class:`Card` per failed or errored job.

A card holds what a reader needs to see why a job failed without opening results.json: the messages
sent (system prompt first, as sent), the offered tools (each schema a click away), the expected and
produced calls aligned argument by argument (from ``alignment`` in results.json, as the scorers paired
them), the produced calls raw, the reply text, finish_reason, tokens, latency and retries.

Everything here is plain strings and tuples; the templates escape them. Nothing is re-scored.

Size: a 64-tool sweep offers ~30 kB of schemas per job, so a card inlines the schemas only of small
tool lists (:data:`INLINE_TOOLS`) and of the tools the job expected or called; the other names link
to one copy of their schema in the page's appendix. Cards are capped (:data:`MAX_CARDS`, shared
fairly between models) so a run with thousands of failures still gives a page a browser opens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..redaction import redact_params
from ..results import CaseResult, RunResult
from .paths import display_path

MAX_CARDS = 500  # failure cards rendered; the rest are listed in summary.md
INLINE_TOOLS = 8  # a tool list this short has every schema inside each card
OPEN_CARDS = 10  # this few failures: every card starts open

MATCH_LABELS = {
    "full": "matched",
    "name": "right function, arguments differ",
    "missing": "expected, not produced",
    "extra": "produced, not expected",
}


@dataclass(frozen=True)
class Message:
    role: str
    text: str
    calls: tuple[str, ...] = ()  # tool calls the message carries (an assistant turn in the history)
    note: str = ""  # tool_call_id, name…


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: str | None  # indented JSON, when inlined in the card
    anchor: str | None  # the appendix entry holding the schema, when not inlined
    involved: bool = False  # expected or produced by this job


@dataclass(frozen=True)
class Argument:
    name: str
    expected: str
    got: str
    ok: bool


@dataclass(frozen=True)
class AlignedCall:
    name: str
    match: str  # full | name | missing | extra
    expected_index: int | None
    produced_index: int | None
    arguments: tuple[Argument, ...]

    @property
    def ok(self) -> bool:
        return self.match == "full"

    @property
    def label(self) -> str:
        return MATCH_LABELS.get(self.match, self.match)


@dataclass(frozen=True)
class Card:
    anchor: str  # DOM id
    model: str
    suite: str
    case_id: str
    status: str
    trial: int
    tools_offered: int
    kinds: tuple[str, ...]
    tags: tuple[str, ...]
    failures: tuple[tuple[str, str], ...]
    expected: str
    messages: tuple[Message, ...] | None  # None: results.json predates stored messages
    params: str
    tools: tuple[Tool, ...]
    aligned: tuple[AlignedCall, ...] | None  # None: not recorded (an older results.json, or an errored job)
    produced: tuple[str, ...]
    content: str | None
    facts: tuple[tuple[str, str], ...]  # (label, value): finish_reason, tokens, latency, retries, cassette
    opened: bool = False

    @property
    def title(self) -> str:
        return f"{self.suite}/{self.case_id}"

    @property
    def where(self) -> str:
        return f"{self.tools_offered} tool{'' if self.tools_offered == 1 else 's'}" + (
            f" · trial {self.trial}" if self.trial > 1 else ""
        )


@dataclass(frozen=True)
class SchemaEntry:
    anchor: str
    name: str
    description: str
    schema: str


@dataclass(frozen=True)
class FailureView:
    cards: tuple[Card, ...]
    total: int  # failed or errored jobs in the run
    appendix: tuple[SchemaEntry, ...]  # schemas that cards link to instead of inlining
    filters: tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...] = field(default=())  # (key, label, options)

    @property
    def capped(self) -> bool:
        return len(self.cards) < self.total


def format_call(call: Mapping[str, Any]) -> str:
    """A produced call as text: its name, then its arguments as indented JSON (raw when they do not decode)."""
    raw = call.get("arguments")
    try:
        decoded = json.loads(raw) if isinstance(raw, str) else raw
        arguments = json.dumps(decoded, indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = raw if raw else json.dumps(raw)  # an empty string shows as "" rather than as nothing
        arguments = f"{shown}\n(arguments are not valid JSON)"
    return f"{call.get('name')}\n{arguments}"


# --- messages ------------------------------------------------------------------------------------


def messages_of(request: Mapping[str, Any]) -> tuple[Message, ...] | None:
    """The messages a job sent, role-labelled, in order; Chat Completions messages or Responses input
    items. ``None`` when results.json kept only their count (results version 1)."""
    raw = request.get("messages")
    params = request.get("params")
    out: list[Message] = []
    if isinstance(params, Mapping) and isinstance(params.get("instructions"), str):
        out.append(Message("system", params["instructions"], note="instructions"))
    if isinstance(raw, str):  # Responses accepts a bare string as its input
        return (*out, Message("user", raw))
    if not isinstance(raw, list):
        return None
    out.extend(_message(item) for item in raw)
    return tuple(out)


def _message(item: Any) -> Message:
    if not isinstance(item, Mapping):
        return Message("?", json.dumps(item, ensure_ascii=False, default=str))
    kind = item.get("type")
    if kind == "function_call":  # Responses: a call in the history
        return Message("assistant", "", (format_call(item),), _note(item, "call_id"))
    if kind == "function_call_output":
        return Message("tool", _text(item.get("output")), note=_note(item, "call_id"))
    calls = [format_call(c.get("function", c)) for c in item.get("tool_calls") or () if isinstance(c, Mapping)]
    if isinstance(item.get("function_call"), Mapping):  # legacy functions
        calls.append(format_call(item["function_call"]))
    note = " · ".join(n for n in (_note(item, "tool_call_id"), _note(item, "name")) if n)
    return Message(str(item.get("role", kind or "?")), _text(item.get("content")), tuple(calls), note)


def _note(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    return f"{key} {value}" if value else ""


def _text(content: Any) -> str:
    """Message content as text: a string, or the text of its parts (an image part shows as a marker)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, Mapping):
                parts.append(f"[{part.get('type', 'part')}]")
            else:
                parts.append(str(part))
        return "\n".join(parts)
    return json.dumps(content, ensure_ascii=False, default=str)


def _params(request: Mapping[str, Any]) -> str:
    """The request's API and options in one line: ``chat.completions · temperature=0, tool_choice="required"``."""
    params = request.get("params")
    # results.json keeps params redacted already; redacting again costs nothing if an older writer did not.
    shown = (
        {k: v for k, v in redact_params(params).items() if k != "instructions"} if isinstance(params, Mapping) else {}
    )
    flags = [f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in shown.items()]
    flags += [
        flag for key, flag in (("stream", "stream"), ("legacy_functions", "legacy functions")) if request.get(key)
    ]
    return " · ".join(part for part in (str(request.get("api") or ""), ", ".join(flags)) if part)


# --- tools ---------------------------------------------------------------------------------------


def _function(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = tool.get("function")
    return inner if isinstance(inner, Mapping) else tool  # chat tools nest it; Responses tools are flat


def tool_anchor(tool: Mapping[str, Any]) -> str:
    digest = hashlib.sha1(json.dumps(tool, sort_keys=True, default=str).encode(), usedforsecurity=False)
    return f"t{digest.hexdigest()[:10]}"


def _schema(tool: Mapping[str, Any]) -> str:
    return json.dumps(_function(tool).get("parameters", {}), indent=2, ensure_ascii=False, default=str)


def _involved(job: CaseResult) -> set[str]:
    names = {str(c.get("name")) for c in job.calls}
    names |= {str(row.get("name")) for row in job.alignment}
    return names


def tools_of(job: CaseResult, toolsets: Mapping[str, Any], appendix: dict[str, SchemaEntry]) -> tuple[Tool, ...]:
    """The tools this job offered. A schema is inlined when the list is short or the job expected or
    called that tool; otherwise it goes to ``appendix`` (once per distinct tool) and the card links it."""
    request = job.request
    offered = toolsets.get(str(request.get("toolset"))) if request.get("toolset") is not None else None
    if not isinstance(offered, list):
        names = request.get("tools")  # results version 1: the names only
        return tuple(Tool(str(n), "", None, None) for n in names) if isinstance(names, list) else ()
    involved = _involved(job)
    inline_all = len(offered) <= INLINE_TOOLS
    tools = []
    for tool in offered:
        if not isinstance(tool, Mapping):
            continue
        function = _function(tool)
        name, description = str(function.get("name", "?")), str(function.get("description") or "")
        if inline_all or name in involved:
            tools.append(Tool(name, description, _schema(tool), None, name in involved))
            continue
        anchor = tool_anchor(tool)
        appendix.setdefault(anchor, SchemaEntry(anchor, name, description, _schema(tool)))
        tools.append(Tool(name, description, None, anchor))
    return tuple(tools)


# --- alignment -----------------------------------------------------------------------------------


def aligned_calls(job: CaseResult) -> tuple[AlignedCall, ...] | None:
    """results.json's ``alignment`` as values; ``None`` when the job has none to show."""
    if not job.alignment:
        return None
    rows = []
    for row in job.alignment:
        arguments = tuple(
            Argument(str(a.get("name")), str(a.get("expected")), str(a.get("got")), bool(a.get("ok")))
            for a in row.get("arguments") or ()
            if isinstance(a, Mapping)
        )
        rows.append(
            AlignedCall(
                str(row.get("name")), str(row.get("match")), row.get("expected"), row.get("produced"), arguments
            )
        )
    return tuple(rows)


# --- cards ---------------------------------------------------------------------------------------


def _facts(job: CaseResult) -> tuple[tuple[str, str], ...]:
    facts = [
        ("finish_reason", job.finish_reason or "–"),
        ("tokens", f"{_count(job.prompt_tokens)} prompt + {_count(job.completion_tokens)} completion"),
        ("latency", f"{job.latency:.2f} s" if job.latency is not None else "–"),
        ("requests", f"{job.requests} ({job.retries} retried)" if job.requests else "–"),
    ]
    if job.cassette:
        facts.append(("cassette", display_path(job.cassette)))
    return tuple(facts)


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def card(job: CaseResult, number: int, toolsets: Mapping[str, Any], appendix: dict[str, SchemaEntry]) -> Card:
    failures = job.failures or (("failed", "no scorer explained it"),)
    return Card(
        anchor=f"job-{number}",
        model=job.model,
        suite=job.suite,
        case_id=job.case_id,
        status=job.status,
        trial=job.trial,
        tools_offered=job.tool_count if job.tool_count is not None else job.n_offered,
        kinds=tuple(dict.fromkeys(k for k, _ in failures)),
        tags=job.tags,
        failures=tuple(failures),
        expected=job.expected or "(not recorded)",
        messages=messages_of(job.request),
        params=_params(job.request),
        tools=tools_of(job, toolsets, appendix),
        aligned=aligned_calls(job),
        produced=tuple(format_call(c) for c in job.calls),
        content=job.content,
        facts=_facts(job),
    )


def fair_share(counts: Mapping[str, int], limit: int) -> dict[str, int]:
    """How many cards each model gets when the failures exceed ``limit``: equal shares, so a model
    with few failures shows all of them and a model with many does not crowd the others out."""
    quota = dict.fromkeys(counts, 0)
    remaining = limit
    while remaining > 0:
        open_models = [m for m, n in counts.items() if quota[m] < n]
        if not open_models:
            break
        share = max(1, remaining // len(open_models))
        for model in open_models:
            take = min(share, counts[model] - quota[model], remaining)
            quota[model] += take
            remaining -= take
            if remaining == 0:
                break
    return quota


def failure_view(run: RunResult, *, limit: int = MAX_CARDS) -> FailureView:
    """The failure cards of ``run`` (at most ``limit``, shared fairly between models), their filters
    and the schema appendix. Jobs are read once; only the kept ones are held."""
    by_model: dict[str, list[CaseResult]] = {m: [] for m in run.models}
    counts: dict[str, int] = dict.fromkeys(run.models, 0)
    for job in run.jobs:
        if job.passed:
            continue
        counts[job.model] += 1
        if len(by_model[job.model]) < limit:  # no model can get more than the limit
            by_model[job.model].append(job)
    full = {m: jobs for m, jobs in by_model.items() if jobs}
    quota = fair_share({m: counts[m] for m in full}, limit)
    total = sum(counts.values())
    appendix: dict[str, SchemaEntry] = {}
    cards: list[Card] = []
    for model, jobs in full.items():
        for job in jobs[: quota[model]]:
            cards.append(card(job, len(cards) + 1, run.toolsets, appendix))
    if total <= OPEN_CARDS:
        cards = [_opened(c) for c in cards]
    return FailureView(tuple(cards), total, tuple(appendix.values()), _filters(cards))


def _opened(c: Card) -> Card:
    from dataclasses import replace

    return replace(c, opened=True)


def _filters(cards: Sequence[Card]) -> tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...]:
    """Each filter's options, built from the cards shown, with how many cards each selects."""

    def options(values: Iterable[Iterable[str]]) -> tuple[tuple[str, int], ...]:
        counts: dict[str, int] = {}
        for group in values:
            for value in dict.fromkeys(group):
                counts[value] = counts.get(value, 0) + 1
        return tuple(counts.items())

    return (
        ("kind", "failure kind", options(c.kinds for c in cards)),
        ("suite", "suite", options((c.suite,) for c in cards)),
        ("model", "model", options((c.model,) for c in cards)),
        ("tag", "tag", options(c.tags for c in cards)),
    )
