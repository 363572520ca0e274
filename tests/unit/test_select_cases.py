"""evalkit run --case / --tag: the cases selected, the suites left empty dropped, and one line when
nothing is selected."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.cases import Suite, load_cases
from evalkit.cases.select import select_cases
from evalkit.errors import ConfigError


@pytest.fixture(scope="module")
def suites(repo_root: Path) -> list[Suite]:
    return load_cases(repo_root / "cases")


def keys(suites: list[Suite]) -> list[str]:
    return [c.key for s in suites for c in s.cases]


def test_nothing_asked_keeps_everything(suites: list[Suite]) -> None:
    assert select_cases(suites) == suites


@pytest.mark.parametrize(
    ("patterns", "tags", "expected"),
    [
        (["weather/boston-rain"], [], ["weather/boston-rain"]),
        (["boston-rain"], [], ["weather/boston-rain"]),  # the bare id
        (["weather/b*"], [], ["weather/boston-rain"]),
        (["*/boston-rain", "chitchat/joke"], [], ["chitchat/joke", "weather/boston-rain"]),
        (["Weather/*"], [], None),  # case-sensitive, as case ids are
    ],
)
def test_patterns_match_suite_and_case_id(
    suites: list[Suite], patterns: list[str], tags: list[str], expected: list[str] | None
) -> None:
    if expected is None:
        with pytest.raises(ConfigError):
            select_cases(suites, patterns=patterns, tags=tags)
        return
    assert sorted(keys(select_cases(suites, patterns=patterns, tags=tags))) == expected


def test_tags_select_any_of_them_and_combine_with_patterns(suites: list[Suite]) -> None:
    every = [c for s in suites for c in s.cases]
    tagged = keys(select_cases(suites, tags=["parallel", "no-call"]))
    assert tagged == [c.key for c in every if {"parallel", "no-call"} & set(c.tags)] and tagged
    both = keys(select_cases(suites, patterns=["weather/*"], tags=["parallel"]))
    assert both and all(k.startswith("weather/") for k in both) and set(both) <= set(tagged)
    assert all(s.cases for s in select_cases(suites, tags=["parallel"]))  # no empty suite left


def test_selecting_nothing_is_one_line_that_helps(suites: list[Suite]) -> None:
    with pytest.raises(ConfigError) as info:
        select_cases(suites, patterns=["nope"], tags=["x"])
    message = str(info.value)
    assert message.startswith("--case nope --tag x selects none of the 70 cases loaded (e.g. ")
    assert "tags: " in message and "parallel" in message and "\n" not in message
