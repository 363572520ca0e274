"""``evalkit gate`` and ``evalkit baseline save|show``: thin commands over :mod:`evalkit.gating.gate`.

Registered on the main group in :mod:`evalkit.cli` (``cli.add_command(gate_command)``,
``cli.add_command(baseline_group)``), whose ``_Group`` prints an :class:`EvalkitError` as one line
and exits 2. The gate exits 0 when it passes and 1 on a regression.

The baseline convention: ``baselines/<name>.json`` (default ``baselines/baseline.json``) is a copy of
a results.json, committed with the code. Refresh it deliberately, in its own commit, after a change
whose new scores were reviewed and accepted; never automatically on every green build, or the gate
would drift along with a slow regression.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..cli_options import config_option
from ..cli_output import echo
from ..errors import ConfigError, ResultsFileError

if TYPE_CHECKING:
    from ..results import RunResult
    from .gate import GateOptions

DEFAULT_BASELINE = "baselines/baseline.json"


def _parse_min_accuracy(values: tuple[str, ...]) -> tuple[dict[str, float], float | None]:
    """``suite=0.8`` sets a suite's floor; a bare ``0.8`` sets the whole run's (per model)."""
    per_suite: dict[str, float] = {}
    overall: float | None = None
    for value in values:
        suite, sep, number = value.rpartition("=")
        try:
            fraction = float(number)
        except ValueError:
            raise ConfigError(
                f"--min-accuracy {value!r}: expected SUITE=FRACTION (e.g. weather=0.8) or FRACTION for each model's whole run"
            ) from None
        if not sep:
            overall = fraction
        elif not suite:
            raise ConfigError(f"--min-accuracy {value!r}: the suite name before '=' is empty; e.g. weather=0.8")
        else:
            per_suite[suite] = fraction
    return per_suite, overall


def _options(
    config_path: Path | None,
    max_drop: float | None,
    alpha: float | None,
    min_accuracy: tuple[str, ...],
    require_same_cases: bool | None,
) -> GateOptions:
    """``[tool.evalkit.gate]`` (``[gate]`` in evalkit.toml), then the command line on top."""
    from ..config import load_config
    from .gate import GateOptions

    options = GateOptions.from_config(load_config(config_path).gate)
    per_suite, overall = _parse_min_accuracy(min_accuracy)
    return options.with_overrides(
        max_drop=max_drop,
        alpha=alpha,
        min_accuracy={**options.min_accuracy, **per_suite} if per_suite else None,
        min_overall_accuracy=overall,
        require_same_cases=require_same_cases,
    )


def _read_baseline(path: str) -> RunResult:
    from ..results import read_results

    if not Path(path).exists():
        raise ResultsFileError(
            f"baseline {path} not found; save one with `evalkit baseline save reports/latest --to {path}` and commit it"
        )
    return read_results(path)


def _write_markdown(markdown: str, path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown, encoding="utf-8")
        echo(f"evalkit: gate markdown written to {path}", err=True)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:  # GitHub Actions renders this file on the run's page; other steps append to it too
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")


@click.command("gate")
@click.argument("results", required=False, default="reports/latest")
@click.option(
    "--baseline",
    "baseline_path",
    default=DEFAULT_BASELINE,
    show_default=True,
    help="The committed baseline results.json.",
)
@click.option(
    "--max-drop",
    type=float,
    default=None,
    help="Largest accepted accuracy drop, as a fraction (0.05 = 5 points). [config; 0.05]",
)
@click.option(
    "--alpha", type=float, default=None, help="Significance level of the one-sided exact McNemar test. [config; 0.05]"
)
@click.option(
    "--min-accuracy",
    multiple=True,
    metavar="SUITE=FRACTION",
    help="A suite's minimum accuracy (repeat); a bare FRACTION: each model's whole run.",
)
@click.option(
    "--require-same-cases/--allow-different-cases",
    default=None,
    help="Fail when a case is in one run only. [config; allow]",
)
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the verdict as markdown (PR comment).",
)
@click.option(
    "--junit",
    "junit_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the current run and the verdict as JUnit XML.",
)
@click.option(
    "--junit-known-failures",
    "known",
    type=click.Choice(["skip", "fail"]),
    default="skip",
    show_default=True,
    help="In the JUnit XML, a failure whose case failed in the baseline too: <skipped> (only new failures "
    "and the gate fail a build) or <failure>.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the run beside its baseline as one HTML page: per-model changes, flipped cases with both replies.",
)
@config_option
@click.pass_context
def gate_command(
    ctx: click.Context,
    results: str,
    baseline_path: str,
    max_drop: float | None,
    alpha: float | None,
    min_accuracy: tuple[str, ...],
    require_same_cases: bool | None,
    markdown_path: Path | None,
    junit_path: Path | None,
    known: str,
    html_path: Path | None,
    config_path: Path | None,
) -> None:
    """Compare RESULTS (default reports/latest) with the baseline; exit 1 on a regression.

    A regression: more cases went pass→fail than fail→pass beyond chance (one-sided exact McNemar,
    p < alpha), or accuracy fell by more than --max-drop, or a suite is below its --min-accuracy.
    Cases in one run only and errored jobs are listed; they do not count in the test."""
    from ..results import read_results
    from .gate import gate
    from .render import render_verdict_markdown, render_verdict_text

    options = _options(config_path, max_drop, alpha, min_accuracy, require_same_cases)
    current = read_results(results)
    baseline = _read_baseline(baseline_path)
    verdict = gate(current, baseline, options)
    echo(render_verdict_text(verdict), nl=False)
    _write_markdown(render_verdict_markdown(verdict), markdown_path)
    if junit_path is not None:
        from .junit import write_junit

        written = write_junit(
            current, junit_path, verdict, baseline=baseline, known="fail" if known == "fail" else "skip"
        )
        echo(f"evalkit: JUnit XML written to {written}", err=True)
    if html_path is not None:
        from ..reporting.baseline import write_baseline_html

        page = write_baseline_html(verdict, current, baseline, html_path)
        echo(f"evalkit: gate HTML written to {page}", err=True)
    ctx.exit(verdict.exit_code)


def describe_run(run: RunResult) -> list[str]:
    """One line per model: jobs, accuracy over scored jobs, errors; what a reviewer checks before committing."""
    lines = []
    for model in run.models:
        jobs = [j for j in run.jobs if j.model == model]
        scored = [j for j in jobs if j.status != "error"]
        passed, errors = sum(j.passed for j in scored), len(jobs) - len(scored)
        accuracy = f"{100 * passed / len(scored):.1f}% ({passed}/{len(scored)})" if scored else "n/a (no scored job)"
        lines.append(f"  {model}: {len(jobs)} jobs, accuracy {accuracy}" + (f", {errors} errored" if errors else ""))
    return lines


@click.group("baseline")
def baseline_group() -> None:
    """Save or show the committed baseline that `evalkit gate` compares against."""


@baseline_group.command("save")
@click.argument("results", required=False, default="reports/latest")
@click.option("--name", default="baseline", show_default=True, help="Saved as baselines/NAME.json.")
@click.option(
    "--to",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Exact path instead of baselines/NAME.json.",
)
def save_command(results: str, name: str, target: Path | None) -> None:
    """Copy RESULTS (default reports/latest) to the baseline file; commit it afterwards.

    Refresh the baseline deliberately, after a change whose scores were reviewed and accepted."""
    from ..results import read_results, resolve_results_path

    run = read_results(results)  # refuse to save a file the gate could not read back:
    for _ in run.jobs:  # its header, and each job (read lazily; a bad line raises here, before any write)
        pass
    target = target or Path("baselines") / f"{name}.json"
    replaced = _replacing(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    import shutil  # imported here: `evalkit --help` loads only what it shows

    from ..results import replacing

    with replacing(target) as partial:  # a copy cut short never replaces it
        shutil.copyfile(resolve_results_path(results), partial)
    _echo_folded(
        f"saved baseline {target}{replaced}: run {run.run_id}, {len(run.jobs)} jobs, models {', '.join(run.models) or '(none)'}"
    )
    for line in describe_run(run):
        echo(line)
    if any(j.status == "error" for j in run.jobs):
        echo(
            "evalkit: warning: the baseline has errored jobs; their cases are compared once it is refreshed",
            err=True,
        )
    echo(f"Commit it: git add {target}")


def _replacing(target: Path) -> str:
    """What the save overwrites, so a reviewer sees the refresh in the log, not only in the diff."""
    if not target.exists():
        return ""
    from ..results import read_results

    try:
        return f" (replacing run {read_results(target).run_id})"
    except ResultsFileError:
        return " (replacing an unreadable file)"


@baseline_group.command("show")
@click.argument("path", required=False, default=DEFAULT_BASELINE)
def show_command(path: str) -> None:
    """Print what a baseline holds: its run, models and jobs, then the report `evalkit run` prints for
    that run (accuracy per model and suite, scores, paired tests), without the failures."""
    from ..reporting.terminal import render_run

    run = _read_baseline(path)
    _echo_folded(
        f"baseline {path}: run {run.run_id} of {run.created}, {len(run.jobs)} jobs, models {', '.join(run.models) or '(none)'}"
    )
    for line in describe_run(run):
        echo(line)
    if run.jobs:  # the report `evalkit run` prints, without the failures
        echo("\n" + render_run(run, failure_limit=0), nl=False)


def _echo_folded(text: str) -> None:
    """``text`` folded to the terminal's width, continuation lines indented."""
    import textwrap

    from ..reporting.terminal import terminal_width

    echo("\n".join(textwrap.wrap(text, terminal_width(), subsequent_indent="  ")))


COMMANDS: tuple[Any, ...] = (gate_command, baseline_group)  # what cli.py registers
