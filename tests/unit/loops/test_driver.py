"""The loop driver (evalkit.loops.driver.run_loop) over a scripted fake Conversation: where a loop
ends (an answer, an error, max_steps) and what goes back to the model, in which order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from evalkit.calls import HTTP_ERROR, TRUNCATED_STREAM, ToolCall, Turn, TurnError
from evalkit.loops.driver import Conversation, run_loop
from evalkit.loops.outputs import OutputRule, ToolImplementation, ToolOutputs
from evalkit.loops.trajectory import Step, Trajectory


class Scripted:
    """A Conversation that replies with ``replies`` in order and keeps what the loop gave it."""

    def __init__(self, *replies: Turn):
        self.replies = list(replies)
        self.sent = 0
        self.answered: list[tuple[Turn, tuple[str, ...]]] = []

    def send(self) -> Turn:
        self.sent += 1
        if not self.replies:
            raise AssertionError(f"request {self.sent} was not scripted")
        return self.replies.pop(0)

    def answer_calls(self, turn: Turn, outputs: Sequence[str]) -> None:
        assert self.sent == len(self.answered) + 1, "outputs are added once per reply, after it"
        self.answered.append((turn, tuple(outputs)))

    def summary(self) -> dict[str, Any]:
        return {"api": "scripted"}


def calls(*pairs: tuple[str, dict], step: int = 1) -> Turn:
    made = tuple(ToolCall(name, json.dumps(args), f"call_{step}_{n}") for n, (name, args) in enumerate(pairs))
    return Turn(made, None, "tool_calls")


def answer(text: str) -> Turn:
    return Turn((), text, "stop")


OUTPUTS = ToolOutputs(
    {
        "get_weather": ToolImplementation(function=lambda city: f"{city}: 18C"),
        "get_time": ToolImplementation(rules=(OutputRule("12:00"),)),
    }
)


def test_the_fake_is_a_conversation():
    conversation: Conversation = Scripted()  # the Protocol run_loop drives
    assert conversation.summary() == {"api": "scripted"}


def test_ends_at_the_first_reply_without_calls():
    first = calls(("get_weather", {"city": "Paris"}))
    talk = Scripted(first, answer("It is 18C in Paris."))
    trajectory = run_loop(talk, OUTPUTS, max_steps=5)
    assert trajectory == Trajectory((Step(first, ("Paris: 18C",)), Step(answer("It is 18C in Paris."))), "answer")
    assert talk.sent == 2
    assert talk.answered == [(first, ("Paris: 18C",))]
    assert trajectory.final.content == "It is 18C in Paris."


def test_an_answer_at_once_is_a_loop_of_one_step():
    talk = Scripted(answer("Hello."))
    trajectory = run_loop(talk, OUTPUTS, max_steps=5)
    assert trajectory == Trajectory((Step(answer("Hello.")),), "answer")
    assert talk.answered == []


def test_ends_at_an_error_and_sends_nothing_after_it():
    first = calls(("get_weather", {"city": "Paris"}))
    failed = Turn.failed(HTTP_ERROR, "HTTP 500: boom")
    talk = Scripted(first, failed, answer("never asked for"))
    trajectory = run_loop(talk, OUTPUTS, max_steps=5)
    assert trajectory.ended == "error"
    assert trajectory.steps == (Step(first, ("Paris: 18C",)), Step(failed))
    assert talk.sent == 2 and len(talk.replies) == 1
    assert trajectory.final.error == TurnError(HTTP_ERROR, "HTTP 500: boom")


def test_a_cut_reply_with_partial_calls_is_an_error_not_a_step_to_answer():
    cut = Turn((ToolCall("get_weather", '{"city": "Pa', "call_1"),), None, None, TurnError(TRUNCATED_STREAM, "cut"))
    talk = Scripted(cut)
    trajectory = run_loop(talk, OUTPUTS, max_steps=5)
    assert trajectory == Trajectory((Step(cut),), "error")
    assert talk.answered == []  # no output is made up for a call that was never finished


def test_ends_at_max_steps_keeping_the_last_calls_but_not_sending_their_outputs():
    replies = [calls(("get_weather", {"city": city}), step=n) for n, city in enumerate(["Paris", "Rome", "Oslo"], 1)]
    talk = Scripted(*replies)
    trajectory = run_loop(talk, OUTPUTS, max_steps=3)
    assert trajectory.ended == "max_steps"
    assert talk.sent == 3
    assert [turn for turn, _ in talk.answered] == replies[:2]  # the third reply's calls get no answer
    assert [c.name + c.arguments for c in trajectory.calls] == [
        'get_weather{"city": "Paris"}',
        'get_weather{"city": "Rome"}',
        'get_weather{"city": "Oslo"}',
    ]
    assert trajectory.final is replies[-1]


def test_max_steps_one_is_a_single_reply():
    # The runner drives every single-reply case as a loop of one step.
    reply = calls(("get_weather", {"city": "Paris"}))
    talk = Scripted(reply)
    trajectory = run_loop(talk, ToolOutputs(), max_steps=1)
    assert (trajectory.ended, trajectory.final, talk.sent, talk.answered) == ("max_steps", reply, 1, [])


def test_outputs_go_back_in_the_order_of_the_calls():
    parallel = calls(
        ("get_weather", {"city": "Paris"}),
        ("get_time", {}),
        ("get_weather", {"city": "Rome"}),
        ("get_news", {}),  # no implementation: an error text, in its place
    )
    second = calls(("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Lima"}), step=2)
    talk = Scripted(parallel, second, answer("Done."))
    trajectory = run_loop(talk, OUTPUTS, max_steps=5)
    assert talk.answered == [
        (parallel, ("Paris: 18C", "12:00", "Rome: 18C", "error: unknown function 'get_news'")),
        (second, ("Oslo: 18C", "Lima: 18C")),
    ]
    assert [step.outputs for step in trajectory.steps] == [
        ("Paris: 18C", "12:00", "Rome: 18C", "error: unknown function 'get_news'"),
        ("Oslo: 18C", "Lima: 18C"),
        (),
    ]
    assert trajectory.outputs_of("get_weather") == ("Paris: 18C", "Rome: 18C", "Oslo: 18C", "Lima: 18C")
    assert trajectory.outputs_of("get_time") == ("12:00",)
    assert trajectory.outputs_of("get_news") == ("error: unknown function 'get_news'",)


def test_a_tool_error_is_sent_back_and_the_loop_goes_on():
    bad = Turn((ToolCall("get_weather", "{not json", "call_1"),), None, "tool_calls")
    talk = Scripted(bad, answer("Sorry."))
    trajectory = run_loop(talk, OUTPUTS, max_steps=5)
    assert trajectory.ended == "answer"
    ((_, sent),) = talk.answered
    assert sent[0].startswith("error: the arguments of get_weather are not valid JSON")


@pytest.mark.parametrize("max_steps", [1, 2, 7])
def test_never_more_requests_than_max_steps(max_steps):
    talk = Scripted(*[calls(("get_time", {}), step=n) for n in range(10)])
    trajectory = run_loop(talk, OUTPUTS, max_steps=max_steps)
    assert talk.sent == len(trajectory.steps) == max_steps
    assert len(talk.answered) == max_steps - 1


def test_the_record_results_json_keeps():
    first = calls(("get_weather", {"city": "Paris"}))
    failed = Turn.failed(HTTP_ERROR, "HTTP 500: boom")
    trajectory = run_loop(Scripted(first, failed), OUTPUTS, max_steps=5)
    assert trajectory.record() == (
        {
            "calls": [{"name": "get_weather", "arguments": '{"city": "Paris"}', "id": "call_1_0"}],
            "outputs": ["Paris: 18C"],
            "content": None,
            "finish_reason": "tool_calls",
            "error": None,
        },
        {"calls": [], "outputs": [], "content": None, "finish_reason": None, "error": ["http_error", "HTTP 500: boom"]},
    )


def test_an_empty_trajectory_has_an_empty_final_turn():
    assert Trajectory((), "error").final == Turn()
