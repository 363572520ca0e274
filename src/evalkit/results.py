"""Results: one :class:`CaseResult` per job, a :class:`RunResult` per run, and ``results.json``.

``results.json`` is the seam between running and reporting: ``evalkit report`` and ``evalkit gate``
read it without calling a model. Its ``version`` changes whenever a field changes meaning.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import ResultsFileError

RESULTS_VERSION = 1


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
    # The verdict in both modes: {"default": status, "bfcl": status, "reason": why they differ or None}
    modes: dict[str, str | None] | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def key(self) -> tuple[str, str, str, int | None, int]:
        return (self.model, self.suite, self.case_id, self.tool_count, self.trial)


@dataclass(frozen=True)
class RunResult:
    run_id: str
    created: str
    config: dict[str, Any]
    jobs: tuple[CaseResult, ...]
    seconds: float = 0.0
    version: int = RESULTS_VERSION

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(j.model for j in self.jobs))


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def save_results(run: RunResult, reports_dir: Path) -> Path:
    """Write ``<reports>/<run-id>/results.json`` and point ``<reports>/latest`` at that folder."""
    folder = reports_dir / run.run_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(run), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # a crash mid-write never leaves half a results file
    _point_latest(reports_dir, run.run_id)
    return path


def _point_latest(reports_dir: Path, run_id: str) -> None:
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


def resolve_results_path(path: str | Path) -> Path:
    """A results.json, or a report folder holding one (``reports/latest`` works)."""
    candidate = Path(path)
    if candidate.is_dir():
        candidate = candidate / "results.json"
    if not candidate.is_file():
        raise ResultsFileError(
            f"{path}: no results.json there; run `evalkit run` first or pass the path of a results.json"
        )
    return candidate


def read_results(path: str | Path) -> RunResult:
    """Read a results.json written by :func:`save_results`."""
    file = resolve_results_path(path)
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsFileError(f"{file}: not a readable results file: {exc}") from None
    version = raw.get("version") if isinstance(raw, dict) else None
    if version != RESULTS_VERSION:
        raise ResultsFileError(
            f"{file}: results version {version!r} is not supported (this evalkit reads {RESULTS_VERSION}); re-run it"
        )
    try:
        jobs = tuple(_case_result(j) for j in raw["jobs"])
        return RunResult(raw["run_id"], raw["created"], raw["config"], jobs, raw.get("seconds", 0.0), version)
    except (KeyError, TypeError) as exc:
        raise ResultsFileError(f"{file}: a job record is missing {exc}; was the file edited by hand?") from None


def _case_result(raw: dict[str, Any]) -> CaseResult:
    data = dict(raw)
    data["scores"] = {k: ScoreRecord(**v) for k, v in data.get("scores", {}).items()}
    data["failures"] = tuple(tuple(f) for f in data.get("failures", ()))
    data["tags"] = tuple(data.get("tags", ()))
    data["calls"] = tuple(data.get("calls", ()))
    return CaseResult(**data)
