"""pytest plugin (entry point ``pytest11``): ``pytest cases/`` runs each case as a test item.

One item per case × model × tool count × trial, replayed from cassettes by default. Items carry
their suite, model and tags as keywords, so ``-k "weather and not parallel"`` works. For your own
Python tests there is the ``evalkit_cassette`` fixture (an OpenAI client bound to a cassette)
and :func:`evalkit.pytest_plugin.assert_tool_calls`.

Only pytest is imported at load: everything else is imported when a case file is collected.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

_CONFIG_KEY = pytest.StashKey[Any]()
_POOL_KEY = pytest.StashKey[Any]()
_OPTIONS = ("evalkit_record_mode", "evalkit_model", "evalkit_tool_counts", "evalkit_config")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("evalkit", "evalkit: tool-calling evaluations")
    group.addoption("--evalkit-record-mode", default=None, help="none (default: replay only), once, new_episodes, all")
    group.addoption(
        "--evalkit-model",
        action="append",
        default=[],
        help="model(s) from [tool.evalkit] to run (repeat or comma-separate)",
    )
    group.addoption("--evalkit-tool-counts", default=None, help="offer distractors up to each N, e.g. 4,16,64")
    group.addoption(
        "--evalkit-config", default=None, help="evalkit.toml or pyproject.toml (default: found from the rootdir)"
    )
    parser.addini(
        "evalkit_collect", type="bool", default=True, help="collect evalkit case files (*.yaml with suite: and cases:)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "evalkit: an evalkit tool-calling case (collected from a case file)")
    # An evalkit option on the command line is checked now: a typo ('onse', an unknown model) is
    # then a one-line usage error (exit 4). Raised later, during collection, pytest would show it
    # as a collection error with a traceback. Without such options nothing is imported here.
    if any(config.getoption(name) for name in _OPTIONS):
        _run_config(config)


def _run_config(config: pytest.Config) -> Any:
    """The evalkit RunConfig for this session, built once from the config file and the options."""
    if _CONFIG_KEY not in config.stash:
        from .errors import EvalkitError

        try:
            config.stash[_CONFIG_KEY] = _build_run_config(config)
        except EvalkitError as exc:  # the user's to fix: no traceback
            raise pytest.UsageError(f"evalkit: {exc}") from None
    return config.stash[_CONFIG_KEY]


def _build_run_config(config: pytest.Config) -> Any:
    from .config import define_model_hint, load_config, select_models
    from .errors import UnknownNameError
    from .recording import check_record_mode

    run_config = load_config(config.getoption("evalkit_config"), start=Path(str(config.rootpath)))
    # dict.fromkeys: a model named twice would give items with the same node id (xdist refuses those)
    models = list(
        dict.fromkeys(m.strip() for value in config.getoption("evalkit_model") for m in value.split(",") if m.strip())
    )
    unknown = [m for m in models if m not in run_config.defined]
    if unknown:  # select_models would suggest --base-url, which only the CLI has
        raise UnknownNameError("model", unknown[0], run_config.defined, hint=define_model_hint(run_config, cli=False))
    if models:
        run_config = select_models(run_config, models)
    mode = config.getoption("evalkit_record_mode")
    counts = config.getoption("evalkit_tool_counts")
    if counts:
        from .distractors import parse_tool_counts

        counts = parse_tool_counts(counts)
    return run_config.with_options(record_mode=check_record_mode(mode) if mode else None, tool_counts=counts)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or not parent.config.getini("evalkit_collect"):
        return None
    if not _looks_like_case_file(file_path):  # first, so projects without evalkit cases import nothing
        return None
    try:
        cases_dir = _run_config(parent.config).cases.resolve()
    except pytest.UsageError as exc:  # a broken [tool.evalkit]: one clean line, not a traceback
        raise parent.CollectError(str(exc)) from None
    path = file_path.resolve()
    inside = cases_dir == path or cases_dir in path.parents
    if not inside and path not in _named(parent.config):
        # Only the configured cases folder, or a case file named on the command line: YAML test
        # data elsewhere (tests/data/…) is not a suite just because `pytest tests/` walks past it.
        return None
    if inside and cases_dir.is_dir() and _skipped(parent.config, cases_dir, path):
        return None  # shared tools, or a folder that runs only when named: as `evalkit run` (load_cases) does
    return CaseFile.from_parent(parent, path=file_path)


def _skipped(config: pytest.Config, cases_dir: Path, path: Path) -> bool:
    from .cases import explicit_only, skipped_under

    if not skipped_under(cases_dir, path):
        return False
    if not explicit_only(cases_dir, path):
        return True  # hidden, or in a folder that never holds case files
    # `pytest cases/bfcl` names the folder: from there the file is not skipped.
    return not any(
        (n == path or n in path.parents) and n != cases_dir and not skipped_under(n, path) for n in _named(config)
    )


def _named(config: pytest.Config) -> list[Path]:
    """The paths given on the command line (``pytest a/b.yaml::case``: ``a/b.yaml``), resolved."""
    return [Path(config.invocation_params.dir, a.split("::")[0]).resolve() for a in config.args]


def _looks_like_case_file(path: Path) -> bool:
    # A cheap text check, so cassettes and CI workflows are never parsed as case files.
    try:
        head = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "\nsuite:" in f"\n{head}" and "\ncases:" in f"\n{head}"


class CaseFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from .cases import load_suite_file
        from .errors import EvalkitError
        from .jobs import expand

        run_config = _run_config(self.config)
        try:
            suite = load_suite_file(self.path)
            plan = expand(
                [suite],
                run_config.models,
                trials=run_config.trials,
                tool_counts=run_config.tool_counts,
                pool=_pool(self.config, run_config),
                seed=run_config.seed,
            )
        except EvalkitError as exc:  # CollectError: pytest shows the message alone, no traceback
            raise self.CollectError(f"evalkit: {exc}") from None
        for note in plan.skipped:  # a suite bigger than N: say so, as `evalkit run` does, not silently
            self.warn(pytest.PytestWarning(f"evalkit: skipped {note}"))
        for job in plan.jobs:
            name = f"{job.case.id}[{job.model.name}" + (f"-tools{job.tool_count}" if job.tool_count is not None else "")
            name += (f"-trial{job.trial}" if job.trial > 1 else "") + "]"
            item = CaseItem.from_parent(self, name=name, job=job)
            item.add_marker(pytest.mark.evalkit)
            for tag in job.case.tags:  # `-m parallel`; registered first, so --strict-markers accepts them
                self.config.addinivalue_line("markers", f"{tag}: evalkit case tag")
                item.add_marker(getattr(pytest.mark, tag))
            # -k matches node names and extra_keyword_matches; item.keywords[...] = True is not seen by -k.
            item.extra_keyword_matches.update((job.case.suite, job.model.name, *job.case.tags))
            yield item


def _pool(config: pytest.Config, run_config: Any) -> Any:
    """The distractor pool, loaded once per session, from where `evalkit run` loads it (the cases
    folder's tools/, not each case file's folder)."""
    if not run_config.tool_counts:
        return None
    if _POOL_KEY not in config.stash:
        from .distractors import load_pool

        cases = run_config.cases
        config.stash[_POOL_KEY] = load_pool(run_config.distractors, cases_dir=cases if cases.is_dir() else cases.parent)
    return config.stash[_POOL_KEY]


class CaseFailed(Exception):
    def __init__(self, result: Any):
        self.result = result


class CaseItem(pytest.Item):
    def __init__(self, *, job: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.job = job

    def runtest(self) -> None:
        from .runner import run_job
        from .scorers import resolve_scorers

        run_config = _run_config(self.config)
        result = run_job(self.job, run_config, resolve_scorers(run_config.scorers))
        self.user_properties.append(("evalkit_status", result.status))
        if result.status != "passed":
            raise CaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        if isinstance(excinfo.value, CaseFailed):
            return _explain(excinfo.value.result)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"evalkit {self.job.model.name} {self.job.case.key}"


def _explain(result: Any) -> str:
    lines = [f"{result.model} {result.suite}/{result.case_id}: {result.status}"]
    lines += [f"  {kind}: {in_pytest_terms(why)}" for kind, why in result.failures]
    lines.append(f"  expected: {result.expected}")
    produced = ", ".join(f"{c['name']}({c['arguments']})" for c in result.calls) or "no call"
    lines.append(
        f"  produced: {produced}" + (f"  [finish_reason={result.finish_reason}]" if result.finish_reason else "")
    )
    if result.cassette:
        lines.append(f"  cassette: {result.cassette}")
    return "\n".join(lines)


def in_pytest_terms(text: str) -> str:
    """A message written for the ``evalkit`` command, told in pytest's words: under pytest the record
    mode is ``--evalkit-record-mode``, and ``--record-mode`` would be pytest-recording's option."""
    return _RECORD_MODE.sub("--evalkit-record-mode", text)


_RECORD_MODE = re.compile(r"(?<![\w-])--record-mode\b")


# --- for users' own tests -----------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A cassette miss in a user's test (or fixture) is reported as one line, ``file:line: message``:
    the 40 lines of SDK and HTTP frames under it say nothing the message does not."""
    report = yield
    if call.excinfo is not None and report.failed and "evalkit.errors" in sys.modules:
        miss = _cassette_miss(call.excinfo.value)
        if miss is not None:
            message = in_pytest_terms(str(miss)).replace(f"{item.config.rootpath}{os.sep}", "")
            report.longrepr = f"{_where(item, call.excinfo)}: cassette miss: {message}"
    return report


def _cassette_miss(error: BaseException) -> BaseException | None:
    from .errors import CassetteMissError

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:  # an SDK may wrap it; follow the chain
        if isinstance(current, CassetteMissError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _where(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """The last line of the test's own file in the traceback: where the user's code made the request."""
    path = getattr(item, "path", None)
    for entry in reversed(excinfo.traceback):
        if path is not None and Path(str(entry.path)) == path:
            return f"{_relative(path, item)}:{entry.lineno + 1}"
    file, line, _ = item.location
    return f"{file}:{(line or 0) + 1}"


def _relative(path: Path, item: pytest.Item) -> str:
    try:
        return str(path.relative_to(item.config.rootpath))
    except ValueError:
        return str(path)


@pytest.fixture
def evalkit_cassette(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory: ``client = evalkit_cassette("name", base_url=...)`` gives an ``openai.OpenAI``
    client whose HTTP goes through ``cassettes/<test module>/<name>.yaml`` in the session's
    record mode (replay-only unless ``--evalkit-record-mode`` says otherwise)."""
    import os
    from contextlib import ExitStack

    import openai

    from .paths import join_inside
    from .providers import REPLAY_KEY
    from .recording import cassette_client

    run_config = _run_config(request.config)
    stack = ExitStack()

    def make(name: str, *, base_url: str | None = None, api_key: str | None = None) -> Any:
        # `name` may hold '/' (subfolders) but never leave the cassettes folder: "../x" is an error.
        path = join_inside(run_config.cassettes, Path(str(request.node.path)).stem, f"{name}.yaml", what="cassette")
        http_client = stack.enter_context(cassette_client(path, record_mode=run_config.record_mode))
        # Replay needs no key (a placeholder keeps the SDK quiet); recording needs the real one,
        # as providers.make_client does, or the cassette would record a 401.
        if api_key is None:
            api_key = os.environ.get("OPENAI_API_KEY", REPLAY_KEY) if run_config.record_mode != "none" else REPLAY_KEY
        return openai.OpenAI(base_url=base_url, api_key=api_key, http_client=http_client, max_retries=0)

    with stack:
        yield make


def assert_tool_calls(
    reply: Any,
    expected: Sequence[Mapping[str, Any]] | None,
    *,
    offered_tools: Sequence[Mapping[str, Any]] = (),
    ordered: bool = False,
) -> None:
    """Assert that a Chat Completions reply (SDK object or dict) makes the expected calls.

    ``expected`` is a list of ``{"name": ..., "arguments": {...matchers...}}`` (the case-file
    syntax), or ``None``/``[]`` for "no call". Raises AssertionError listing every failure."""
    __tracebackhide__ = True  # pytest shows the test's line, not this helper's
    from .calls import Turn
    from .cases import Case, Expectation, ExpectedCall
    from .matchers import MatcherError, compile_arguments
    from .parsing.chat import turn_from_chat_completion
    from .scorers import failures_of, score_job

    turn = (
        reply
        if isinstance(reply, Turn)
        else turn_from_chat_completion(reply if isinstance(reply, dict) else reply.model_dump(mode="json"))
    )
    try:
        calls = tuple(
            ExpectedCall(c["name"], compile_arguments(c.get("arguments"), exact=bool(c.get("exact"))))
            for c in expected or ()
        )
    except MatcherError as exc:  # the test's expectation is wrong, not the reply: one line, no evalkit frames
        pytest.fail(f"assert_tool_calls: {exc.path}: {exc} (see 'Argument matchers' in the README)", pytrace=False)
    case = Case("adhoc", "assert_tool_calls", (), Expectation(calls, ordered))
    offered = offered_tools or [{"type": "function", "function": {"name": c.name}} for c in turn.calls]
    status, scores = score_job(case, turn, offered)
    if status != "passed":
        reasons = "\n".join(f"  {f.kind}: {f.explanation}" for f in failures_of(scores))
        raise AssertionError(f"tool calls do not match ({status}):\n{reasons}")
