"""The loader for users' YAML: bounded expansion and depth, JSON values only, one error type."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit import yaml_load
from evalkit.yaml_load import MAX_BYTES, YamlError, load_yaml, read_text

# The classic "billion laughs": 9 levels of 9 aliases, 342 bytes that expand to 9^9 strings.
BILLION_LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


def error_of(text: str) -> YamlError:
    with pytest.raises(YamlError) as info:
        load_yaml(text)
    return info.value


def test_billion_laughs_is_refused_quickly() -> None:
    assert len(BILLION_LAUGHS) < 400
    error = error_of(BILLION_LAUGHS)  # refused while composing: the expansion is never built
    assert error.message == (
        "is refused at line 7, column 4: expands to more than 1,000,000 values or 10,000,000 characters "
        "(an alias counts each time it is used: a 'billion laughs' file?); use fewer aliases or split the file"
    )


def test_aliases_to_long_text_count_their_characters() -> None:
    text = "big: &big " + "x" * 100_000 + "\nmany: [" + ", ".join(["*big"] * 200) + "]\n"
    assert "10,000,000 characters" in error_of(text).message


def test_aliases_within_bounds_still_work() -> None:
    text = "base: &b {unit: C, days: 3}\nuse: {<<: *b, city: Paris}\nlist: [*b, *b]\n"
    assert load_yaml(text) == {
        "base": {"unit": "C", "days": 3},
        "use": {"unit": "C", "days": 3, "city": "Paris"},
        "list": [{"unit": "C", "days": 3}, {"unit": "C", "days": 3}],
    }


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    assert error_of("a: &a [1, *a]\n").message == (
        "is refused at line 1, column 11: an alias refers to a node that contains it (a loop)"
    )


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    assert error_of("[" * 5000).message == "is refused at line 1, column 101: nests deeper than 100 levels"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("!!float", "is refused at line 1, column 1: this is not a valid !!float value"),
        ("x: !!float ''", "is refused at line 1, column 4: this is not a valid !!float value"),
        ("!!timestamp 2024-13-45", "is refused at line 1, column 1: this is not a valid !!timestamp value"),
        ("!!timestamp soon", "is refused at line 1, column 1: this is not a valid !!timestamp value"),
        ("!!int abc", "is refused at line 1, column 1: this is not a valid !!int value"),
        ("!!int 1" + "0" * 5000, "is refused at line 1, column 1: this is not a valid !!int value"),
        ("!!bool maybe", "is refused at line 1, column 1: this is not a valid !!bool value"),
        (
            "x: !!binary '%%%'",
            "is refused at line 1, column 4: !!binary (bytes) has no JSON equivalent; write text, a list or a mapping",
        ),
        (
            "x: !!binary aGk=",
            "is refused at line 1, column 4: !!binary (bytes) has no JSON equivalent; write text, a list or a mapping",
        ),
        ("!!set {a}", "is refused at line 1, column 1: !!set has no JSON equivalent; write text, a list or a mapping"),
        (
            "!!python/object:os.system {}",
            (
                "is not valid YAML at line 1, column 1: could not determine a constructor for the tag "
                "'tag:yaml.org,2002:python/object:os.system'"
            ),
        ),
        ("? [a]\n: b", "is refused at line 1, column 3: a mapping key must be text, not a list or mapping"),
        (
            "a: 1\n\tb: 2",
            "is not valid YAML at line 2, column 1: while scanning for the next token, found character '\\t' that cannot start any token",
        ),
        ("x: \x00", "is not valid YAML at line 1, column 4: a character YAML does not allow"),
        ("a: *nope", "is not valid YAML at line 1, column 4: found undefined alias 'nope'"),
    ],
)
def test_bad_values_and_tags_are_one_line_errors(text: str, message: str) -> None:
    error = error_of(text)
    assert error.message == message
    assert "\n" not in error.message and "\n" not in error.safe_message


def test_safe_message_never_quotes_the_file() -> None:
    secret = "AKIA-SECRET-TOKEN"
    for text in (f"{secret}: [", f"x: !!{secret} 1", f"a: *{secret}", f"- {secret}\n\t- x", f"{secret}: 1\n  b: 2"):
        error = error_of(text)
        assert secret not in error.safe_message, (text, error.safe_message)
        assert error.safe_message.startswith("is not valid YAML at line ")


def test_values_are_json_values() -> None:
    loaded = load_yaml("on: 1\n1: x\nnull: ~\n2024-01-01: 2024-01-01\nat: !!timestamp 2024-01-01T10:00:00Z\n")
    # keys are the text as written; dates stay text (a model's arguments carry them as strings)
    assert loaded == {"on": 1, "1": "x", "null": None, "2024-01-01": "2024-01-01", "at": "2024-01-01T10:00:00Z"}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("id: a\nprompt: hi\nprompt: again\n", "line 3, column 1"),
        ("cases:\n  - id: a\n    expect: {calls: [{name: f, arguments: {x: 1, x: 2}}]}\n", "line 3, column 50"),
        ("{1: a, '1': b}", "line 1, column 8"),  # one text key, written two ways
    ],
)
def test_a_key_written_twice_is_refused(text: str, where: str) -> None:
    """PyYAML keeps the later value without a word: a case whose `prompt:` is written twice would
    be run with the second one, and a reviewer reading the first would never know."""
    error = error_of(text)
    assert error.message == f"is refused at {where}: this key is already in the same mapping; remove one of the two"
    assert error.safe_message == error.message  # it quotes nothing from the file


def test_a_merged_key_may_still_be_overridden() -> None:
    loaded = load_yaml("base: &b {model: m, temperature: 0}\nrun:\n  <<: *b\n  temperature: 1\n")
    assert loaded["run"] == {"model": "m", "temperature": 1}
    # An anchored mapping that merges and overrides, merged again later: PyYAML flattens the anchored
    # node in place where it is merged, so a check at construction would see its own override twice.
    text = "a:\n  deep: &london\n    <<: {location: Paris, unit: c}\n    location: London\nb: {<<: *london}\n"
    assert load_yaml(text) == {
        "a": {"deep": {"location": "London", "unit": "c"}},
        "b": {"location": "London", "unit": "c"},
    }
    for loader in (yaml_load._Loader, *([yaml_load._FastLoader] if yaml_load._FastLoader else [])):
        reader = loader(text)
        try:
            assert reader.get_single_data()["b"] == {"location": "London", "unit": "c"}
        finally:
            reader.dispose()


def test_read_text_bounds_size_and_encoding(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(YamlError) as info:
        read_text(big)
    assert info.value.message == "is larger than 2 MB; evalkit reads case and tools files up to that size"
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("city: Bogot\xe1".encode("latin-1"))
    with pytest.raises(YamlError) as info:
        read_text(latin)
    assert info.value.message == "is not UTF-8 text (byte 11); save it as UTF-8"
    ok = tmp_path / "ok.yaml"
    ok.write_text("a: 1\n", encoding="utf-8")
    assert read_text(ok) == "a: 1\n"


# --- two parsers, one reading ---------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@pytest.mark.skipif(yaml_load._FastLoader is None, reason="PyYAML without libyaml")
@settings(max_examples=300, deadline=None)
@given(value=_JSON, flow=st.booleans())
def test_libyaml_and_python_parsers_read_a_file_alike(value: object, flow: bool) -> None:
    """libyaml reads first (faster); the pure-Python parser only rereads what it refuses, for the
    message. So whatever either accepts, both must read as the same values."""
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    fast, slow = yaml_load._FastLoader(text), yaml_load._Loader(text)
    try:
        assert fast.get_single_data() == slow.get_single_data() == load_yaml(text)
    finally:
        fast.dispose()
        slow.dispose()


@pytest.mark.skipif(yaml_load._FastLoader is None, reason="PyYAML without libyaml")
@pytest.mark.parametrize("path", sorted(Path(__file__).resolve().parents[2].glob("cases/**/*.yaml")), ids=str)
def test_shipped_case_files_read_alike_with_both_parsers(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert yaml_load._FastLoader(text).get_single_data() == yaml_load._Loader(text).get_single_data()
