"""What a JSON Schema (Draft 2020-12, plain dicts) says a template value is, and what it may do.

Used by the template checker; knows Python's and Jinja's runtime behaviour but imports no Jinja.
Every answer is ``(result schema or None, problem or None)``; ``None`` as a schema means "unknown",
and nothing unknown is ever reported: a false positive is worse than a missed problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

Schema = Mapping[str, Any]
Kinds = frozenset[str]
Verdict = tuple[Schema | None, str | None]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
ARRAY: Schema = {"type": "array"}
OBJECT: Schema = {"type": "object"}

_ARTICLE = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
    "null": "null",
}
NUMERIC: Kinds = frozenset({"integer", "number", "boolean"})  # a bool is an int in Python
ITERABLE: Kinds = frozenset({"array", "object", "string"})
_SEQUENCE: Kinds = frozenset({"string", "array"})
_PYTHON: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int, float),  # 1.0 is a valid JSON Schema integer
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}
_ANNOTATIONS = frozenset(
    {"$comment", "title", "description", "default", "examples", "deprecated", "readOnly"}
)
# Keywords through which an object may gain properties its `properties` does not list.
_OPENING = frozenset(
    {"patternProperties", "allOf", "anyOf", "oneOf", "$ref", "$dynamicRef", "if", "then", "else"}
    | {"dependentSchemas"}
)
_LITERALS = frozenset({"true", "false", "none"})

# Filters grouped by what they need; the rest accept anything (or are not ours to judge).
_TEXT_FILTERS = frozenset(
    {"upper", "lower", "title", "capitalize", "trim", "truncate", "replace", "wordcount"}
    | {"center", "striptags", "wordwrap", "indent", "urlize"}
)
_NUMBER_FILTERS = frozenset({"round", "abs"})
_ITERATING_FILTERS = frozenset(
    {"join", "first", "last", "length", "count", "sort", "map", "select", "reject"}
    | {"selectattr", "rejectattr", "unique", "list", "min", "max", "reverse", "batch"}
    | {"slice", "groupby", "random", "sum"}
)
_MAPPING_FILTERS = frozenset({"dictsort", "items"})
_STRING_RESULTS = (_TEXT_FILTERS - {"wordcount"}) | {
    "join",
    "format",
    "string",
    "escape",
    "e",
    "forceescape",
    "safe",
    "urlencode",
    "tojson",
    "pprint",
    "filesizeformat",
    "xmlattr",
}
_ELEMENT_RESULTS = frozenset({"first", "last", "random", "min", "max"})
_FIXED_RESULTS: dict[str, Schema] = {
    **dict.fromkeys(("float", "round"), NUMBER),
    **dict.fromkeys(("length", "count", "wordcount", "int"), INTEGER),
    **dict.fromkeys(_STRING_RESULTS, STRING),
}
"""Filters that give back one type whatever they receive (a name in two lists: the last wins)."""


def kind_of(value: object) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    for kind, python in (("number", float), ("string", str), ("array", list), ("object", dict)):
        if isinstance(value, python):
            return kind
    return "null" if value is None else None


def literal(value: object) -> Schema | None:
    kind = kind_of(value)
    return {"type": kind} if kind else None


def describe(kinds: Kinds) -> str:
    """``{"string", "null"}`` → ``a string or null``."""
    shown = [k for k in _ARTICLE if k in kinds and not (k == "integer" and "number" in kinds)]
    return " or ".join(_ARTICLE[k] for k in shown)


def subject(path: str | None) -> str:
    """How a message names a value: ``'order.total'``, a literal as written, or "the value"."""
    if path is None:
        return "the value"
    if path[0] in "'\"-0123456789" or path in _LITERALS:
        return path
    return f"'{path}'"


def suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class SchemaTypes:
    """Answers about values described by sub-schemas of ``root`` (local ``$ref`` resolved)."""

    def __init__(self, root: Schema) -> None:
        self.root = root

    def resolve(self, schema: object, depth: int = 0) -> Schema | None:
        if not isinstance(schema, Mapping):
            return None
        ref = schema.get("$ref")
        if isinstance(ref, str) and set(schema) - {"$ref"} <= _ANNOTATIONS and depth < 32:
            return self.resolve(self._pointer(ref), depth + 1)
        return schema

    def _pointer(self, ref: str) -> object:
        if not ref.startswith("#"):
            return None
        node: object = self.root
        for part in filter(None, ref[1:].split("/")):
            key = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping):
                node = node.get(key)
            elif isinstance(node, list) and key.isdecimal() and int(key) < len(node):
                node = node[int(key)]
            else:
                return None
        return node

    def kinds(self, schema: object) -> Kinds | None:
        s = self.resolve(schema)
        if s is None:
            return None
        declared = s.get("type")
        if isinstance(declared, str):
            found: set[str | None] = {declared}
        elif isinstance(declared, list) and declared and all(isinstance(d, str) for d in declared):
            found = set(declared)
        elif "const" in s:
            found = {kind_of(s["const"])}
        elif isinstance(s.get("enum"), list) and s["enum"]:
            found = {kind_of(v) for v in s["enum"]}
        else:
            return None
        if None in found or not found <= set(_ARTICLE):
            return None
        return frozenset(k for k in found if k is not None)

    def _properties(self, s: Schema) -> tuple[Mapping[str, Any], bool]:
        """The declared properties, and whether no other property can exist."""
        props = s.get("properties")
        props = props if isinstance(props, Mapping) else {}
        extra = s.get("additionalProperties", None if props else True)
        return props, (extra is False or extra is None) and not _OPENING & set(s)

    def attribute(self, schema: object, name: str, path: str | None, *, item: bool) -> Verdict:
        """``value.name`` (or ``value['name']`` when ``item``), as Jinja's sandbox resolves it."""
        s, kinds = self.resolve(schema), self.kinds(schema)
        if s is None or kinds is None:
            return None, None
        data = kinds - {"null"}
        if "object" in kinds:
            props, closed = self._properties(s)
            # `.name` tries a dict method first; `['name']` falls back to one.
            if hasattr(dict, name) and (not item or name not in props):
                if not item and name in props and data == {"object"}:
                    shown = path or ""
                    return None, (
                        f"'{shown}.{name}' is the method {name}() of a mapping, not the property"
                        f" '{name}'; write {shown}['{name}']"
                    )
                return None, None
            if name in props:
                return self.resolve(props[name]), None
            if data == {"object"} and closed:
                return None, f"{subject(path)} has no property '{name}'{suggest(name, props)}"
            extra = s.get("additionalProperties")
            return (self.resolve(extra) if data == {"object"} else None), None
        if any(hasattr(t, name) for k in kinds for t in _PYTHON[k]):
            return None, None  # a method of str, list, int…
        return None, f"{subject(path)} is {describe(kinds)}; it has no attribute '{name}'"

    def index(self, schema: object, path: str | None, position: int | None) -> Verdict:
        """``value[position]`` with a number (``position`` None when it is not a constant)."""
        s, kinds = self.resolve(schema), self.kinds(schema)
        if s is None or kinds is None:
            return None, None
        data = kinds - {"null"}
        if "array" in kinds:
            if data != {"array"}:
                return None, None
            prefix = s.get("prefixItems")
            if isinstance(prefix, list):
                if position is not None and 0 <= position < len(prefix):
                    return self.resolve(prefix[position]), None
                return None, None
            return self.resolve(s.get("items")), None
        if kinds & {"string", "object"}:
            return (STRING if data == {"string"} else None), None
        return None, f"{subject(path)} is {describe(kinds)}; it cannot be indexed"

    def sliced(self, schema: object, path: str | None) -> Verdict:
        s, kinds = self.resolve(schema), self.kinds(schema)
        if s is None or kinds is None:
            return None, None
        if not kinds & _SEQUENCE:
            return None, f"{subject(path)} is {describe(kinds)}; it cannot be sliced"
        return (s if kinds - {"null"} in ({"array"}, {"string"}) else None), None

    def element(self, schema: object, path: str | None) -> Verdict:
        """What ``[% for x in value %]`` binds to ``x``."""
        s, kinds = self.resolve(schema), self.kinds(schema)
        if s is None or kinds is None:
            return None, None
        if not kinds & ITERABLE:
            return None, f"{subject(path)} is {describe(kinds)}; it cannot be looped over"
        data = kinds - {"null"}
        if data == {"array"}:
            return (None if "prefixItems" in s else self.resolve(s.get("items"))), None
        return (STRING if data <= {"object", "string"} else None), None

    def arithmetic(
        self, op: str, left: object, right: object, paths: tuple[str | None, str | None]
    ) -> Verdict:
        lk, rk = self.kinds(left), self.kinds(right)
        if lk is None or rk is None:
            return None, None
        if not any(_binary_ok(op, a, b) for a in lk for b in rk):
            return None, (
                f"cannot apply '{op}' to {subject(paths[0])} ({describe(lk)})"
                f" and {subject(paths[1])} ({describe(rk)})"
            )
        both = lk | rk
        if both <= {"integer", "boolean"} and op not in ("/", "**"):
            return INTEGER, None
        if both <= NUMERIC:
            return NUMBER, None
        if lk == {"string"} and (op == "%" or (op == "+" and rk == {"string"})):
            return STRING, None
        return None, None

    def unary(self, op: str, operand: object, path: str | None) -> Verdict:
        kinds = self.kinds(operand)
        if kinds is None:
            return None, None
        if not kinds & NUMERIC:
            return None, f"cannot apply '{op}' to {subject(path)} ({describe(kinds)})"
        if kinds <= {"integer", "boolean"}:
            return INTEGER, None
        return (NUMBER if kinds <= NUMERIC else None), None

    def compare(
        self, op: str, left: object, right: object, paths: tuple[str | None, str | None]
    ) -> str | None:
        """Ordering comparisons (``<`` ``>`` ``<=`` ``>=``) between values Python cannot order."""
        lk, rk = self.kinds(left), self.kinds(right)
        if lk is None or rk is None:
            return None
        if any(_orderable(a, b) for a in lk for b in rk):
            return None
        return (
            f"cannot compare {subject(paths[0])} ({describe(lk)})"
            f" with {subject(paths[1])} ({describe(rk)}) using '{op}'"
        )

    def filter(
        self, name: str, value: object, path: str | None, args: list[Schema | None]
    ) -> Verdict:
        """Check the value a known filter receives; return what the filter gives back."""
        kinds = self.kinds(value)
        if kinds is not None:
            need = _filter_need(name, kinds)
            if need:
                return None, f"{subject(path)} is {describe(kinds)}; filter '{name}' needs {need}"
        return self._filter_result(name, value, kinds, args), None

    def _filter_result(
        self, name: str, value: object, kinds: Kinds | None, args: list[Schema | None]
    ) -> Schema | None:
        if name in _FIXED_RESULTS:
            return _FIXED_RESULTS[name]
        if name in ("default", "d"):
            fallback = args[0] if args else STRING
            same = kinds is not None and kinds == self.kinds(fallback)
            return self.resolve(value) if same else None
        if kinds is None:
            return None
        return self._result_of(name, value, kinds, args)

    def _result_of(
        self, name: str, value: object, kinds: Kinds, args: list[Schema | None]
    ) -> Schema | None:
        """What the filters whose result depends on what they receive give back."""
        if name == "abs" and kinds <= {"integer", "number"}:
            return self.resolve(value)
        if name in _ELEMENT_RESULTS:
            return self.element(value, None)[0]
        if name in ("sort", "list"):
            return {"type": "array", "items": self.element(value, None)[0] or {}}
        if name == "sum" and not args:
            inner = self.kinds(self.element(value, None)[0])
            if inner is not None and inner <= {"integer", "number"}:
                return INTEGER if inner == {"integer"} else NUMBER
        if name == "reverse" and kinds == {"string"}:
            return STRING
        if name == "dictsort":
            return ARRAY
        return None


def _binary_ok(op: str, left: str, right: str) -> bool:
    if left in NUMERIC and right in NUMERIC:
        return True
    if op == "+":
        return left == right and left in _SEQUENCE
    if op == "*":
        return (left in _SEQUENCE and right in NUMERIC) or (left in NUMERIC and right in _SEQUENCE)
    if op == "%":
        return left == "string"  # printf-style formatting
    return False


def _orderable(left: str, right: str) -> bool:
    return (left in NUMERIC and right in NUMERIC) or (left == right and left in _SEQUENCE)


def _filter_need(name: str, kinds: Kinds) -> str | None:
    if name in _TEXT_FILTERS and kinds <= {"array", "object"}:
        return "a string"
    if name in _NUMBER_FILTERS and not kinds & NUMERIC:
        return "a number"
    if name == "sum" and "array" not in kinds:
        return "an array"
    if name in _ITERATING_FILTERS and not kinds & ITERABLE:
        return "an array, an object or a string"
    if name in _MAPPING_FILTERS and "object" not in kinds:
        return "an object"
    return None
