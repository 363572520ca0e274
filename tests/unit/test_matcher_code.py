"""Law: an expected call's arguments compiled to Python (evalkit.matcher_code) give the verdict of
the matcher objects (``mismatch(got) is None``) on every value, for generated expectations: plain
values of every JSON type, any_of lists, arrays and objects nested in each other, ignore_case,
optional, exact, and the matchers asked as objects (regex, approx, anything, absent, not)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.matcher_code import compile_fields
from evalkit.matchers import _COMPILE_AFTER, Fields, compile_arguments

KEYS = ["a", "b", "c"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-2, 3)
    | st.sampled_from([0.0, -0.0, 1.0, 2.5, float("nan"), float("inf"), 2**53 + 1, float(2**53)])
    | st.sampled_from(["", "x", "X", "Paris", "paris", "ß", "SS", "1"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=10,
)


def _modifiers(spec: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={"optional": st.booleans(), "ignore_case": st.booleans()}).map(
        lambda extra: {**spec, **extra}
    )


expectations = st.recursive(
    values
    | values.flatmap(lambda v: _modifiers({"equals": v}))
    | st.lists(values, min_size=1, max_size=3).flatmap(lambda vs: _modifiers({"any_of": vs}))
    | st.sampled_from(
        [
            {"regex": "p.*s", "ignore_case": True},
            {"approx": 2.5, "tol": 0.5},
            {"anything": True},
            {"absent": True},
            {"not": "x"},
            {"none_of": [1, "x"]},
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS), inner, min_size=1, max_size=3)
        | st.lists(inner, min_size=1, max_size=3).map(lambda options: {"any_of": options})
    ),
    max_leaves=8,
)
arguments = st.dictionaries(st.sampled_from(KEYS), expectations, max_size=3)


def _near(expected: Any) -> st.SearchStrategy[Any]:
    """Values that mostly match the expectation, each with a few neighbours under each rule
    (another case, int for float, bool for int, the value as text, a key left out or added): a
    difference between the two verdicts shows only where every other argument matches."""
    if isinstance(expected, dict) and expected.keys() & {"equals", "any_of", "not", "none_of"}:
        inner = next(expected[k] for k in ("equals", "any_of", "not", "none_of") if k in expected)
        options = inner if isinstance(inner, list) and "equals" not in expected else [inner]
        return st.one_of([_near(o) for o in options])
    if isinstance(expected, dict) and expected.keys() & {"regex", "approx", "anything", "absent"}:
        return st.sampled_from(["paris", "PARIS", "pass", 2.5, 2.9, 3.1, 2, True, None])
    if isinstance(expected, dict):
        kept = {k: v for k, v in expected.items() if v != {"absent": True}}
        whole = st.fixed_dictionaries({k: _near(v) for k, v in kept.items()})
        return st.one_of(
            whole,
            st.builds(
                lambda a, b: {**a, **b}, whole, st.dictionaries(st.sampled_from([*KEYS, "d"]), values, max_size=1)
            ),
            st.fixed_dictionaries({}, optional={k: _near(v) for k, v in expected.items()}),
        )
    if isinstance(expected, list):
        return st.one_of(st.tuples(*[_near(v) for v in expected]).map(list), st.lists(values, max_size=3))
    neighbours: list[Any] = [str(expected)]
    if isinstance(expected, str):
        neighbours += [expected.upper(), expected.lower(), expected.casefold(), expected.swapcase()]
    elif isinstance(expected, bool):
        neighbours += [int(expected), float(expected)]
    elif isinstance(expected, int | float):
        neighbours += [float(expected), expected == 1, expected == 0, -expected]
        if isinstance(expected, float) and expected.is_integer():
            neighbours.append(int(expected))
    return st.one_of(st.just(expected), st.sampled_from(neighbours))


@settings(max_examples=300, deadline=None)
@given(st.data(), arguments, st.booleans())
def test_compiled_arguments_give_the_matchers_verdict(data: st.DataObject, raw: dict[str, Any], exact: bool) -> None:
    fields = compile_arguments(raw, exact=exact)
    got = data.draw(_near(raw) | values)
    assert compile_fields(fields)(got) == (fields.mismatch(got) is None)


PLAIN = [None, True, False, 0, 1, -1, 0.0, -0.0, 1.0, 2.5, float("nan"), float("inf"), 2**53 + 1, float(2**53)]
PLAIN += ["", "1", "x", "X", "Paris", "PARIS", "ß", "SS", "ss", [], [1], [True], {}, {"a": 1}, {"a": "X"}]
WRAPPERS = [
    lambda v: v,
    lambda v: {"equals": v, "ignore_case": True},
    lambda v: {"any_of": [v, "other"]},
    lambda v: {"any_of": [v], "ignore_case": True, "optional": True},
    lambda v: [v, 1],
    lambda v: {"b": v},
    lambda v: {"not": v},
]


@pytest.mark.parametrize("wrap", range(len(WRAPPERS)))
def test_every_plain_value_against_every_other_gives_the_matchers_verdict(wrap: int) -> None:
    """Each literal rule (types, case, NaN, -0.0, 2**53 + 1 against its float) on every pair."""
    for expected in PLAIN:
        fields = compile_arguments({"a": WRAPPERS[wrap](expected)})
        match = compile_fields(fields)
        for got in PLAIN:
            wrapped = {"a": WRAPPERS[wrap](got) if wrap in (4, 5) else got}
            assert match(wrapped) == (fields.mismatch(wrapped) is None), (expected, got)


def test_an_expectation_is_compiled_once_it_is_used_often_and_pickles_without_it() -> None:
    fields = compile_arguments({"city": {"any_of": ["Paris", "Rome"], "ignore_case": True}})
    for _ in range(_COMPILE_AFTER - 1):  # asked as objects at first: compiling costs more than a few uses save
        assert fields.matches({"city": "ROME"}) and not fields.matches({"city": "Lyon"})
    assert fields._compiled[1] is not None  # compiled on the _COMPILE_AFTER-th use
    assert fields.matches({"city": "ROME"}) and not fields.matches({"city": "Lyon"})
    copy = pickle.loads(pickle.dumps(fields))
    assert copy == fields and isinstance(copy, Fields) and copy._compiled == [0, None]
    assert copy.matches({"city": "paris"}) and not copy.matches({"city": "Lyon"})


def test_expectations_of_one_shape_share_compiled_code() -> None:
    a = compile_fields(compile_arguments({"city": "Paris", "days": 3}))
    b = compile_fields(compile_arguments({"town": "Rome", "nights": 2}))
    assert a.__code__ is b.__code__  # compiled once, bound to each one's own values
    assert a({"city": "Paris", "days": 3.0}) and not a({"town": "Rome", "nights": 2})
    assert b({"town": "Rome", "nights": 2}) and not b({"city": "Paris", "days": 3})
