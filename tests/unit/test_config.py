"""[tool.evalkit] / evalkit.toml loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.config import EvalkitSpec, ModelSpec, load_config, project_paths, select_models
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


def test_a_misspelt_key_lists_the_valid_ones_and_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "concurency = 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    assert str(info.value) == (
        f"{path}: 'concurency' is not a setting. Valid keys: {', '.join(sorted(EvalkitSpec.model_fields))}. "
        "Did you mean 'concurrency'?"
    )
    assert "cases, cassettes, concurrency, " in str(info.value)


def test_a_misspelt_model_key_names_its_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[tool.evalkit.model."fast"]\nbase_ur = "http://x"\n', "pyproject.toml")
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    assert str(info.value) == (
        f"{path}: [tool.evalkit.model.\"fast\"] 'base_ur' is not a setting. "
        f"Valid keys: {', '.join(sorted(ModelSpec.model_fields))}. Did you mean 'base_url'?"
    )
    assert "api, api_key_env, " in str(info.value) and ", timeout." in str(info.value)
    write(tmp_path, '[tool.evalkit.model."fast"]\nprice = {input = 1, ouput = 2}\n', "pyproject.toml")
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    assert str(info.value) == (
        f"{path}: [tool.evalkit.model.\"fast\".price] 'ouput' is not a setting. Valid keys: input, output. "
        "Did you mean 'output'?"
    )


def test_a_wrong_value_names_table_key_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, '[model.fast]\nstream = "yes please"\n')
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    assert str(info.value) == (
        f"{path}: [model.\"fast\"] stream: Input should be a valid boolean, unable to interpret input (got 'yes please')"
    )


def test_a_misspelt_gate_key_lists_the_gate_options(tmp_path: Path) -> None:
    path = write(tmp_path, "[tool.evalkit]\n[tool.evalkit.gate]\nmax_dorp = 0.1\n", "pyproject.toml")
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    assert str(info.value) == (
        f"{path}: [tool.evalkit.gate] 'max_dorp' is not a gate option. Valid keys: alpha, max_drop, "
        "min_accuracy, min_overall_accuracy, require_same_cases. Did you mean 'max_drop'?"
    )


def _readme_config_block(repo_root: Path) -> str:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    return readme.split("### 3. Record, then replay forever", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("name", ["evalkit.toml", "pyproject.toml"])
def test_the_readme_block_is_accepted_as_is(tmp_path: Path, repo_root: Path, name: str) -> None:
    block = _readme_config_block(repo_root)
    assert block.startswith("[tool.evalkit]\n") and "price = {input = " in block
    write(tmp_path, block, name)
    config = load_config(start=tmp_path)
    assert [m.name for m in config.models] == ["gpt-4o-mini"]
    assert config.models[0].price is not None and config.models[0].api_key_env == "OPENAI_API_KEY"


def test_evalkit_toml_takes_its_keys_at_the_top_or_under_tool_evalkit_not_both(tmp_path: Path) -> None:
    write(tmp_path, '[tool.evalkit]\ncases = "evals"\n')
    assert load_config(start=tmp_path).cases == tmp_path.resolve() / "evals"
    path = write(tmp_path, 'seed = 3\n[tool.evalkit]\ncases = "evals"\n')
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    assert (
        str(info.value)
        == f"{path}: settings both at the top level (seed) and under [tool.evalkit]; put them all in one place"
    )


def test_an_unknown_model_names_the_config_file_in_use(tmp_path: Path) -> None:
    path = write(tmp_path, "[model.a]\n")
    with pytest.raises(UnknownNameError) as info:
        select_models(load_config(start=tmp_path), ["b"])
    assert (
        str(info.value)
        == f"'b' is not a model. Valid models: a. Define it in [model.\"NAME\"] of {path} or pass --base-url."
    )
    path = write(tmp_path, '[tool.evalkit]\n[tool.evalkit.model."a"]\n', "pyproject.toml")
    path.with_name("evalkit.toml").unlink()
    with pytest.raises(UnknownNameError) as info:
        select_models(load_config(start=tmp_path), ["b"])
    assert str(info.value).endswith(f'Define it in [tool.evalkit.model."NAME"] of {path} or pass --base-url.')


def test_an_unknown_model_without_a_config_file_says_none_was_found(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError) as info:
        select_models(load_config(start=tmp_path), ["b"])
    assert str(info.value) == (
        f"'b' is not a model. Valid models: (none configured). No configuration file was found at or above "
        f'{tmp_path.resolve()}: define it in [tool.evalkit.model."NAME"] of a pyproject.toml (or an evalkit.toml) '
        "or pass --base-url."
    )


def test_unknown_selected_model_lists_the_defined_ones(tmp_path: Path) -> None:
    write(tmp_path, 'models = ["nope"]\n[model.a]\n[model.b]\n')
    with pytest.raises(UnknownNameError) as info:
        load_config(start=tmp_path)
    assert str(info.value) == (
        f"'nope' is not a model. Valid models: a, b. Define it in [model.\"NAME\"] of {tmp_path / 'evalkit.toml'} "
        "or pass --base-url."
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
