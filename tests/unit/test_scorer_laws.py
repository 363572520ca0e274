"""Laws every scorer obeys, stated with hypothesis over small generated cases and replies."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit import Case, Expectation, ExpectedCall, ToolCall, Turn, TurnError
from evalkit.calls import CASSETTE_MISS, CONNECTION_ERROR, HTTP_ERROR, MALFORMED_REPLY, RATE_LIMITED, TRUNCATED_STREAM
from evalkit.matchers import compile_arguments
from evalkit.scorers import BFCL_ADVISORY, failures_of, score_job

# No timing assertions: hypothesis' per-example deadline would fail on a slow, busy CI machine.
untimed = settings(deadline=None)


def make_case(
    calls: list[tuple[str, dict[str, Any]]], *, ordered: bool = False, forbid: list[tuple[str, dict[str, Any]]] = ()
) -> Case:
    return Case(
        suite="laws",
        id="case",
        messages=({"role": "user", "content": "hi"},),
        expect=Expectation(tuple(ExpectedCall(name, compile_arguments(args)) for name, args in calls), ordered),
        forbid=tuple(ExpectedCall(name, compile_arguments(args)) for name, args in forbid),
    )


def tool(name: str, properties: dict[str, Any], *, strict: bool = False) -> dict[str, Any]:
    function: dict[str, Any] = {"name": name, "parameters": {"type": "object", "properties": properties}}
    if strict:
        function["strict"] = True
    return {"type": "function", "function": function}


# --- a literal call matched with itself ---------------------------------------------------------

JSON_TYPES = {
    "string": st.text(max_size=12),
    "integer": st.integers(-(10**6), 10**6),
    "number": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-1000, 1000),
    "boolean": st.booleans(),
    "null": st.none(),
    "array": st.lists(st.text(max_size=4) | st.integers(), max_size=3),
}


@st.composite
def tools_and_literal_calls(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]:
    """Random tools (some strict) and calls to them whose arguments are schema-valid literals."""
    n_tools = draw(st.integers(1, 3))
    tools, schemas = [], {}
    for i in range(n_tools):
        props = draw(
            st.dictionaries(
                st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.sampled_from(sorted(JSON_TYPES)), max_size=4
            )
        )
        schemas[f"tool_{i}"] = props
        tools.append(tool(f"tool_{i}", {k: {"type": t} for k, t in props.items()}, strict=draw(st.booleans())))
    calls = []
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(schemas)))
        keys = draw(st.lists(st.sampled_from(sorted(schemas[name])), unique=True)) if schemas[name] else []
        calls.append((name, {k: draw(JSON_TYPES[schemas[name][k]]) for k in keys}))
    return tools, calls


@untimed
@given(tools_and_literal_calls(), st.booleans(), st.booleans())
def test_a_call_equal_to_its_literal_expectation_scores_one(world, ordered, bfcl):
    tools, calls = world
    case = make_case(calls, ordered=ordered)
    turn = Turn(tuple(ToolCall(name, json.dumps(args)) for name, args in calls), finish_reason="tool_calls")
    status, scores = score_job(case, turn, tools, bfcl=bfcl)
    values = {s.scorer: s.value for s in scores}
    assert {k: values[k] for k in ("selection", "validity", "correctness", "coverage")} == dict.fromkeys(
        ("selection", "validity", "correctness", "coverage"), 1.0
    )
    assert status == "passed"


# --- a small world where calls collide, so matching has choices to make -------------------------

WORLD_TOOLS = [
    tool("f", {"a": {"type": "string"}, "b": {"type": "integer"}}),
    tool("g", {"a": {"type": "string"}}, strict=True),
    tool("h", {}),
]
EXPECT_A = st.sampled_from(
    [
        "x",
        "y",
        {"any_of": ["x", "y"]},
        {"anything": True},
        {"absent": True},
        {"equals": "x", "optional": True},
        {"regex": "[xy]"},
    ]
)
EXPECT_B = st.sampled_from([1, 2, 2.0, {"approx": 1, "tol": 0.5}, {"any_of": [1, {"approx": 2}]}])


@st.composite
def expected_call(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(["f", "g", "h"]))
    args: dict[str, Any] = {}
    if name in ("f", "g") and draw(st.booleans()):
        args["a"] = draw(EXPECT_A)
    if name == "f" and draw(st.booleans()):
        args["b"] = draw(EXPECT_B)
    return name, args


@st.composite
def produced_call(draw: st.DrawFn) -> ToolCall:
    name = draw(st.sampled_from(["f", "g", "h", "invented"]))
    arguments = draw(
        st.sampled_from(["", "{", "[1]", '{"a": "x"'])  # empty, broken, not an object, cut short
        | st.fixed_dictionaries(
            {},
            optional={
                "a": st.sampled_from(["x", "y", "X", 3]),
                "b": st.sampled_from([1, 2, 2.0, "2"]),
                "c": st.just(1),
            },
        ).map(json.dumps)
    )
    return ToolCall(name, arguments)


expected_calls = st.lists(expected_call(), max_size=4)
produced_calls = st.lists(produced_call(), max_size=5)
forbid_rules = st.lists(st.sampled_from([("f", {"a": "y"}), ("", {"b": 2}), ("h", {})]), max_size=2)
turn_errors = st.none() | st.sampled_from(
    [HTTP_ERROR, RATE_LIMITED, CASSETTE_MISS, CONNECTION_ERROR, TRUNCATED_STREAM, MALFORMED_REPLY]
).map(lambda kind: TurnError(kind, f"{kind} happened"))
finish_reasons = st.sampled_from([None, "stop", "tool_calls", "length"])


def values_of(case: Case, calls: list[ToolCall], *, bfcl: bool = False) -> dict[str, float | None]:
    _, scores = score_job(case, Turn(tuple(calls), finish_reason="tool_calls"), WORLD_TOOLS, bfcl=bfcl)
    return {s.scorer: s.value for s in scores}


@untimed
@given(expected_calls, produced_calls, st.data(), st.booleans())
def test_permuting_produced_calls_never_changes_an_unordered_score(expected, produced, data, bfcl):
    case = make_case(expected, forbid=[("f", {"a": "y"})])
    shuffled = data.draw(st.permutations(produced))
    assert values_of(case, shuffled, bfcl=bfcl) == values_of(case, produced, bfcl=bfcl)


@untimed
@given(expected_calls, produced_calls, st.booleans(), forbid_rules, turn_errors, finish_reasons, st.booleans())
def test_every_value_is_in_unit_interval_or_none(expected, produced, ordered, forbid, error, finish, bfcl):
    case = make_case(expected, ordered=ordered, forbid=forbid)
    _, scores = score_job(case, Turn(tuple(produced), None, finish, error), WORLD_TOOLS, bfcl=bfcl)
    for score in scores:
        if score.value is None:
            assert score.passed is None and not score.failures
        else:
            assert 0.0 <= score.value <= 1.0
            assert score.passed == (score.value == 1.0)
            # a failing score explains itself; coverage leaves a name-matched pair to correctness
            assert score.passed or score.failures or score.scorer == "coverage"


@untimed
@given(
    expected_calls.filter(bool), produced_calls, st.integers(0, 5), st.sampled_from(["invented", "h"]), st.booleans()
)
def test_an_extra_unexpected_call_never_increases_coverage(expected, produced, where, extra_name, ordered):
    expected = [(name, args) for name, args in expected if name != extra_name] or [("f", {})]
    case = make_case(expected, ordered=ordered)
    before = values_of(case, produced)["coverage"]
    with_extra = [*produced[:where], ToolCall(extra_name, "{}"), *produced[where:]]
    after = values_of(case, with_extra)["coverage"]
    assert after <= before
    assert after == before  # a call to a function the case does not expect cannot match anything


@untimed
@given(expected_calls.filter(bool), produced_calls, produced_call(), st.integers(0, 5), st.booleans())
def test_coverage_never_drops_when_a_call_is_added(expected, produced, extra, where, ordered):
    # extra calls are selection's business; coverage only asks whether each expected call is there
    case = make_case(expected, ordered=ordered)
    before = values_of(case, produced)["coverage"]
    after = values_of(case, [*produced[:where], extra, *produced[where:]])["coverage"]
    assert after >= before


@untimed
@given(expected_calls, produced_calls, st.booleans(), forbid_rules, turn_errors, finish_reasons, st.booleans())
def test_status_passes_iff_every_applicable_score_passes_and_the_turn_is_sound(
    expected, produced, ordered, forbid, error, finish, bfcl
):
    case = make_case(expected, ordered=ordered, forbid=forbid)
    status, scores = score_job(case, Turn(tuple(produced), None, finish, error), WORLD_TOOLS, bfcl=bfcl)
    # bfcl mode reports validity and hallucination without counting them (BFCL's checker does not)
    gating = [s for s in scores if not (bfcl and s.scorer in BFCL_ADVISORY)]
    all_passed = all(s.passed for s in gating if s.applies)
    assert (status == "passed") == (error is None and all_passed)
    assert (status == "error") == (error is not None)  # an unreadable reply is never scored
    # and a job that does not pass always says why
    assert bool(failures_of(gating)) == (status != "passed")
    if error is not None:
        assert error.kind in {f.kind for f in failures_of(scores)}


@untimed
@given(produced_calls)
def test_a_no_call_case_passes_only_without_calls(produced):
    case = make_case([])
    status, _ = score_job(case, Turn(tuple(produced), "text", "stop"), WORLD_TOOLS)
    assert (status == "passed") == (not produced)
