"""RunResult → pandas DataFrames: jobs (:func:`load_results`), calls (:func:`load_calls`), and
aggregates with intervals, latency, tokens and cost (:func:`aggregate`).

Nothing here re-scores: every number comes from results.json.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..gating.trials import cluster_interval
from ..identity_cache import IdentityCache
from ..results import RunResult, read_results

if TYPE_CHECKING:
    import pandas as pd

# Score columns of the job frame, each 1.0 when the job did well on it. Two scorers are named for
# what they look for ("hallucination", "forbidden") and score 1.0 when it is absent, so their
# columns are named for what 1.0 means.
SCORE_COLUMNS = (
    "selection",
    "validity",
    "correctness",
    "coverage",
    "no_call",
    "no_hallucination",
    "no_forbidden",
    "finish",
    "trajectory",  # tool loops (evalkit.scorers.loops): calls of the whole loop, the answer, how it ended
    "answer",
    "loop",
)
SCORE_SOURCES = {"no_hallucination": "hallucination", "no_forbidden": "forbidden"}  # column → scorer

JOB_COLUMNS = (
    "run_id",
    "model",
    "suite",
    "case_id",
    "tool_count",
    "trial",
    "status",
    "passed",
    "error",
    "tags",
    "failure_kinds",
    "n_calls",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "latency",
    "seconds",
    "requests",
    "retries",
    "cost",
    "cassette",
    *SCORE_COLUMNS,
)
_FLOAT_COLUMNS = ("prompt_tokens", "completion_tokens", "latency", "seconds", "cost", *SCORE_COLUMNS)
_INT_COLUMNS = ("tool_count", "trial", "n_calls", "requests", "retries")
_TEXT_COLUMNS = tuple(c for c in JOB_COLUMNS if c not in (*_FLOAT_COLUMNS, *_INT_COLUMNS, "passed", "error"))
CALL_COLUMNS = (
    "run_id",
    "model",
    "suite",
    "case_id",
    "tool_count",
    "trial",
    "status",
    "call",
    "expected",
    "produced",
    "match",
    "arguments",
    "mismatched",
    "finish_reason",
    "cassette",
)


def model_prices(run: RunResult) -> dict[str, tuple[float, float]]:
    """Model name → (input, output) USD per million tokens, for the models of the run that have a price."""
    prices = {}
    for spec in run.config.get("models", ()):
        price = spec.get("price") if isinstance(spec, Mapping) else None
        if isinstance(price, Sequence) and len(price) == 2:
            prices[str(spec.get("name"))] = (float(price[0]), float(price[1]))
    return prices


def _cost(price: tuple[float, float] | None, prompt: int | None, completion: int | None) -> float:
    if price is None or prompt is None or completion is None:
        return math.nan
    try:
        return (prompt * price[0] + completion * price[1]) / 1e6
    except OverflowError:  # a token count no float holds (a hand edit): no cost, as without counts
        return math.nan


def to_frame(run: RunResult) -> pd.DataFrame:
    """One row per job; the columns are documented in :func:`load_results`. A copy, yours to change,
    of the frame :func:`shared_frame` builds once per run."""
    return shared_frame(run).copy()


def shared_frame(run: RunResult) -> pd.DataFrame:
    """The frame of :func:`to_frame`, built once per run and shared: read it, never change it. The
    reports of one run read it nine times (tables, plots, comparisons); a copy for each took ~25 MB
    a time at 100k jobs, and the copies freed left the process that much larger."""
    return _frames(run)


def _build_frame(run: RunResult) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    prices = model_prices(run)
    # Built column by column: a list of row dicts (a dict per job) took ~6 kB a job at its peak,
    # most of a 100k-job report's memory; one list per column takes a pointer a cell. Number
    # columns are arrays of doubles: a list would keep each job's float objects (24 bytes each, 16
    # a job) alive after the rest of the job is freed, pinning the memory the job was parsed into.
    columns: dict[str, Any] = {name: array("d") if name in _FLOAT_COLUMNS else [] for name in JOB_COLUMNS}
    add = {
        name: _as_double(column.append) if name in _FLOAT_COLUMNS else column.append for name, column in columns.items()
    }
    scores = [(add[column], SCORE_SOURCES.get(column, column)) for column in SCORE_COLUMNS]
    # A large run's jobs are parsed from results.json one at a time, so every job brings its own
    # copy of the same model, suite, case id and status strings. One shared copy per distinct text
    # keeps what the frame holds from growing with the jobs (~0.5 kB a job at 100k jobs), apart
    # from the cassette path, which is the job's own.
    shared: dict[str, str] = {}

    def one(text: Any) -> Any:  # texts only: 1, 1.0 and True are equal as dict keys
        return shared.setdefault(text, text) if type(text) is str else text

    for job in run.jobs:
        add["run_id"](run.run_id)
        add["model"](one(job.model))
        add["suite"](one(job.suite))
        add["case_id"](one(job.case_id))
        add["tool_count"](job.tool_count if job.tool_count is not None else job.n_offered)
        add["trial"](job.trial)
        add["status"](one(job.status))
        add["passed"](None if job.status == "error" else job.status == "passed")
        add["error"](job.status == "error")
        tags = ",".join(job.tags)
        add["tags"](one(tags))
        kinds = ",".join(dict.fromkeys(k for k, _ in job.failures))
        add["failure_kinds"](one(kinds))
        add["n_calls"](len(job.calls))
        add["finish_reason"](one(job.finish_reason))
        add["prompt_tokens"](job.prompt_tokens)
        add["completion_tokens"](job.completion_tokens)
        add["latency"](job.latency)
        add["seconds"](job.seconds)
        add["requests"](job.requests)
        add["retries"](job.retries)
        add["cost"](_cost(prices.get(job.model), job.prompt_tokens, job.completion_tokens))
        add["cassette"](job.cassette)
        for append, scorer in scores:
            record = job.scores.get(scorer)
            append(record.value if record is not None else None)
    for name in _FLOAT_COLUMNS:
        columns[name] = np.frombuffer(columns[name], dtype="float64")
    frame = pd.DataFrame(columns, columns=list(JOB_COLUMNS))
    del columns, add, scores
    for column in _INT_COLUMNS:
        frame[column] = frame[column].astype("int64")
    frame["passed"] = frame["passed"].astype("boolean")  # <NA> for errored jobs: passed.mean() skips them
    frame["error"] = frame["error"].astype(bool)
    if not len(frame):  # pandas makes an empty column float; text columns keep the dtype they have with rows
        for column in _TEXT_COLUMNS:
            frame[column] = frame[column].astype("str")
    return frame


def _as_double(append: Callable[[float], None]) -> Callable[[Any], None]:
    """``append`` for an array of doubles: a number (or a number's text) as a float; anything else
    (None: not measured, or the check did not apply) as NaN, so means skip it."""

    def add(value: Any) -> None:
        if type(value) is float:  # nearly every cell
            append(value)
            return
        try:  # an int, a numpy number, a Decimal, a number's text: as pandas.to_numeric reads them
            append(math.nan if value is None else float(value))
        except (TypeError, ValueError, OverflowError):
            append(math.nan)

    return add


# The last two runs' frames (a report renders one run, `evalkit gate --html` two).
_frames: IdentityCache[RunResult, pd.DataFrame] = IdentityCache(_build_frame, limit=2)


def load_results(path: str | Path) -> pd.DataFrame:
    """A run as a DataFrame, one row per job (model × suite × case × tool count × trial).

    ``path`` is a results.json or the report folder holding one (``"reports/latest"``). Raises
    :class:`~evalkit.errors.ResultsFileError` when there is none, or it is unreadable or of an
    unsupported version. Columns:

    =================  =========  ================================================================
    column             dtype      meaning (unit; what NaN / <NA> means)
    =================  =========  ================================================================
    run_id, model,     str        the run, the model's label in the config, the suite, the case id
    suite, case_id
    tool_count         int64      tools offered (the ``--tool-counts`` N, else the suite's own count)
    trial              int64      1…K with ``--trials K``
    status             str        ``passed`` | ``failed`` | ``error``
    passed             boolean    True / False; <NA> when the job errored, so ``passed.mean()`` is
                                  the accuracy over scored jobs and errors never count as failures
    error              bool       HTTP error, cassette miss, unreadable reply: nothing was scored
    tags               str        the case's tags, comma-separated
    failure_kinds      str        e.g. ``missing_call,wrong_value``; empty when it passed
    n_calls            int64      tool calls the model made
    finish_reason      str        as the API said (``stop``, ``tool_calls``, ``length``…); NaN if unknown
    prompt_tokens,     float64    tokens the server counted; NaN when it did not say
    completion_tokens
    latency            float64    seconds the model took (measured when recorded); NaN if unknown
    seconds            float64    seconds evalkit spent on the job (a replay takes milliseconds)
    requests, retries  int64      HTTP requests sent or replayed; of those, SDK retries
    cost               float64    USD, from the model's ``price`` in the config; NaN without a
                                  price or token counts
    cassette           str        the job's cassette path; NaN if it had none
    selection …        float64    the scores, each in [0, 1] with 1.0 good: ``selection``,
    loop                          ``validity``, ``correctness``, ``coverage``, ``no_call``,
                                  ``no_hallucination``, ``no_forbidden``, ``finish``, and for tool
                                  loops ``trajectory``, ``answer``, ``loop``; NaN when the check
                                  does not apply to the job (e.g. ``no_call`` on a case that
                                  expects calls, ``answer`` on a single reply) or the job errored
    =================  =========  ================================================================

    Accuracy with intervals per group: ``evalkit.aggregate(frame, ["model", "suite"])``.
    """
    return to_frame(read_results(path))


def calls_frame(run: RunResult) -> pd.DataFrame:
    """Long form: one row per call, expected or produced, as the scorers paired them; see :func:`load_calls`."""
    import pandas as pd

    rows = []
    for job in run.jobs:
        key = {
            "run_id": run.run_id,
            "model": job.model,
            "suite": job.suite,
            "case_id": job.case_id,
            "tool_count": job.tool_count if job.tool_count is not None else job.n_offered,
            "trial": job.trial,
            "status": job.status,
        }
        tail = {"finish_reason": job.finish_reason, "cassette": job.cassette}
        for number, (expected, produced, match, mismatched) in enumerate(_call_pairs(job)):
            arguments = job.calls[produced].get("arguments") if produced is not None else None
            if arguments is not None and not isinstance(arguments, str):
                arguments = json.dumps(arguments, ensure_ascii=False)
            rows.append(
                key
                | {
                    "call": number,
                    "expected": expected,
                    "produced": job.calls[produced].get("name") if produced is not None else None,
                    "match": match,
                    "arguments": arguments,
                    "mismatched": mismatched,
                }
                | tail
            )
    frame = pd.DataFrame(rows, columns=list(CALL_COLUMNS))
    for column in ("tool_count", "trial", "call"):
        frame[column] = frame[column].astype("int64")
    return frame


def _call_pairs(job: Any) -> list[tuple[str | None, int | None, str | None, str]]:
    """(expected name, produced index, match, mismatched argument names) per aligned call."""
    if not job.alignment:  # results without alignment (older files, errored jobs): the produced calls
        return [(None, i, None, "") for i in range(len(job.calls))]
    pairs = []
    for row in job.alignment:
        produced = row.get("produced")
        ok = produced is not None and 0 <= produced < len(job.calls)
        expected = row.get("name") if row.get("expected") is not None else None
        bad = ",".join(str(a.get("name")) for a in row.get("arguments", ()) if not a.get("ok", True))
        pairs.append((expected, produced if ok else None, row.get("match"), bad))
    return pairs


def load_calls(path: str | Path) -> pd.DataFrame:
    """The calls of a run in long form: one row per expected call and per produced call, paired as
    the scorers paired them (optimal assignment), for questions such as "which argument does the
    model get wrong most often?". Same ``path`` and errors as :func:`load_results`. Columns:

    ======================  =======  =============================================================
    column                  dtype    meaning
    ======================  =======  =============================================================
    run_id, model, suite,            as in :func:`load_results`: join the two frames on
    case_id, tool_count,             ``["model", "suite", "case_id", "tool_count", "trial"]``
    trial, status
    call                    int64    0, 1, … within the job
    expected                str      the expected function; NaN for a call nobody expected
    produced                str      the function the model called; NaN for a missing call
    match                   str      ``full`` (name and arguments), ``name`` (arguments differ),
                                     ``missing`` (expected, not made), ``extra`` (made, not
                                     expected); NaN when results.json has no alignment
    arguments               str      the produced arguments, as the model sent them (JSON text);
                                     NaN for a missing call
    mismatched              str      comma-separated arguments that failed their matcher
    finish_reason           str      of the reply
    cassette                str      the job's cassette
    ======================  =======  =============================================================

    A job in which no call was expected or made has no row."""
    return calls_frame(read_results(path))


def _clusters(group: pd.DataFrame) -> tuple[list[int], list[int]]:
    """Passes and scored jobs per case: a case's trials (and tool counts, and models when the group
    spans them) share its prompt, so they are one cluster, not independent jobs."""
    key = [c for c in ("suite", "case_id") if c in group]
    if len(key) < 2:
        return [int(v) for v in group["passed"]], [1] * len(group)
    counts = group.groupby(key, sort=False)["passed"].agg(["sum", "count"])
    return [int(v) for v in counts["sum"]], [int(v) for v in counts["count"]]


def aggregate(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Per group of ``by`` (columns of :func:`to_frame`): one row with

    ``n`` (scored jobs), ``passed``, ``accuracy`` (passed / n; NaN when n is 0), ``ci_low``/``ci_high``
    (its 95% interval: Wilson, with each case's jobs one cluster, see
    :func:`evalkit.gating.trials.cluster_interval`; with one job per case it is the plain Wilson
    interval), ``cases`` (distinct cases scored), ``errors`` (errored jobs, left out of n), the
    mean of each score over the jobs it applies to, ``latency`` (median seconds over the jobs that
    have one), ``prompt_tokens`` and ``completion_tokens`` (means per job), and ``cost`` (total USD of
    the group's jobs, NaN when the model has no price)."""
    import pandas as pd

    rows = []
    for key, group in frame.groupby(list(by), sort=False, dropna=False):
        scored = group[~group["error"]]
        passes, sizes = _clusters(scored)
        n, passed = int(sum(sizes)), int(sum(passes))
        low, high = cluster_interval(passes, sizes)
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(
            n=n,
            passed=passed,
            accuracy=passed / n if n else math.nan,
            ci_low=low,
            ci_high=high,
            errors=int(group["error"].sum()),
            cases=len(sizes),
        )
        for name in SCORE_COLUMNS:
            row[name] = scored[name].mean() if name in scored and scored[name].notna().any() else math.nan
        row.update(
            latency=_median(group, "latency"),
            prompt_tokens=_mean(group, "prompt_tokens"),
            completion_tokens=_mean(group, "completion_tokens"),
            cost=float(group["cost"].sum(min_count=1)) if "cost" in group else math.nan,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _median(group: pd.DataFrame, column: str) -> float:
    return float(group[column].median()) if column in group and group[column].notna().any() else math.nan


def _mean(group: pd.DataFrame, column: str) -> float:
    return float(group[column].mean()) if column in group and group[column].notna().any() else math.nan


def summary_table(run: RunResult) -> pd.DataFrame:
    """Per model × suite, then an ``(all)`` row per model (the columns of :func:`aggregate`)."""
    import pandas as pd

    frame = shared_frame(run)
    if frame.empty:
        return frame.copy()
    per_suite = aggregate(frame, ["model", "suite"])
    overall = aggregate(frame, ["model"]).assign(suite="(all)")
    parts = []
    for model in run.models:
        parts += [per_suite[per_suite["model"] == model], overall[overall["model"] == model]]
    return pd.concat(parts, ignore_index=True)


def model_table(run: RunResult) -> pd.DataFrame:
    """One row per model, in run order (the columns of :func:`aggregate`)."""
    frame = shared_frame(run)
    return frame.copy() if frame.empty else aggregate(frame, ["model"])
