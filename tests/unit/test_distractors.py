"""Distractor pool, near-miss tools and the offered set per tool count (evalkit.distractors)."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from evalkit import ConfigError, load_cases
from evalkit.distractors import (
    DistractorPool,
    NearMiss,
    distractor_order,
    load_near_miss,
    load_pool,
    offered_tools,
    parse_tool_counts,
)

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "cases"
OPENAI_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COUNTS = (1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128)


def names(tools) -> list[str]:
    return [t["function"]["name"] for t in tools]


@pytest.fixture(scope="module")
def pool():
    return load_pool(cases_dir=CASES)


@pytest.fixture(scope="module")
def suites():
    return {s.name: s for s in load_cases(CASES)}


# --- the shipped pool -------------------------------------------------------------------------


def test_pool_is_large_and_attributed(pool):
    assert len(pool.tools) >= 300
    assert pool.source["package"] == "bfcl-eval" and pool.source["license"] == "Apache-2.0"
    assert pool.source["version"] and pool.source["files"]
    assert (CASES / "tools" / "DISTRACTORS-NOTICE.md").is_file()
    assert (CASES / "tools" / "distractors-v1.json").stat().st_size < 1_500_000


def _schema_keywords(schema, found: set[str]) -> set[str]:
    """Every keyword used as a schema keyword (not as a property name) anywhere in ``schema``."""
    found |= set(schema)
    for sub in (schema.get("properties") or {}).values():
        _schema_keywords(sub, found)
    if isinstance(schema.get("items"), dict):
        _schema_keywords(schema["items"], found)
    return found


def test_every_pool_tool_is_valid_for_openai_and_llama_cpp(pool):
    seen = set()
    for tool in pool.tools:
        function = tool["function"]
        name = function["name"]
        assert tool["type"] == "function" and set(function) == {"name", "description", "parameters"}, name
        assert OPENAI_NAME.match(name), name
        assert name not in seen, f"{name} repeats"
        seen.add(name)
        assert function["description"].strip(), f"{name} has no description"
        params = function["parameters"]
        assert params["type"] == "object", name
        Draft202012Validator.check_schema(params)
        keywords = _schema_keywords(params, set())
        assert "pattern" not in keywords, f"{name} still has a pattern"
        assert not keywords & {"optional"}, f"{name} has a non-standard key"
        assert not {json.dumps(params).count(f'"type": "{t}"') for t in ("dict", "float", "tuple", "any")} - {0}, name


def test_pool_is_sorted_by_name(pool):
    assert names(pool.tools) == sorted(names(pool.tools))


# --- near-miss tools --------------------------------------------------------------------------


def test_every_shipped_suite_has_near_misses_that_do_not_reuse_suite_names(pool, suites):
    suite_tool_names = {n for s in suites.values() for n in names(s.tools)}
    assert set(suites) <= set(pool.near_miss), f"no near-miss tools for {set(suites) - set(pool.near_miss)}"
    for suite, near in pool.near_miss.items():
        assert 4 <= len(near.tools) <= 8, suite
        assert not set(names(near.tools)) & suite_tool_names, suite
        for tool in near.tools:
            assert OPENAI_NAME.match(tool["function"]["name"]) and tool["function"]["description"]
            Draft202012Validator.check_schema(tool["function"]["parameters"])


def test_near_miss_file_errors_name_the_field(tmp_path):
    bad = tmp_path / "near-miss.yaml"
    bad.write_text(
        "version: 1\nsuites:\n  w:\n    tools:\n      - {type: function, function: {name: a.b, description: x}}\n"
    )
    with pytest.raises(ConfigError, match=r"field 'suites\.w\.tools\[0\]': function name 'a\.b' must be 1-64"):
        load_near_miss(bad)
    bad.write_text("version: 1\nsuites:\n  w: {tool: []}\n")
    with pytest.raises(ConfigError, match=r"field 'suites\.w\.tool'"):
        load_near_miss(bad)


def test_missing_pool_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no distractor pool there"):
        load_pool(cases_dir=tmp_path)


# --- offered sets ------------------------------------------------------------------------------


def test_offered_set_has_the_suite_tools_and_n_distinct_names(pool, suites):
    for suite in suites.values():
        own = names(suite.tools)
        for n in COUNTS:
            offered = offered_tools(suite.name, suite.tools, n, pool=pool, seed=7)
            if n < len(own):
                continue
            got = names(offered.tools)
            assert offered.problem is None and offered.n == n and len(got) == n
            assert len(set(got)) == n, f"{suite.name}@{n}: a name repeats"
            assert set(own) <= set(got) and offered.n_distractors == n - len(own)
            for tool in suite.tools:  # the suite's own definition, never a pool tool of that name
                assert tool in offered.tools


def test_too_few_tools_is_reported_not_clipped(pool, suites):
    offered = offered_tools("support", suites["support"].tools, 2, pool=pool, seed=0)
    assert offered.problem == "suite 'support' has 3 tools, more than the 2 asked for"
    assert offered.tools == () and offered.n_distractors == 0
    exact = offered_tools("support", suites["support"].tools, 3, pool=pool, seed=0)
    assert exact.problem is None and exact.n_distractors == 0


def test_more_tools_than_exist_is_reported(pool, suites):
    offered = offered_tools("weather", suites["weather"].tools, 100_000, pool=pool, seed=0)
    assert offered.tools == () and "fewer than the 100000 asked for" in offered.problem


def test_near_misses_come_first_then_pool_tools(pool, suites):
    weather = suites["weather"]
    near = set(names(pool.near_miss["weather"].tools))
    small = offered_tools("weather", weather.tools, 2 + len(near), pool=pool, seed=3)
    assert set(names(small.tools)) - set(names(weather.tools)) == near
    three = offered_tools("weather", weather.tools, 5, pool=pool, seed=3)
    assert set(names(three.tools)) - set(names(weather.tools)) < near


def test_pool_tools_doing_the_suite_job_are_never_offered(pool, suites):
    order = names(distractor_order("weather", suites["weather"].tools, pool=pool, seed=0))
    assert "get_current_weather" in names(pool.tools) and "get_current_weather" not in order
    assert not [n for n in order if "weather" in n.lower() and n not in names(pool.near_miss["weather"].tools)]
    datetime_order = names(distractor_order("datetime", suites["datetime"].tools, pool=pool, seed=0))
    assert "get_weather" in names(pool.tools) and "get_weather" not in datetime_order  # the suite's own name


def _tool(name: str, description: str = "A tool.") -> dict:
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": {"type": "object", "properties": {}}},
    }


def test_no_name_ever_collides_even_without_exclusions():
    own = [_tool("get_weather", "the suite's"), _tool("get_time", "the suite's")]
    near = NearMiss(tools=(_tool("get_time", "near-miss reusing a suite name"), _tool("get_forecast", "near")))
    pool = DistractorPool(
        tools=(_tool("get_weather", "pool"), _tool("get_forecast", "pool"), _tool("a"), _tool("b")),
        near_miss={"s": near},
    )
    offered = offered_tools("s", own, 5, pool=pool, seed=0)
    assert offered.problem is None
    assert sorted(names(offered.tools)) == ["a", "b", "get_forecast", "get_time", "get_weather"]
    described = {t["function"]["name"]: t["function"]["description"] for t in offered.tools}
    assert described == {
        "get_weather": "the suite's",
        "get_time": "the suite's",
        "get_forecast": "near",
        "a": "A tool.",
        "b": "A tool.",
    }
    assert offered_tools("s", own, 6, pool=pool, seed=0).problem == (
        "suite 's' can be offered at most 5 tools (2 own + 3 distractors), fewer than the 6 asked for"
    )


def test_larger_n_offers_a_superset(pool, suites):
    for suite in suites.values():
        for seed in (0, 1, "abc"):
            previous: set[str] = set()
            for n in COUNTS:
                offered = offered_tools(suite.name, suite.tools, n, pool=pool, seed=seed)
                if offered.problem:
                    continue
                current = set(names(offered.tools))
                assert previous <= current, f"{suite.name} seed {seed}: N={n} drops {previous - current}"
                previous = current


def test_order_is_shuffled_per_n(pool, suites):
    weather = suites["weather"]
    firsts = {names(offered_tools("weather", weather.tools, n, pool=pool, seed=0).tools)[0] for n in range(2, 40)}
    assert firsts - set(names(weather.tools)), "the suite's own tools always lead"
    # The eight tools of N=8 come in another relative order at N=9.
    eight = names(offered_tools("weather", weather.tools, 8, pool=pool, seed=0).tools)
    nine = names(offered_tools("weather", weather.tools, 9, pool=pool, seed=0).tools)
    assert [n for n in nine if n in eight] != eight


def test_same_for_every_case_and_model_only_suite_n_seed_matter(pool, suites):
    weather = suites["weather"]
    base = offered_tools("weather", weather.tools, 16, pool=pool, seed=0)
    # The call takes no case or model: a copy of the tools, in another order, gives the same set.
    shuffled = copy.deepcopy(list(reversed(weather.tools)))
    assert offered_tools("weather", shuffled, 16, pool=pool, seed=0) == base
    assert offered_tools("weather", weather.tools, 16, pool=pool, seed=0) == base
    assert names(offered_tools("weather", weather.tools, 16, pool=pool, seed=1).tools) != names(base.tools)
    assert names(offered_tools("weather2", weather.tools, 16, pool=pool, seed=0).tools) != names(base.tools)


_SNIPPET = """
import json, sys
from pathlib import Path
from evalkit import load_cases
from evalkit.distractors import load_pool, offered_tools
pool = load_pool(cases_dir=Path(sys.argv[1]))
out = {s.name: [t["function"]["name"] for t in offered_tools(s.name, s.tools, 24, pool=pool, seed=5).tools]
       for s in load_cases(sys.argv[1])}
print(json.dumps(out))
"""


@pytest.mark.parametrize("hash_seed", ["1", "4242"])
def test_same_in_another_process_with_another_hash_seed(pool, suites, hash_seed):
    here = {s.name: names(offered_tools(s.name, s.tools, 24, pool=pool, seed=5).tools) for s in suites.values()}
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", _SNIPPET, str(CASES)], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == here


# --- tool counts --------------------------------------------------------------------------------


def test_parse_tool_counts():
    assert parse_tool_counts("1,4,16,64") == (1, 4, 16, 64)
    assert parse_tool_counts(" 16, 4 ,4,1") == (1, 4, 16)


@pytest.mark.parametrize("bad", ["0", "-3", "1.5", "x", "", "²"])
def test_parse_tool_counts_names_the_bad_value(bad):
    with pytest.raises(ConfigError) as info:
        parse_tool_counts(f"1,{bad},4")
    assert str(info.value) == (
        f"{bad!r} is not a valid tool count in '1,{bad},4'; give positive whole numbers "
        "separated by commas, e.g. 1,4,16,64"
    )


# --- the build script's conversion rules (no wheel needed) ---------------------------------------


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location(
        "build_distractor_pool", REPO / "scripts" / "build_distractor_pool.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bfcl_schema_is_converted_to_json_schema(build):
    bfcl = {
        "name": "math.stats-mean",
        "description": " Mean. ",
        "parameters": {
            "type": "dict",
            "required": ["xs", "nope"],
            "properties": {
                "xs": {"type": "tuple", "items": {"type": "float"}, "optional": True},
                "anything": {"type": "any", "description": "Any value"},
                "pattern": {"type": "string", "pattern": "^[a-z]+$", "default": None},
                "flag": {"type": "boolean", "enum": ["True", "False", "dontcare"], "default": "dontcare"},
                "kinds": {"type": "array", "items": {"type": "string"}, "enum": ["a", "b"]},
                "opts": {"type": "dict", "properties": {"n": {"type": "integer", "default": "5"}}},
            },
        },
    }
    tool = build.convert_tool(bfcl)
    assert tool == {
        "type": "function",
        "function": {
            "name": "math_stats-mean",
            "description": "Mean.",
            "parameters": {
                "type": "object",
                "properties": {
                    "xs": {"type": "array", "items": {"type": "number"}},
                    "anything": {"description": "Any value"},
                    "pattern": {"type": "string"},
                    "flag": {"type": "string", "enum": ["True", "False", "dontcare"], "default": "dontcare"},
                    "kinds": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                    "opts": {"type": "object", "properties": {"n": {"type": "integer"}}},
                },
                "required": ["xs"],
            },
        },
    }
    Draft202012Validator.check_schema(tool["function"]["parameters"])


def test_tool_without_description_gets_one(build):
    assert build.convert_tool({"name": "f", "description": "", "parameters": {"type": "dict", "properties": {}}})[
        "function"
    ]["description"]
