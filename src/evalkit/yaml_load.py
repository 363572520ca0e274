"""YAML from users' files (case files, tools files), read as bounded JSON values.

One loader for every such file. It is PyYAML's safe loader, with limits and JSON's data model:

- **expansion**: aliases are counted as if written out. A "billion laughs" file (a few hundred
  bytes of nested aliases that expand to a gigabyte once a request is built) is refused while
  it is composed, past :data:`MAX_VALUES` values or :data:`MAX_TEXT` characters of text;
- **recursion**: an alias inside the node it names (``&a [*a]``) is refused, and so is nesting
  deeper than :data:`MAX_DEPTH` levels (PyYAML would raise ``RecursionError``);
- **size**: :func:`read_text` refuses files over :data:`MAX_BYTES` and files that are not UTF-8;
- **one value per key**: a key written twice in one mapping is refused (PyYAML keeps the later
  value without a word); a key from a ``<<: *base`` merge may still be overridden;
- **JSON values only**: mapping keys are the text as written (``on:`` is ``"on"``, ``1:`` is
  ``"1"``), dates and timestamps stay text (JSON has none; a model's arguments carry them as
  strings), ``!!binary``/``!!set``/``!!omap``/``!!pairs`` and Python tags are refused;
- **one error type**: a malformed ``!!float``, ``!!int``, ``!!bool`` or ``!!timestamp`` is a
  :class:`YamlError` with its line and column, never PyYAML's ``IndexError``/``ValueError``.

:class:`YamlError` carries two texts: ``message`` may quote the file (helpful for a case file) and
``safe_message`` never does (for a file named by another, which could be anything readable).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 2 * 1024 * 1024  # a case or tools file; the largest shipped one is ~10 kB
# Once aliases are expanded, at most about what a MAX_BYTES file could hold written out (every
# value costs a Python object at load and bytes in each request), so aliases cannot multiply it.
MAX_VALUES = 1_000_000  # scalars, lists and mappings
MAX_TEXT = 10_000_000  # characters of text
MAX_DEPTH = 100  # nesting levels

_NOT_JSON = {
    "tag:yaml.org,2002:binary": "!!binary (bytes)",
    "tag:yaml.org,2002:set": "!!set",
    "tag:yaml.org,2002:omap": "!!omap",
    "tag:yaml.org,2002:pairs": "!!pairs",
}
# What kind of problem PyYAML found, in words that quote nothing from the file.
_KINDS = {
    "ReaderError": "a character YAML does not allow",
    "ScannerError": "a malformed token",
    "ParserError": "a misplaced element (check indentation, '-' and ':')",
    "ComposerError": "a bad alias or anchor, or more than one document",
    "ConstructorError": "a value that cannot be read",
}


class YamlError(Exception):
    """Why a file could not be read as YAML: ``message`` (may quote the file) and ``safe_message``
    (never does); both are one line and say where (line and column, when known)."""

    def __init__(self, message: str, safe_message: str):
        self.message, self.safe_message = message, safe_message
        super().__init__(message)


class _Problem(yaml.MarkedYAMLError):
    """One of this loader's own refusals: its text quotes nothing from the file."""


def read_text(path: Path, *, limit: int = MAX_BYTES) -> str:
    """The file's text; :class:`YamlError` if it is too large or not UTF-8, ``OSError`` if unreadable."""
    with path.open("rb") as stream:  # read at most limit + 1 bytes: the file may be /dev/zero
        data = stream.read(limit + 1)
    if len(data) > limit:
        text = f"is larger than {limit // (1024 * 1024)} MB; evalkit reads case and tools files up to that size"
        raise YamlError(text, text)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = f"is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        raise YamlError(text, text) from None


def load_yaml(text: str) -> Any:
    """Parse one YAML document into JSON values (see the module docstring); raises :class:`YamlError`."""
    if _FastLoader is not None:
        fast = None
        try:
            fast = _FastLoader(text)
            return fast.get_single_data()
        except (yaml.YAMLError, RecursionError):
            pass  # read it again below, for the message
        finally:
            if fast is not None:
                fast.dispose()
    loader = None
    try:
        loader = _Loader(text)  # the reader refuses control characters right away
        return loader.get_single_data()
    except _Problem as exc:
        where = _where(exc)
        message = f"is refused{where}: {exc.problem}"
        raise YamlError(message, message) from None
    except yaml.MarkedYAMLError as exc:
        where = _where(exc)
        kind = _KINDS.get(type(exc).__name__, "a YAML error")
        problem = f"{exc.context}, {exc.problem}" if exc.context else exc.problem
        raise YamlError(f"is not valid YAML{where}: {problem}", f"is not valid YAML{where}: {kind}") from None
    except yaml.YAMLError as exc:  # ReaderError: no mark, but a position
        position = getattr(exc, "position", None)
        where = _line_column(text, position) if isinstance(position, int) else ""
        kind = _KINDS.get(type(exc).__name__, "a YAML error")
        raise YamlError(f"is not valid YAML{where}: {kind}", f"is not valid YAML{where}: {kind}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _where(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _line_column(text: str, position: int) -> str:
    line, line_start = text.count("\n", 0, position), text.rfind("\n", 0, position) + 1
    return f" at line {line + 1}, column {position - line_start + 1}"


class _Constructor(SafeConstructor):
    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        # PyYAML's own constructors raise these on malformed tagged scalars (`!!float` alone is an
        # IndexError, `!!timestamp 2024-13-45` a ValueError): the value is the user's, not a bug.
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise _Problem(None, None, f"this is not a valid {tag} value", node.start_mark) from None

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[str, Any]:  # type: ignore[override]  # JSON keys are always text
        if not isinstance(node, MappingNode):
            raise _Problem(None, None, f"expected a mapping, found a {type(node).__name__}", node.start_mark)
        self.flatten_mapping(node)  # `<<: *base` merge keys
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise _Problem(None, None, "a mapping key must be text, not a list or mapping", key_node.start_mark)
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


def _timestamp_as_text(constructor: SafeConstructor, node: Node) -> Any:
    if not isinstance(node, ScalarNode):
        raise _Problem(None, None, "a !!timestamp must be a single value", node.start_mark)
    constructor.construct_yaml_timestamp(node)  # checks it (a bad one raises), but JSON has no dates
    return constructor.construct_scalar(node)


def _not_json(constructor: SafeConstructor, node: Node) -> Any:
    raise _Problem(
        None, None, f"{_NOT_JSON[node.tag]} has no JSON equivalent; write text, a list or a mapping", node.start_mark
    )


# What add_constructor does, without its loader-type bound in the stubs: a copy for this class only.
_Constructor.yaml_constructors = {
    **SafeConstructor.yaml_constructors,
    "tag:yaml.org,2002:timestamp": _timestamp_as_text,
    **dict.fromkeys(_NOT_JSON, _not_json),
}


class _Bounds(yaml.composer.Composer):
    """The limits, applied while nodes are composed (Python's composer, over either parser)."""

    if TYPE_CHECKING:  # from the parser this is mixed with

        def peek_event(self) -> Any: ...
        def check_event(self, *choices: Any) -> bool: ...

    def _start_bounds(self) -> None:
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)  # type: ignore[arg-type]  # mixed into a class that is one
        yaml.resolver.Resolver.__init__(self)  # type: ignore[arg-type]
        self._depth = 0
        self._weights: dict[int, tuple[int, int]] = {}  # id(node) -> (values, characters), expanded

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        mark = self.peek_event().start_mark
        if self.check_event(AliasEvent):
            node = super().compose_node(parent, index)
            if id(node) not in self._weights:  # still being composed: the alias is inside its anchor
                raise _Problem(None, None, "an alias refers to a node that contains it (a loop)", mark)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Problem(None, None, f"nests deeper than {MAX_DEPTH} levels", mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._weigh(node, mark)
            if isinstance(node, MappingNode):
                _check_keys(node)
        return node

    def _weigh(self, node: Node, mark: Any) -> None:
        if isinstance(node, ScalarNode):
            values, chars = 1, len(node.value)
        else:
            children = node.value if isinstance(node, SequenceNode) else [n for pair in node.value for n in pair]
            weights = [self._weights[id(child)] for child in children]
            values, chars = 1 + sum(w[0] for w in weights), sum(w[1] for w in weights)
        if values > MAX_VALUES or chars > MAX_TEXT:
            raise _Problem(
                None,
                None,
                f"expands to more than {MAX_VALUES:,} values or {MAX_TEXT:,} characters (an alias counts "
                "each time it is used: a 'billion laughs' file?); use fewer aliases or split the file",
                mark,
            )
        self._weights[id(node)] = (values, chars)


def _check_keys(node: MappingNode) -> None:
    """A key written twice in one mapping is refused: PyYAML would keep the later value without a
    word. Checked as the mapping is composed, before any ``<<: *base`` merge is flattened into it
    (PyYAML flattens an anchored mapping in place, where it is merged), so a merged key may still be
    overridden."""
    written: set[str] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in written:
                raise _Problem(
                    None, None, "this key is already in the same mapping; remove one of the two", key_node.start_mark
                )
            written.add(key_node.value)


class _Loader(
    _Bounds,
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    _Constructor,
    yaml.resolver.Resolver,
):
    """Pure Python: the exact messages (line, column, PyYAML's words) when a file is refused."""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        self._start_bounds()


_FastLoader: type | None = None
if yaml.__with_libyaml__:  # PyYAML built with libyaml (its wheels are)
    from yaml._yaml import CParser  # type: ignore[import-not-found,unused-ignore]  # no stubs

    class _CLoader(_Bounds, CParser, _Constructor, yaml.resolver.Resolver):  # type: ignore[misc,unused-ignore]
        """libyaml scans and parses (in C: 3.6× faster on a 1,000-case file); the
        composer above it is still Python's, with the limits. Used first; a file it refuses is read
        again by :class:`_Loader`, whose messages are the ones evalkit shows."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            self._start_bounds()

    _FastLoader = _CLoader
