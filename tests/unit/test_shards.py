"""Shards: parsing ``--shard K/N``, the stable digest that assigns a job to a shard, and plan ranks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evalkit.cases import load_suite_file
from evalkit.config import ModelConfig
from evalkit.errors import ConfigError
from evalkit.jobs import expand
from evalkit.scale.shards import PlanOrder, Shard, select, shard_of, shard_record

SUITE = """\
version: 1
suite: {name}
tools:
  - type: function
    function: {{name: f, parameters: {{type: object, properties: {{}}}}}}
cases:
{cases}
"""


def suite(tmp_path: Path, name: str, ids: list[str]):
    cases = "\n".join(f"  - id: {i}\n    prompt: p {i}\n    expect: {{no_call: true}}" for i in ids)
    path = tmp_path / f"{name}.yaml"
    path.write_text(SUITE.format(name=name, cases=cases), encoding="utf-8")
    return load_suite_file(path)


MODELS = [ModelConfig(name="m1", model="m"), ModelConfig(name="m2", model="m")]


@pytest.mark.parametrize(("text", "k", "n"), [("1/1", 1, 1), ("2/4", 2, 4), (" 4 / 4 ", 4, 4)])
def test_parse(text: str, k: int, n: int) -> None:
    assert Shard.parse(text) == Shard(k, n)
    assert str(Shard(k, n)) == f"{k}/{n}"


@pytest.mark.parametrize("text", ["0/4", "5/4", "1", "a/b", "1/0", "-1/2", "1/2/3"])
def test_parse_refuses_with_one_line(text: str) -> None:
    with pytest.raises(ConfigError) as error:
        Shard.parse(text)
    assert str(error.value) == f"{text!r} is not a shard: use K/N with 1 ≤ K ≤ N, e.g. --shard 1/4"


def test_the_digest_is_pinned() -> None:
    """SHA-256 of the key, never Python's salted hash: every machine and every evalkit version must
    give the same split, or the shards of a CI matrix would overlap. A change here breaks merges of
    shards run by different versions: change it only on purpose."""
    assert [shard_of(("gpt-4o-mini", "weather", f"case-{i}", None, 1), 4) for i in range(8)] == [1, 3, 4, 2, 3, 1, 3, 3]
    assert shard_of(("gpt-4o-mini", "weather", "case-0", 16, 2), 7) == 2


def test_every_job_is_in_exactly_one_shard_and_the_split_is_even(tmp_path: Path) -> None:
    plan = expand([suite(tmp_path, "s", [f"c{i}" for i in range(300)])], MODELS, trials=2)
    shards = [select(plan, Shard(k, 4)) for k in range(1, 5)]
    keys = Counter(job.key for part in shards for job in part.jobs)
    assert set(keys) == {job.key for job in plan.jobs} and set(keys.values()) == {1}
    assert all(abs(len(part.jobs) - len(plan.jobs) / 4) < 0.1 * len(plan.jobs) for part in shards)
    for part in shards:  # each shard keeps plan order
        positions = [plan.jobs.index(job) for job in part.jobs]
        assert positions == sorted(positions)


def test_adding_cases_moves_no_job_to_another_shard(tmp_path: Path) -> None:
    before = expand([suite(tmp_path, "s", [f"c{i}" for i in range(50)])], MODELS)
    after = expand([suite(tmp_path, "s", [f"new{i}" for i in range(20)] + [f"c{i}" for i in range(50)])], MODELS)
    for k in (1, 2, 3):
        old = {job.key for job in select(before, Shard(k, 3)).jobs}
        new = {job.key for job in select(after, Shard(k, 3)).jobs}
        assert old <= new


def test_plan_order_ranks_jobs_as_the_plan_orders_them(tmp_path: Path) -> None:
    suites = [suite(tmp_path, "b", ["z", "a", "m"]), suite(tmp_path, "a", ["q", "c"])]
    plan = expand(suites, MODELS, trials=3)
    record = shard_record(Shard(1, 2), plan, select(plan, Shard(1, 2)))
    assert record["cases"] == {"b": ["z", "a", "m"], "a": ["q", "c"]}
    assert record["planned"] == len(plan.jobs) == 30
    config = {
        "models": [{"name": "m1"}, {"name": "m2"}],
        "suites": {"b": {}, "a": {}},
        "trials": 3,
        "tool_counts": None,
    }
    order = PlanOrder(config, record["cases"])
    ranks = [order[job.key] for job in plan.jobs]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert max(ranks) < len(order)
    assert ("m3", "b", "z", None, 1) not in order and ("m1", "b", "z", None, 4) not in order
