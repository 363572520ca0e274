"""results.json is read one job at a time; a small run is parsed once and then kept in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.results import CaseResult, RunWriter, StoredJobs, read_results


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
