"""An expected call's arguments compiled to one Python function: the scorers' hot path.

Grading asks a case's :class:`~evalkit.matchers.Fields` of every produced call of its name, in
every job; walking the matcher objects costs a few Python calls per argument. As
:mod:`evalkit.validation` does for schemas, :func:`compile_fields` writes one function per
expectation, with the literal rule written inline for plain values and for ``any_of`` lists and
arrays of them:

- a string: ``got == "Paris" and isinstance(got, str)`` (``ignore_case``: both sides casefolded);
- a number: any int or float equal to it, never a bool (``5`` matches ``5.0``, ``True`` matches
  nothing but ``true``); ``null``: only ``None``;
- other literals (objects, values in an array nested deeper than a few levels) and every other
  matcher (``regex``, ``approx``, ``not``, ``absent``…) are asked as objects, as before.

A ``Fields`` asks for its function once it has been used ``_COMPILE_AFTER`` times: binding one
costs what a few uses save (~7 µs against ~1 µs a use), and compiling a new shape of expectation
~100 µs; a run that scores each case once or twice never pays for it.

The verdict is :meth:`~evalkit.matchers.Matcher.mismatch`'s (``mismatch(got) is None``): a
hypothesis law and an exhaustive test of plain values in ``tests/unit/test_matcher_code.py`` hold
the two equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .matchers import AnyOf, Anything, Equals, Fields, Items, Matcher, values_equal

Predicate = Callable[[Any], bool]

_INLINE_DEPTH = 4  # arrays and any_of nested deeper are asked as objects (keeps expressions short)
_INLINE_ITEMS = 16  # and so are arrays longer than this


def compile_fields(fields: Fields) -> Predicate:
    """``fields.mismatch(got) is None`` as one generated function."""
    writer = _Writer()
    lines = ["def match(v):", "    if not isinstance(v, dict): return False"]
    for key, matcher in fields.fields:
        name = writer.const(key)
        lines += [f"    if {name} in v:", "        x = v[" + name + "]"]
        lines.append(f"        if not {writer.test(matcher, 'x', 0)}: return False")
        if not matcher.optional:
            lines.append("    else: return False")
    if fields.exact:
        names = writer.const(frozenset(key for key, _ in fields.fields))
        lines += ["    for k in v:", f"        if k not in {names}: return False"]
    lines.append("    return True")
    # The source names its values (_c0, _c1…) without holding them: expectations of one shape
    # (the same kinds of matcher, in the same order) share one compiled code object, and only
    # bind their own values. Compiling costs ~100 µs; binding, a few.
    source = "\n".join(lines) + "\n"
    code = _CODE.get(source)
    if code is None:
        if len(_CODE) >= _CODE_LIMIT:
            _CODE.clear()
        code = _CODE[source] = compile(source, "<evalkit matcher>", "exec")
    namespace: dict[str, Any] = {"_values_equal": values_equal, **writer.constants}
    exec(code, namespace)  # our own code; the values are bound as names, never written into it
    match: Predicate = namespace["match"]
    return match


_CODE: dict[str, Any] = {}  # source -> code object
_CODE_LIMIT = 4096


class _Writer:
    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}

    def const(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def test(self, matcher: Matcher, var: str, depth: int) -> str:
        """A Python expression: whether the value named ``var`` matches."""
        if isinstance(matcher, Equals):
            return self.literal(matcher, var)
        if isinstance(matcher, Anything):
            return "True"
        if isinstance(matcher, AnyOf) and depth < _INLINE_DEPTH:
            options = [self.test(option, var, depth + 1) for option in matcher.options]
            return f"({' or '.join(options)})" if options else "False"
        if isinstance(matcher, Items) and depth < _INLINE_DEPTH and len(matcher.items) <= _INLINE_ITEMS:
            parts = [f"isinstance({var}, list)", f"len({var}) == {len(matcher.items)}"]
            parts += [self.test(item, f"{var}[{i}]", depth + 1) for i, item in enumerate(matcher.items)]
            return f"({' and '.join(parts)})"
        return f"{self.const(matcher)}.matches({var})"  # a nested object keeps its own compiled function

    def literal(self, matcher: Equals, var: str) -> str:
        value = matcher.value
        if isinstance(value, str):
            if matcher.ignore_case:
                return f"(isinstance({var}, str) and {var}.casefold() == {self.const(value.casefold())})"
            return f"({var} == {self.const(value)} and isinstance({var}, str))"
        if isinstance(value, bool):
            return f"({var} is {value})"
        if isinstance(value, int | float):
            return f"(isinstance({var}, (int, float)) and not isinstance({var}, bool) and {var} == {self.const(value)})"
        if value is None:
            return f"({var} is None)"
        return f"_values_equal({self.const(value)}, {var}, ignore_case={matcher.ignore_case})"
