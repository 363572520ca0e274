"""`evalkit extract` through click's CliRunner: the table, --json, --to-cases, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner, Result

from evalkit.cases import load_cases
from evalkit.cli import cli


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["extract", *map(str, args)], catch_exceptions=False)


@pytest.fixture
def cassettes(kit: SimpleNamespace, tmp_path: Path) -> Path:
    azure = "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-06-01&key=SECRET"
    reply = kit.completion(
        {"calls": [kit.call("get_weather", {"city": "Paris"}), kit.call("get_weather", {"city": "Nice"}, "c2")]}
    )
    kit.write(
        tmp_path / "rec" / "weather.yaml",
        kit.exchange(kit.chat_request(), reply, uri=azure),
        kit.exchange(kit.chat_request(), {"error": {"message": "Rate limit reached"}}, status=429),
    )
    (tmp_path / "rec" / "readme.yaml").write_text("title: not a cassette\n")
    return tmp_path / "rec"


def test_table(cassettes: Path, kit: SimpleNamespace) -> None:
    result = invoke(cassettes)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["file", "#", "api", "status", "calls", "finish/error"]
    assert lines[2].split() == ["weather.yaml", "0", "chat", "200", 'get_weather({"city":"Paris"})', "tool_calls"]
    assert lines[3].split() == ['get_weather({"city":"Nice"})']
    assert lines[4].split() == ["1", "chat", "429", "HTTP", "429:", "Rate", "limit", "reached", "rate_limited"]
    assert lines[-2:] == [
        "note: readme.yaml: not a vcrpy cassette (no 'interactions' list at the top level)",
        "1 cassette, 2 interactions, 2 model replies (1 error), 2 calls; 1 file not read",
    ]
    assert max(map(len, lines)) <= 100
    assert "SECRET" not in result.output and kit.SECRET not in result.output


def test_json(cassettes: Path, kit: SimpleNamespace) -> None:
    result = invoke(cassettes, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [(d["file"], d["note"] is None) for d in data] == [("readme.yaml", False), ("weather.yaml", True)]
    first, second = data[1]["interactions"]
    assert [c["name"] for c in first["calls"]] == ["get_weather", "get_weather"]
    assert first["uri"].endswith("?api-version=2024-06-01&key=REDACTED")
    assert second["error"] == {"kind": "rate_limited", "message": "HTTP 429: Rate limit reached"}
    assert "SECRET" not in result.output and kit.SECRET not in result.output


def test_to_cases(cassettes: Path, tmp_path: Path) -> None:
    result = invoke(cassettes, "--to-cases", tmp_path / "cases")
    assert result.exit_code == 0
    assert result.stderr == (
        "evalkit: note: weather.yaml #1: skipped: the reply is an error (rate_limited: HTTP 429: Rate limit reached)\n"
    )
    assert result.stdout.splitlines()[-1] == (
        f"Wrote 1 case in 1 file to {tmp_path / 'cases'}; 1 model reply skipped (see the notes). "
        f"Check them with `evalkit validate {tmp_path / 'cases'}`."
    )
    (suite,) = load_cases(tmp_path / "cases")
    assert suite.name == "weather"
    assert suite.cases[0].expect.describe() == "get_weather(city='Paris'), get_weather(city='Nice')"
    assert "SECRET" not in (tmp_path / "cases" / "weather.yaml").read_text()


def test_json_with_to_cases_keeps_stdout_pure_json(cassettes: Path, tmp_path: Path) -> None:
    result = invoke(cassettes, "--json", "--to-cases", tmp_path / "cases")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 2
    assert "Wrote 1 case in 1 file" in result.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing", ": no such file or directory; pass vcrpy cassettes (*.yaml) or folders of them"),
        ("", " holds no vcrpy cassette (no *.yaml or *.yml file in it)"),
    ],
)
def test_a_bad_path_is_one_line_and_exit_2(tmp_path: Path, name: str, message: str) -> None:
    result = invoke(tmp_path / name)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"evalkit: error: {tmp_path / name}{message}\n"


def test_a_file_that_is_not_a_cassette_is_an_error_when_it_is_all_there_is(tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text("version: 1\nsuite: s\n")
    result = invoke(tmp_path / "cases.yaml")
    assert (result.exit_code, result.stderr) == (
        2,
        f"evalkit: error: {tmp_path / 'cases.yaml'}: not a vcrpy cassette (no 'interactions' list at the top level)\n",
    )


def test_paths_are_required() -> None:
    result = CliRunner().invoke(cli, ["extract"])
    assert result.exit_code == 2 and "Missing argument 'PATHS...'" in result.stderr
