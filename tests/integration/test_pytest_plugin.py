"""The pytest plugin, end to end with pytester: `pytest cases/` on a small project replaying real cassettes.

The project holds cases/ecommerce.yaml, the plain recorded cassettes of qwen2.5-coder-0.5b for it
(never the `--tools-N` ones, which may be re-recorded while tests run), and a [tool.evalkit] table
copied from the repository's, so the replayed requests match the recorded ones byte for byte.
What pytest must report is computed by evalkit's own runner on the same files, never hard-coded.
"""

from __future__ import annotations

import json
import shutil
import tomllib
import xml.etree.ElementTree as ET
from glob import escape  # fnmatch patterns: item names hold [brackets]
from pathlib import Path

import pytest
import yaml

# Imported here, not only inside the inner runs: pytester drops modules first imported during an
# in-process run, and re-importing the openai SDK for every run would be slow.
from evalkit.cases import load_cases, load_suite_file
from evalkit.config import load_config
from evalkit.runner import run_suites

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
MODEL = "qwen2.5-coder-0.5b"
SUITE = "ecommerce"
RECORDED = REPO / "cassettes" / MODEL / SUITE
HEAVY = ("pandas", "openai", "vcr", "yaml", "pydantic")


# --- the project ---------------------------------------------------------------------------------


def _toml(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)  # strings, numbers and booleans are spelled the same in TOML


def _model_table(name: str, spec: dict) -> str:
    return f'[tool.evalkit.model."{name}"]\n' + "".join(f"{k} = {_toml(v)}\n" for k, v in spec.items())


def _pyproject(*extra_models: tuple[str, dict]) -> str:
    """[tool.evalkit] with MODEL defined exactly as the repository's pyproject.toml defines it."""
    spec = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["evalkit"]["model"][MODEL]
    models = [(MODEL, spec), *extra_models]
    names = ", ".join(json.dumps(n) for n, _ in models)
    return (
        "[tool.pytest.ini_options]\n"
        'addopts = "--strict-markers"\n\n'  # the plugin's own marker must be registered
        f'[tool.evalkit]\ncases = "cases"\ncassettes = "cassettes"\nmodels = [{names}]\n\n'
        + "\n".join(_model_table(n, s) for n, s in models)
    )


def _write_project(root: Path, *extra_models: tuple[str, dict]) -> Path:
    (root / "cases").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "cases" / f"{SUITE}.yaml", root / "cases" / f"{SUITE}.yaml")
    target = root / "cassettes" / MODEL / SUITE
    target.mkdir(parents=True, exist_ok=True)
    for cassette in RECORDED.glob("*.yaml"):
        if "--" not in cassette.stem:  # plain `<case>.yaml` only: `--tools-N` ones are being recorded
            shutil.copy(cassette, target / cassette.name)
    (root / "pyproject.toml").write_text(_pyproject(*extra_models), encoding="utf-8")
    return root


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    _write_project(pytester.path)
    return pytester


@pytest.fixture(scope="module")
def runner_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Case id → CaseResult, from `evalkit run`'s runner on an identical copy of the project."""
    root = _write_project(tmp_path_factory.mktemp("runner"))
    config = load_config(root / "pyproject.toml")
    result = run_suites(config, load_cases(root / "cases" / f"{SUITE}.yaml"), progress=False)
    return {job.case_id: job for job in result.jobs}


def _item(case_id: str, model: str = MODEL) -> str:
    return f"cases/{SUITE}.yaml::{case_id}[{model}]"


def _collected(result: pytest.RunResult) -> set[str]:
    """Node ids printed by `--co -q`."""
    return {line for line in result.outlines if "::" in line}


# --- `pytest cases/` -----------------------------------------------------------------------------


def test_each_case_passes_or_fails_as_evalkit_run_scores_it(project: pytest.Pytester, runner_results: dict) -> None:
    # A subprocess: the plugin is found through its pytest11 entry point, as for a user.
    result = project.runpytest_subprocess("cases/", "-v", "-p", "no:cacheprovider", timeout=300)
    passed = [c for c, r in runner_results.items() if r.status == "passed"]
    not_passed = [c for c, r in runner_results.items() if r.status != "passed"]
    assert passed and not_passed, "the cassettes should give at least one pass and one failure"
    result.assert_outcomes(passed=len(passed), failed=len(not_passed))
    result.stdout.fnmatch_lines_random(
        [f"{escape(_item(c))} PASSED*" for c in passed] + [f"{escape(_item(c))} FAILED*" for c in not_passed]
    )


def test_xdist_gives_the_same_outcomes(project: pytest.Pytester, runner_results: dict) -> None:
    result = project.runpytest_subprocess("cases/", "-n", "2", "-p", "no:cacheprovider", timeout=300)
    passed = sum(r.status == "passed" for r in runner_results.values())
    result.assert_outcomes(passed=passed, failed=len(runner_results) - passed)


def test_junitxml_has_one_testcase_per_item(project: pytest.Pytester, runner_results: dict) -> None:
    result = project.runpytest_inprocess("cases/", "-p", "no:cacheprovider", "--junitxml=junit.xml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    cases = list(ET.parse(project.path / "junit.xml").getroot().iter("testcase"))
    assert sorted(c.get("name") for c in cases) == sorted(f"{case_id}[{MODEL}]" for case_id in runner_results)
    for testcase in cases:
        case_id = testcase.get("name").split("[")[0]
        status = {p.get("name"): p.get("value") for p in testcase.iter("property")}["evalkit_status"]
        assert status == runner_results[case_id].status
        assert (testcase.find("failure") is not None) == (status != "passed")


def test_k_selects_by_tag_suite_and_model(project: pytest.Pytester) -> None:
    # Tags are in no node name: only keywords the plugin adds let -k see them.
    cases = load_suite_file(project.path / "cases" / f"{SUITE}.yaml").cases
    tagged = {case.id for case in cases if "parallel" in case.tags}
    assert tagged and len(tagged) < len(cases)
    result = project.runpytest_inprocess("cases/", "--co", "-q", "-p", "no:cacheprovider", "-k", "parallel")
    assert _collected(result) == {_item(c) for c in tagged}
    result = project.runpytest_inprocess(
        "cases/", "--co", "-q", "-p", "no:cacheprovider", "-k", f"{SUITE} and {MODEL} and not parallel"
    )
    assert _collected(result) == {_item(case.id) for case in cases} - {_item(c) for c in tagged}


def test_m_selects_by_tag_marker_under_strict_markers(project: pytest.Pytester) -> None:
    cases = load_suite_file(project.path / "cases" / f"{SUITE}.yaml").cases
    tagged = {case.id for case in cases if "parallel" in case.tags}
    result = project.runpytest_inprocess(
        "cases/", "--co", "-q", "-p", "no:cacheprovider", "--strict-markers", "-m", "parallel"
    )
    assert result.ret == 0
    assert _collected(result) == {_item(c) for c in tagged}


def test_a_failure_names_its_kinds_the_calls_and_the_cassette(project: pytest.Pytester, runner_results: dict) -> None:
    case_id, failed = next((c, r) for c, r in runner_results.items() if r.status == "failed")
    result = project.runpytest_inprocess(_item(case_id), "-p", "no:cacheprovider")  # a node id selects one item
    result.assert_outcomes(failed=1)
    report = result.stdout.str()
    for kind, _ in failed.failures:
        assert f"  {kind}: " in report
    result.stdout.fnmatch_lines(
        [
            f"  expected: {escape(failed.expected)}",
            "  produced: *",
            f"  cassette: cassettes/{MODEL}/{SUITE}/{case_id}.yaml",
        ]
    )


def test_a_changed_prompt_is_a_cassette_miss(project: pytest.Pytester, runner_results: dict) -> None:
    case_id = next(c for c, r in runner_results.items() if r.status == "passed")
    file = project.path / "cases" / f"{SUITE}.yaml"
    prompt = next(c["prompt"] for c in yaml.safe_load(file.read_text(encoding="utf-8"))["cases"] if c["id"] == case_id)
    text = file.read_text(encoding="utf-8")
    assert text.count(prompt) == 1
    file.write_text(text.replace(prompt, prompt + " Thanks!"), encoding="utf-8")
    result = project.runpytest_inprocess("cases/", "-p", "no:cacheprovider")
    passed = sum(r.status == "passed" for r in runner_results.values())
    result.assert_outcomes(passed=passed - 1, failed=len(runner_results) - passed + 1)
    result.stdout.fnmatch_lines(
        [
            "  cassette_miss: no recorded response in *body field(s) differ: messages*",
            f"FAILED {escape(_item(case_id))}*",
        ]
    )
    assert "re-record with --evalkit-record-mode all" in result.stdout.str()
    assert " --record-mode" not in result.stdout.str()  # the evalkit command's option, not pytest's


# --- what is collected, and usage errors ---------------------------------------------------------

VALID_CASE_FILE = """\
version: 1
suite: stray
tools:
  - {type: function, function: {name: f, parameters: {type: object, properties: {}}}}
cases:
  - {id: hello, prompt: hi, expect: {no_call: true}}
"""


def test_only_case_files_inside_the_cases_folder_are_collected(project: pytest.Pytester) -> None:
    # Valid case files, so only their location keeps them out; cassettes are YAML too.
    for stray in ("tests/data/x.yaml", "cassettes/stray.yaml", "cases/tools/shared.yaml"):
        (project.path / stray).parent.mkdir(parents=True, exist_ok=True)
        (project.path / stray).write_text(VALID_CASE_FILE, encoding="utf-8")
    result = project.runpytest_inprocess("--co", "-q", "-p", "no:cacheprovider")  # the whole rootdir
    assert result.ret == pytest.ExitCode.OK
    cases = load_suite_file(project.path / "cases" / f"{SUITE}.yaml").cases
    assert _collected(result) == {_item(case.id) for case in cases}


def test_a_case_file_named_on_the_command_line_is_collected_wherever_it_is(project: pytest.Pytester) -> None:
    """`pytest mycases/travel.yaml` says which file to run: it is collected though it is outside the
    cases folder. A folder outside it (`pytest tests/`) still collects no YAML test data as suites."""
    for stray in ("mycases/x.yaml", "tests/data/y.yaml"):
        (project.path / stray).parent.mkdir(parents=True, exist_ok=True)
        (project.path / stray).write_text(VALID_CASE_FILE, encoding="utf-8")
    named = project.runpytest_inprocess("--co", "-q", "-p", "no:cacheprovider", "mycases/x.yaml")
    assert named.ret == pytest.ExitCode.OK
    assert _collected(named) == {f"mycases/x.yaml::hello[{MODEL}]"}
    folder = project.runpytest_inprocess("--co", "-q", "-p", "no:cacheprovider", "tests")
    assert _collected(folder) == set()


def test_a_broken_case_file_is_a_collection_error_naming_file_case_and_field(project: pytest.Pytester) -> None:
    broken = (
        VALID_CASE_FILE.replace("suite: stray", "suite: broken")
        + '  - {id: bad-one, prompt: hi, expect: {no_call: "yes please"}}\n'
    )
    project.path.joinpath("cases", "broken.yaml").write_text(broken, encoding="utf-8")
    result = project.runpytest_inprocess("cases/", "--co", "-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting cases/broken.yaml*",
            "evalkit: */cases/broken.yaml, case 'bad-one', field 'cases[[]1].expect.no_call': *(got 'yes please')",
        ]
    )
    assert "Traceback" not in result.stdout.str() and "pluggy" not in result.stdout.str()


def test_a_misspelt_record_mode_is_a_one_line_usage_error(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("cases/", "--evalkit-record-mode", "onse", timeout=300)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.errlines if line.strip()]
    assert len(lines) == 1, result.errlines
    assert "'onse' is not a record mode" in lines[0]
    assert all(mode in lines[0] for mode in ("none", "once", "new_episodes", "all"))
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_evalkit_model_selects_a_model_and_an_unknown_one_is_a_usage_error(pytester: pytest.Pytester) -> None:
    other = ("other-model", {"model": "other", "base_url": "http://127.0.0.1:9/v1"})
    _write_project(pytester.path, other)
    both = _collected(pytester.runpytest_inprocess("cases/", "--co", "-q", "-p", "no:cacheprovider"))
    assert {name.split("[")[1] for name in both} == {f"{MODEL}]", "other-model]"}
    only = _collected(
        pytester.runpytest_inprocess("cases/", "--co", "-q", "-p", "no:cacheprovider", "--evalkit-model", MODEL)
    )
    assert only == {name for name in both if name.endswith(f"[{MODEL}]")} and only != both
    result = pytester.runpytest_inprocess("cases/", "--co", "-p", "no:cacheprovider", "--evalkit-model", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    expected = (
        f"ERROR: evalkit: 'nope' is not a model. Valid models: other-model, {MODEL}. "
        f'Define it in [[]tool.evalkit.model."NAME"] of {pytester.path / "pyproject.toml"}.'
    )
    result.stderr.fnmatch_lines([expected])


def test_tool_counts_name_items_and_find_the_pool_for_case_files_in_subfolders(project: pytest.Pytester) -> None:
    shutil.copytree(REPO / "cases" / "tools", project.path / "cases" / "tools")
    nested = project.path / "cases" / "more" / "shop.yaml"  # its own folder has no tools/: the pool is cases/tools
    nested.parent.mkdir()
    nested.write_text(
        (project.path / "cases" / f"{SUITE}.yaml").read_text().replace(f"suite: {SUITE}", "suite: shop"),
        encoding="utf-8",
    )
    result = project.runpytest_inprocess(
        "cases/", "--co", "-q", "-p", "no:cacheprovider", "--evalkit-tool-counts", "2,4"
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    items = _collected(result)
    n_cases = len(load_suite_file(nested).cases)
    assert len(items) == 2 * n_cases and all(name.endswith(f"[{MODEL}-tools4]") for name in items)
    result.stdout.fnmatch_lines(["*evalkit: skipped suite 'ecommerce' has * tools, more than the 2 asked for*"])


# --- for users' own tests ------------------------------------------------------------------------

USER_TEST = """\
import json
from pathlib import Path

import pytest
import yaml

from evalkit import CassetteMissError
from evalkit.pytest_plugin import assert_tool_calls

CASSETTE = Path(__file__).parents[1] / "cassettes" / "test_user_replay" / "recorded.yaml"
EXCHANGE = yaml.safe_load(CASSETTE.read_text(encoding="utf-8"))["interactions"][0]
BODY = json.loads(EXCHANGE["request"]["body"])
BASE_URL = EXCHANGE["request"]["uri"].rsplit("/chat/completions", 1)[0]
RIGHT = RIGHT_PLACEHOLDER


@pytest.fixture
def reply(evalkit_cassette):
    return evalkit_cassette("recorded", base_url=BASE_URL).chat.completions.create(**BODY)


def test_right_expectation_passes(reply):
    assert_tool_calls(reply, RIGHT)


def test_wrong_expectation_names_the_failure_kinds(reply):
    wrong = [{**RIGHT[0], "name": "no_such_function"}, *RIGHT[1:]]
    with pytest.raises(AssertionError) as excinfo:
        assert_tool_calls(reply, wrong)
    assert "missing_call" in str(excinfo.value) and "wrong_function" in str(excinfo.value)
    with pytest.raises(AssertionError, match="unexpected_call"):
        assert_tool_calls(reply, None)


def test_the_client_replays_that_cassette_only(evalkit_cassette):
    client = evalkit_cassette("recorded", base_url=BASE_URL)
    with pytest.raises(CassetteMissError, match="recorded.yaml"):
        client.chat.completions.create(**{**BODY, "temperature": 0.5})
"""


def _user_project(project: pytest.Pytester, test_file: str) -> None:
    """tests/test_user_replay.py (``test_file``, with RIGHT filled in) beside a recorded exchange in which
    the model called at least one tool, at cassettes/test_user_replay/recorded.yaml."""
    for cassette in sorted((project.path / "cassettes" / MODEL / SUITE).glob("*.yaml")):
        message = json.loads(yaml.safe_load(cassette.read_text())["interactions"][0]["response"]["body"]["string"])[
            "choices"
        ][0]["message"]
        if message.get("tool_calls"):
            break
    else:
        pytest.fail("no recorded reply with a tool call")
    right = [
        {"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
        for c in message["tool_calls"]
    ]
    target = project.path / "cassettes" / "test_user_replay" / "recorded.yaml"  # cassettes/<module stem>/<name>
    target.parent.mkdir(exist_ok=True)
    shutil.copy(cassette, target)
    project.path.joinpath("tests").mkdir(exist_ok=True)
    project.path.joinpath("tests", "test_user_replay.py").write_text(
        test_file.replace("RIGHT_PLACEHOLDER", repr(right)), encoding="utf-8"
    )


def test_evalkit_cassette_replays_a_recording_and_assert_tool_calls_judges_it(project: pytest.Pytester) -> None:
    _user_project(project, USER_TEST)
    result = project.runpytest_subprocess("tests/", "-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=3)


FAILING_USER_TEST = (
    USER_TEST.split("@pytest.fixture")[0]
    + """
def test_a_miss(evalkit_cassette):
    client = evalkit_cassette("recorded", base_url=BASE_URL)
    client.chat.completions.create(**{**BODY, "temperature": 0.5})


def test_wrong_calls(evalkit_cassette):
    reply = evalkit_cassette("recorded", base_url=BASE_URL).chat.completions.create(**BODY)
    assert_tool_calls(reply, [{**RIGHT[0], "name": "no_such_function"}])
"""
)


def test_a_cassette_miss_in_a_users_test_is_one_line_naming_the_pytest_option(project: pytest.Pytester) -> None:
    _user_project(project, FAILING_USER_TEST)
    result = project.runpytest_subprocess("tests/", "-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(failed=2)
    lines = result.outlines
    header = next(i for i, line in enumerate(lines) if line.strip("_ ") == "test_a_miss")
    report = [line for line in lines[header + 1 : header + 3] if line.strip()]
    source = (project.path / "tests" / "test_user_replay.py").read_text(encoding="utf-8").splitlines()
    line = 1 + next(i for i, text in enumerate(source) if '"temperature": 0.5' in text)
    assert report[0].startswith(
        f"tests/test_user_replay.py:{line}: cassette miss: no recorded response in "
        "cassettes/test_user_replay/recorded.yaml for this request (body field(s) differ: temperature"
    )
    assert report[0].endswith("re-record with --evalkit-record-mode all if the change is intended)")
    assert lines[header + 2].startswith("_") or not lines[header + 2].strip()  # then the next test's report
    assert "Traceback" not in result.stdout.str() and "site-packages" not in result.stdout.str()


def test_the_readme_test_fails_on_a_missing_cassette_as_the_readme_says(project: pytest.Pytester) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    code = readme.split("```python\n# tests/test_weather_bot.py\n", 1)[1].split("```", 1)[0]
    said = readme.split("one line, `tests/test_weather_bot.py:", 1)[1].split("`", 1)[0]
    project.path.joinpath("tests").mkdir()
    project.path.joinpath("tests", "test_weather_bot.py").write_text("# tests/test_weather_bot.py\n" + code)
    result = project.runpytest_subprocess("tests/", "-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(failed=1)
    line = next(line for line in result.outlines if "cassette miss:" in line and not line.startswith("FAILED"))
    start, end = " ".join(said.split()).split("…")
    assert line.startswith(f"tests/test_weather_bot.py:{start}") and line.endswith(end), (line, said)


def test_assert_tool_calls_hides_its_own_frames(project: pytest.Pytester) -> None:
    _user_project(project, FAILING_USER_TEST)
    result = project.runpytest_subprocess("tests/", "-p", "no:cacheprovider", timeout=300)
    out = result.stdout.str()
    assert '    assert_tool_calls(reply, [{**RIGHT[0], "name": "no_such_function"}])' in out
    assert "E       AssertionError: tool calls do not match (failed):" in out
    assert "pytest_plugin.py" not in out and "def assert_tool_calls" not in out


def test_evalkit_cassette_sends_the_real_key_only_when_recording(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Replay needs no key; recording with the placeholder would record a 401. No request is sent here.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-for-this-test")
    project.makepyfile(
        test_key="""
        import os

        def test_key(evalkit_cassette, request):
            recording = request.config.getoption("evalkit_record_mode") not in (None, "none")
            assert (evalkit_cassette("unused").api_key == os.environ["OPENAI_API_KEY"]) == recording
    """
    )
    project.runpytest_inprocess("test_key.py", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    project.runpytest_inprocess(
        "test_key.py", "-p", "no:cacheprovider", "--evalkit-record-mode", "once"
    ).assert_outcomes(passed=1)
    assert not (project.path / "cassettes" / "test_key").exists()  # nothing recorded, nothing written


# --- import cost ---------------------------------------------------------------------------------

_LOADED = "import sys; {before}import evalkit.pytest_plugin; print(sorted(m for m in {heavy!r} if m in sys.modules and m not in before))"


def test_the_plugin_module_itself_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    # What evalkit.pytest_plugin adds on top of its package (see the next test for the package).
    result = pytester.runpython_c(
        _LOADED.format(before="import evalkit; before = set(sys.modules); ", heavy=(*HEAVY, "httpx2", "jsonschema"))
    )
    assert result.ret == 0, result.stderr.str()
    assert result.outlines[-1] == "[]"


def test_loading_the_entry_point_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    result = pytester.runpython_c(_LOADED.format(before="before = set(); ", heavy=HEAVY))
    assert result.ret == 0, result.stderr.str()
    assert result.outlines[-1] == "[]"
