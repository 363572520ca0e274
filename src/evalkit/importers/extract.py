"""``evalkit extract``: the tool calls in vcrpy cassettes recorded by any tool.

:func:`extract` reads each cassette with :func:`~evalkit.importers.cassettes.read_interactions`, parses
each exchange with :func:`~evalkit.parsing.turn_from_http` (one row per choice when a Chat request
asked for ``n`` > 1) and keeps, beside the calls, what the request gave the model
(:class:`~evalkit.importers.conversation.Request`), from which :mod:`evalkit.importers.to_cases`
writes case files. :func:`render_table` and :func:`as_json` show the result; neither shows a
request header, and every URI has its credential-like query parameters redacted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..calls import Turn
from ..errors import EvalkitError
from ..parsing import api_of, turn_from_http
from ..parsing.shape import short
from ..redaction import REDACTED, is_secret_name
from ..words import plural
from .cassettes import Interaction, read_interactions
from .conversation import Conversation, Request

TEXT_LIMIT = 200  # characters of reply text kept as an excerpt


@dataclass(frozen=True)
class ExtractedCall:
    name: str
    arguments: str  # the raw JSON text, as the model sent it


@dataclass(frozen=True)
class ExtractedInteraction:
    """One recorded exchange, or one choice of it when the request asked for ``n`` > 1."""

    index: int  # position in the cassette, from 0
    choice: int | None  # the choice, when the request asked for several; else None
    method: str
    uri: str  # credential-like query parameters redacted
    api: str | None  # chat, responses, assistants, or None (not a model API)
    status: int
    reply: bool  # False: not a model reply (a thread created, a run still working, a file uploaded…)
    calls: tuple[ExtractedCall, ...] = ()
    finish_reason: str | None = None
    error_kind: str | None = None
    error_message: str | None = None
    text: str | None = None  # an excerpt of the reply's text
    offered: tuple[str, ...] = ()  # the tools the request offered, by name
    request: Request = field(default_factory=Request, repr=False, compare=False)  # for to_cases

    @property
    def label(self) -> str:
        """``3``, or ``3/c1`` for choice 1 of interaction 3."""
        return str(self.index) if self.choice is None else f"{self.index}/c{self.choice}"


@dataclass(frozen=True)
class CassetteCalls:
    file: str  # the path as reached from the PATH given
    name: str  # the path relative to the folder given (the file's own path when a file was given)
    interactions: tuple[ExtractedInteraction, ...] = ()
    note: str | None = None  # why the file was not read as a cassette, when it was not


def extract(paths: Iterable[str | Path]) -> list[CassetteCalls]:
    """The calls in every cassette under ``paths`` (files, or folders searched for ``*.yaml`` and
    ``*.yml``). A YAML file that is not a cassette is kept with a :attr:`~CassetteCalls.note`; a path
    that does not exist, or holds no cassette at all, raises :class:`EvalkitError`."""
    found: list[CassetteCalls] = []
    seen: set[Path] = set()
    for path in map(Path, paths):
        here = []
        for file, name in _cassette_files(path):
            if file.resolve() not in seen:  # a file reached twice (a folder and a file in it) is listed once
                seen.add(file.resolve())
                here.append(extract_file(file, name))
        if here and all(c.note for c in here):
            if path.is_file():
                raise EvalkitError(f"{path}: {here[0].note}")
            raise EvalkitError(
                f"{path} holds no vcrpy cassette: none of its {plural(len(here), 'YAML file')} is one "
                f"({here[0].name}: {here[0].note})"
            )
        found += here
    return found


def _cassette_files(path: Path) -> list[tuple[Path, str]]:
    if not path.exists():
        raise EvalkitError(f"{path}: no such file or directory; pass vcrpy cassettes (*.yaml) or folders of them")
    if path.is_file():
        return [(path, str(path))]
    files = sorted(
        file
        for file in path.rglob("*")
        if file.suffix in (".yaml", ".yml")
        and file.is_file()
        and not any(part.startswith(".") for part in file.relative_to(path).parts)
    )
    if not files:
        raise EvalkitError(f"{path} holds no vcrpy cassette (no *.yaml or *.yml file in it)")
    return [(file, file.relative_to(path).as_posix()) for file in files]


def extract_file(path: Path, name: str | None = None) -> CassetteCalls:
    """The calls in one cassette; a file that is not one gets a note instead of raising."""
    name = name or str(path)
    # Besides EvalkitError, read_interactions lets through what a damaged file raises while it is
    # decoded: bytes that are not UTF-8 (ValueError), a cut gzip body (EOFError), a bad one (OSError).
    try:
        interactions = read_interactions(path)
    except (EvalkitError, OSError, EOFError, ValueError) as exc:
        message = str(exc).removeprefix(f"{path}: ") if isinstance(exc, EvalkitError) else f"cannot read it: {exc}"
        return CassetteCalls(str(path), name, note=short(message, 300))
    conversation = Conversation()
    rows: list[ExtractedInteraction] = []
    for index, interaction in enumerate(interactions):
        api = api_of(interaction.uri)
        request = conversation.request(interaction, api)
        choices = request.choices if api == "chat" else 1
        turns = [_turn(interaction, choice) for choice in range(choices)]
        if len(turns) > 1 and all(t == turns[0] and t is not None and t.error for t in turns):
            turns, choices = turns[:1], 1  # one error for the whole reply (an HTTP error), not one per choice
        conversation.observe(interaction, api, turns)
        for choice, turn in enumerate(turns):
            rows.append(_row(index, choice if choices > 1 else None, interaction, api, request, turn))
    return CassetteCalls(str(path), name, tuple(rows))


def _turn(i: Interaction, choice: int) -> Turn | None:
    return turn_from_http(i.method, i.uri, i.request_body, i.status, i.headers, i.body, choice=choice)


def _row(
    index: int, choice: int | None, i: Interaction, api: str | None, request: Request, turn: Turn | None
) -> ExtractedInteraction:
    uri = redact_uri(i.uri)
    if turn is None:
        return ExtractedInteraction(index, choice, i.method, uri, api, i.status, reply=False)
    return ExtractedInteraction(
        index,
        choice,
        i.method,
        uri,
        api,
        i.status,
        reply=True,
        calls=tuple(ExtractedCall(c.name, c.arguments) for c in turn.calls),
        finish_reason=turn.finish_reason,
        error_kind=turn.error.kind if turn.error else None,
        error_message=turn.error.message if turn.error else None,
        text=short(turn.content, TEXT_LIMIT) if turn.content and turn.content.strip() else None,
        offered=request.offered,
        request=request,
    )


# --- redaction -----------------------------------------------------------------------------------


def redact_uri(uri: str) -> str:
    """``uri`` with the values of credential-like query parameters (by
    :func:`evalkit.redaction.is_secret_name`: ``key``, ``api-key``, ``token``, ``sig``…) and any
    user:password before the host replaced by ``REDACTED``; the rest is kept as recorded (unlike
    :func:`evalkit.redaction.redact_url`, which re-encodes the query)."""
    rest, hash_, fragment = uri.partition("#")
    base, question, query = rest.partition("?")
    base = re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", rf"\g<1>{REDACTED}@", base, flags=re.IGNORECASE)
    pairs = []
    for pair in query.split("&") if query else []:
        name, equals, _ = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if equals and is_secret_name(unquote(name)) else pair)
    return base + question + "&".join(pairs) + hash_ + fragment


# --- output --------------------------------------------------------------------------------------


def as_json(found: Sequence[CassetteCalls]) -> list[dict[str, Any]]:
    """The extraction as JSON-ready objects, one per file."""
    return [
        {
            "file": cassette.name,
            "path": cassette.file,
            "note": cassette.note,
            "interactions": [
                {
                    "index": row.index,
                    "choice": row.choice,
                    "method": row.method,
                    "uri": row.uri,
                    "api": row.api,
                    "status": row.status,
                    "reply": row.reply,
                    "calls": [{"name": c.name, "arguments": c.arguments} for c in row.calls],
                    "finish_reason": row.finish_reason,
                    "error": {"kind": row.error_kind, "message": row.error_message} if row.error_kind else None,
                    "text": row.text,
                    "offered": list(row.offered),
                }
                for row in cassette.interactions
            ],
        }
        for cassette in found
    ]


WIDTH = 100  # the table fits a terminal this wide
_HEADERS = ("file", "#", "api", "status", "calls", "finish/error")
_MAX = {"file": 20, "#": 7, "api": 10, "finish/error": 16}  # the calls column gets the rest


def render_table(found: Sequence[CassetteCalls]) -> str:
    """One row per interaction (per choice), the calls one per line as ``name(arguments)``, clipped;
    consecutive exchanges that are not model replies (polling a run) share a row. Then a note per
    file that is not a cassette, and the totals. Fits :data:`WIDTH` columns."""
    from tabulate import tabulate  # lazy: keeps `evalkit --help` fast

    rows: list[list[Any]] = []
    replies: list[ExtractedInteraction] = []
    for cassette in found:
        for position, (first, last, row) in enumerate(_grouped(cassette.interactions)):
            number = row.label if first == last else f"{first}–{last}"
            rows.append(
                [
                    _wrap_path(cassette.name, _MAX["file"]) if position == 0 else "",
                    number,
                    row.api or "–",
                    str(row.status),
                    None,  # the calls, once the other columns' widths are known
                    row.error_kind or row.finish_reason or ("" if row.reply else "not a reply"),
                ]
            )
            replies.append(row)
    lines = []
    if rows:
        # tabulate pads a header by 2 and puts 2 spaces between columns; wider cells wrap.
        widths = [
            min(max(len(_HEADERS[c]) + 2, *(len(line) for r in rows for line in str(r[c]).splitlines())), limit)
            for c, limit in ((0, _MAX["file"]), (1, _MAX["#"]), (2, _MAX["api"]), (3, 8), (5, _MAX["finish/error"]))
        ]
        calls_width = WIDTH - sum(widths) - 2 * (len(_HEADERS) - 1)
        for cells, row in zip(rows, replies, strict=True):
            cells[4] = _calls_cell(row, calls_width)
        lines.append(
            tabulate(
                rows,
                headers=_HEADERS,
                maxcolwidths=[*widths[:4], calls_width, widths[4]],
                colalign=("left", "left", "left", "right", "left", "left"),
                disable_numparse=True,
            )
        )
    lines += [f"note: {c.name}: {c.note}" for c in found if c.note]
    lines.append(summary(found))
    return "\n".join(lines)


def _grouped(rows: Sequence[ExtractedInteraction]) -> Iterable[tuple[int, int, ExtractedInteraction]]:
    """(first index, last index, row): runs of non-replies to the same method, path and status merged."""
    group: list[ExtractedInteraction] = []
    for row in [*rows, None]:
        if group and (row is None or row.reply or not _same_exchange(group[-1], row)):
            yield group[0].index, group[-1].index, group[0]
            group = []
        if row is not None and not row.reply:
            group.append(row)
        elif row is not None:
            yield row.index, row.index, row


def _same_exchange(a: ExtractedInteraction, b: ExtractedInteraction) -> bool:
    return (a.method, a.uri.split("?")[0], a.status) == (b.method, b.uri.split("?")[0], b.status)


def summary(found: Sequence[CassetteCalls]) -> str:
    """``62 cassettes, 157 interactions, 112 model replies (14 errors), 84 calls``."""
    cassettes = [c for c in found if not c.note]
    interactions = len({(c.file, row.index) for c in cassettes for row in c.interactions})
    replies = [row for c in cassettes for row in c.interactions if row.reply]
    errors = sum(1 for row in replies if row.error_kind)
    calls = sum(len(row.calls) for row in replies)
    text = (
        f"{plural(len(cassettes), 'cassette')}, {plural(interactions, 'interaction')}, "
        f"{plural(len(replies), 'model reply', 'model replies')} ({plural(errors, 'error')}), {plural(calls, 'call')}"
    )
    skipped = len(found) - len(cassettes)
    return text + (f"; {plural(skipped, 'file')} not read" if skipped else "")


def _calls_cell(row: ExtractedInteraction, width: int) -> str:
    if not row.reply:
        path = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]+", "", row.uri.split("?")[0], flags=re.IGNORECASE) or "/"
        return short(f"{row.method} {_ID_SEGMENT.sub('/{id}', path)}", width)
    if row.calls:
        return "\n".join(short(f"{c.name}({_compact(c.arguments)})", width) for c in row.calls)
    if row.error_kind:
        return short(row.error_message or "", 2 * width)
    return short(f'no call: "{row.text}"', 2 * width) if row.text else "no call"


# A path segment that is an object id (thread_abc123…, run_…, asst_…, file-…): shown as {id}.
_ID_SEGMENT = re.compile(r"/(?:[A-Za-z]+[_-][A-Za-z0-9]{8,}|(?=[^/]*[0-9])[A-Za-z0-9_-]{20,})(?=/|$)")


def _compact(arguments: str) -> str:
    """Arguments on one line, JSON without the optional spaces (more of them fit the column)."""
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return " ".join(arguments.split())


def _wrap_path(name: str, width: int) -> str:
    """A file name broken into lines of at most ``width``, after a '/', '_', '-' or '.' when it can."""
    lines = []
    while len(name) > width:
        cut = max((name.rfind(sep, 0, width) for sep in "/_-."), default=-1) + 1
        cut = cut if cut > width // 2 else width
        lines.append(name[:cut])
        name = name[cut:]
    return "\n".join([*lines, name])
