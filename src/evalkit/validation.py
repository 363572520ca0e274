"""Fast argument validation: a tool's JSON Schema compiled once into a Python predicate.

``jsonschema`` (Draft 2020-12) stays the definition: this module only compiles the keywords whose
meaning it reproduces exactly, and answers ``None`` for any schema using another validation
keyword (``$ref``, ``anyOf``, ``pattern``, ``prefixItems``…), which then goes to jsonschema. The
keywords compiled, with jsonschema's reading of each:

- ``type`` (a name or a list): ``integer`` is an int or a float with no fraction (``10.0`` is an
  integer), ``number`` any int or float, and a bool is neither;
- ``enum``, ``const``: equality where ``1 == 1.0`` but ``True != 1``, lists and objects compared
  element by element;
- ``properties``, ``required``, ``additionalProperties`` (a bool or a schema), ``items`` (a schema),
  ``minItems``/``maxItems``, ``minLength``/``maxLength`` (code points), ``minimum``/``maximum``/
  ``exclusiveMinimum``/``exclusiveMaximum`` (numbers only);
- boolean schemas (``true``/``false``); annotations (``description``, ``default``, ``format``,
  ``title``, ``examples``, unknown keys such as ``x-bfcl-type``) are ignored, as jsonschema does
  without a format checker.

Only the verdict comes from here; the message of a failure still comes from jsonschema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Validation keywords of Draft 2020-12 (and older drafts jsonschema still reads) not compiled here.
_OTHER = frozenset(
    {
        "$ref",
        "$dynamicRef",
        "$recursiveRef",
        "$defs",
        "definitions",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
        "prefixItems",
        "additionalItems",
        "contains",
        "minContains",
        "maxContains",
        "uniqueItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "patternProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "pattern",
        "multipleOf",
        "$id",
        "$anchor",
        "$dynamicAnchor",
        "$schema",
        "$vocabulary",
    }
)


class _Unsupported(Exception):
    pass


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def equal(a: Any, b: Any) -> bool:
    """jsonschema's equality: ``1 == 1.0``, ``True != 1``, containers element by element."""
    if isinstance(a, str) or isinstance(b, str):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return bool(a == b)


def compile_schema(schema: Any) -> Check | None:
    """A predicate equal to ``Draft202012Validator(schema).is_valid``, or None when the schema
    uses a keyword not compiled here. The predicate is generated Python source (one function,
    no call per keyword), compiled once."""
    gen = _Gen()
    try:
        body = gen.schema(schema, "v", 1)
    except _Unsupported:
        return None
    source = "def check(v):\n" + "\n".join(body) + "\n    return True\n"
    namespace: dict[str, Any] = {"_equal": equal, "_is_int": _is_int, "_is_number": _is_number, **gen.constants}
    exec(compile(source, "<evalkit schema>", "exec"), namespace)  # our own generated code, no user text in it
    check: Check = namespace["check"]
    return check


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())


_TYPE_TESTS = {
    "string": "isinstance({v}, str)",
    "integer": "_is_int({v})",
    "number": "_is_number({v})",
    "boolean": "isinstance({v}, bool)",
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "null": "{v} is None",
}


class _Gen:
    """Writes the lines of a check: each ``return False`` on the first violated keyword."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}
        self.names = 0

    def const(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def var(self) -> str:
        self.names += 1
        return f"x{self.names}"

    def schema(self, schema: Any, v: str, depth: int) -> list[str]:
        pad = "    " * depth
        if schema is True or (isinstance(schema, Mapping) and not schema):
            return []
        if schema is False:
            return [f"{pad}return False"]
        if not isinstance(schema, Mapping) or (_OTHER & schema.keys()):
            raise _Unsupported
        lines: list[str] = []
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not names or not all(isinstance(n, str) and n in _TYPE_TESTS for n in names):
                raise _Unsupported
            test = " or ".join(_TYPE_TESTS[n].format(v=v) for n in names)
            lines.append(f"{pad}if not ({test}): return False")
        if "enum" in schema:
            lines.append(f"{pad}if not {self.enum(list(schema['enum']), v)}: return False")
        if "const" in schema:
            lines.append(f"{pad}if not _equal({v}, {self.const(schema['const'])}): return False")
        lines += self.objects(schema, v, depth) + self.arrays(schema, v, depth) + self.scalars(schema, v, depth)
        return lines

    def enum(self, options: list[Any], v: str) -> str:
        if options and all(isinstance(o, str) for o in options):
            return f"(type({v}) is str and {v} in {self.const(frozenset(options))})"
        return f"any(_equal({v}, o) for o in {self.const(options)})"

    def objects(self, schema: Mapping[str, Any], v: str, depth: int) -> list[str]:
        props = schema.get("properties") or {}
        required = list(schema.get("required") or ())
        extra = schema.get("additionalProperties", True)
        if not (props or required or extra is not True):
            return []
        pad, inner = "    " * depth, "    " * (depth + 1)
        lines = [f"{inner}if {self.const(key)} not in {v}: return False" for key in required]
        branches: list[tuple[str, list[str]]] = []
        for key, sub in props.items():
            x = self.var()
            body = self.schema(sub, x, depth + 3)
            if body:
                branches.append((key, [f"{'    ' * (depth + 3)}{x} = {v}[{self.const(key)}]", *body]))
        x = self.var()
        extra_body = [] if extra is True else self.schema(extra, x, depth + 3)
        if branches or extra_body:
            k = self.var()
            lines.append(f"{inner}for {k} in {v}:")
            first = True
            for key, body in branches:
                lines.append(f"{'    ' * (depth + 2)}{'if' if first else 'elif'} {k} == {self.const(key)}:")
                lines += body
                first = False
            if extra_body:
                known = self.const(frozenset(props))
                lines.append(f"{'    ' * (depth + 2)}{'if' if first else 'elif'} {k} not in {known}:")
                lines += [f"{'    ' * (depth + 3)}{x} = {v}[{k}]", *extra_body]
        # Properties whose schemas check nothing ({} or true) leave no line: then no block at all.
        return [f"{pad}if isinstance({v}, dict):", *lines] if lines else []

    def arrays(self, schema: Mapping[str, Any], v: str, depth: int) -> list[str]:
        pad, inner = "    " * depth, "    " * (depth + 1)
        lines: list[str] = []
        if "items" in schema:
            if isinstance(schema["items"], list):
                raise _Unsupported  # the pre-2020 tuple form
            x = self.var()
            body = self.schema(schema["items"], x, depth + 2)
            if body:
                lines += [f"{pad}if isinstance({v}, list):", f"{inner}for {x} in {v}:", *body]
        for key, op in (("minItems", "<"), ("maxItems", ">")):
            if key in schema:
                lines.append(f"{pad}if isinstance({v}, list) and len({v}) {op} {self.const(schema[key])}: return False")
        for key, op in (("minLength", "<"), ("maxLength", ">")):
            if key in schema:
                lines.append(f"{pad}if isinstance({v}, str) and len({v}) {op} {self.const(schema[key])}: return False")
        return lines

    def scalars(self, schema: Mapping[str, Any], v: str, depth: int) -> list[str]:
        pad = "    " * depth
        lines = []
        for key, op in (("minimum", "<"), ("maximum", ">"), ("exclusiveMinimum", "<="), ("exclusiveMaximum", ">=")):
            if key in schema:
                if not _is_number(schema[key]):
                    raise _Unsupported
                lines.append(f"{pad}if _is_number({v}) and {v} {op} {self.const(schema[key])}: return False")
        return lines


def clip(value: Any, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters with "…": how a validation message shows a
    value (evalkit.schemas writes the messages of the keywords it runs itself the same way)."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's 4,300-digit str limit
        return f"<a {type(value).__name__} too long to show>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def root_error(schema: Any, instance: Any) -> str | None:
    """jsonschema's first error message (errors sorted by path, as the validity scorer reports
    them) when that error is at the root and is a missing required key or an unexpected key;
    None otherwise (ask jsonschema). These two are the common failures of tool arguments, and
    jsonschema builds every error to sort them."""
    if not isinstance(schema, Mapping) or not isinstance(instance, dict):
        return None
    for key, value in schema.items():  # jsonschema checks keywords in the schema's order
        if key == "properties" and isinstance(value, Mapping) and any(value.get(k) is False for k in instance):
            # jsonschema gives a key whose schema is `false` an error with an empty path: it sorts
            # with the root's errors, in the order found, so leave it to jsonschema
            return None
        if key == "required" and isinstance(value, list):
            missing = next((p for p in value if p not in instance), None)
            if missing is not None:
                return f"{missing!r} is a required property"
        elif key == "additionalProperties":
            properties = schema.get("properties") or {}
            extras = [k for k in instance if k not in properties]
            if value is False and extras and "patternProperties" not in schema:
                shown = ", ".join(clip(e) for e in sorted(extras, key=str))
                return f"Additional properties are not allowed ({shown} {'was' if len(extras) == 1 else 'were'} unexpected)"
            if value is not False and value is not True and extras:
                return None  # errors under the extra keys: their paths sort with the others
        elif key == "type" and "object" in (value if isinstance(value, list) else [value]):
            continue  # the instance is an object: no error here
        elif key in ("enum", "const", "type") or key in _OTHER:
            return None  # another root-level check could come first: leave it to jsonschema
    return None
