"""A tool's parameters (JSON Schema, Draft 2020-12): checked when a case file loads, applied
safely when a model's arguments are scored.

At load, :func:`schema_problem` rejects what would otherwise pass ``evalkit validate`` and then end
the run the first time a model calls the tool:

- a ``$ref`` or ``$dynamicRef`` that points nowhere (nothing is fetched: a remote ``$ref`` resolves
  only to the JSON Schema meta-schemas), or at a value that is not a schema;
- a ``$ref`` cycle that never descends into a property or an item (``a → b → a``, or ``a`` in its
  own ``allOf``): validating would recurse forever, whatever the arguments;
- a ``pattern`` or ``patternProperties`` regex that does not compile with the engine that runs it.

At scoring, :func:`arguments_validator` gives a validator that never raises on any arguments
against a schema that passed :func:`schema_problem` (a hypothesis test states it): regexes run on
the ``regex`` engine with a timeout (:mod:`evalkit.patterns`), ``multipleOf`` takes infinities and
huge integers, ``uniqueItems`` is linear (jsonschema's is quadratic on objects), no ``$ref`` is
fetched over the network, and arguments nested too deeply for the recursion limit are a
validation error instead of a ``RecursionError``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema_specifications import REGISTRY as META_SCHEMAS  # jsonschema's own source of them

from .patterns import PatternTimeout, pattern_problem, search
from .validation import clip, compile_schema

# Keywords whose subschemas apply to the same instance (a cycle through them never ends) ...
_IN_PLACE = {"not": "one", "if": "one", "then": "one", "else": "one", "allOf": "list", "anyOf": "list"}
_IN_PLACE |= {"oneOf": "list", "dependentSchemas": "map"}
# ... and those that apply to a part of it (a property, an item, a key) or to nothing by themselves.
_DESCENDING = {"additionalProperties": "one", "contains": "one", "items": "one", "propertyNames": "one"}
_DESCENDING |= {"unevaluatedItems": "one", "unevaluatedProperties": "one", "contentSchema": "one"}
_DESCENDING |= {"prefixItems": "list", "properties": "map", "patternProperties": "map", "$defs": "map"}
_DESCENDING |= {"definitions": "map"}
_REF_KEYWORDS = ("$ref", "$dynamicRef")
_SPEC = referencing.jsonschema.DRAFT202012
_NO_RETRIEVAL: referencing.jsonschema.SchemaRegistry = referencing.Registry()  # meta-schemas are added by jsonschema


# --- at load -------------------------------------------------------------------------------------


@dataclass
class _Walk:
    """Every subschema reachable from a root, its JSON pointer, and the in-place edges between them."""

    pointers: dict[int, str] = field(default_factory=dict)
    edges: dict[int, list[int]] = field(default_factory=dict)
    refs: list[tuple[int, str, str, Any]] = field(default_factory=list)  # (node, keyword, ref, resolver)
    dynamic_anchors: dict[str, list[int]] = field(default_factory=dict)
    nodes: dict[int, Any] = field(default_factory=dict)  # keeps ids stable while walking


def schema_problem(schema: Mapping[str, Any]) -> str | None:
    """Why ``schema`` (valid against the Draft 2020-12 meta-schema) cannot be used safely, or ``None``."""
    walk = _Walk()
    resolver = _NO_RETRIEVAL.combine(META_SCHEMAS).resolver_with_root(_SPEC.create_resource(schema))
    problem = _visit(walk, schema, "#", resolver, root=True)
    done = 0
    while problem is None and done < len(walk.refs):  # targets may hold refs of their own
        node, keyword, ref, ref_resolver = walk.refs[done]
        done += 1
        problem = _follow(walk, node, keyword, ref, ref_resolver)
    return problem or _cycle(walk)


def _visit(walk: _Walk, node: Any, pointer: str, resolver: Any, *, root: bool = False) -> str | None:
    """Record ``node`` and its subschemas (iteratively: a deep schema must not hit the recursion limit)."""
    stack = [(node, pointer, resolver, root)]
    while stack:
        node, pointer, resolver, is_root = stack.pop()
        if id(node) in walk.pointers or not isinstance(node, dict):
            continue
        walk.pointers[id(node)], walk.nodes[id(node)] = pointer, node
        edges = walk.edges.setdefault(id(node), [])
        if "$id" in node and not is_root:
            try:
                resolver = resolver.in_subresource(_SPEC.create_resource(node))
            except (referencing.exceptions.Unresolvable, ValueError, TypeError):
                return f"$id {node['$id']!r} at {pointer} is not a usable URI"
        if isinstance(node.get("$dynamicAnchor"), str):
            walk.dynamic_anchors.setdefault(node["$dynamicAnchor"], []).append(id(node))
        for keyword in _REF_KEYWORDS:
            if isinstance(node.get(keyword), str):
                walk.refs.append((id(node), keyword, node[keyword], resolver))
        if isinstance(node.get("pattern"), str) and (problem := pattern_problem(node["pattern"])):
            return f"pattern {node['pattern']!r} at {pointer} {problem}"
        for regex in node.get("patternProperties") or {}:
            if problem := pattern_problem(regex):
                return f"patternProperties regex {regex!r} at {pointer} {problem}"
        for keyword, shape in (*_IN_PLACE.items(), *_DESCENDING.items()):
            for child_pointer, child in _children(node, keyword, shape, pointer):
                if keyword in _IN_PLACE and isinstance(child, dict):
                    edges.append(id(child))
                stack.append((child, child_pointer, resolver, False))
    return None


def _children(node: dict[str, Any], keyword: str, shape: str, pointer: str) -> list[tuple[str, Any]]:
    value = node.get(keyword)
    here = f"{pointer}/{_escape(keyword)}"
    if shape == "one" and value is not None:
        return [(here, value)]
    if shape == "list" and isinstance(value, list):
        return [(f"{here}/{i}", v) for i, v in enumerate(value)]
    if shape == "map" and isinstance(value, dict):
        return [(f"{here}/{_escape(str(k))}", v) for k, v in value.items()]
    return []


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _follow(walk: _Walk, node: int, keyword: str, ref: str, resolver: Any) -> str | None:
    where = walk.pointers[node]
    try:
        resolved = resolver.lookup(ref)
    except (referencing.exceptions.Unresolvable, ValueError, TypeError):
        remote = ref.split("#")[0]
        why = " (evalkit never fetches schemas: define it in this tool's parameters)" if remote else ""
        return f"{keyword} {ref!r} at {where} points nowhere{why}; point it at a schema under $defs"
    target = resolved.contents
    if not isinstance(target, dict | bool):
        return f"{keyword} {ref!r} at {where} points at a {type(target).__name__}, not a schema"
    if isinstance(target, dict) and id(target) not in walk.pointers:  # outside the walked tree
        try:
            Draft202012Validator.check_schema(target)
        except SchemaError:
            return f"{keyword} {ref!r} at {where} points at a value that is not a valid schema"
        except RecursionError:
            return f"{keyword} {ref!r} at {where} points at a schema nested too deeply"
        if problem := _visit(walk, target, f"{where} → {ref}", resolved.resolver):
            return problem
    if isinstance(target, dict):
        walk.edges[node].append(id(target))
        if keyword == "$dynamicRef":  # may land on any $dynamicAnchor of that name at run time
            walk.edges[node].extend(walk.dynamic_anchors.get(ref.rpartition("#")[2], ()))
    return None


def _cycle(walk: _Walk) -> str | None:
    """A cycle of in-place edges (iterative DFS), described by the pointers along it."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    for start in walk.edges:
        if start in state:
            continue
        path, stack = [start], [iter(walk.edges[start])]
        state[start] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                loop = [*path[path.index(child) :], child]
                shown = " → ".join(walk.pointers[n] for n in loop)
                return (
                    f"$ref cycle {shown} never descends into a property or an item, so validating "
                    "would never end; break the cycle"
                )
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append(iter(walk.edges.get(child, ())))
    return None


# --- at scoring ----------------------------------------------------------------------------------


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    try:
        if not search(pattern, instance):
            yield ValidationError(f"{clip(instance)} does not match {pattern!r}")
    except PatternTimeout as exc:
        yield ValidationError(f"{exc}, so it is not taken as a match")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            try:
                matched = search(pattern, key)
            except PatternTimeout as exc:
                yield ValidationError(f"property name: {exc}", path=[key])
                continue
            if matched:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    # jsonschema's, with each pattern searched on its own by the safe engine (jsonschema joins them
    # with '|', which breaks on inline flags such as '(?i)', and runs `re` on the model's keys).
    if not validator.is_type(instance, "object"):
        return
    try:
        extras = _additional(instance, schema)
    except PatternTimeout as exc:
        yield ValidationError(f"property name: {exc}")
        return
    if validator.is_type(extra, "object"):
        for key in extras:
            yield from validator.descend(instance[key], extra, path=key)
    elif not extra and extras:
        shown = ", ".join(clip(key) for key in extras)
        if "patternProperties" in schema:
            patterns = ", ".join(repr(p) for p in sorted(schema["patternProperties"]))
            yield ValidationError(
                f"{shown} {'does' if len(extras) == 1 else 'do'} not match any of the regexes: {patterns}"
            )
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({shown} {verb} unexpected)")


def _additional(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    properties = schema.get("properties") or {}
    patterns = list(schema.get("patternProperties") or {})
    return sorted((k for k in instance if k not in properties and not any(search(p, k) for p in patterns)), key=str)


def _unevaluated_properties(validator: Any, uneval: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    try:
        evaluated = _evaluated_keys(validator, instance, schema)
    except PatternTimeout as exc:
        yield ValidationError(f"property name: {exc}")
        return
    bad = [
        key
        for key in instance
        if key not in evaluated
        and next(validator.descend(instance[key], uneval, path=key, schema_path=key), None) is not None
    ]
    if bad:
        shown = ", ".join(clip(key) for key in sorted(bad, key=str))
        verb = "was" if len(bad) == 1 else "were"
        if uneval is False:
            yield ValidationError(f"Unevaluated properties are not allowed ({shown} {verb} unexpected)")
        else:
            yield ValidationError(
                f"Unevaluated properties are not valid under the given schema ({shown} {verb} invalid)"
            )


def _evaluated_keys(validator: Any, instance: Mapping[str, Any], schema: Any) -> set[str]:
    """jsonschema's ``find_evaluated_property_keys_by_schema`` (MIT), with the safe regex engine."""
    if not isinstance(schema, dict):
        return set()
    keys: set[str] = set()
    for keyword in _REF_KEYWORDS:
        if isinstance(schema.get(keyword), str):
            resolved = validator._resolver.lookup(schema[keyword])
            child = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            keys |= _evaluated_keys(child, instance, resolved.contents)
    if isinstance(schema.get("properties"), dict):
        keys |= schema["properties"].keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if (sub := schema.get(keyword)) is not None:
            keys |= {k for k, v in instance.items() if next(validator.descend(v, sub), None) is None}
    for pattern in schema.get("patternProperties") or {}:
        keys |= {k for k in instance if search(pattern, k)}
    for key, sub in (schema.get("dependentSchemas") or {}).items():
        if key in instance:
            keys |= _evaluated_keys(validator, instance, sub)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(keyword) or ():
            if next(validator.descend(instance, sub), None) is None:
                keys |= _evaluated_keys(validator, instance, sub)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            if "then" in schema:
                keys |= _evaluated_keys(validator, instance, schema["then"])
        elif "else" in schema:
            keys |= _evaluated_keys(validator, instance, schema["else"])
    return keys


def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    # jsonschema's raises on inf and NaN (json.loads reads "Infinity"/"NaN") and on huge integers.
    if not validator.is_type(instance, "number"):
        return
    try:
        if isinstance(instance, float) and not math.isfinite(instance):
            failed = True
        elif isinstance(divisor, float):  # as jsonschema does: floats first, exact only on overflow
            try:
                quotient = instance / divisor
                failed = int(quotient) != quotient
            except OverflowError:
                failed = (Fraction(instance) / Fraction(divisor)).denominator != 1
        else:
            failed = bool(instance % divisor)
    except (OverflowError, ValueError, ZeroDivisionError):  # a NaN or infinite divisor: nothing is a multiple
        failed = True
    if failed:
        yield ValidationError(f"{clip(instance)} is not a multiple of {divisor}")


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    # jsonschema compares every pair of unhashable items: 3,000 small objects take 30 s. The same
    # equality (1 == 1.0, true ≠ 1, objects by key), hashed: linear.
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"{clip(instance)} has non-unique elements")
            return
        seen.add(key)


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, float) and value != value:  # NaN: equal only to itself, as jsonschema's `is` test
        return ("nan", id(value))
    if isinstance(value, int | float):
        return ("n", value)  # 1 and 1.0: equal and of equal hash
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("a", tuple(_canonical(v) for v in value))
    if isinstance(value, dict):
        return ("o", frozenset((k, _canonical(v)) for k, v in value.items()))
    return ("?", id(value))


_SafeValidator = validators.extend(  # type: ignore[no-untyped-call]  # untyped in types-jsonschema
    Draft202012Validator,
    validators={
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "unevaluatedProperties": _unevaluated_properties,
        "multipleOf": _multiple_of,
        "uniqueItems": _unique_items,
    },
)


@dataclass(frozen=True)
class ArgumentsValidator:
    """``iter_errors(arguments)``: jsonschema's errors, and never an exception (see the module doc)."""

    schema: Mapping[str, Any]
    _validator: Any = field(repr=False, compare=False, default=None)
    # id(subschema) -> (the subschema, its compiled check or None): keys that pass are skipped
    _checks: dict[int, tuple[Any, Callable[[Any], bool] | None]] = field(
        repr=False, compare=False, default_factory=dict
    )

    @classmethod
    def for_schema(cls, schema: Mapping[str, Any]) -> ArgumentsValidator:
        # registry: no retrieval, so a remote $ref is never fetched (jsonschema's default would, with a warning)
        return cls(schema, _SafeValidator(schema, registry=_NO_RETRIEVAL))

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        try:
            yield from self._validator.iter_errors(instance)
        except RecursionError:  # arguments nested deeper than Python's recursion limit allows
            yield ValidationError("the arguments nest too deeply to validate (hundreds of levels)")

    def is_valid(self, instance: Any) -> bool:
        return next(self.iter_errors(instance), None) is None

    def first_error(self, instance: Any) -> ValidationError | None:
        """jsonschema's first error by path (among equal paths, the first it finds), or None.

        Arguments are an object, and where the root of the schema has no error to give (see
        :func:`_keys_below_clean_root`) every error lies under a key, so the first one lies under
        the first key (in sorted order) whose value fails: the keys are checked one by one until
        that one (by the compiled check where the subschema has one), and only its errors are
        built and sorted, instead of every error of every key."""
        below = _keys_below_clean_root(self.schema, instance)
        if below is None:
            errors = list(self.iter_errors(instance))
        else:
            errors = []
            for key, subschema in below:
                check = self._compiled(subschema)
                if check is not None and check(instance[key]):
                    continue
                try:
                    errors = list(self._validator.descend(instance[key], subschema, path=key))
                except RecursionError:
                    errors = [ValidationError("the arguments nest too deeply to validate (hundreds of levels)")]
                if errors:
                    break
        return min(errors, key=lambda e: list(e.path)) if errors else None

    def _compiled(self, subschema: Any) -> Callable[[Any], bool] | None:
        """The compiled check of a subschema (evalkit.validation), or None where it has none."""
        hit = self._checks.get(id(subschema))
        if hit is None or hit[0] is not subschema:  # the entry holds the subschema: its id stays its own
            hit = self._checks[id(subschema)] = (subschema, compile_schema(subschema))
        return hit[1]


# Root keywords that can give an error on an object (beside those checked below): with any of them,
# every error is built and sorted.
_ROOT_CHECKS = {"enum", "const", "$ref", "$dynamicRef", "$recursiveRef", "allOf", "anyOf", "oneOf", "not", "if"}
_ROOT_CHECKS |= {"dependentRequired", "dependentSchemas", "dependencies", "unevaluatedProperties"}
_ROOT_CHECKS |= {"patternProperties", "propertyNames", "minProperties", "maxProperties", "$schema"}


def _keys_below_clean_root(schema: Any, instance: Any) -> list[tuple[str, Any]] | None:
    """For an object whose schema's root gives no error (its type allows an object, every required
    key is present, no key is unexpected, and no other root keyword could object), each key in
    sorted order (the order of error paths) with the subschema its value must pass; else None."""
    if not isinstance(schema, Mapping) or not isinstance(instance, dict) or _ROOT_CHECKS & schema.keys():
        return None
    types = schema.get("type", "object")
    if "object" not in (types if isinstance(types, list) else [types]):
        return None
    if any(key not in instance for key in schema.get("required") or ()):
        return None
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties", True)
    below = []
    for key in sorted(instance):
        subschema = properties.get(key, extra)
        if subschema is False:
            return None  # an unexpected key: an error at the root
        if subschema is not True:
            below.append((key, subschema))
    return below
