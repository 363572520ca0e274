"""Loading case files: discovery, validation, and building :class:`Suite` / :class:`Case` values.

Every file is validated completely before any model is called. Errors name the file, the case
id, the field path and the bad value, and list the valid choices (see ``docs/case-format.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..config import project_paths
from ..errors import CaseFileError, CaseFileErrors
from ..loops.outputs import UNKNOWN_FUNCTION, ToolImplementation, ToolOutputs
from ..matchers import MATCHER_KEYS, Fields, MatcherError, compile_arguments
from ..paths import inside
from ..tools import function_to_tool, tool_from_pydantic, tool_name, tool_parameters, tool_problem
from ..yaml_load import YamlError, load_yaml, read_text
from . import loops
from .expected_values import BFCL_SUITE_PREFIX, impossible_value
from .explain import explain
from .model import Case, Expectation, ExpectedCall, Suite
from .references import first_line, import_reference
from .spec import MESSAGE_ROLES, CallSpec, CaseSpec, SuiteSpec

# Folders that never hold case files: shared tools of a cases folder, recordings, virtualenvs, caches.
_NOT_CASE_FOLDERS = frozenset({"tools", "cassettes", "node_modules", "__pycache__", "site-packages", "venv"})


EXPLICIT_MARKER = ".evalkit-explicit"  # a folder holding this file runs only when named (cases/bfcl)


def case_files(root: Path, *, skip: Iterable[Path] = ()) -> list[Path]:
    """The case files under ``root``: every ``*.yaml``/``*.yml`` but those :func:`skipped_under`
    leaves out, and those in the ``skip`` folders (the configured cassettes and reports)."""
    if not root.is_dir():
        return [root]
    skipped = [p.resolve() for p in skip]
    found = []
    for file in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()):
        if skipped_under(root, file):
            continue
        resolved = file.resolve()
        if any(folder == resolved or folder in resolved.parents for folder in skipped):
            continue
        found.append(file)
    return found


def skipped_under(root: Path, file: Path) -> bool:
    """Whether loading the folder ``root`` leaves ``file`` out: it is hidden or in a hidden folder
    (``.venv``, ``.github``, ``.pre-commit-config.yaml``), in a folder named in ``_NOT_CASE_FOLDERS``,
    or :func:`explicit_only`."""
    parts = file.relative_to(root).parts
    if any(part.startswith(".") for part in parts) or _NOT_CASE_FOLDERS & set(parts[:-1]):
        return True
    return explicit_only(root, file)


def explicit_only(root: Path, file: Path) -> bool:
    """Whether ``file`` sits in a folder below ``root`` that holds EXPLICIT_MARKER: such suites (the
    304 BFCL cases) run when their folder is named (``evalkit run cases/bfcl``), not with ``cases/``."""
    folders = file.relative_to(root).parts[:-1]
    return any((root.joinpath(*folders[: i + 1]) / EXPLICIT_MARKER).exists() for i in range(len(folders)))


def load_cases(path: str | Path, *, skip: Iterable[Path] = ()) -> list[Suite]:
    """Load and validate a case file, or every case file under a folder (see :func:`case_files`;
    ``skip``: folders to leave out, such as the configured cassettes and reports)."""
    root = Path(path)
    if not root.exists():
        raise CaseFileError(str(root), "no such file or directory; pass a case file or a folder of them")
    suites: list[Suite] = []
    errors: list[CaseFileError] = []
    for file in case_files(root, skip=skip):  # every file is checked, so one run reports every error
        try:
            _add_unique(suites, load_suite_file(file, root=root if root.is_dir() else None))
        except CaseFileError as exc:
            errors.append(exc)
    if errors:
        raise CaseFileErrors.of(errors)
    if not suites:
        raise CaseFileError(str(root), "holds no case files (*.yaml); see the README for the format")
    return suites


def load_all(paths: Sequence[str | Path], *, skip: Iterable[Path] = ()) -> list[Suite]:
    """:func:`load_cases` for several files or folders; suite names must stay unique across them."""
    suites: list[Suite] = []
    for path in paths:
        for suite in load_cases(path, skip=skip):
            _add_unique(suites, suite)
    return suites


# Names are compared without letter case: macOS and Windows file systems would give `Travel` and
# `travel` one cassette folder (and `A` and `a` one cassette file).
def _letter_case(earlier: str, name: str) -> str:
    return (
        ""
        if earlier == name
        else f" as '{earlier}' (differing only in letter case: one cassette path on macOS and Windows)"
    )


def _add_unique(suites: list[Suite], suite: Suite) -> None:
    # Suite names key cassette folders and results: two suites of one name would share them.
    clash = next((s for s in suites if s.name.casefold() == suite.name.casefold()), None)  # see _letter_case
    if clash is not None:
        raise CaseFileError(
            suite.file,
            f"suite name '{suite.name}' is already used by {clash.file}{_letter_case(clash.name, suite.name)}; "
            "suite names must be unique",
            field="suite",
        )
    suites.append(suite)


def load_suite_file(file: Path, *, root: Path | None = None) -> Suite:
    """Load and validate one case file. Its ``tools_file`` must be inside the project: the folder of
    the config file that governs ``file`` (plus its ``allow_paths``), else ``root`` (the folder
    :func:`load_cases` was given), else the case file's own folder."""
    name = str(file)
    try:
        raw = load_yaml(read_text(file))
    except YamlError as exc:
        raise CaseFileError(name, exc.message) from None
    except OSError as exc:
        raise CaseFileError(name, f"cannot be read: {exc.strerror or exc}") from None
    if isinstance(raw, dict) and "interactions" in raw and "suite" not in raw:
        raise CaseFileError(
            name,
            "this looks like a vcrpy cassette (it has 'interactions:'), not a case file; pass the cases "
            "folder, or set `cassettes` in [tool.evalkit] to the folder that holds cassettes",
        )
    return parse_suite(raw, file, root=root)


def parse_suite(raw: Any, file: Path, *, root: Path | None = None) -> Suite:
    """Validate a suite already read into Python (``raw`` as a case file holds it); ``file`` names
    it in errors and anchors ``tools_file`` and ``pydantic`` references (``root`` as for
    :func:`load_suite_file`). Raises CaseFileError / CaseFileErrors."""
    name = str(file)
    if raw is None:
        raise CaseFileError(name, "the file is empty; a case file is a mapping with version, suite, tools and cases")
    if not isinstance(raw, dict):
        raise CaseFileError(name, f"must be a mapping with version, suite, tools and cases; got {type(raw).__name__}")
    try:
        spec = SuiteSpec.model_validate(raw)
    except ValidationError as exc:
        raise CaseFileErrors.of([explain(name, raw, error) for error in exc.errors()]) from None
    return _build_suite(file, spec, root)


def _build_suite(file: Path, spec: SuiteSpec, root: Path | None = None) -> Suite:
    name = str(file)
    tools = _suite_tools(file, spec, root)
    by_name = {tool_name(t): t for t in tools}
    # The suite's tool outputs are checked once, as the suite's (an error names no case).
    suite_outputs = loops.implementations(file, None, "tool_outputs", spec.tool_outputs, by_name)
    ids: dict[str, str] = {}  # casefolded -> as written (see _letter_case)
    cases = []
    errors: list[CaseFileError] = []  # every case is checked: `evalkit validate` lists every error
    for index, case in enumerate(spec.cases):
        try:
            if (earlier := ids.get(case.id.casefold())) is not None:
                raise CaseFileError(
                    name,
                    f"duplicate case id{_letter_case(earlier, case.id)}; ids must be unique in a suite",
                    case_id=case.id,
                    field=f"cases[{index}].id",
                )
            ids[case.id.casefold()] = case.id
            own = _case_tools(name, index, case)
            offered = by_name if own is None else _by_name(name, index, own)
            cases.append(_build_case(name, spec, index, case, offered, suite_outputs, own))
        except CaseFileError as exc:
            errors.append(exc)
    if errors:
        raise CaseFileErrors.of(errors)
    return Suite(spec.suite, name, tuple(tools), tuple(cases), spec.description)


def _build_case(
    file: str,
    spec: SuiteSpec,
    index: int,
    case: CaseSpec,
    tools: Mapping[str, Any],
    suite_outputs: Mapping[str, ToolImplementation],
    own_tools: tuple[dict[str, Any], ...] | None = None,
) -> Case:
    here = f"cases[{index}]"
    for i, call in enumerate(case.expect.calls or ()):
        if not call.name:  # it would validate and then never match any call
            raise CaseFileError(
                file,
                f"expected call has an empty name; name one of the tools ({', '.join(sorted(tools)) or 'none'}), "
                "or write 'expect: {any_call: true}' for a call to any of them",
                case_id=case.id,
                field=f"{here}.expect.calls[{i}].name",
            )

    values = not spec.suite.startswith(BFCL_SUITE_PREFIX)  # see expected_values.py

    def compile_call(path: str, call: CallSpec) -> ExpectedCall:  # a loop's steps are compiled with it too
        return _expected_call(file, case.id, path, call, tools, values=values)

    expected = tuple(compile_call(f"{here}.expect.calls[{i}]", call) for i, call in enumerate(case.expect.calls or ()))
    forbid = tuple(
        _expected_call(file, case.id, f"{here}.forbid[{i}]", CallSpec(name=f.name or "", arguments=f.arguments), tools)
        for i, f in enumerate(case.forbid)
    )
    system = case.system if case.system is not None else spec.defaults.system
    if case.messages is not None:
        messages = tuple(case.messages)
        _check_messages(file, case.id, f"{here}.messages", messages)
    else:
        messages = ({"role": "user", "content": case.prompt},)
    if system and messages[0].get("role") != "system":
        messages = ({"role": "system", "content": system}, *messages)
    tags = tuple(dict.fromkeys([*spec.defaults.tags, *case.tags]))
    own = loops.implementations(Path(file), case.id, f"{here}.tool_outputs", case.tool_outputs, tools)
    outputs = ToolOutputs({**suite_outputs, **own}, spec.unknown_tool_output or UNKNOWN_FUNCTION)
    expect = case.expect
    expectation = Expectation(
        expected,
        expect.ordered,
        expect.any_call,
        steps=loops.steps(f"{here}.expect", expect.steps, compile_call) if expect.steps is not None else None,
        trajectory=loops.trajectory(f"{here}.expect", expect.trajectory, compile_call) if expect.trajectory else None,
        answer=loops.answer(Path(file), case.id, f"{here}.expect", expect.answer, outputs) if expect.answer else None,
    )
    if expectation.is_loop and not outputs:
        raise CaseFileError(
            file,
            "a loop case needs tool_outputs (in the suite or the case) so its tools can answer",
            case_id=case.id,
            field=f"{here}.tool_outputs",
        )
    if not expectation.is_loop:  # a single reply runs no tool: these would be silently ignored
        for name, given in (("tool_outputs", case.tool_outputs), ("max_steps", case.max_steps)):
            if given is not None:
                raise CaseFileError(
                    file,
                    f"{name} is for tool loops, and this case expects a single reply; give its expect "
                    "`steps`, `trajectory` or `answer` to make it a loop, or remove the field",
                    case_id=case.id,
                    field=f"{here}.{name}",
                )
    max_steps = case.max_steps if case.max_steps is not None else spec.defaults.max_steps
    return Case(spec.suite, case.id, messages, expectation, forbid, tags, file, outputs, max_steps, own_tools)


def _case_tools(file: str, index: int, case: CaseSpec) -> tuple[dict[str, Any], ...] | None:
    """A case's own ``tools`` (offered instead of the suite's), each checked; None: the suite's."""
    if case.tools is None:
        return None
    for i, tool in enumerate(case.tools):
        if (problem := tool_problem(tool)) is not None:
            raise CaseFileError(file, problem, case_id=case.id, field=f"cases[{index}].tools[{i}]")
    return tuple(case.tools)


def _by_name(file: str, index: int, tools: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    names = [tool_name(t) for t in tools]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise CaseFileError(
            file, f"tool names must be unique; repeated: {', '.join(dupes)}", field=f"cases[{index}].tools"
        )
    return dict(zip(names, tools, strict=True))


def _expected_call(
    file: str, case_id: str, path: str, call: CallSpec, tools: Mapping[str, Any], *, values: bool = False
) -> ExpectedCall:
    """The call compiled, its names and matchers checked against the tools; with ``values``, also the
    expected values a call valid for the tool's schema could give (expected_values.py)."""
    if call.name and call.name not in tools:
        raise CaseFileError(
            file,
            f"function {call.name!r} is not one of the suite's tools: {', '.join(sorted(tools))}",
            case_id=case_id,
            field=f"{path}.name",
        )
    try:
        matcher = compile_arguments(call.arguments, exact=call.exact, path=f"{path}.arguments")
    except MatcherError as exc:
        raise CaseFileError(
            file, f"{exc} (see 'Argument matchers' in the README)", case_id=case_id, field=exc.path
        ) from None
    if not call.name:  # a forbid rule for any function: each key must be some tool's parameter
        known = {key for tool in tools.values() for key in tool_parameters(tool).get("properties") or {}}
        for key, _ in matcher.fields:
            if key not in known:
                raise CaseFileError(
                    file,
                    f"no tool has a parameter {key!r}, so this rule could never match; "
                    f"the tools' parameters: {', '.join(sorted(known)) or '(none)'}",
                    case_id=case_id,
                    field=f"{path}.arguments.{key}",
                )
    else:
        parameters = tool_parameters(tools[call.name])
        properties = parameters.get("properties") or {}
        for key, expected in matcher.fields:
            where = f"{path}.arguments.{key}"
            if key not in properties:
                raise CaseFileError(
                    file,
                    f"{call.name!r} has no parameter {key!r}; its parameters: {', '.join(sorted(properties)) or '(none)'}",
                    case_id=case_id,
                    field=where,
                )
            _check_object_for_a_scalar(file, case_id, where, expected, properties[key])
            if values and (problem := impossible_value(parameters, key, expected)) is not None:
                raise CaseFileError(file, f"{problem}; no valid call can match it", case_id=case_id, field=where)
    return ExpectedCall(call.name, matcher)


def _check_object_for_a_scalar(file: str, case_id: str, path: str, expected: Any, schema: Any) -> None:
    """An expected object for a parameter that only takes text or numbers can never match: it is a
    matcher with a key the loader did not know (``{pattern: ...}``, ``{regx: ...}``)."""
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    if isinstance(expected, Fields) and isinstance(kind, str) and kind not in ("object", "array"):
        keys = ", ".join(key for key, _ in expected.fields)
        raise CaseFileError(
            file,
            f"the parameter takes a {kind}, but the expected value is an object with {keys}; "
            f"a matcher takes one of: {', '.join(sorted(MATCHER_KEYS))}",
            case_id=case_id,
            field=path,
        )


def _check_messages(file: str, case_id: str, path: str, messages: tuple[Mapping[str, Any], ...]) -> None:
    if not messages:
        raise CaseFileError(file, "messages is empty; give at least one user message", case_id=case_id, field=path)
    for i, message in enumerate(messages):
        if message.get("role") not in MESSAGE_ROLES:
            raise CaseFileError(
                file,
                f"role {message.get('role')!r} is not valid. Valid roles: {', '.join(MESSAGE_ROLES)}",
                case_id=case_id,
                field=f"{path}[{i}].role",
            )


def _suite_tools(file: Path, spec: SuiteSpec, root: Path | None = None) -> list[dict[str, Any]]:
    name = str(file)
    if spec.functions is not None:
        raw, where = [function_to_tool(f) for f in spec.functions], "functions"
    elif spec.tools_file is not None:
        loaded = _read_tools_file(file, spec.tools_file, root)
        loaded = loaded.get("tools") if isinstance(loaded, dict) else loaded
        if not isinstance(loaded, list):
            raise CaseFileError(
                name,
                f"tools_file {spec.tools_file!r} must hold a list of tools (or 'tools: [...]')",
                field="tools_file",
            )
        raw, where = loaded, "tools_file"
    else:
        raw, where = list(spec.tools or ()), "tools"
    tools = []
    for i, tool in enumerate(raw):
        if isinstance(tool, dict) and set(tool) == {"pydantic"}:
            tool = _pydantic_tool(file, tool["pydantic"], f"{where}[{i}].pydantic")
        if (problem := tool_problem(tool)) is not None:
            raise CaseFileError(name, problem, field=f"{where}[{i}]")
        tools.append(tool)
    names = [tool_name(t) for t in tools]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise CaseFileError(name, f"tool names must be unique; repeated: {', '.join(dupes)}", field=where)
    return tools


def _read_tools_file(file: Path, tools_file: str, root: Path | None) -> Any:
    """The parsed ``tools_file``: inside the project (or an ``allow_paths`` folder), at most
    MAX_BYTES, and no error quotes its content (it could be any file the user can read)."""
    name, shown = str(file), repr(tools_file)
    project = project_paths(file.parent)
    roots = [project[0], *project[1]] if project else [(root or file.parent).resolve()]
    path = (file.parent / tools_file).resolve()
    if not inside(path, roots):
        listed = ", ".join(str(r) for r in roots)
        raise CaseFileError(
            name,
            f"tools_file {shown} resolves to {path}, outside the project ({listed}); move it into the project "
            "or add its folder to allow_paths in [tool.evalkit]",
            field="tools_file",
        )
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a regular file"
        raise CaseFileError(name, f"tools_file {shown} {what} (looked for {path})", field="tools_file")
    try:
        return load_yaml(read_text(path))
    except YamlError as exc:
        raise CaseFileError(name, f"tools_file {shown} {exc.safe_message}", field="tools_file") from None
    except OSError as exc:
        raise CaseFileError(name, f"tools_file {shown} cannot be read: {exc.strerror}", field="tools_file") from None


# `module:Class`, a dotted module path of identifiers: never '..', '/', or an empty part.
def _pydantic_tool(file: Path, ref: Any, path: str) -> dict[str, Any]:
    """``{pydantic: "module:Model"}``: a tool built by ``openai.pydantic_function_tool`` (see
    :mod:`.references`: importing runs the module's code)."""
    name = str(file)
    model = import_reference(file, ref, path, what="ModelClass")
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        got = "nothing" if model is None else f"a {type(model).__name__}"
        module_name = str(ref).partition(":")[0]
        raise CaseFileError(
            name, f"{ref!r} must name a pydantic BaseModel subclass in {module_name}; it is {got}", field=path
        )
    try:
        return tool_from_pydantic(model)
    except Exception as exc:  # noqa: BLE001  # the model is user code: its schema may break openai's converter
        raise CaseFileError(
            name, f"cannot make a tool of {ref!r}: {type(exc).__name__}: {first_line(exc)}", field=path
        ) from None
