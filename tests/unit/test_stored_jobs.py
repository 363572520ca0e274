"""results.json is read one job at a time; a small run is parsed once and then kept in memory."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit.errors import ResultsFileError
from evalkit.results import CaseResult, RunResult, RunWriter, StoredJobs, read_results, save_results


def write_run(folder: Path, n: int) -> Path:
    writer = RunWriter(folder, run_id="r", created="2026-11-30T00:00:00+00:00", config={}, toolsets={})
    for number in range(n):
        writer.add(CaseResult(model="m", suite="s", case_id=f"c{number}", status="passed"))
    return writer.finish(seconds=1.0)


def test_a_small_run_is_parsed_once(tmp_path: Path) -> None:
    jobs = read_results(write_run(tmp_path / "r", 5)).jobs
    assert [job.case_id for job in jobs] == [f"c{n}" for n in range(5)]
    (tmp_path / "r" / "results.json").unlink()  # a second pass must not read the file again
    assert [job.case_id for job in jobs] == [f"c{n}" for n in range(5)] and len(jobs) == 5


def test_a_large_run_is_read_again_each_pass(tmp_path: Path) -> None:
    path = write_run(tmp_path / "r", 5)
    jobs = StoredJobs(path, 1, keep=4)
    assert len(list(jobs)) == 5
    path.unlink()
    with pytest.raises(FileNotFoundError):
        list(jobs)


def test_a_large_run_never_holds_the_jobs_it_has_passed(tmp_path: Path) -> None:
    """Counting happens from the lines, so a run above ``keep`` does not buffer ``keep`` jobs on its
    first pass before finding out it is too large (that buffer was the peak of a 30k-job report)."""
    import gc
    import weakref

    jobs = StoredJobs(write_run(tmp_path / "r", 50), 1, keep=10)
    assert len(jobs) == 50
    seen: list[weakref.ref[CaseResult]] = []
    for job in jobs:
        seen.append(weakref.ref(job))
        del job
        gc.collect()
        assert sum(ref() is not None for ref in seen) <= 1  # only the job being looked at is alive


@pytest.mark.parametrize("n", [0, 1, 7])
def test_len_counts_the_job_lines_without_parsing_them(tmp_path: Path, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_run(tmp_path / "r", n)
    import evalkit.results as results

    monkeypatch.setattr(results, "case_result", lambda raw: pytest.fail("len parsed a job"))
    assert len(StoredJobs(path, 1)) == n


def test_a_pass_stopped_early_keeps_nothing(tmp_path: Path) -> None:
    path = write_run(tmp_path / "r", 5)
    jobs = StoredJobs(path, 1)
    assert any(job.case_id == "c1" for job in jobs)  # stops at the second job
    path.unlink()
    with pytest.raises(FileNotFoundError):
        list(jobs)


def test_a_resumed_journal_drops_a_line_cut_mid_write(tmp_path: Path) -> None:
    """A run killed while writing a journal line leaves it without its newline; the resumed run must
    not append the next job's line to it (both would be unreadable, and that job lost)."""
    folder = tmp_path / "r"
    writer = RunWriter(folder, run_id="r", created="2026-11-30T00:00:00+00:00", config={}, toolsets={})
    writer.add(CaseResult(model="m", suite="s", case_id="c0", status="passed"))
    writer.close()
    with (folder / "jobs.jsonl").open("a", encoding="utf-8") as journal:
        journal.write('{"model": "m", "suite": "s", "case_id": "c1", "sta')  # killed here
    resumed = RunWriter(folder, run_id="r", created="2026-11-30T00:00:00+00:00", config={}, toolsets={})
    resumed.add(CaseResult(model="m", suite="s", case_id="c1", status="passed"))
    jobs = read_results(resumed.finish(seconds=1.0)).jobs
    assert [job.case_id for job in jobs] == ["c0", "c1"]


@pytest.mark.parametrize(
    ("journal", "kept"),
    [
        (b"", b""),
        (b"a\n", b"a\n"),
        (b"a\nb", b"a\n"),
        (b"abc", b""),  # the first line itself was cut
        (b"a\n" + b"x" * 200_000, b"a\n"),  # a torn tail longer than the blocks read back
        (b"y" * 100_000 + b"\n" + b"z" * 150_000, b"y" * 100_000 + b"\n"),
    ],
)
def test_the_torn_tail_is_found_reading_back_from_the_end(tmp_path: Path, journal: bytes, kept: bytes) -> None:
    from evalkit.results import _cut_torn_tail

    path = tmp_path / "jobs.jsonl"
    path.write_bytes(journal)
    _cut_torn_tail(path)
    assert path.read_bytes() == kept


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    journal=st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["passed", "failed"])), max_size=30),
    planned=st.lists(st.integers(0, 9), unique=True, max_size=10),
    gaps=st.lists(st.integers(0, 2**30), min_size=10, max_size=10),
)
def test_compaction_keeps_each_job_once_the_first_time_in_plan_order(
    tmp_path_factory: pytest.TempPathFactory, journal: list[tuple[int, str]], planned: list[int], gaps: list[int]
) -> None:
    """Whatever the journal holds (a resumed run appends, a job can appear twice, a job can be
    outside the plan) and however sparse the plan's ranks (a merge numbers slots, a plan naming a
    model twice skips ranks), results.json has each job once: its first line, planned jobs in plan
    order, then the others in journal order."""
    folder = tmp_path_factory.mktemp("run")
    writer = RunWriter(folder, run_id="r", created="2026-11-30T00:00:00+00:00", config={}, toolsets={})
    for number, status in journal:
        writer.add(CaseResult(model="m", suite="s", case_id=f"c{number}", status=status))
    key = {n: CaseResult(model="m", suite="s", case_id=f"c{n}", status="passed").key for n in range(10)}
    ranks = itertools.accumulate(gap + 1 for gap in gaps)  # increasing, far apart
    order = {key[n]: rank for n, rank in zip(planned, ranks, strict=False)}
    jobs = read_results(writer.finish(seconds=1.0, order=order)).jobs
    first = dict(journal[::-1])  # the first status of each job
    expected = [n for n in planned if n in first]
    expected += [n for n in dict.fromkeys(n for n, _ in journal) if n not in planned]
    assert [(job.case_id, job.status) for job in jobs] == [(f"c{n}", first[n]) for n in expected]


def test_a_run_naming_one_job_twice_keeps_it_once(tmp_path: Path) -> None:
    """`-m X,X` plans each job twice: the order's ranks skip, and compaction used to index past its end."""
    jobs = (
        CaseResult("m", "s", "a", "passed"),
        CaseResult("m", "s", "a", "failed"),
        CaseResult("m", "s", "b", "passed"),
    )
    path = save_results(RunResult("r", "2026-11-30T00:00:00+00:00", {}, jobs), tmp_path)
    assert [(job.case_id, job.status) for job in read_results(path).jobs] == [("a", "passed"), ("b", "passed")]


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace("\n", "\r"),  # old Mac line ends
        lambda text: text.replace("\n", "\r\n"),
        lambda text: text.replace(",\n", ",\n\n  \n", 1),  # blank lines between jobs
        lambda text: text.replace(",\n", ",\n,\n", 1),  # a lone comma
    ],
    ids=["cr", "crlf", "blank", "comma"],
)
def test_counting_and_reading_agree_on_hand_edited_files(tmp_path: Path, edit: Callable[[str], str]) -> None:
    path = write_run(tmp_path / "r", 5)
    path.write_bytes(edit(path.read_text(encoding="utf-8")).encode())
    jobs = StoredJobs(path, 1)
    assert len(jobs) == 5 and [job.case_id for job in jobs] == [f"c{n}" for n in range(5)]


def test_the_three_reports_of_a_large_run_read_results_json_ten_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run above ``keep`` is read from disk on every pass (~2.7 s a pass at 100k jobs). The terminal
    report, summary.md and report.html read it 21 times before; questions asked of every job (any
    sweep? any trials? the paired outcomes, the suites, the counts) are now answered once per run."""
    from evalkit.reporting.html import write_html
    from evalkit.reporting.tables import write_summary
    from evalkit.reporting.terminal import render_run
    from evalkit.results import ScoreRecord

    writer = RunWriter(tmp_path / "r", run_id="r", created="2026-11-30T00:00:00+00:00", config={}, toolsets={})
    for model in ("a", "b"):
        for number in range(10):
            passed = number % 3 != 0
            writer.add(
                CaseResult(
                    model,
                    "s",
                    f"c{number}",
                    "passed" if passed else "failed",
                    scores={"selection": ScoreRecord(float(passed), passed)},
                    failures=() if passed else (("missing_call", "no call"),),
                )
            )
    run = read_results(writer.finish(seconds=1.0))
    assert isinstance(run.jobs, StoredJobs)
    monkeypatch.setattr(run.jobs, "_keep", 0)  # read as a large run is
    passes = 0
    read = StoredJobs._read

    def counted(self: StoredJobs) -> Iterator[CaseResult]:
        nonlocal passes
        passes += 1
        yield from read(self)

    monkeypatch.setattr(StoredJobs, "_read", counted)
    render_run(run)
    write_summary(run, tmp_path)
    write_html(run, tmp_path)
    assert passes <= 10


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("latency", '"1.5"', "latency is '1.5', not a number"),
        ("prompt_tokens", '"12"', "prompt_tokens is '12', not an integer"),
        ("trial", "true", "trial is True, not an integer"),
        ("trial", "null", "trial is None, not an integer"),
        ("scores", '{"selection": {"value": "1.0", "passed": true}}', "scores.selection.value is '1.0', not a number"),
    ],
)
def test_a_hand_edited_number_is_a_one_line_error_naming_the_line(
    tmp_path: Path, field: str, value: str, said: str
) -> None:
    """The reports format these as numbers: `report --format html` ended with a traceback on a
    token count written as text. Now reading the job says where and what."""
    path = write_run(tmp_path / "r", 3)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    record = json.loads(lines[2].rstrip().removesuffix(","))
    record[field] = json.loads(value)
    lines[2] = json.dumps(record) + ",\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ResultsFileError) as raised:
        list(read_results(path).jobs)
    assert str(raised.value) == f"{path}:3: not a job record ({said}); was the file edited by hand?"


def test_a_number_too_large_for_a_float_still_reads(tmp_path: Path) -> None:
    """An int is an int, however large: the frame shows what it cannot hold as NaN, and the cost
    of a priced model is unknown (both ended every report with an OverflowError before)."""
    from evalkit.reporting.frames import to_frame
    from evalkit.reporting.html import write_html
    from evalkit.reporting.terminal import render_run

    writer = RunWriter(
        tmp_path / "r",
        run_id="r",
        created="2026-11-30T00:00:00+00:00",
        config={"models": [{"name": "m", "price": [1, 2]}]},
    )
    for number in range(2):
        writer.add(CaseResult(model="m", suite="s", case_id=f"c{number}", status="passed", completion_tokens=5))
    path = writer.finish(seconds=1.0)
    text = path.read_text(encoding="utf-8")
    assert '"prompt_tokens":null' in text
    path.write_text(text.replace('"prompt_tokens":null', f'"prompt_tokens":{10**400}', 1), encoding="utf-8")
    assert next(iter(read_results(path).jobs)).prompt_tokens == 10**400
    run = read_results(path)
    frame = to_frame(run)
    assert frame["prompt_tokens"].isna().all() and frame["cost"].isna().all()
    assert "m" in render_run(run) and write_html(run, tmp_path).is_file()


def test_a_job_holding_a_lone_surrogate_is_written_and_read_back(tmp_path: Path) -> None:
    """UTF-8 cannot hold a lone surrogate (a request body or a reply may carry one, as JSON's
    "\\ud800"): the job is written as its escape and reads back the same, and the run goes on."""
    writer = RunWriter(tmp_path / "r", run_id="r", created="2026-11-30T00:00:00+00:00", config={}, toolsets={})
    odd = 'recorded "ab\ud800" vs sent "abc"'
    writer.add(CaseResult(model="m", suite="s", case_id="a", status="error", failures=[("cassette_miss", odd)]))
    writer.add(CaseResult(model="m", suite="s", case_id="b", status="passed"))
    jobs = list(read_results(writer.finish(seconds=1.0)).jobs)
    assert [(j.case_id, [tuple(f) for f in j.failures]) for j in jobs] == [("a", [("cassette_miss", odd)]), ("b", [])]


def test_a_file_that_cannot_be_written_is_named_and_leaves_nothing_behind(tmp_path: Path) -> None:
    import errno
    import os

    from evalkit.results import replacing

    target = tmp_path / "baseline.json"
    target.write_text("old")
    with pytest.raises(OSError) as info, replacing(target) as temporary:
        temporary.write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # a full disk names no file
    assert info.value.filename == str(target) and info.value.errno == errno.ENOSPC
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json"]
    with pytest.raises(OSError, match="not a regular file"), replacing(tmp_path):
        pass  # a folder (or /dev/full) is never replaced


def test_results_that_cannot_be_written_say_how_to_finish_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import evalkit.results as results

    writer = RunWriter(tmp_path / "r", run_id="r", created="2026-11-30T00:00:00+00:00", config={}, toolsets={})
    writer.add(CaseResult(model="m", suite="s", case_id="a", status="passed"))
    monkeypatch.setattr(
        results.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device"))
    )
    with pytest.raises(ResultsFileError) as info:
        writer.finish(seconds=1.0)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'r' / 'results.json'}: No space left on device")
    assert "`evalkit run --resume r` writes results.json" in message
    assert (tmp_path / "r" / "jobs.jsonl").is_file() and not list((tmp_path / "r").glob(".*.tmp"))
