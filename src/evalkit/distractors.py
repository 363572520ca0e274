"""Distractor tools for measuring accuracy against the number of offered tools.

For a tool count N a case is offered its suite's own tools, then the suite's hand-written near-miss
tools (``cases/tools/near-miss.yaml``), then tools from a pool converted from the Berkeley Function
Calling Leaderboard (``cases/tools/distractors-v1.json``, built by ``scripts/build_distractor_pool.py``).

Which distractors, and in which order, depends only on (seed, suite, N): every model and every case
of a suite sees the same request prefix at one N (fair, and friendly to prompt caches), and the
result is the same in every process (sha256, never the salted built-in ``hash()``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError
from .tools import tool_name, tool_problem
from .yaml_load import YamlError, load_yaml, read_text

POOL_FILE = "distractors-v1.json"
NEAR_MISS_FILE = "near-miss.yaml"
OPENAI_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
Tool = Mapping[str, Any]


@dataclass(frozen=True)
class NearMiss:
    """One suite's hand-written look-alike tools, and the pool tools that do the suite's own job
    (offering those would make a right answer look wrong, so they are never offered to it)."""

    tools: tuple[Tool, ...] = ()
    exclude_pool: tuple[str, ...] = ()  # case-insensitive fnmatch patterns of pool tool names


@dataclass(frozen=True)
class DistractorPool:
    """Tools are shared, not copied, between offered sets: treat them as read-only."""

    tools: tuple[Tool, ...]
    near_miss: Mapping[str, NearMiss] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OfferedSet:
    """The tools one case is offered at tool count ``n``. When ``problem`` is set the count cannot
    be met honestly: ``tools`` is empty and the caller reports the problem and skips that N."""

    tools: tuple[Tool, ...]
    n: int
    n_distractors: int
    problem: str | None = None


class _NearMissSuite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tools: list[dict[str, Any]] = []
    exclude_pool: list[str] = []


class _NearMissFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Literal[1]
    suites: dict[str, _NearMissSuite]


def load_pool(
    path: Path | str | None = None, *, cases_dir: Path | str, near_miss_path: Path | None = None
) -> DistractorPool:
    """The pool (default ``<cases_dir>/tools/distractors-v1.json``) and the near-miss tools
    (default ``<cases_dir>/tools/near-miss.yaml``; optional, since user suites may have none)."""
    cases_dir = Path(cases_dir)
    tools_dir = (cases_dir.parent if cases_dir.is_file() else cases_dir) / "tools"
    path = Path(path) if path is not None else tools_dir / POOL_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no distractor pool there; tool counts need one. Copy cases/tools/{POOL_FILE} "
            "from the evalkit repository or pass the pool's path"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the distractor pool: {exc}") from None
    if not isinstance(raw, dict) or raw.get("version") != 1 or not isinstance(raw.get("tools"), list):
        raise ConfigError(
            f"{path}: not a version 1 distractor pool ({{version: 1, tools: [...]}}); "
            "rebuild it with scripts/build_distractor_pool.py"
        )
    tools = tuple(raw["tools"])
    names = [_checked_name(path, i, t, schema=False) for i, t in enumerate(tools)]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: tool names repeat; rebuild it with scripts/build_distractor_pool.py")
    near = load_near_miss(
        near_miss_path if near_miss_path is not None else tools_dir / NEAR_MISS_FILE,
        required=near_miss_path is not None,
    )
    return DistractorPool(tools, near, raw.get("source") or {})


def load_near_miss(path: Path, *, required: bool = True) -> dict[str, NearMiss]:
    """Per suite name, its near-miss tools and pool exclusions (empty when the file is absent
    and not ``required``)."""
    path = Path(path)
    if not path.exists() and not required:
        return {}
    try:
        spec = _NearMissFile.model_validate(load_yaml(read_text(path)))  # the bounded loader of case files
    except YamlError as exc:
        raise ConfigError(f"{path}: cannot read near-miss tools: it {exc.message}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read near-miss tools: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ConfigError(
            f"{path}, field '{where}': {error['msg']}; see the comment at the top of the shipped "
            f"cases/tools/{NEAR_MISS_FILE}"
        ) from None
    result = {}
    for suite, entry in sorted(spec.suites.items()):
        names = [_checked_name(path, i, t, f"suites.{suite}.tools") for i, t in enumerate(entry.tools)]
        if len(set(names)) != len(names):
            raise ConfigError(f"{path}, field 'suites.{suite}.tools': tool names must be unique in a suite")
        result[suite] = NearMiss(tuple(entry.tools), tuple(entry.exclude_pool))
    return result


def _checked_name(path: Path, index: int, tool: Any, where: str = "tools", *, schema: bool = True) -> str:
    # The stricter OpenAI name rule (no '.'), since distractors go to every provider. The pool's
    # schemas were checked when it was built (and by its tests): checking 1,700 again costs a second.
    if schema:
        problem = tool_problem(tool)
    else:
        ok = isinstance(tool, Mapping) and isinstance(tool.get("function"), Mapping)
        problem = None if ok else "expected {type: function, function: {name, description, parameters}}"
    if problem is None and not OPENAI_NAME.match(str(tool_name(tool))):
        problem = f"function name {tool_name(tool)!r} must be 1-64 letters, digits, '_' or '-' (the OpenAI API rule)"
    if problem is not None:
        raise ConfigError(f"{path}, field '{where}[{index}]': {problem}")
    return tool_name(tool)


def _rank(*parts: object) -> str:
    # sha256, not hash(): hash() of a str is salted per process (PYTHONHASHSEED), and the order
    # must be the same in every process and on every machine for cassettes to replay.
    return hashlib.sha256(":".join(map(str, parts)).encode("utf-8")).hexdigest()


def distractor_order(
    suite_name: str, suite_tools: Sequence[Tool], *, pool: DistractorPool, seed: int | str
) -> tuple[Tool, ...]:
    """Every distractor a suite may get, best first: its near-misses, then pool tools.

    Ranked from (seed, suite) only, not N, so the distractors at N are a prefix of those at any
    larger N: nested sets make the accuracy-vs-N curve compare like with like."""
    near = pool.near_miss.get(suite_name, NearMiss())
    taken = {tool_name(t) for t in suite_tools}
    near_tools = sorted(
        (t for t in near.tools if tool_name(t) not in taken),
        key=lambda t: _rank(seed, suite_name, "near", tool_name(t)),
    )
    taken |= {tool_name(t) for t in near_tools}
    patterns = [p.lower() for p in near.exclude_pool]
    pool_tools = sorted(
        (
            t
            for t in pool.tools
            if tool_name(t) not in taken and not any(fnmatch.fnmatchcase(tool_name(t).lower(), p) for p in patterns)
        ),
        key=lambda t: _rank(seed, suite_name, "pool", tool_name(t)),
    )
    return (*near_tools, *pool_tools)


def offered_tools(
    suite_name: str, suite_tools: Sequence[Tool], n: int, *, pool: DistractorPool, seed: int | str = 0
) -> OfferedSet:
    """The suite's own tools plus distractors, ``n`` tools in all, in an order shuffled per N
    (models favour the first tools listed; the suite's own must not always lead)."""
    own = tuple(suite_tools)
    if n < len(own):
        # Never clip the suite's tools: a case whose answer was removed measures nothing.
        return OfferedSet((), n, 0, f"suite '{suite_name}' has {len(own)} tools, more than the {n} asked for")
    candidates = distractor_order(suite_name, own, pool=pool, seed=seed)
    wanted = n - len(own)
    if wanted > len(candidates):
        return OfferedSet(
            (),
            n,
            0,
            f"suite '{suite_name}' can be offered at most {len(own) + len(candidates)} tools "
            f"({len(own)} own + {len(candidates)} distractors), fewer than the {n} asked for",
        )
    chosen = (*own, *candidates[:wanted])
    ordered = tuple(sorted(chosen, key=lambda t: _rank(seed, suite_name, n, "order", tool_name(t))))
    return OfferedSet(ordered, n, wanted)


def parse_tool_counts(text: str) -> tuple[int, ...]:
    """``"1,4,16,64"`` → ``(1, 4, 16, 64)``: sorted, without repeats (the x axis of a curve)."""
    counts = set()
    for item in str(text).split(","):
        value = item.strip()
        if not (value.isascii() and value.isdigit()) or int(value) < 1:  # refuses "-3", "1.5", "", "x", "²"
            raise ConfigError(
                f"{value!r} is not a valid tool count in {text!r}; give positive whole numbers "
                "separated by commas, e.g. 1,4,16,64"
            )
        counts.add(int(value))
    return tuple(sorted(counts))
