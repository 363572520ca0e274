"""The values scorers return."""

from __future__ import annotations

from dataclasses import dataclass

# Failure kinds (a short machine name; the explanation says the rest in one line).
WRONG_FUNCTION = "wrong_function"
MISSING_CALL = "missing_call"
EXTRA_CALL = "extra_call"
HALLUCINATED_FUNCTION = "hallucinated_function"
INVALID_JSON = "invalid_json"
SCHEMA_VIOLATION = "schema_violation"
WRONG_VALUE = "wrong_value"
UNEXPECTED_CALL = "unexpected_call"
FORBIDDEN_CALL = "forbidden_call"
WRONG_ORDER = "wrong_order"
TRUNCATED_REPLY = "truncated_reply"  # finish_reason=length (Chat) / status incomplete (Responses)
TEXT_TOOL_CALL = "text_tool_call"  # a tool call written in the message text instead of made
# Loops (evalkit.scorers.loops)
MAX_STEPS_EXCEEDED = "max_steps_exceeded"  # still calling tools when max_steps ran out
REPEATED_CALL = "repeated_call"  # the same call sent again after its output came back
IGNORED_TOOL_OUTPUT = "ignored_tool_output"  # the answer states nothing a named tool returned
WRONG_ANSWER = "wrong_answer"  # the final answer fails a contains / not_contains / regex check
WRONG_STEP_COUNT = "wrong_step_count"  # a `steps:` case whose loop took more or fewer steps


@dataclass(frozen=True)
class Failure:
    kind: str
    explanation: str


@dataclass(frozen=True)
class Score:
    """One scorer's verdict on one job.

    ``value`` is in [0, 1]; ``passed`` is the pass/fail reading of it. Both are ``None`` when the
    scorer does not apply to the case (e.g. argument validity of a reply with no calls)."""

    scorer: str
    value: float | None
    passed: bool | None
    failures: tuple[Failure, ...] = ()

    @property
    def applies(self) -> bool:
        return self.passed is not None

    @classmethod
    def not_applicable(cls, scorer: str) -> Score:
        return NOT_APPLICABLE[scorer] if cls is Score else cls(scorer, None, None)

    @classmethod
    def ok(cls, scorer: str) -> Score:
        """A full pass (1.0, no failures)."""
        return PASSED[scorer] if cls is Score else cls(scorer, 1.0, True)

    @classmethod
    def ratio(cls, scorer: str, good: int, total: int, failures: list[Failure] | tuple[Failure, ...] = ()) -> Score:
        if total == 0:
            return cls.not_applicable(scorer)
        if good == total and not failures:
            return cls.ok(scorer)
        return cls(scorer, good / total, good == total, tuple(failures))


class _PerScorer(dict[str, Score]):
    """One shared Score per scorer name, made on first use. Scores are immutable, and most are
    "not applicable" or a clean pass: sharing them saves an allocation per scorer per job on the
    scoring hot path, and a lookup here is a plain dict subscript (no call)."""

    def __init__(self, value: float | None, passed: bool | None) -> None:
        super().__init__()
        self._value, self._passed = value, passed

    def __missing__(self, scorer: str) -> Score:
        score = self[scorer] = Score(scorer, self._value, self._passed)
        return score


NOT_APPLICABLE = _PerScorer(None, None)
PASSED = _PerScorer(1.0, True)
