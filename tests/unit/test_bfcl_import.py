"""`evalkit import bfcl`: schema conversion, entries as cases, the files written, offline.

A tiny fake wheel folder (METADATA + BFCL-shaped data files) stands in for bfcl-eval here; the
real data is checked by tests/integration/test_bfcl_ground_truth.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit import CaseFileError, load_cases
from evalkit.cases import EXPLICIT_MARKER
from evalkit.cli import cli
from evalkit.importers.bfcl import BfclSourceError, convert_schema, convert_tool, read_sources, tool_name
from evalkit.importers.bfcl_cases import NotImportable, entry_case, import_bfcl, suite_name

WEATHER = {
    "name": "weather.get",
    "description": "Weather for a city. ",
    "parameters": {
        "type": "dict",
        "properties": {
            "city": {"type": "string", "description": "City"},
            "days": {"type": "integer", "default": 1},
            "temp": {"type": "float"},
            "units": {"type": "tuple", "items": {"type": "string"}},
            "extra": {"type": "any"},
            "flag": {"type": "boolean", "enum": ["True", "False", "dontcare"]},
        },
        "required": ["city", "ghost"],
    },
}


def test_bfcl_types_become_json_schema():
    params = convert_tool(WEATHER)["function"]["parameters"]
    props = params["properties"]
    assert params["type"] == "object" and params["required"] == ["city"]  # 'ghost' is not a property
    assert props["temp"]["type"] == "number" and props["units"] == {"type": "array", "items": {"type": "string"}}
    assert "type" not in props["extra"]  # the distractor pool's reading of `any`
    assert props["flag"] == {"type": "string", "enum": ["True", "False", "dontcare"]}  # the enum wins


def test_the_importer_sends_any_as_string_and_notes_overridden_types():
    props = convert_tool(WEATHER, untyped="string", note=True)["function"]["parameters"]["properties"]
    assert props["extra"]["type"] == "string"  # as BFCL sends it to OpenAI-style models
    assert props["flag"]["x-bfcl-type"] == "boolean"  # BFCL's checker types the value by it
    assert "x-bfcl-type" not in props["city"]


def test_names_lose_their_dots_as_openai_style_tools_do():
    assert tool_name("math.factorial") == "math_factorial"
    assert convert_tool(WEATHER)["function"]["name"] == "weather_get"
    assert convert_schema({"type": "dict", "properties": {"a": {"type": "dict"}}}) == {
        "type": "object",
        "properties": {"a": {"type": "object"}},
    }


def entry(answer: dict, *, functions: list | None = None) -> dict:
    case = entry_case(
        "simple_python",
        {
            "id": "simple_python_0",
            "question": [[{"role": "user", "content": "Hi"}]],
            "function": functions or [WEATHER],
        },
        [{"weather.get": answer}],
    )
    return case["expect"]["calls"][0]["arguments"]


def test_accepted_values_become_matchers():
    args = entry(
        {
            "city": ["Paris", "paris, fr"],
            "days": [3],
            "temp": [1.5, ""],
            "units": [["C", "F"]],
            "extra": [""],
        }
    )
    assert args["city"] == {"any_of": ["Paris", "paris, fr"], "ignore_case": True}
    assert args["days"] == 3  # one value, no string: the literal
    assert args["temp"] == {"any_of": [1.5], "optional": True}  # "" means: may be left out
    assert args["units"] == {"any_of": [["C", "F"]], "ignore_case": True}
    assert args["extra"] == {"absent": True}  # only "": must be left out


def test_an_empty_list_of_accepted_values_matches_nothing():
    assert entry({"city": []})["city"] == {"regex": "(?!)"}


def test_dict_answers_are_objects_of_matchers_one_level_deep():
    functions = [
        {"name": "f", "description": "d", "parameters": {"type": "dict", "properties": {"o": {"type": "dict"}}}}
    ]
    case = entry_case(
        "simple_python",
        {"id": "x", "question": [[{"role": "user", "content": "Hi"}]], "function": functions},
        [{"f": {"o": [{"a": ["x", ""], "b": [{"deep": 1}]}]}}],
    )
    assert case["expect"]["calls"][0]["arguments"]["o"] == {
        "any_of": [{"a": {"any_of": ["x"], "optional": True, "ignore_case": True}, "b": {"deep": 1}}],
        "ignore_case": True,
    }


def test_an_optional_answer_for_a_parameter_the_function_lacks_is_dropped():
    assert "nope" not in entry({"city": ["Paris"], "nope": ["", 1]})


def test_a_required_answer_for_a_parameter_the_function_lacks_is_not_importable():
    with pytest.raises(NotImportable, match="has no parameter 'nope'"):
        entry({"city": ["Paris"], "nope": [1]})


def test_relevance_and_irrelevance_entries():
    raw = {
        "id": "r",
        "question": [[{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]],
        "function": [WEATHER],
    }
    assert entry_case("live_relevance", raw, None)["expect"] == {"any_call": True}
    case = entry_case("irrelevance", raw, None)
    assert case["expect"] == {"no_call": True} and case["messages"][0]["role"] == "system"


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """An unzipped bfcl-eval wheel with two tiny categories."""
    data = tmp_path / "whl" / "bfcl_eval" / "data"
    (data / "possible_answer").mkdir(parents=True)
    (tmp_path / "whl" / "bfcl_eval-2026.3.23.dist-info").mkdir()
    (tmp_path / "whl" / "bfcl_eval-2026.3.23.dist-info" / "METADATA").write_text(
        "Name: bfcl-eval\nVersion: 2026.3.23\n"
    )
    entries = [
        {
            "id": f"simple_python_{i}",
            "question": [[{"role": "user", "content": f"Weather {i}?"}]],
            "function": [WEATHER],
        }
        for i in range(5)
    ]
    answers = [{"id": e["id"], "ground_truth": [{"weather.get": {"city": [f"C{i}"]}}]} for i, e in enumerate(entries)]
    (data / "BFCL_v4_simple_python.json").write_text("\n".join(map(json.dumps, entries)))
    (data / "possible_answer" / "BFCL_v4_simple_python.json").write_text("\n".join(map(json.dumps, answers)))
    (data / "BFCL_v4_irrelevance.json").write_text(json.dumps({**entries[0], "id": "irrelevance_0"}))
    return tmp_path / "whl"


def test_the_sample_is_fixed_by_the_seed_and_kept_in_order(wheel: Path):
    _, first = import_bfcl(source=wheel, categories=["simple_python"], per_category=3, seed=4)
    _, again = import_bfcl(source=wheel, categories=["simple_python"], per_category=3, seed=4)
    ids = [c["id"] for c in first[0].cases]
    assert ids == [c["id"] for c in again[0].cases] and ids == sorted(ids) and len(ids) == 3


def test_import_command_writes_suites_notice_and_marker(wheel: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["import", "bfcl", "--source", str(wheel), "--categories", "simple_python,irrelevance", "--out", "cases/bfcl"],
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "cases" / "bfcl"
    assert {p.name for p in out.iterdir()} == {"simple_python.yaml", "irrelevance.yaml", "NOTICE.md", EXPLICIT_MARKER}
    assert "Apache License, Version 2.0" in (out / "NOTICE.md").read_text()
    suites = load_cases(out)
    assert [s.name for s in suites] == [suite_name("irrelevance"), suite_name("simple_python")]
    assert suites[1].cases[0].tools is not None and suites[1].cases[0].expect.calls[0].name == "weather_get"
    # the folder is left out of a run of its parent, and runs when named
    (tmp_path / "cases" / "own.yaml").write_text(
        "version: 1\nsuite: own\ntools: []\ncases:\n  - {id: a, prompt: hi, expect: {no_call: true}}\n"
    )
    assert [s.name for s in load_cases(tmp_path / "cases")] == ["own"]


def test_an_unknown_category_lists_the_valid_ones(wheel: Path):
    result = CliRunner().invoke(cli, ["import", "bfcl", "--source", str(wheel), "--categories", "java"])
    assert result.exit_code == 2
    assert "'java' is not a BFCL category evalkit imports. Valid categories: simple_python, multiple," in result.stderr


def test_a_folder_that_is_not_a_wheel_says_how_to_get_one(tmp_path: Path):
    with pytest.raises(BfclSourceError, match=re.escape("pip download --no-deps bfcl-eval==2026.3.23")):
        read_sources(tmp_path, ("bfcl_eval/data/BFCL_v4_simple_python.json",))


def test_an_empty_expected_name_is_an_error_naming_the_field(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "version: 1\nsuite: s\ntools: [{type: function, function: {name: f, description: d}}]\n"
        "cases:\n  - {id: a, prompt: hi, expect: {calls: [{name: ''}]}}\n"
    )
    with pytest.raises(CaseFileError) as info:
        load_cases(path)
    assert str(info.value) == (
        f"{path}, case 'a', field 'cases[0].expect.calls[0].name': expected call has an empty name; "
        "name one of the tools (f), or write 'expect: {any_call: true}' for a call to any of them"
    )
