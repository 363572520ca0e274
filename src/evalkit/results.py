"""Results: one :class:`CaseResult` per job, a :class:`RunResult` per run, and ``results.json``.

``results.json`` is the seam between running and reporting: ``evalkit report`` and ``evalkit gate``
read it without calling a model. Its ``version`` changes whenever a field changes meaning.

A run never holds its jobs in memory and never loses them: :class:`RunWriter` appends each finished
job to ``jobs.jsonl`` (one JSON object a line, flushed at once), so a killed run keeps every job that
finished and ``evalkit run --resume`` runs only the rest. At the end the journal is compacted into
``results.json`` (written to a temporary file and moved into place). ``results.json`` puts one job
on each line after its header, so :class:`StoredJobs` reads a run of any size one job at a time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import ResultsFileError, os_error

RESULTS_VERSION = 2  # 2: malformed/truncated replies are errors; retries, requests; one job a line
READABLE_VERSIONS = (1, 2)
JOURNAL = "jobs.jsonl"  # the append-only journal of a run in progress
RUN_HEADER = "run.json"  # the run's id and configuration, written when it starts

JobKey = tuple[str, str, str, int | None, int]


@dataclass(frozen=True)
class ScoreRecord:
    value: float | None
    passed: bool | None


@dataclass(frozen=True)
class CaseResult:
    model: str
    suite: str
    case_id: str
    status: str  # passed | failed | error
    tool_count: int | None = None
    trial: int = 1
    tags: tuple[str, ...] = ()
    scores: dict[str, ScoreRecord] = field(default_factory=dict)
    failures: tuple[tuple[str, str], ...] = ()  # (kind, one-line explanation)
    expected: str = ""  # the expected calls, as a reader would write them
    calls: tuple[dict[str, Any], ...] = ()  # produced: {name, arguments, id}
    content: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    n_offered: int = 0
    request: dict[str, Any] = field(default_factory=dict)
    cassette: str | None = None
    seconds: float = 0.0
    requests: int = 0  # HTTP requests sent or replayed for this job (retries included)
    retries: int = 0  # of those, how many were the SDK retrying (a 429, a 5xx, a timeout)
    latency: float | None = None  # seconds the model took (measured when recorded; else as the server says)
    alignment: tuple[dict[str, Any], ...] = ()  # expected vs produced calls (evalkit.scorers.alignment)
    steps: tuple[dict[str, Any], ...] = ()  # a loop's steps: calls, outputs sent back, text, finish, error
    ended: str | None = None  # how a loop ended: answer | max_steps | error (None: a single reply)
    # The verdict in both modes: {"default": status, "bfcl": status, "reason": why they differ or None}
    modes: dict[str, str | None] | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def key(self) -> JobKey:
        return (self.model, self.suite, self.case_id, self.tool_count, self.trial)


@dataclass(frozen=True)
class RunResult:
    """A run: its id, when it was made, its configuration, and its jobs (a tuple, or
    :class:`StoredJobs` read from disk one at a time)."""

    run_id: str
    created: str
    config: dict[str, Any]
    jobs: Collection[CaseResult]
    seconds: float = 0.0
    version: int = RESULTS_VERSION
    toolsets: Mapping[str, Any] = field(default_factory=dict)  # id -> the offered tool list (each job names one)

    @cached_property
    def models(self) -> list[str]:
        return list(dict.fromkeys(j.model for j in self.jobs))


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def job_record(result: CaseResult) -> dict[str, Any]:
    """A job as the JSON object results.json stores (``dataclasses.asdict`` without its deep copy,
    which cost a third of a millisecond a job)."""
    record = dict(result.__dict__)
    record["scores"] = {name: {"value": s.value, "passed": s.passed} for name, s in result.scores.items()}
    return record


def job_line(result: CaseResult) -> str:
    """One job as one line of JSON."""
    return json.dumps(job_record(result), ensure_ascii=False, separators=(",", ":"))


def case_result(raw: Mapping[str, Any]) -> CaseResult:
    """A job record read back from JSON (unknown keys, from a newer writer, are left out)."""
    data = {k: v for k, v in raw.items() if k in _FIELDS}
    data["scores"] = {k: ScoreRecord(**v) for k, v in data.get("scores", {}).items()}
    data["failures"] = tuple(tuple(f) for f in data.get("failures", ()))
    data["tags"] = tuple(data.get("tags", ()))
    data["calls"] = tuple(data.get("calls", ()))
    data["alignment"] = tuple(data.get("alignment", ()))
    data["steps"] = tuple(data.get("steps", ()))
    for name, types in _NUMBERS:
        if type(data.get(name, 0)) not in types:  # absent: the field's default
            raise TypeError(f"{name} is {data[name]!r}, not {'a number' if float in types else 'an integer'}")
    for name, score in data["scores"].items():
        if type(score.value) not in _NUMBER:
            raise TypeError(f"scores.{name}.value is {score.value!r}, not a number")
    return CaseResult(**data)


_FIELDS = frozenset(CaseResult.__dataclass_fields__)
# Checked on reading: the reports format these as numbers, and a hand edit ("latency": "1.5") ended
# `evalkit report --format html` with a traceback instead of a line naming the file and the job.
# Exact types, not isinstance: True is an int to Python, not a token count to a reader.
_NUMBER = frozenset({int, float, type(None)})
_NUMBERS = (
    *((name, frozenset({int, type(None)})) for name in ("tool_count", "prompt_tokens", "completion_tokens")),
    *((name, frozenset({int})) for name in ("trial", "n_offered", "requests", "retries")),
    ("seconds", frozenset({int, float})),
    ("latency", _NUMBER),
)


# --- writing --------------------------------------------------------------------------------------


class RunWriter:
    """Writes a run as it goes: ``run.json`` at the start, a line of ``jobs.jsonl`` per finished job,
    and ``results.json`` from both at the end. Not thread-safe: the runner calls it from one thread."""

    def __init__(
        self,
        folder: Path,
        *,
        run_id: str,
        created: str,
        config: Mapping[str, Any],
        toolsets: Mapping[str, Any] | None = None,
    ):
        self.folder = folder
        self.run_id, self.created, self.config = run_id, created, dict(config)
        self.toolsets = dict(toolsets or {})
        folder.mkdir(parents=True, exist_ok=True)
        header = {"version": RESULTS_VERSION, "run_id": run_id, "created": created, "config": self.config}
        _write_atomic(folder / RUN_HEADER, json.dumps(header, ensure_ascii=False, indent=1) + "\n")
        _cut_torn_tail(folder / JOURNAL)
        # A lone surrogate (a request body or a reply may hold one) has no UTF-8 form: it is written
        # as its JSON escape `\ud800`, which reads back the same; the job is never lost over it.
        self._journal = (folder / JOURNAL).open("a", encoding="utf-8", errors="backslashreplace")

    def add(self, result: CaseResult) -> None:
        self._journal.write(job_line(result) + "\n")
        self._journal.flush()  # a SIGKILL now loses nothing that finished

    def finish(self, *, seconds: float, order: Mapping[JobKey, int] | None = None) -> Path:
        """Compact the journal into ``results.json`` (jobs in ``order``, each once) and drop the
        journal; point ``<reports>/latest`` at this run. Returns the path of results.json."""
        self._journal.close()
        header = {
            "version": RESULTS_VERSION,
            "run_id": self.run_id,
            "created": self.created,
            "seconds": round(seconds, 3),
            "config": self.config,
            "toolsets": self.toolsets,
        }
        path = self.folder / "results.json"
        journal = self.folder / JOURNAL
        lines = _journal_lines(journal, order)
        try:
            with replacing(path) as temporary, temporary.open("w", encoding="utf-8") as out:
                out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "jobs": [\n')
                for number, line in enumerate(lines):
                    out.write(("" if number == 0 else ",\n") + line)
                out.write("\n]}\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:  # a full disk: every finished job is still in the journal
            raise ResultsFileError(
                f"{os_error(exc)}; every finished job is kept in {journal}: "
                f"`evalkit run --resume {self.run_id}` writes results.json once it can"
            ) from None
        journal.unlink(missing_ok=True)
        (self.folder / RUN_HEADER).unlink(missing_ok=True)
        point_latest(self.folder.parent, self.run_id)
        return path

    def close(self) -> None:
        self._journal.close()


def _cut_torn_tail(journal: Path) -> None:
    """Drop a last line cut mid-write (a run killed while writing it): appended to as it is, the
    next job's line would join it, and both would be unreadable (that job lost on resume)."""
    if not journal.is_file():
        return
    with journal.open("rb+") as file:
        end = file.seek(0, os.SEEK_END)
        if end == 0 or (file.seek(end - 1), file.read(1))[1] == b"\n":
            return
        # Back to the last complete line, a block at a time: the journal of a big run is gigabytes.
        stop = end
        while stop > 0:
            start = max(0, stop - 65_536)
            file.seek(start)
            newline = file.read(stop - start).rfind(b"\n")
            if newline >= 0:
                file.truncate(start + newline + 1)
                return
            stop = start
        file.truncate(0)  # a single line, cut: no job had finished


def _journal_lines(journal: Path, order: Mapping[JobKey, int] | None) -> Iterator[str]:
    """The journal's complete lines, each job once (the first), sorted by ``order`` when given. Sorted
    by byte offset, not by holding the lines: a run of a million jobs compacts in little memory.

    A job of ``order`` costs one int here, its rank and its line's offset in one (~40 bytes; a
    job's key took ~250), and the first of a rank is its earliest line. Ranks can repeat (a plan
    that names a model twice) and be sparse (a merge's order numbers slots, not jobs). Jobs outside
    ``order`` (none, in a run) are remembered by key and follow in journal order."""
    places: list[int] = []  # rank << 40 | offset: sorted, a rank's earliest line comes first
    others: list[int] = []
    seen: set[JobKey] = set()
    if not journal.is_file():
        return
    with journal.open("rb") as file:
        offset = 0
        for raw in file:
            here, offset = offset, offset + len(raw)
            record = _parse_line(raw)
            if record is None:
                continue  # the last line of a killed run, cut mid-write: that job runs again on resume
            key = _key_of(record)
            rank = order.get(key) if order is not None else None
            if rank is not None:
                places.append(rank << _OFFSET_BITS | here)
            elif key not in seen:
                seen.add(key)
                others.append(here)
        places.sort()
        last = -1
        for place in places:
            rank = place >> _OFFSET_BITS
            if rank != last:
                last = rank
                file.seek(place & _OFFSET_MASK)
                yield file.readline().decode("utf-8").rstrip("\n")
        for place in others:
            file.seek(place)
            yield file.readline().decode("utf-8").rstrip("\n")


_OFFSET_BITS = 40  # journals up to 1 TB
_OFFSET_MASK = (1 << _OFFSET_BITS) - 1


def _key_of(record: Mapping[str, Any]) -> JobKey:
    return (record["model"], record["suite"], record["case_id"], record.get("tool_count"), record.get("trial", 1))


def _parse_line(raw: bytes) -> dict[str, Any] | None:
    if not raw.endswith(b"\n"):
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) and {"model", "suite", "case_id"} <= record.keys() else None


def journal_results(folder: Path) -> Iterator[CaseResult]:
    """The jobs a run in progress (or a killed one) has finished, from its journal."""
    journal = folder / JOURNAL
    if not journal.is_file():
        return
    with journal.open("rb") as file:
        for raw in file:
            if (record := _parse_line(raw)) is not None:
                yield case_result(record)


def read_run_header(folder: Path) -> dict[str, Any]:
    """``run.json`` of a run in progress or killed."""
    try:
        header = json.loads((folder / RUN_HEADER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsFileError(
            f"{folder}: no readable {RUN_HEADER} ({exc}); it is not a run that can be resumed"
        ) from None
    if not isinstance(header, dict) or "config" not in header:
        raise ResultsFileError(f"{folder / RUN_HEADER}: not a run header; it is not a run that can be resumed")
    return header


def save_results(run: RunResult, reports_dir: Path) -> Path:
    """Write a whole in-memory run as ``<reports>/<run-id>/results.json`` and point ``latest`` at it."""
    writer = RunWriter(
        reports_dir / run.run_id, run_id=run.run_id, created=run.created, config=run.config, toolsets=run.toolsets
    )
    for job in run.jobs:
        writer.add(job)
    order = {job.key: number for number, job in enumerate(run.jobs)}
    return writer.finish(seconds=run.seconds, order=order)


def point_latest(reports_dir: Path, run_id: str) -> None:
    latest = reports_dir / "latest"
    try:
        if latest.is_symlink() or latest.is_file():
            latest.unlink()
        if not latest.exists():
            latest.symlink_to(run_id, target_is_directory=True)
            return
    except OSError:
        pass
    (reports_dir / "LATEST").write_text(run_id + "\n", encoding="utf-8")  # where symlinks are not allowed


def _write_atomic(path: Path, text: str) -> None:
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; once the block ends, it replaces ``path`` whole (a
    reader never sees half a file). On an error the temporary is removed, and an OSError names
    ``path`` (a full disk's error names no file). Refuses a ``path`` that exists and is not a
    regular file (``--to /dev/full`` would have replaced the device)."""
    if path.exists() and not path.is_file():
        raise OSError(None, "not a regular file, so it is not replaced", str(path))
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise


# --- reading --------------------------------------------------------------------------------------


def resolve_results_path(path: str | Path) -> Path:
    """A results.json, a run's folder holding one (``reports/latest`` works), or a reports folder
    (``reports``, a shard's ``--out``): its newest run, the one ``latest`` points at."""
    candidate = Path(path)
    if candidate.is_dir():
        newest = candidate / "latest" / "results.json"
        candidate = candidate / "results.json"
        if not candidate.is_file() and newest.is_file():
            candidate = newest
    if not candidate.is_file():
        looked = "" if Path(path).name == "latest" else f", nor a run in {Path(path) / 'latest'}"
        raise ResultsFileError(
            f"{path}: no results.json there{looked}; run `evalkit run` first or pass a run's folder or its results.json"
        )
    return candidate


class StoredJobs:
    """The jobs of a results.json, read one at a time each time they are iterated (so a report of
    a 100k-job run does not hold 100k jobs). ``len`` counts them once.

    A run of at most ``keep`` jobs is kept in memory after the first complete pass: the reports of
    one run iterate its jobs some thirty times (one pass per table and plot), and parsing a job
    costs more than holding it (~5 kB), so small runs are parsed once (at most ~50 MB held) and
    large ones stay flat."""

    def __init__(self, path: Path, first_job_line: int, *, keep: int = 10_000):
        self.path, self._first, self._keep = path, first_job_line, keep
        self._kept: list[CaseResult] | None = None

    def __iter__(self) -> Iterator[CaseResult]:
        if self._kept is not None:
            yield from self._kept
            return
        if len(self) > self._keep:  # counted from the lines, so a large run never holds `keep` jobs
            yield from self._read()
            return
        kept = []
        for job in self._read():
            kept.append(job)
            yield job
        self._kept = kept  # only after a complete pass: an `any()` that stopped early keeps nothing

    def _read(self) -> Iterator[CaseResult]:
        for number, text in self._job_lines():
            try:
                yield case_result(json.loads(text))
            except (ValueError, KeyError, TypeError) as exc:
                raise ResultsFileError(
                    f"{self.path}:{number + 1}: not a job record ({exc}); was the file edited by hand?"
                ) from None

    def _job_lines(self) -> Iterator[tuple[int, str]]:
        """(line number, text) of each job line, up to the closing ``]}``; blank lines (and a lone
        ``,`` left by a hand edit) are skipped, not taken for the end. Iterating and ``len`` both
        read the file through this, so they always agree."""
        with self.path.open(encoding="utf-8") as file:
            for number, line in enumerate(file):
                if number < self._first:
                    continue
                text = line.strip().removesuffix(",")
                if text == "]}":
                    return
                if text:
                    yield number, text

    @cached_property
    def _count(self) -> int:
        """Job lines, counted without parsing them (0.23 s for 100k jobs, 142 MB)."""
        return sum(1 for _ in self._job_lines())

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def __contains__(self, item: object) -> bool:
        return any(job == item for job in self)


def read_results(path: str | Path) -> RunResult:
    """Read a results.json written by :class:`RunWriter` (or an older evalkit's, version 1)."""
    file = resolve_results_path(path)
    try:
        with file.open(encoding="utf-8") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsFileError(f"{file}: not a readable results file: {exc}") from None
    if first.rstrip().endswith('"jobs": ['):  # one job a line: read the jobs lazily
        try:
            header = json.loads(first.rstrip() + "]}")
        except ValueError as exc:
            raise ResultsFileError(f"{file}: not a readable results file: {exc}") from None
        jobs: Collection[CaseResult] = StoredJobs(file, 1)
    else:  # a file of another layout (version 1, or edited by hand): read it whole
        try:
            header = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResultsFileError(f"{file}: not a readable results file: {exc}") from None
        jobs = ()
    version = header.get("version") if isinstance(header, dict) else None
    if version not in READABLE_VERSIONS:
        raise ResultsFileError(
            f"{file}: results version {version!r} is not supported (this evalkit reads versions {', '.join(map(str, READABLE_VERSIONS))}); re-run it"
        )
    try:
        if not isinstance(jobs, StoredJobs):
            jobs = tuple(case_result(j) for j in header["jobs"])
        return RunResult(
            header["run_id"],
            header["created"],
            header["config"],
            jobs,
            header.get("seconds", 0.0),
            version,
            header.get("toolsets") or {},
        )
    except KeyError as exc:
        raise ResultsFileError(f"{file}: a job record is missing {exc}; was the file edited by hand?") from None
    except TypeError as exc:
        raise ResultsFileError(f"{file}: a job record is not valid ({exc}); was the file edited by hand?") from None
