"""Loop scores (evalkit.scorers.loops and .steps): the trajectory of calls, the final answer, how
the loop ended, and the reply scorers applied step by step."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from evalkit.calls import HTTP_ERROR, ToolCall, Turn
from evalkit.cases import Case, Expectation, ExpectedCall
from evalkit.loops.expect import AnswerExpectation, OutputReference, TrajectoryExpectation
from evalkit.loops.trajectory import Step, Trajectory
from evalkit.matchers import compile_arguments
from evalkit.scorers import DEFAULT_SCORERS, failures_of, score_analysis
from evalkit.scorers.checks import analyse
from evalkit.scorers.loops import answer_score, loop_score, trajectory_score
from evalkit.scorers.steps import flattened

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "parameters": {"type": "object", "properties": props, "additionalProperties": False},
        },
    }
    for name, props in [
        ("search", {"q": {"type": "string"}}),
        ("get_weather", {"city": {"type": "string"}}),
        ("get_time", {}),
    ]
]

# Shorthand: "S" search(q=paris), "W" get_weather(city=Paris), "R" get_weather(city=Rome), "T" get_time()
CALLS = {
    "S": ("search", {"q": "paris"}),
    "W": ("get_weather", {"city": "Paris"}),
    "R": ("get_weather", {"city": "Rome"}),
    "T": ("get_time", {}),
}


def expected(name: str, **arguments: object) -> ExpectedCall:
    return ExpectedCall(name, compile_arguments(arguments))


def made(codes: str, *, step: int = 1) -> tuple[ToolCall, ...]:
    return tuple(ToolCall(CALLS[c][0], json.dumps(CALLS[c][1]), f"call_{step}_{n}") for n, c in enumerate(codes))


def loop_of(*steps: str | Sequence[str], outputs: dict[str, str] | None = None, ended: str = "answer") -> Trajectory:
    """Steps as call codes ("SW": two calls in one step); a last item that is a list holds the answer."""
    out: list[Step] = []
    for number, step in enumerate(steps, start=1):
        if isinstance(step, str):
            calls = made(step, step=number)
            sent = tuple((outputs or {}).get(c.name, f"{c.name} output") for c in calls)
            out.append(Step(Turn(calls, None, "tool_calls"), sent))
        else:
            out.append(Step(Turn((), step[0], "stop")))
    return Trajectory(tuple(out), ended)  # type: ignore[arg-type]


def steps_of(codes: str) -> Trajectory:
    """One call per step, then an answer."""
    return loop_of(*codes, ["Done."])


# --- trajectory: one golden table -----------------------------------------------------------------

WANTED = (expected("search", q="paris"), expected("get_weather", city="Paris"))

# (mode, calls made one per step, value, failure kinds)
TRAJECTORIES = [
    ("exact", "SW", 1.0, []),
    ("exact", "STW", 1.0, ["extra_call"]),
    ("exact", "SWW", 1.0, ["extra_call"]),
    ("exact", "WS", 0.5, ["wrong_order"]),  # both calls made, only out of order
    ("exact", "S", 0.5, ["missing_call"]),
    ("exact", "SR", 0.5, ["wrong_value"]),  # the right function with wrong arguments: one problem, said once
    ("in_order", "SW", 1.0, []),
    ("in_order", "TSTWT", 1.0, []),  # other calls in between are allowed
    ("in_order", "WS", 0.5, ["wrong_order"]),
    ("in_order", "W", 0.5, ["missing_call"]),
    ("in_order", "SR", 0.5, ["wrong_value"]),
    ("any_order", "WS", 1.0, []),
    ("any_order", "SW", 1.0, []),
    ("any_order", "WTS", 1.0, ["extra_call"]),
    ("any_order", "S", 0.5, ["missing_call"]),
    ("any_order", "", 0.0, ["missing_call", "missing_call"]),
    ("contains", "TWTS", 1.0, []),
    ("contains", "WRS", 1.0, []),
    ("contains", "TS", 0.5, ["missing_call"]),
    ("contains", "RS", 0.5, ["wrong_value"]),
]


@pytest.mark.parametrize(
    ("mode", "codes", "value", "kinds"), TRAJECTORIES, ids=[f"{m}-{c or 'none'}" for m, c, _, _ in TRAJECTORIES]
)
def test_trajectory_modes(mode, codes, value, kinds):
    score = trajectory_score(TrajectoryExpectation(WANTED, mode), steps_of(codes))
    assert (score.scorer, score.value, score.passed) == ("trajectory", pytest.approx(value), not kinds)
    assert [f.kind for f in score.failures] == kinds


def test_trajectory_counts_calls_across_steps_and_within_a_step():
    # The same calls in one parallel step or in two steps make the same trajectory.
    one_step = loop_of("SW", ["Done."])
    assert trajectory_score(TrajectoryExpectation(WANTED, "exact"), one_step).passed
    assert trajectory_score(TrajectoryExpectation(WANTED, "exact"), steps_of("SW")).passed


def test_trajectory_explanations():
    score = trajectory_score(TrajectoryExpectation(WANTED, "exact"), steps_of("WST"))
    assert [(f.kind, f.explanation) for f in score.failures] == [
        ("wrong_order", "the calls were made, but not in the order search, get_weather"),
        ("extra_call", "calls beyond the expected trajectory (exact): get_time"),
    ]


@pytest.mark.parametrize(
    ("mode", "calls", "codes", "passed", "kinds"),
    [
        ("contains", WANTED, "TWTS", False, ["extra_call"]),  # 4 calls, at most 3
        ("contains", WANTED, "TWS", True, []),
        ("in_order", (), "", True, []),  # max_calls alone: no call is fine
        ("in_order", (), "TTT", True, []),
        ("in_order", (), "TTTT", False, ["extra_call"]),
    ],
)
def test_max_calls_bounds_every_mode(mode, calls, codes, passed, kinds):
    score = trajectory_score(TrajectoryExpectation(calls, mode, max_calls=3), steps_of(codes))
    assert score.passed is passed
    assert [f.kind for f in score.failures] == kinds
    if not calls:
        assert score.value == float(passed)


def test_max_calls_explanation():
    score = trajectory_score(TrajectoryExpectation((), "contains", max_calls=1), steps_of("ST"))
    assert [f.explanation for f in score.failures] == ["2 calls made, at most 1 allowed"]


# --- the final answer -----------------------------------------------------------------------------

ORDER = '{"status": "shipped", "eta": {"days": 2}, "items": [{"name": "Lamp", "qty": 1}], "total": 18.0}'


def answered(text: str | None, outputs: dict[str, str] | None = None) -> Trajectory:
    outputs = outputs if outputs is not None else {"search": ORDER}
    return loop_of("S", [text], outputs=outputs)


def check(expect: AnswerExpectation, text: str | None, outputs: dict[str, str] | None = None):
    return answer_score(expect, answered(text, outputs))


@pytest.mark.parametrize(
    ("expect", "text", "passed"),
    [
        (AnswerExpectation(contains=("Tokyo", "13")), "Tokyo has 13 million people.", True),
        (AnswerExpectation(contains=("Tokyo",)), "Paris is big.", False),
        (AnswerExpectation(contains=("tokyo",)), "Tokyo is big.", False),  # case counts by default
        (AnswerExpectation(contains=("tokyo",), ignore_case=True), "TOKYO is big.", True),
        (AnswerExpectation(not_contains=("sorry",)), "Tokyo.", True),
        (AnswerExpectation(not_contains=("sorry",)), "I'm sorry, I can't.", False),
        (AnswerExpectation(not_contains=("sorry",), ignore_case=True), "Sorry!", False),
        (AnswerExpectation(not_contains=("sorry",)), "Sorry!", True),
        (AnswerExpectation(regex=r"\d+ people"), "Tokyo: 13 people", True),  # matches anywhere
        (AnswerExpectation(regex=r"^\d+ people$"), "Tokyo: 13 people", False),
        (AnswerExpectation(contains=("x",)), None, False),  # no answer text at all
    ],
)
def test_answer_checks(expect, text, passed):
    score = check(expect, text)
    assert (score.scorer, score.passed, score.value) == ("answer", passed, float(passed))
    assert all(f.kind == "wrong_answer" for f in score.failures)


def test_ignore_case_applies_to_the_answer_regex_too():
    # BUG: answer_score passes `regex` to patterns.search without ignore_case (search takes none),
    # so `ignore_case: true` relaxes contains / not_contains but not the regex; in argument
    # matchers `ignore_case` does apply to `regex` (README, "Argument matchers").
    assert check(AnswerExpectation(regex="tokyo", ignore_case=True), "Tokyo").passed


def test_answer_value_is_the_share_of_checks_passed():
    expect = AnswerExpectation(contains=("Tokyo", "Paris"), not_contains=("sorry",), regex=r"\d")
    score = check(expect, "Tokyo, 13 million; sorry.")
    assert score.value == pytest.approx(2 / 4) and not score.passed
    assert [(f.kind, f.explanation) for f in score.failures] == [
        ("wrong_answer", "the answer does not say 'Paris': 'Tokyo, 13 million; sorry.'"),
        ("wrong_answer", "the answer says 'sorry': 'Tokyo, 13 million; sorry.'"),
    ]
    regex = check(AnswerExpectation(regex=r"\d+ people"), "No numbers here.")
    assert regex.failures[0].explanation == r"the answer does not match /\d+ people/: 'No numbers here.'"


def test_a_long_answer_is_clipped_in_explanations():
    score = check(AnswerExpectation(contains=("Tokyo",)), "word " * 50)
    (failure,) = score.failures
    assert failure.explanation.endswith("…'") and len(failure.explanation) < 160


@pytest.mark.parametrize(
    ("reference", "text", "passed"),
    [
        (OutputReference("search"), "Your order has shipped.", True),  # any scalar of the output
        (OutputReference("search"), "It will arrive in 2 days.", True),
        (OutputReference("search"), "Your order is on its way.", False),
        (OutputReference("search"), "It SHIPPED.", True),  # case does not count for tool values
        (OutputReference("search", "status"), "Status: shipped.", True),
        (OutputReference("search", "status"), "A Lamp, in 2 days.", False),  # other fields do not count
        (OutputReference("search", "eta"), "In 2 days.", True),  # a path to an object: its scalars
        (OutputReference("search", "eta.days"), "In 2 days.", True),
        (OutputReference("search", "items.0.name"), "Your Lamp is coming.", True),
        (OutputReference("search", "items.1.name"), "Your Lamp is coming.", False),  # no such item
        (OutputReference("search", "nope"), "shipped", False),
        (OutputReference("search", "total"), "The total is 18.", True),  # 18.0 states as 18
    ],
)
def test_uses_output(reference, text, passed):
    score = check(AnswerExpectation(uses_output=(reference,)), text)
    assert score.passed is passed
    assert all(f.kind == "ignored_tool_output" for f in score.failures)


def test_uses_output_explanations():
    score = check(AnswerExpectation(uses_output=(OutputReference("search", "status"),)), "On its way.")
    assert (
        score.failures[0].explanation
        == "the answer states none of what search.status returned ('shipped'): 'On its way.'"
    )
    score = check(AnswerExpectation(uses_output=(OutputReference("search", "nope"),)), "On its way.")
    assert (
        score.failures[0].explanation
        == "the answer states none of what search.nope returned ((nothing)): 'On its way.'"
    )
    repeated = answer_score(  # searched three times, the same status each time: said once
        AnswerExpectation(uses_output=(OutputReference("search", "status"),)),
        loop_of("S", "S", "S", ["On its way."], outputs={"search": ORDER}),
    )
    assert repeated.failures[0].explanation == (
        "the answer states none of what search.status returned ('shipped'): 'On its way.'"
    )
    never = answer_score(AnswerExpectation(uses_output=(OutputReference("get_weather"),)), answered("It is sunny."))
    assert [(f.kind, f.explanation) for f in never.failures] == [
        ("ignored_tool_output", "get_weather was never called, so the answer cannot state what it returned")
    ]


def test_uses_output_of_a_text_output_needs_the_text():
    outputs = {"search": "  Tokyo  "}
    assert check(AnswerExpectation(uses_output=(OutputReference("search"),)), "It is Tokyo.", outputs).passed
    assert not check(AnswerExpectation(uses_output=(OutputReference("search", "city"),)), "Tokyo", outputs).passed


def test_uses_output_looks_at_every_time_the_tool_was_called():
    trajectory = loop_of("S", "S", ["The second said Rome."], outputs={"search": "Paris"})
    steps = list(trajectory.steps)
    steps[1] = Step(steps[1].turn, ("Rome",))
    trajectory = Trajectory(tuple(steps), "answer")
    assert answer_score(AnswerExpectation(uses_output=(OutputReference("search"),)), trajectory).passed


@pytest.mark.parametrize(
    ("output", "text", "passed"),
    [
        ('{"population": 13960000}', "Tokyo has 13960000 people.", True),
        ('{"temp": 18.0}', "It is 18 degrees.", True),  # numbers by value: 18.0 is 18
        ('{"temp": 18}', "It is 18.0 degrees.", True),
        ('{"temp": -4}', "It is -4 degrees.", True),
        # BUG: numbers are compared as substrings of the answer, so 1 is "stated" by 12 (and 3 by
        # 13960000): a false pass. Numbers should be compared by value against the numbers the answer
        # states, like the argument matchers do (DESIGN: "numbers by value").
        ('{"count": 1}', "There are 12 items.", False),
        ('{"count": 3}', "Tokyo has 13960000 people.", False),
        # BUG: the same rule misses a number written with thousands separators, which is how models
        # write them (the real openllmetry Assistants cassette answers "13,960,000" for 13960000).
        ('{"population": 13960000}', "Tokyo has 13,960,000 people.", True),
    ],
    ids=["integer", "float-as-int", "int-as-float", "negative", "1-in-12", "3-in-13960000", "thousands-separator"],
)
def test_uses_output_numbers(output, text, passed):
    score = check(AnswerExpectation(uses_output=(OutputReference("search"),)), text, {"search": output})
    assert score.passed is passed


# --- how the loop ended ---------------------------------------------------------------------------


def test_a_loop_that_answered():
    assert loop_score(steps_of("SW"), max_steps=5) == loop_score(steps_of("SW"), max_steps=5)
    score = loop_score(steps_of("SW"), max_steps=5)
    assert (score.scorer, score.value, score.passed, score.failures) == ("loop", 1.0, True, ())


def test_max_steps_exceeded():
    score = loop_score(loop_of("S", "W", "T", ended="max_steps"), max_steps=3)
    assert (score.value, score.passed) == (0.0, False)
    assert [(f.kind, f.explanation) for f in score.failures] == [
        ("max_steps_exceeded", "still calling tools after 3 steps (max_steps); no answer")
    ]


def test_repeated_call_after_its_output_came_back():
    score = loop_score(loop_of("W", "W", ["Paris: 18C."]), max_steps=5)
    assert [(f.kind, f.explanation) for f in score.failures] == [
        (
            "repeated_call",
            'get_weather(\'{"city": "Paris"}\') sent again at step 2; its output came back at step 1',
        )
    ]


def test_a_repeat_is_the_same_arguments_however_written():
    first = Step(Turn((ToolCall("get_weather", '{"city":"Paris","unit":"C"}', "a"),), None, "tool_calls"), ("18",))
    again = Step(Turn((ToolCall("get_weather", '{ "unit": "C", "city": "Paris" }', "b"),), None, "tool_calls"), ("18",))
    score = loop_score(Trajectory((first, again, Step(Turn((), "18C", "stop"))), "answer"), max_steps=5)
    assert [f.kind for f in score.failures] == ["repeated_call"]


@pytest.mark.parametrize(
    "steps",
    [
        ("WW", ["Done."]),  # the same call twice in one step: no output had come back yet
        ("W", "R", ["Done."]),  # the same function, other arguments
        ("W", "S", "T", ["Done."]),
    ],
    ids=["parallel-twins", "other-arguments", "all-different"],
)
def test_not_a_repeat(steps):
    assert loop_score(loop_of(*steps), max_steps=5).passed


def test_max_steps_and_repeats_are_both_reported():
    score = loop_score(loop_of("W", "W", "W", ended="max_steps"), max_steps=3)
    # One line per repeated call, with every step that re-sent it and how often.
    assert [f.kind for f in score.failures] == ["max_steps_exceeded", "repeated_call"]
    assert score.failures[1].explanation.startswith("get_weather(")
    assert score.failures[1].explanation.endswith("sent again at steps 2, 3; its output came back at step 1")


# --- a loop job, scored as the runner scores it ---------------------------------------------------


def loop_case(
    *,
    steps: tuple[Expectation, ...] | None = None,
    trajectory: TrajectoryExpectation | None = None,
    answer: AnswerExpectation | None = None,
    max_steps: int = 5,
) -> Case:
    expect = Expectation(steps=steps, trajectory=trajectory, answer=answer)
    return Case("weather", "loop", ({"role": "user", "content": "Weather in Paris?"},), expect, max_steps=max_steps)


def score(case: Case, trajectory: Trajectory) -> tuple[str, dict[str, float | None], list[tuple[str, str]]]:
    analysis = analyse(case, flattened(trajectory), TOOLS, trajectory=trajectory)
    status, scores = score_analysis(analysis, scorers=DEFAULT_SCORERS)
    return status, {s.scorer: s.value for s in scores}, [(f.kind, f.explanation) for f in failures_of(scores)]


SEARCH_THEN_WEATHER = (
    Expectation((expected("search", q="paris"),)),
    Expectation((expected("get_weather", city="Paris"),)),
    Expectation(),  # the answer: no call
)


def test_steps_score_each_reply_against_its_step():
    status, values, failures = score(loop_case(steps=SEARCH_THEN_WEATHER), steps_of("SW"))
    assert status == "passed" and failures == []
    assert values == {
        "selection": 1.0,
        "hallucination": 1.0,
        "validity": 1.0,
        "correctness": 1.0,
        "coverage": 1.0,
        "no_call": 1.0,  # applies to step 3 only
        "forbidden": None,
        "finish": 1.0,
        "trajectory": None,
        "answer": None,
        "loop": 1.0,
    }


def test_step_failures_say_their_step():
    status, values, failures = score(loop_case(steps=SEARCH_THEN_WEATHER), steps_of("SR"))
    assert status == "failed"
    assert values["correctness"] == pytest.approx(0.5) and values["coverage"] == pytest.approx(0.5)
    assert failures == [("wrong_value", "step 2: get_weather: city: expected 'Paris', got 'Rome'")]


def test_a_call_where_the_answer_was_expected():
    status, _, failures = score(loop_case(steps=SEARCH_THEN_WEATHER[1:]), loop_of("W", "T", ended="max_steps"))
    assert status == "failed"
    assert failures == [
        ("max_steps_exceeded", "still calling tools after 5 steps (max_steps); no answer"),
        ("unexpected_call", "step 2: expected no call, got get_time({})"),
    ]


def test_steps_count_mismatch():
    # Fewer steps than expected: the loop answered at once.
    status, values, failures = score(loop_case(steps=SEARCH_THEN_WEATHER), loop_of(["Paris is sunny."]))
    assert status == "failed" and values["loop"] == 0.0
    assert values["coverage"] == 0.0  # step 1 made no call; steps 2 and 3 never happened
    # The loop score explains it first, and the step's own failure is still shown (another kind).
    assert failures == [
        ("wrong_step_count", "3 steps expected; the loop ended after 1 (answer)"),
        ("missing_call", "step 1: no call matched search(q='paris')"),
    ]
    # More steps than expected: step 3 called where the answer was expected; step 4 is not scored.
    status, values, failures = score(loop_case(steps=SEARCH_THEN_WEATHER), steps_of("SWT"))
    assert status == "failed" and values["loop"] == 0.0
    assert failures == [
        ("wrong_step_count", "3 steps expected; the loop went on for 4"),
        ("unexpected_call", "step 3: expected no call, got get_time({})"),
    ]


def test_hallucinated_function_in_a_step():
    trajectory = Trajectory(
        (
            Step(
                Turn((ToolCall("delete_all", "{}", "c"),), None, "tool_calls"),
                ("error: unknown function 'delete_all'",),
            ),
            Step(Turn((), "Done.", "stop")),
        ),
        "answer",
    )
    status, _, failures = score(loop_case(steps=(Expectation((expected("get_time"),)), Expectation())), trajectory)
    assert status == "failed"
    assert (
        "hallucinated_function",
        "step 1: called 'delete_all', which was not offered (offered: get_time, get_weather, search)",
    ) in failures


def test_a_trajectory_case_scores_every_call_and_the_answer():
    case = loop_case(
        trajectory=TrajectoryExpectation(WANTED, "in_order"),
        answer=AnswerExpectation(contains=("18C",), uses_output=(OutputReference("get_weather"),)),
    )
    trajectory = loop_of("S", "W", ["It is 18C in Paris."], outputs={"get_weather": "18C"})
    status, values, failures = score(case, trajectory)
    assert status == "passed" and failures == []
    # The single-reply expectations do not apply to a loop without steps: the trajectory judges the calls.
    assert values["selection"] is values["correctness"] is values["coverage"] is values["no_call"] is None
    assert (values["trajectory"], values["answer"], values["loop"], values["validity"]) == (1.0, 1.0, 1.0, 1.0)


def test_a_trajectory_case_that_fails_every_way():
    case = loop_case(
        trajectory=TrajectoryExpectation(WANTED, "exact"),
        answer=AnswerExpectation(uses_output=(OutputReference("get_weather"),)),
    )
    trajectory = loop_of("S", "S", ["I could not find it."], outputs={"search": "Paris", "get_weather": "18C"})
    status, values, failures = score(case, trajectory)
    assert status == "failed"
    assert (values["trajectory"], values["answer"], values["loop"]) == (0.5, 0.0, 0.0)
    assert [kind for kind, _ in failures] == ["repeated_call", "missing_call", "extra_call", "ignored_tool_output"]


def test_an_error_in_any_step_makes_the_job_an_error():
    trajectory = Trajectory(
        (
            Step(Turn(made("S"), None, "tool_calls"), ("out",)),
            Step(Turn.failed(HTTP_ERROR, "HTTP 500: boom")),
        ),
        "error",
    )
    status, values, failures = score(loop_case(steps=SEARCH_THEN_WEATHER), trajectory)
    assert status == "error" and values["loop"] is None
    assert failures == [("http_error", "step 2: HTTP 500: boom")]
    case = loop_case(trajectory=TrajectoryExpectation(WANTED), answer=AnswerExpectation(contains=("x",)))
    status, values, failures = score(case, trajectory)
    assert status == "error"
    assert values["trajectory"] is values["answer"] is values["loop"] is None
    assert failures == []  # the runner then reports the turn's own error


def test_a_step_cut_off_by_the_token_limit_is_a_truncated_reply_of_the_loop() -> None:
    cut = Step(Turn((ToolCall("get_weather", '{"city": "Par', "c1"),), None, "length"), ("error",))
    loop = Trajectory((cut, Step(Turn((), "It is sunny.", "stop"))), "answer")
    turn = flattened(loop)
    assert turn.finish_reason == "length" and turn.content == "It is sunny."
    assert flattened(steps_of("SW")).finish_reason == "stop"  # no step cut: the final reply's finish
    wanted = TrajectoryExpectation(mode="contains", calls=(expected("get_weather", city="Paris"),))
    status, _, failures = score(loop_case(trajectory=wanted), loop)
    kinds = [kind for kind, _ in failures]
    assert status == "failed" and "truncated_reply" in kinds  # the cut is named, not only the fragment
    assert any(kind == "invalid_json" and "finish_reason=length" in why for kind, why in failures)


def test_bfcl_rules_of_a_steps_case_are_compiled_once_per_step_not_per_job():
    # Each job scores its steps through copies of the case (one per step and scorer); the rules
    # are kept per expectation, which the copies share, so scoring more jobs keeps no more.
    case, trajectory = loop_case(steps=SEARCH_THEN_WEATHER), loop_of("S", "W", ["Paris: 18C."])
    for _ in range(50):
        analysis = analyse(case, flattened(trajectory), TOOLS, trajectory=trajectory, bfcl=True)
        assert score_analysis(analysis)[0] == "passed"
    assert len(analysis.offered._rules) <= len(SEARCH_THEN_WEATHER) + 1
