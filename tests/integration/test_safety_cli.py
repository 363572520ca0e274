"""Untrusted case files and names through the command line: one line on stderr, exit code 2."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import cli

pytest_plugins = ["pytester"]

CASES = "cases:\n  - {id: a, prompt: hi, expect: {no_call: true}}\n"
TOOLS = (
    "tools:\n  - {type: function, function: {name: f, parameters: {type: object, properties: {x: {type: number}}}}}\n"
)
LAUGHS = "".join(
    f"  {n}: &{n} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
    for p, n in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


def validate(folder: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "suite.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(cli, ["validate", str(path)], catch_exceptions=False)
    return result.exit_code, result.stderr, path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: 1\nsuite: s\n" + TOOLS + "x-laughs:\n" + LAUGHS + CASES,
            (
                "is refused at line 12, column 6: expands to more than 1,000,000 values or 10,000,000 characters "
                "(an alias counts each time it is used: a 'billion laughs' file?); use fewer aliases or split the file"
            ),
        ),
        ("!!float\n", "is refused at line 1, column 1: this is not a valid !!float value"),
        (
            "version: 1\nsuite: s\ntools:\n  - pydantic: ':x'\n" + CASES,
            "field 'tools[0].pydantic': expected 'module:ModelClass' (a dotted module name, ':', a class name), got ':x'",
        ),
        (
            "version: 1\nsuite: s\ntools:\n  - pydantic: 'os:system'\n" + CASES,
            (
                "field 'tools[0].pydantic': 'os:system' must name a pydantic BaseModel subclass in os; "
                "it is a builtin_function_or_method"
            ),
        ),
        (
            "version: 1\nsuite: s\n"
            + TOOLS
            + "cases:\n  - {id: a, prompt: hi, expect: {calls: [{name: f, arguments: {x: {approx: 1"
            + "0" * 400
            + "}}}]}}\n",
            "case 'a', field 'cases[0].expect.calls[0].arguments.x': approx needs a finite number within ±1.8e308, "
            "got 1" + "0" * 78 + "…; for any number use anything: true (see 'Argument matchers' in the README)",
        ),
        (
            "version: 1\nsuite: s\ntools:\n  - "
            + json.dumps(
                {
                    "type": "function",
                    "function": {
                        "name": "f",
                        "parameters": {"type": "object", "properties": {"x": {"$ref": "#/$defs/x"}}},
                    },
                }
            )
            + "\n"
            + CASES,
            (
                "field 'tools[0]': parameters of 'f': $ref '#/$defs/x' at #/properties/x points nowhere; "
                "point it at a schema under $defs"
            ),
        ),
        (
            "version: 1\nsuite: s\ntools_file: ../../etc/passwd\n" + CASES,
            "field 'tools_file': tools_file '../../etc/passwd' resolves to ",
        ),
    ],
)
def test_validate_prints_one_line_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    code, err, path = validate(tmp_path / "cases", text, monkeypatch)
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith(f"evalkit: error: {path}")
    assert message in err


def test_run_refuses_a_model_name_that_would_leave_the_cassettes_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "suite.yaml").write_text("version: 1\nsuite: s\n" + TOOLS + CASES, encoding="utf-8")
    (tmp_path / "evalkit.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["run", "cases", "--model", "../../x", "--base-url", "http://127.0.0.1:9/v1", "--no-progress"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "evalkit: error: model name '../../x' is not allowed: it names the folder cassettes/<name>/, so use letters, "
        "digits, '.', '_', '-' and ':' ('/' only between parts), each part starting with a letter or digit. Give the "
        'table a plain name and keep the API\'s id in `model`: [tool.evalkit.model."my-model"] model = "../../x"\n'
    )
    assert not any(tmp_path.parent.rglob("x/s/a.yaml"))


def test_the_cassette_fixture_refuses_a_name_that_leaves_the_cassettes_folder(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", evalkit="")
    pytester.makepyfile(
        test_names="""
        import pytest
        from evalkit.errors import ConfigError

        def test_escape(evalkit_cassette):
            with pytest.raises(ConfigError, match="would be stored outside"):
                evalkit_cassette("../../../outside")

        def test_subfolder(evalkit_cassette):
            evalkit_cassette("group/name")  # a subfolder is fine
        """
    )
    pytester.runpytest_inprocess("test_names.py", "-p", "no:cacheprovider").assert_outcomes(passed=2)
