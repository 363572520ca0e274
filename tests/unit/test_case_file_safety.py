"""Untrusted case files: every fault is a one-line CaseFileError at load, never a traceback or a
failure later in the run (issue 9, part 3). Messages are asserted word for word."""

from __future__ import annotations

import json
import os
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit import CaseFileError, Suite, load_cases
from evalkit.cases import load_suite_file
from evalkit.config import find_config_file

CASES = "cases:\n  - {id: a, prompt: hi, expect: {no_call: true}}\n"
TOOL = "  - {type: function, function: {name: f, parameters: {type: object, properties: {x: {type: number}}}}}\n"


def write(folder: Path, text: str, name: str = "suite.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(CaseFileError) as info:
        load_suite_file(path)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.fixture(autouse=True)
def _no_config_above(tmp_path: Path) -> None:
    # The tools_file rules depend on the config file that governs a folder: there must be none here.
    assert find_config_file(tmp_path) is None


# --- YAML bombs and bad tags ---------------------------------------------------------------------


def test_a_billion_laughs_case_file_is_refused_at_load(tmp_path: Path) -> None:
    laughs = "".join(
        f"  {n}: &{n} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
        for p, n in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
    )
    path = write(
        tmp_path, "version: 1\nsuite: s\ntools:\n" + TOOL + "defaults:\n  tags: []\nx-laughs:\n" + laughs + CASES
    )
    assert path.stat().st_size < 800
    message = error_of(path)  # refused while composing: the expansion is never built
    assert message == (
        f"{path}: is refused at line 14, column 6: expands to more than 1,000,000 values or 10,000,000 characters "
        "(an alias counts each time it is used: a 'billion laughs' file?); use fewer aliases or split the file"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("!!float\n", "is refused at line 1, column 1: this is not a valid !!float value"),
        ("version: !!timestamp 2024-13-45\n", "is refused at line 1, column 10: this is not a valid !!timestamp value"),
        (
            "version: 1\nsuite: !!binary '%%%'\n",
            "is refused at line 2, column 8: !!binary (bytes) has no JSON equivalent; write text, a list or a mapping",
        ),
        (
            "!!python/object:os.system {}\n",
            (
                "is not valid YAML at line 1, column 1: could not determine a constructor for the tag "
                "'tag:yaml.org,2002:python/object:os.system'"
            ),
        ),
    ],
)
def test_bad_tags_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}: {message}"


def test_a_date_in_arguments_stays_text(tmp_path: Path) -> None:
    # PyYAML would make it a datetime.date, which never equals the string a model sends.
    path = write(
        tmp_path,
        "version: 1\nsuite: s\ntools:\n"
        "  - {type: function, function: {name: book, parameters: {type: object, properties: {day: {type: string}}}}}\n"
        "cases:\n  - {id: a, prompt: hi, expect: {calls: [{name: book, arguments: {day: 2024-05-01}}]}}\n",
    )
    (case,) = load_suite_file(path).cases
    assert case.expect.calls[0].arguments.mismatch({"day": "2024-05-01"}) is None


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_bytes(b"version: 1\nsuite: caf\xe9\n")
    assert error_of(path) == f"{path}: is not UTF-8 text (byte 21); save it as UTF-8"


def test_a_line_break_in_a_case_id_stays_on_one_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'version: 1\nsuite: s\ntools: []\ncases:\n  - {id: "a\\nb", prompt: hi, expect: {no_call: true}}\n'
    )
    assert error_of(path) == (
        f"{path}, case 'a\\nb', field 'cases[0].id': use 1-100 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit (it names files) (got 'a\\nb')"
    )


# --- tools_file ----------------------------------------------------------------------------------


def suite_using(folder: Path, tools_file: str) -> Path:
    return write(folder, f"version: 1\nsuite: s\ntools_file: {json.dumps(tools_file)}\n" + CASES)


def test_tools_file_outside_the_project_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "tools:\n" + TOOL, "outside.yaml")
    path = suite_using(tmp_path / "cases", "../outside.yaml")
    target, root = (tmp_path / "outside.yaml").resolve(), (tmp_path / "cases").resolve()
    assert error_of(path) == (
        f"{path}, field 'tools_file': tools_file '../outside.yaml' resolves to {target}, outside the project ({root}); "
        "move it into the project or add its folder to allow_paths in [tool.evalkit]"
    )
    absolute = suite_using(tmp_path / "cases", "/etc/passwd")
    assert "tools_file '/etc/passwd' resolves to /etc/passwd, outside the project" in error_of(absolute)


def test_a_folder_load_lets_case_files_share_tools_in_that_folder(tmp_path: Path) -> None:
    write(tmp_path / "cases" / "tools", "tools:\n" + TOOL, "shared.yaml")
    suite_using(tmp_path / "cases" / "suites", "../tools/shared.yaml")
    (suite,) = load_cases(tmp_path / "cases")
    assert suite.tools[0]["function"]["name"] == "f"


def test_a_symlink_out_of_the_project_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "secrets", "tools:\n" + TOOL, "key.yaml")
    (tmp_path / "cases").mkdir()
    os.symlink(tmp_path / "secrets" / "key.yaml", tmp_path / "cases" / "tools.yaml")
    path = suite_using(tmp_path / "cases", "tools.yaml")
    assert "resolves to " + str((tmp_path / "secrets" / "key.yaml").resolve()) + ", outside the project" in error_of(
        path
    )


def test_allow_paths_in_the_config_lets_a_tools_file_live_elsewhere(tmp_path: Path) -> None:
    write(tmp_path / "shared-tools", "tools:\n" + TOOL, "tools.yaml")
    write(tmp_path / "project", 'allow_paths = ["../shared-tools"]\n', "evalkit.toml")
    path = suite_using(tmp_path / "project" / "cases", "../../shared-tools/tools.yaml")
    assert load_suite_file(path).tools[0]["function"]["name"] == "f"
    (tmp_path / "project" / "evalkit.toml").write_text("")  # no allowance: refused again
    assert "outside the project (" + str((tmp_path / "project").resolve()) + ")" in error_of(path)


def test_tools_file_errors_never_quote_its_content(tmp_path: Path) -> None:
    write(tmp_path, "AWS_SECRET=abc123: [\n  - !!AKIA x\n", "tools.yaml")
    path = suite_using(tmp_path, "tools.yaml")
    message = error_of(path)
    assert message == (
        f"{path}, field 'tools_file': tools_file 'tools.yaml' is not valid YAML at line 2, column 3: "
        "a misplaced element (check indentation, '-' and ':')"
    )
    assert "AWS" not in message and "AKIA" not in message


def test_tools_file_size_is_bounded(tmp_path: Path) -> None:
    (tmp_path / "tools.yaml").write_text("#" * (2 * 1024 * 1024 + 1))
    path = suite_using(tmp_path, "tools.yaml")
    assert error_of(path) == (
        f"{path}, field 'tools_file': tools_file 'tools.yaml' is larger than 2 MB; "
        "evalkit reads case and tools files up to that size"
    )


def test_tools_file_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    path = suite_using(tmp_path, "tools")
    assert error_of(path) == (
        f"{path}, field 'tools_file': tools_file 'tools' is not a regular file (looked for {(tmp_path / 'tools').resolve()})"
    )


def test_tools_file_bomb_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        "x: &x [1,1,1,1,1,1,1,1,1,1]\n"
        + "".join(f"x{i}: &x{i} [{', '.join(['*x' if i == 0 else f'*x{i - 1}'] * 10)}]\n" for i in range(7)),
        "tools.yaml",
    )
    path = suite_using(tmp_path, "tools.yaml")
    assert "tools_file 'tools.yaml' is refused at line 6, column 5: expands to more than 1,000,000 values" in error_of(
        path
    )


# --- pydantic: references ------------------------------------------------------------------------


def pydantic_suite(folder: Path, ref: str) -> Path:
    return write(folder, f"version: 1\nsuite: s\ntools:\n  - pydantic: {json.dumps(ref)}\n" + CASES)


@pytest.mark.parametrize("ref", [":x", ".:x", "a..b:X", "os:", "os:system:x", "../evil:X", "os/path:X"])
def test_malformed_pydantic_references(tmp_path: Path, ref: str) -> None:
    path = pydantic_suite(tmp_path, ref)
    assert error_of(path) == (
        f"{path}, field 'tools[0].pydantic': expected 'module:ModelClass' (a dotted module name, ':', a class name), "
        f"got {ref!r}"
    )


def test_pydantic_reference_to_something_that_is_not_a_model(tmp_path: Path) -> None:
    path = pydantic_suite(tmp_path, "os:system")
    assert error_of(path) == (
        f"{path}, field 'tools[0].pydantic': 'os:system' must name a pydantic BaseModel subclass in os; "
        "it is a builtin_function_or_method"
    )
    path = pydantic_suite(tmp_path, "os:NoSuchModel")
    assert error_of(path) == (
        f"{path}, field 'tools[0].pydantic': 'os:NoSuchModel' must name a pydantic BaseModel subclass in os; "
        "it is nothing"
    )


def test_pydantic_module_that_raises_on_import(tmp_path: Path) -> None:
    module = f"evalkit_boom_{uuid.uuid4().hex}"
    write(tmp_path, "raise RuntimeError('no database here\\nsecond line')\n", f"{module}.py")
    path = pydantic_suite(tmp_path, f"{module}:Model")
    assert error_of(path) == (
        f"{path}, field 'tools[0].pydantic': cannot import '{module}:Model': importing {module} raised "
        "RuntimeError: no database here"
    )
    assert error_of(path).endswith("no database here")  # the second time too: no half-imported module left


def test_pydantic_module_that_exits_on_import(tmp_path: Path) -> None:
    module = f"evalkit_exit_{uuid.uuid4().hex}"
    write(tmp_path, "import sys\nsys.exit(3)\n", f"{module}.py")
    path = pydantic_suite(tmp_path, f"{module}:Model")
    assert error_of(path).endswith(f"importing {module} raised SystemExit: 3")


# --- approx --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "message"),
    [
        ("{approx: 1.0e+400}", "approx needs a finite number within ±1.8e308, got inf"),
        ("{approx: 1" + "0" * 400 + "}", "approx needs a finite number within ±1.8e308, got 1" + "0" * 78 + "…"),
        ("{approx: .nan}", "approx needs a finite number within ±1.8e308, got nan"),
        ("{approx: 5, tol: .inf}", "tol needs a finite number within ±1.8e308, got inf"),
        ("{approx: 5, tol: .nan}", "tol needs a finite number within ±1.8e308, got nan"),
    ],
)
def test_approx_out_of_the_float_range(tmp_path: Path, matcher: str, message: str) -> None:
    path = write(
        tmp_path,
        "version: 1\nsuite: s\ntools:\n"
        + TOOL
        + f"cases:\n  - {{id: a, prompt: hi, expect: {{calls: [{{name: f, arguments: {{x: {matcher}}}}}]}}}}\n",
    )
    assert error_of(path) == (
        f"{path}, case 'a', field 'cases[0].expect.calls[0].arguments.x': {message}; "
        "for any number use anything: true (see 'Argument matchers' in the README)"
    )


# --- JSON Schema refs and patterns ---------------------------------------------------------------


def schema_suite(folder: Path, parameters: dict[str, Any]) -> Path:
    tool = {"type": "function", "function": {"name": "f", "parameters": parameters}}
    return write(folder, f"version: 1\nsuite: s\ntools:\n  - {json.dumps(tool)}\n" + CASES)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"type": "object", "properties": {"x": {"$ref": "#/$defs/nope"}}},
            "$ref '#/$defs/nope' at #/properties/x points nowhere; point it at a schema under $defs",
        ),
        (
            {"type": "object", "properties": {"x": {"$dynamicRef": "#nowhere"}}},
            "$dynamicRef '#nowhere' at #/properties/x points nowhere; point it at a schema under $defs",
        ),
        (
            {"type": "object", "properties": {"x": {"$ref": "https://example.com/address.json"}}},
            (
                "$ref 'https://example.com/address.json' at #/properties/x points nowhere (evalkit never fetches "
                "schemas: define it in this tool's parameters); point it at a schema under $defs"
            ),
        ),
        (
            {
                "type": "object",
                "properties": {"x": {"$ref": "#/$defs/a"}},
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
            },
            (
                "$ref cycle #/$defs/b → #/$defs/a → #/$defs/b never descends into a property or an item, "
                "so validating would never end; break the cycle"
            ),
        ),
        (
            {"type": "object", "$defs": {"a": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/a"}]}}},
            (
                "$ref cycle #/$defs/a → #/$defs/a/anyOf/1 → #/$defs/a never descends into a property or an item, "
                "so validating would never end; break the cycle"
            ),
        ),
        (
            {"type": "object", "properties": {"x": {"type": "string", "pattern": "(a{1000}){1000}"}}},
            (
                "pattern '(a{1000}){1000}' at #/properties/x repeats too much: its counted repeats nest to "
                "over 100,000 copies; use *, + or smaller counts"
            ),
        ),
        (
            {"type": "object", "properties": {"x": {"type": "string", "pattern": "(?P<a"}}},
            "are not a valid JSON Schema: '(?P<a' is not a 'regex'",
        ),
        (
            {"type": "object", "patternProperties": {"((a{100}){100}){100}": {}}},
            (
                "patternProperties regex '((a{100}){100}){100}' at # repeats too much: its counted repeats nest to "
                "over 100,000 copies; use *, + or smaller counts"
            ),
        ),
    ],
)
def test_schemas_that_would_fail_at_run_time_are_refused(
    tmp_path: Path, parameters: dict[str, Any], message: str
) -> None:
    path = schema_suite(tmp_path, parameters)
    separator = " " if message.startswith("are not") else ": "
    assert error_of(path) == f"{path}, field 'tools[0]': parameters of 'f'{separator}{message}"


def test_recursive_schemas_that_descend_are_fine(tmp_path: Path) -> None:
    tree = {
        "type": "object",
        "properties": {"node": {"$ref": "#/$defs/node"}},
        "$defs": {
            "node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}
        },
    }
    assert load_suite_file(schema_suite(tmp_path, tree)).tools[0]["function"]["parameters"] == tree


# --- the law: a mutated case file loads or is a CaseFileError ------------------------------------

VALID = {
    "version": 1,
    "suite": "weather",
    "description": "d",
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "pattern": "^[A-Z]"}, "days": {"type": "integer"}},
                    "required": ["city"],
                },
            },
        }
    ],
    "defaults": {"system": "Be brief.", "tags": ["w"]},
    "cases": [
        {
            "id": "paris",
            "prompt": "Weather in Paris?",
            "expect": {
                "calls": [
                    {
                        "name": "get_weather",
                        "arguments": {"city": {"regex": "Paris.*"}, "days": {"approx": 3, "tol": 1}},
                    }
                ]
            },
            "forbid": [{"arguments": {"city": "Rome"}}],
            "tags": ["x"],
        },
        {"id": "joke", "messages": [{"role": "user", "content": "A joke?"}], "expect": {"no_call": True}},
    ],
}

# Any YAML value, as YAML text: plain scalars, odd floats, tags good and bad, aliases, collections.
YAML_SCALARS = st.sampled_from(
    [
        "~",
        "true",
        "0",
        "-1",
        "1" + "0" * 400,
        "1.0e+400",
        ".nan",
        "-.inf",
        "''",
        "'x'",
        "'(a|a)*$'",
        "'('",
        "2024-01-01",
        "!!float",
        "!!float ''",
        "!!timestamp 2024-13-45",
        "!!binary '%%%'",
        "!!int x",
        "!!bool x",
        "!!python/object:os.system {}",
        "!!set {a}",
        "'#/$defs/x'",
        "{$ref: '#/$defs/nope'}",
        "{$ref: '#'}",
        "{pydantic: ':x'}",
        "{pydantic: 'os:system'}",
        "{approx: 1}",
        "{regex: '('}",
        "{any_of: []}",
        "[]",
        "{}",
        "[1, [2, {a: b}]]",
        "{type: object}",
        "{no_call: true}",
        "*nope",
        "&a [*a]",
        "{equals: {a: 1}}",
        "{type: function, function: {name: f}}",
        "{role: user}",
        "'../../x'",
        "'a b'",
    ]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_case_files(draw: st.DrawFn) -> str:
    doc = json.loads(json.dumps(VALID))
    placeholders: dict[str, str] = {}
    for n in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths[1:]))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            token = f"__value_{n}__"
            placeholders[token] = draw(YAML_SCALARS)
            parent[path[-1]] = token
    text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=True, width=10_000)
    for token, replacement in placeholders.items():
        text = text.replace(token, replacement)
    return text


@settings(
    max_examples=int(os.environ.get("EVALKIT_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=mutated_case_files())
def test_a_mutated_case_file_loads_or_is_a_case_file_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        suite = load_suite_file(path)
    except CaseFileError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))
    else:
        assert isinstance(suite, Suite)
