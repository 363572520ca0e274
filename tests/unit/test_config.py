"""[tool.evalkit] / evalkit.toml loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.config import load_config, project_paths, select_models
from evalkit.errors import ConfigError, UnknownNameError


def write(tmp_path: Path, text: str, name: str = "evalkit.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_evalkit_toml_defines_models(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
models = ["fast"]
[model.fast]
model = "gpt-4o-mini"
api_key_env = "MY_KEY"
stream = true
params = {temperature = 0}
[model.other]
base_url = "http://127.0.0.1:9999/v1"
""",
    )
    config = load_config(start=tmp_path)
    assert [m.name for m in config.models] == ["fast"]
    fast = config.models[0]
    assert (fast.model, fast.api_key_env, fast.stream, fast.params) == (
        "gpt-4o-mini",
        "MY_KEY",
        True,
        {"temperature": 0},
    )
    assert config.defined["other"].model == "other"  # the id defaults to the table's name
    assert config.cases == tmp_path.resolve() / "cases"
    assert [m.name for m in select_models(config, ["other"]).models] == ["other"]


def test_pyproject_section_is_found_from_a_subfolder(tmp_path: Path) -> None:
    write(
        tmp_path, '[project]\nname = "x"\n[tool.evalkit]\ncases = "evals"\n[tool.evalkit.model.m]\n', "pyproject.toml"
    )
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    config = load_config(start=sub)
    assert config.cases == tmp_path.resolve() / "evals"
    assert config.root == tmp_path.resolve()


def test_unknown_key_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "concurency = 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    assert str(info.value) == f"{path}: [tool.evalkit] concurency: Extra inputs are not permitted (got 3)"


def test_unknown_selected_model_lists_the_defined_ones(tmp_path: Path) -> None:
    write(tmp_path, 'models = ["nope"]\n[model.a]\n[model.b]\n')
    with pytest.raises(UnknownNameError) as info:
        load_config(start=tmp_path)
    assert (
        str(info.value)
        == "'nope' is not a model. Valid models: a, b. Define it in [tool.evalkit.model.\"NAME\"] or pass --base-url."
    )


def test_azure_needs_endpoint_and_version(tmp_path: Path) -> None:
    write(tmp_path, '[model.az]\napi = "azure"\nmodel = "my-deployment"\n')
    with pytest.raises(ConfigError, match="needs azure_endpoint and api_version"):
        load_config(start=tmp_path)


# --- model names become cassette folders ---------------------------------------------------------


@pytest.mark.parametrize("name", ["../../x", "..", "a/../b", "/abs", ".hidden", "a b", "a\\\\b", "a//b", ""])
def test_a_model_name_that_is_not_a_safe_folder_name_is_refused(tmp_path: Path, name: str) -> None:
    write(tmp_path, f'[model."{name}"]\nmodel = "gpt-4o-mini"\n')
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    shown = name.replace("\\\\", "\\")
    assert str(info.value) == (
        f"model name {shown!r} is not allowed: it names the folder cassettes/<name>/, so use letters, digits, "
        "'.', '_', '-' and ':' ('/' only between parts), each part starting with a letter or digit. "
        "Give the table a plain name and keep the API's id in `model`: "
        f'[tool.evalkit.model."my-model"] model = {json.dumps(shown)}'
    )


def test_model_names_of_real_servers_are_accepted(tmp_path: Path) -> None:
    names = ["gpt-4o-mini", "qwen2.5-coder-0.5b", "llama3.1:8b", "meta-llama/Llama-3.1-8B-Instruct"]
    write(tmp_path, "".join(f'[model."{n}"]\n' for n in names))
    assert list(load_config(start=tmp_path).defined) == names


def test_allow_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    write(tmp_path, 'allow_paths = ["../shared", "tools"]\n')
    assert load_config(start=tmp_path).allow_paths == ((tmp_path.parent / "shared").resolve(), tmp_path / "tools")
    write(tmp_path, 'allow_paths = "../shared"\n')
    with pytest.raises(ConfigError) as info:
        project_paths(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'evalkit.toml'}: [tool.evalkit] allow_paths must be a list of folder paths (got '../shared')"
    )
