"""docs/scaling.md: its workflow is valid YAML with a shard matrix and a merge job, and every evalkit
command it shows parses with the options the CLI really has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import yaml

from evalkit.cli import cli


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def evalkit_commands(text: str) -> list[list[str]]:
    """Each `evalkit …` command line (continuations joined, placeholders and shell tails removed)."""
    text = text.replace("\\\n", " ").replace("${{ matrix.shard }}", "1")
    found = []
    for line in re.findall(r"(?m)^\s*(?:run: |- run: )?(?:[A-Z_]+=\S+ )?(evalkit [^\n#]*)", text):
        line = re.split(r"\|\||&&|;", line)[0]
        found.append(shlex.split(line)[1:])
    return found


def test_the_ci_matrix_shards_then_merges(repo_root: Path) -> None:
    text = (repo_root / "docs" / "scaling.md").read_text(encoding="utf-8")
    (workflow,) = [yaml.safe_load(block) for block in blocks(text, "yaml") if "matrix" in block]
    shard, merge = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    assert shard["strategy"]["matrix"]["shard"] == [1, 2, 3, 4] and merge["needs"] == "shard"
    runs = [" ".join(step["run"].split()) for job in (shard, merge) for step in job["steps"] if "run" in step]
    assert any("evalkit run cases/ --shard ${{ matrix.shard }}/4" in run for run in runs)
    assert any(run.startswith("evalkit merge shards/shard-*/results.json --out reports") for run in runs)
    assert any(run.startswith("evalkit gate reports/latest") for run in runs)


def test_every_command_in_the_guide_parses(repo_root: Path) -> None:
    text = (repo_root / "docs" / "scaling.md").read_text(encoding="utf-8")
    folded = text
    for block in blocks(text, "yaml"):  # a `run: >` block folds its lines into one command
        folded += "\n" + "\n".join(
            " ".join(step["run"].split())
            for job in (yaml.safe_load(block) or {}).get("jobs", {}).values()
            for step in job["steps"]
            if "run" in step
        )
    commands = [c for c in evalkit_commands(folded) if c and c[0] in cli.commands]
    assert {c[0] for c in commands} >= {"run", "merge", "gate"}
    assert ["run", "cases/", "--model", "gpt-4o-mini", "--record-mode", "once", "--batch"] in commands
    for args in commands:
        command = cli.commands[args[0]]
        try:
            command.make_context(args[0], [a for a in args[1:] if a != "…"], resilient_parsing=False)
        except click.exceptions.Exit:
            pass
        except click.UsageError as exc:  # pragma: no cover - the message says which
            raise AssertionError(f"docs/scaling.md: `evalkit {' '.join(args)}`: {exc}") from None
