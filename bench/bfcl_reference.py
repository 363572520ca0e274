"""BFCL's own checker on a file of model outputs: verdicts and calls per second. Runs in a venv of
its own, never in evalkit's (see bench/README.md, "BFCL's checker"):

    python3 -m venv /tmp/bfcl-venv
    /tmp/bfcl-venv/bin/pip install --no-deps bfcl_eval-2026.3.23-py3-none-any.whl
    /tmp/bfcl-venv/bin/pip install filelock==3.20.0        # the one import bfcl_eval.utils needs
    /tmp/bfcl-venv/bin/python bench/bfcl_reference.py OUTPUTS.jsonl VERDICTS.json [--repeats 5]

OUTPUTS.jsonl holds one reply per line: ``{"key", "category", "id", "calls": [{"name", "arguments"}]
| null, "content": str | null}`` (written by bench/bench_bfcl.py). The entries and ground truth
come from the installed ``bfcl_eval`` package's data. Each reply is scored as BFCL scores an
OpenAI-style function-calling model ("gpt-4o-2024-11-20-FC"):

- ``ast_checker`` (imported unmodified from bfcl_eval) for the AST categories, after the decoding
  of BFCL's OpenAI handler (``[{name: json.loads(arguments)}]``, or the text when there is no call);
- for (ir)relevance, the rule of ``eval_runner._evaluate_single_relevance_entry``: the reply holds a
  call when it decodes and ``bfcl_eval.utils.is_empty_output`` says it is not empty.

The only stand-in: ``bfcl_eval.constants.model_config`` imports every model handler and with them
the SDKs of a dozen vendors; the checker reads one flag from it (``underscore_to_dot``, True for
OpenAI-style models), so a stub module providing that flag is installed before the import. The
handlers' decoding is four lines, restated in ``decode`` below; it is not imported for the same reason.
"""

from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path

MODEL = "gpt-4o-2024-11-20-FC"


class _Config:
    underscore_to_dot = True  # what BFCL's config says for OpenAI-style FC models


_stub = types.ModuleType("bfcl_eval.constants.model_config")
_stub.MODEL_CONFIG_MAPPING = {MODEL: _Config()}  # type: ignore[attr-defined]  # a stand-in module
sys.modules["bfcl_eval.constants.model_config"] = _stub

import bfcl_eval  # noqa: E402  # after the stub, on purpose
from bfcl_eval.constants.enums import Language  # noqa: E402
from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker  # noqa: E402
from bfcl_eval.utils import is_empty_output, is_function_calling_format_output  # noqa: E402


def decode(raw):
    """BFCL's OpenAI FC handler: ``decode_ast`` over ``_parse_query_response_FC``'s output."""
    return [{name: json.loads(arguments)} for call in raw for name, arguments in call.items()]


def load(category, folder):
    path = folder / f"BFCL_v4_{category}.json"
    return {e["id"]: e for e in map(json.loads, path.read_text().splitlines()) if e}


def main(argv):
    outputs_path, verdicts_path = Path(argv[0]), Path(argv[1])
    repeats = int(argv[argv.index("--repeats") + 1]) if "--repeats" in argv else 5
    data = Path(bfcl_eval.__file__).parent / "data"
    items = [json.loads(line) for line in outputs_path.read_text().splitlines() if line.strip()]
    entries, answers = {}, {}
    for category in {i["category"] for i in items}:
        entries[category] = load(category, data)
        if "relevance" not in category:
            answers[category] = {k: v["ground_truth"] for k, v in load(category, data / "possible_answer").items()}
    work = []
    for item in items:
        raw = [{c["name"]: c["arguments"]} for c in item["calls"]] if item["calls"] else item["content"]
        entry = entries[item["category"]][item["id"]]
        answer = answers.get(item["category"], {}).get(item["id"])
        work.append((item["key"], item["category"], raw, entry["function"], answer))

    def score_all(group):
        out = {}
        for key, category, raw, functions, answer in group:
            out[key] = score(category, raw, functions, answer)
        return out

    kinds = {item["key"]: item.get("kind", "all").split(":")[0] for item in items}
    groups = {"all": work}
    for row in work:
        groups.setdefault(kinds[row[0]], []).append(row)
    verdicts = score_all(work)
    timing = {}
    for name, group in groups.items():
        times = []
        for _ in range(repeats):
            started = time.process_time()
            score_all(group)
            times.append(time.process_time() - started)
        calls = sum(len(i["calls"] or ()) for i in items if name == "all" or kinds[i["key"]] == name)
        timing[name] = {"replies": len(group), "calls": calls, "seconds_min": min(times)}
    result = {
        "checker": f"bfcl_eval {bfcl_eval_version()} ast_checker (model {MODEL})",
        "python": sys.version.split()[0],
        "timing": timing,
        "verdicts": verdicts,
    }
    verdicts_path.write_text(json.dumps(result))
    best = timing["all"]
    print(
        f"BFCL checker: {best['replies']} replies, {best['calls']} calls, {best['calls'] / best['seconds_min']:,.0f} calls/s"
    )


def score(category, raw, functions, answer):
    """BFCL's verdict (True: valid) and its error type, for one reply."""
    try:
        decoded = decode(raw)
        decoded_ok = True
    except Exception:  # noqa: BLE001  # BFCL catches any decoding error, so must we
        decoded, decoded_ok = None, False
    if "relevance" in category:
        has_call = decoded_ok and not is_empty_output(decoded)
        return [has_call if "irrelevance" not in category else not has_call, None]
    if not decoded_ok:
        return [False, "ast_decoder:decoder_failed"]
    if not is_function_calling_format_output(decoded):
        return [False, "ast_decoder:decoder_wrong_output_format"]
    try:
        result = ast_checker(functions, decoded, answer, Language.PYTHON, category, MODEL)
    except Exception as exc:  # noqa: BLE001  # a checker crash is BFCL's verdict too: the entry cannot pass
        return [False, f"checker_crash:{type(exc).__name__}"]
    return [bool(result["valid"]), result.get("error_type")]


def bfcl_eval_version():
    from importlib.metadata import version

    return version("bfcl-eval")


if __name__ == "__main__":
    main(sys.argv[1:])
