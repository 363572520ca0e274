"""Building a loop case's parts from its file: tool outputs, steps, trajectory and answer checks.

Every check that can be made without a model is made here, with the file, case id and field path
in the error: outputs for functions the case does not offer, ``when`` matchers naming arguments the
function does not take, ``python:`` references that are not callables, answer patterns that do not
compile, ``uses_output`` naming a function that has no outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import CaseFileError
from ..loops.expect import AnswerExpectation, OutputReference, TrajectoryExpectation
from ..loops.outputs import OutputRule, ToolImplementation, ToolOutputs
from ..matchers import MatcherError, compile_arguments
from ..patterns import pattern_problem
from ..tools import tool_parameters
from .model import Expectation, ExpectedCall
from .references import import_reference
from .spec import AnswerSpec, CallSpec, OutputRuleSpec, PythonOutputSpec, StepSpec, ToolOutputsSpec, TrajectorySpec

# (path of the call in the file, the call) -> the compiled expected call (load._expected_call)
CompileCall = Callable[[str, CallSpec], ExpectedCall]


def implementations(
    file: Path, case_id: str | None, path: str, specs: ToolOutputsSpec | None, tools: Mapping[str, Any]
) -> dict[str, ToolImplementation]:
    """The tool implementations ``specs`` (at ``path`` in the file) describe, checked against ``tools``."""
    built = {}
    for function, spec in (specs or {}).items():
        if function not in tools:
            raise CaseFileError(
                str(file),
                f"outputs for {function!r}, which is not one of the tools: {', '.join(sorted(tools))}",
                case_id=case_id,
                field=f"{path}.{function}",
            )
        built[function] = _implementation(file, case_id, f"{path}.{function}", spec, tools[function])
    return built


def _implementation(
    file: Path, case_id: str | None, path: str, spec: list[OutputRuleSpec] | PythonOutputSpec, tool: Mapping[str, Any]
) -> ToolImplementation:
    if isinstance(spec, PythonOutputSpec):
        function = import_reference(file, spec.python, f"{path}.python", what="function")
        if not callable(function):
            got = "nothing" if function is None else f"a {type(function).__name__}"
            raise CaseFileError(
                str(file), f"{spec.python!r} must name a callable; it is {got}", case_id=case_id, field=f"{path}.python"
            )
        return ToolImplementation(function=function, reference=spec.python)
    known = set(tool_parameters(tool).get("properties") or {})
    rules = []
    for number, rule in enumerate(spec):
        here = f"{path}[{number}]"
        if rule.when is None:
            rules.append(OutputRule(rule.output))
            continue
        try:
            when = compile_arguments(rule.when, path=f"{here}.when")
        except MatcherError as exc:
            raise CaseFileError(str(file), str(exc), case_id=case_id, field=exc.path) from None
        for key, _ in when.fields:
            if key not in known:
                raise CaseFileError(
                    str(file),
                    f"'when' names {key!r}, which the function does not take; its parameters: {', '.join(sorted(known)) or '(none)'}",
                    case_id=case_id,
                    field=f"{here}.when.{key}",
                )
        rules.append(OutputRule(rule.output, when))
    # Without a default rule, arguments that match no rule get an error text (ToolOutputs.output_for).
    return ToolImplementation(rules=tuple(rules))


def steps(here: str, specs: list[StepSpec], compile_call: CompileCall) -> tuple[Expectation, ...]:
    """Each step's expectation, like a single reply's."""
    return tuple(
        Expectation(
            tuple(compile_call(f"{here}.steps[{s}].calls[{i}]", call) for i, call in enumerate(step.calls or ())),
            step.ordered,
        )
        for s, step in enumerate(specs)
    )


def trajectory(here: str, spec: TrajectorySpec, compile_call: CompileCall) -> TrajectoryExpectation:
    calls = tuple(compile_call(f"{here}.trajectory.calls[{i}]", call) for i, call in enumerate(spec.calls))
    return TrajectoryExpectation(calls, spec.mode, spec.max_calls)


def answer(file: Path, case_id: str, here: str, spec: AnswerSpec, outputs: ToolOutputs) -> AnswerExpectation:
    if spec.regex is not None and (problem := pattern_problem(spec.regex)) is not None:
        raise CaseFileError(
            str(file), f"pattern {spec.regex!r} {problem}", case_id=case_id, field=f"{here}.answer.regex"
        )
    references = []
    for number, item in enumerate(spec.uses_output):
        reference = OutputReference(item) if isinstance(item, str) else OutputReference(item.tool, item.field)
        if reference.function not in outputs.implementations:
            raise CaseFileError(
                str(file),
                f"uses_output names {reference.function!r}, which has no tool_outputs; add them, "
                "or name one of: " + (", ".join(sorted(outputs.implementations)) or "(none)"),
                case_id=case_id,
                field=f"{here}.answer.uses_output[{number}]",
            )
        references.append(reference)
    return AnswerExpectation(
        tuple(spec.contains), tuple(spec.not_contains), spec.regex, tuple(references), spec.ignore_case
    )
