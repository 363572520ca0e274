"""JUnit XML for CI test reporters (GitHub test-reporter actions, GitLab, Jenkins, Azure Pipelines).

Layout: one ``<testsuite>`` per model × suite, one ``<testcase>`` per job, named like its cassette
(``<case_id>[--tools-N][--trial-K]``) so a failure leads straight to the recording. A failed job is a
``<failure>`` (the model called tools wrongly); a job that errored (HTTP error, cassette miss) is an
``<error>``, because it measured nothing. With a gate verdict, one more suite, ``evalkit.gating.gate``, holds a
single test case that fails when the gate does, so the regression shows up in the same report.

**Known failures.** Given the baseline, a job that failed where its case (model, suite, case id, tool
count) also failed in the baseline is not new: it is written as ``<skipped message="known failure:
failed in the baseline too">`` with its failure text, so a CI test reporter that fails the build on any
failing test case fails it only on new failures and on the gate's verdict. A model that fails a third
of the cases would otherwise turn every build red, and a red build that is always red is ignored.
The gate still judges every case (a known failure that got worse still counts in its test); errored
jobs stay ``<error>``, since they measured nothing. ``known="fail"`` writes them as failures.

Only the attributes every common reader accepts are written, in the order of the Ant/Surefire schema
(properties before testcases); counts on each ``<testsuite>`` and on the ``<testsuites>`` root.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConfigError
from ..results import CaseResult, RunResult

if TYPE_CHECKING:
    from .gate import Verdict


def case_name(job: CaseResult) -> str:
    """The cassette's stem: ``<case_id>[--tools-N][--trial-K]`` (trial 1 has no suffix, as on disk)."""
    name = job.case_id
    if job.tool_count is not None:
        name += f"--tools-{job.tool_count}"
    if job.trial > 1:
        name += f"--trial-{job.trial}"
    return name


# XML 1.0 forbids most control characters, and UTF-8 cannot encode a lone surrogate; model output can
# hold either (an ANSI escape, a NUL, a half of a surrogate pair), and one of them would make the whole
# report unreadable to the CI reader. They are replaced with U+FFFD, so a reader sees something was there.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def _timestamp(created: str) -> dict[str, Any]:
    # The Ant schema wants an ISO date-time without a zone; results.json carries "+00:00" (always UTC).
    try:
        return {"timestamp": datetime.fromisoformat(created).strftime("%Y-%m-%dT%H:%M:%S")}
    except ValueError:
        return {}


KNOWN_FAILURE = "known failure: failed in the baseline too"
KNOWN_FAILURE_MODES = ("skip", "fail")


def _testcase(parent: ET.Element, job: CaseResult, *, known: bool = False) -> None:
    case = ET.SubElement(
        parent,
        "testcase",
        name=_clean(case_name(job)),
        classname=_clean(f"evalkit.{job.model}.{job.suite}"),
        time=f"{job.seconds:.3f}",
    )
    if job.status == "passed":
        return
    failures = job.failures or (("failed", "no scorer explained it"),)
    kind, explanation = failures[0]
    if known and job.status == "failed":
        element = ET.SubElement(case, "skipped", message=KNOWN_FAILURE)
    else:
        element = ET.SubElement(
            case,
            "error" if job.status == "error" else "failure",
            message=_clean(f"{kind}: {explanation}"),
            type=_clean(kind),
        )
    body = [f"{k}: {e}" for k, e in failures]
    if job.expected:
        body.append(f"expected: {job.expected}")
    body += [f"called: {c.get('name')}({c.get('arguments')})" for c in job.calls]
    if job.cassette:
        body.append(f"cassette: {job.cassette}")
    element.text = _clean("\n".join(body))


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    properties = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(properties, "property", name=_clean(name), value=_clean(value))


def _suite(
    root: ET.Element,
    name: str,
    jobs: list[CaseResult],
    run: RunResult,
    extra: dict[str, str],
    known: set[tuple[str, str, str, int | None]],
) -> ET.Element:
    is_known = [j.status == "failed" and _case_key(j) in known for j in jobs]
    skipped = sum(is_known)
    suite = ET.SubElement(
        root,
        "testsuite",
        name=_clean(name),
        tests=str(len(jobs)),
        failures=str(sum(j.status == "failed" for j in jobs) - skipped),
        errors=str(sum(j.status == "error" for j in jobs)),
        skipped=str(skipped),
        time=f"{sum(j.seconds for j in jobs):.3f}",
        **_timestamp(run.created),
    )
    _properties(suite, {"run_id": run.run_id, **extra})
    for job, known_failure in zip(jobs, is_known, strict=True):
        _testcase(suite, job, known=known_failure)
    return suite


def _case_key(job: CaseResult) -> tuple[str, str, str, int | None]:
    return (job.model, job.suite, job.case_id, job.tool_count)


def known_failures(baseline: RunResult) -> set[tuple[str, str, str, int | None]]:
    """The cases (model, suite, case id, tool count) with a failed trial in the baseline."""
    return {_case_key(j) for j in baseline.jobs if j.status == "failed"}


def _gate_suite(root: ET.Element, run: RunResult, verdict: Verdict) -> None:
    suite = ET.SubElement(
        root,
        "testsuite",
        name="evalkit.gating.gate",
        tests="1",
        failures=str(int(not verdict.passed)),
        errors="0",
        skipped="0",
        time="0.000",
        **_timestamp(run.created),
    )
    _properties(suite, {"run_id": verdict.current_run, "baseline_run_id": verdict.baseline_run})
    case = ET.SubElement(suite, "testcase", name="regression-gate", classname="evalkit.gating.gate", time="0.000")
    if not verdict.passed:
        message = verdict.reasons[0] if verdict.reasons else "regression"
        failure = ET.SubElement(case, "failure", message=_clean(message), type="regression")
        failure.text = _clean("\n".join(verdict.reasons))


def build_junit(
    run: RunResult,
    verdict: Verdict | None = None,
    *,
    baseline: RunResult | None = None,
    known: Literal["skip", "fail"] = "skip",
) -> ET.ElementTree:
    """The JUnit tree for a run and, optionally, the gate's verdict on it. With ``baseline``, failures
    whose case failed in the baseline too are ``<skipped>`` (``known="skip"``, the default) or stay
    failures (``known="fail"``)."""
    if known not in KNOWN_FAILURE_MODES:
        raise ConfigError(f"{known!r} is not a way to report known failures. Valid ways: skip, fail.")
    old = known_failures(baseline) if baseline is not None and known == "skip" else set()
    groups: dict[tuple[str, str], list[CaseResult]] = {}
    for job in run.jobs:
        groups.setdefault((job.model, job.suite), []).append(job)
    root = ET.Element("testsuites", name=f"evalkit {run.run_id}")
    for (model, suite), jobs in groups.items():
        _suite(root, f"evalkit.{model}.{suite}", jobs, run, {"model": model, "suite": suite}, old)
    if verdict is not None:
        _gate_suite(root, run, verdict)
    suites = list(root)
    for attribute in ("tests", "failures", "errors", "skipped"):
        root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in suites)))
    root.set("time", f"{sum(float(s.get('time', '0')) for s in suites):.3f}")
    return ET.ElementTree(root)


def write_junit(
    run: RunResult,
    path: str | Path,
    verdict: Verdict | None = None,
    *,
    baseline: RunResult | None = None,
    known: Literal["skip", "fail"] = "skip",
) -> Path:
    """Write the JUnit XML file (parent folders created) and return its path; see :func:`build_junit`."""
    tree = build_junit(run, verdict, baseline=baseline, known=known)
    ET.indent(tree)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tree.write(target, encoding="utf-8", xml_declaration=True)
    return target
