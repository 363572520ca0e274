"""The case-file format as pydantic models: where data crosses a file boundary. Built into the
in-memory values of :mod:`evalkit.cases.model` by :mod:`evalkit.cases.load`."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"  # ids become cassette file names


def _file_name_part(value: str) -> str:
    """A suite name or case id, which become cassette folder and file names."""
    if not re.fullmatch(ID_PATTERN, value):
        raise ValueError("use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit (it names files)")
    if "--" in value:  # cassette names append --tools-N and --trial-K: `a--tools-4` would be `a` at 4 tools
        raise ValueError("'--' is kept for the --tools-N / --trial-K suffixes of cassette names; use one '-'")
    return value


FileNamePart = Annotated[str, AfterValidator(_file_name_part)]
MESSAGE_ROLES = ("system", "developer", "user", "assistant", "tool", "function")  # roles a case message may have


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallSpec(_Spec):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    exact: bool = False


class StepSpec(_Spec):
    """What one reply should do: these calls, or no call."""

    calls: list[CallSpec] | None = None
    no_call: bool = False
    ordered: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> StepSpec:
        if self.no_call == bool(self.calls):
            both = ", not both" if self.no_call else ""
            raise ValueError(f"give either 'calls: [...]' (one or more) or 'no_call: true'{both}")
        return self


class TrajectorySpec(_Spec):
    """The calls of a whole loop as one sequence (see evalkit.loops.expect for the modes)."""

    calls: list[CallSpec] = Field(default_factory=list)
    mode: Literal["exact", "in_order", "any_order", "contains"] = "in_order"
    max_calls: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _something(self) -> TrajectorySpec:
        if not self.calls and self.max_calls is None:
            raise ValueError("give the expected 'calls: [...]', or 'max_calls: N', or both")
        return self


class UsesOutputSpec(_Spec):
    tool: str
    field: str | None = None  # a dotted path into the tool's JSON output: status, items.0.name


class AnswerSpec(_Spec):
    """Checks on a loop's final answer."""

    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    regex: str | None = None
    uses_output: list[str | UsesOutputSpec] = Field(default_factory=list)
    ignore_case: bool = False

    @model_validator(mode="after")
    def _something(self) -> AnswerSpec:
        if not (self.contains or self.not_contains or self.regex or self.uses_output):
            raise ValueError("give at least one of 'contains', 'not_contains', 'regex' or 'uses_output'")
        return self


class ExpectSpec(_Spec):
    """One reply (``calls`` / ``no_call``), or a loop (``steps`` or ``trajectory``, and/or ``answer``)."""

    calls: list[CallSpec] | None = None
    no_call: bool = False
    any_call: bool = False  # at least one call, to any offered function (BFCL's "relevance")
    ordered: bool = False
    steps: list[StepSpec] | None = Field(default=None, min_length=1)
    trajectory: TrajectorySpec | None = None
    answer: AnswerSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ExpectSpec:
        loop = [k for k in ("steps", "trajectory", "answer") if getattr(self, k) is not None]
        if loop:
            if self.calls or self.no_call or self.any_call:
                raise ValueError(
                    f"a loop case ({', '.join(loop)}) says what each step does under 'steps:', not in 'calls'/'no_call'"
                )
            if self.steps is not None and self.trajectory is not None:
                raise ValueError("give 'steps: [...]' or 'trajectory: {...}', not both")
            return self
        given = [k for k in ("calls", "no_call", "any_call") if getattr(self, k)]
        if self.ordered and not self.calls:
            raise ValueError("'ordered: true' puts expected calls in order: it needs 'calls: [...]'")
        if len(given) > 1:
            raise ValueError(
                f"give one of 'calls: [...]' (one or more), 'no_call: true' or 'any_call: true', not {' and '.join(given)}"
            )
        if not given:
            raise ValueError(
                "give one of 'calls: [...]' (one or more), 'no_call: true' or 'any_call: true', "
                "or for a loop 'steps', 'trajectory' or 'answer'"
            )
        return self


class OutputRuleSpec(_Spec):
    """Return ``output`` when the arguments match ``when`` (argument matchers); no ``when``: always."""

    output: Any
    when: dict[str, Any] | None = None


class PythonOutputSpec(_Spec):
    """Call ``module:function`` with the arguments as keyword arguments; its return value is the output."""

    python: str


def _output_kind(value: Any) -> str:
    return "~python" if isinstance(value, dict) else "~rules"


# Tagged by shape (a mapping is a callable, a list is rules), so an error speaks of the one the file
# meant; the tags start with "~" and are left out of the field paths errors show.
ToolOutputSpec = Annotated[
    Annotated[list[OutputRuleSpec], Tag("~rules")] | Annotated[PythonOutputSpec, Tag("~python")],
    Discriminator(_output_kind),
]
ToolOutputsSpec = dict[str, ToolOutputSpec]


class ForbidSpec(_Spec):
    name: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)


class CaseSpec(_Spec):
    id: FileNamePart
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    system: str | None = None
    expect: ExpectSpec
    forbid: list[ForbidSpec] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    tools: list[dict[str, Any]] | None = None  # this case's own tools, instead of the suite's
    tool_outputs: ToolOutputsSpec | None = None  # per function, over the suite's
    max_steps: int | None = Field(default=None, ge=1, le=50)

    @model_validator(mode="after")
    def _one_input(self) -> CaseSpec:
        if (self.prompt is None) == (self.messages is None):
            both = ", not both" if self.prompt is not None else ""  # say which way it is wrong
            raise ValueError(f"give either 'prompt: ...' or 'messages: [...]'{both}")
        return self


class DefaultsSpec(_Spec):
    system: str | None = None
    tags: list[str] = Field(default_factory=list)
    max_steps: int = Field(default=5, ge=1, le=50)  # requests a loop case may make


class SuiteSpec(_Spec):
    version: Literal[1]
    suite: FileNamePart
    description: str | None = None
    tools: list[dict[str, Any]] | None = None
    tools_file: str | None = None
    functions: list[dict[str, Any]] | None = None
    defaults: DefaultsSpec = Field(default_factory=DefaultsSpec)
    tool_outputs: ToolOutputsSpec | None = None  # what each tool returns in loop cases
    unknown_tool_output: str | None = None  # sent back for a call to a function without outputs
    cases: list[CaseSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_tool_source(self) -> SuiteSpec:
        given = [k for k in ("tools", "tools_file", "functions") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of 'tools', 'tools_file' or 'functions' (got {given or 'none'})")
        return self
