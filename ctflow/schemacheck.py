"""JSON Schema errors → one readable line each, placed at the offending YAML value.

Owns the wording of schema violations (unknown fields with suggestions, missing fields, wrong
types, bad enum values), for ``ctflow.yaml`` and for every declaration. Imports jsonschema and
``ctflow.problems`` only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only annotations: the validator's caller imported jsonschema already
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

from ctflow.problems import dotted, suggest


@dataclass(frozen=True)
class Violation:
    """One schema violation: the keys of the value in the document and what is wrong."""

    keys: tuple[str | int, ...]
    message: str
    at_key: bool = False

    def text(self) -> str:
        where = dotted(self.keys)
        return f"{where}: {self.message}" if where else self.message


def violations(validator: Draft202012Validator, instance: Any) -> list[Violation]:
    """Every violation of ``instance``, most specific first within one location."""
    found: dict[tuple[tuple[str | int, ...], str], Violation] = {}
    for error in validator.iter_errors(instance):
        for violation in _explain(error):
            found.setdefault((violation.keys, violation.message), violation)
    # A misspelt required field is one mistake: "unknown field (did you mean 'x'?)" says it all,
    # so the "missing required field 'x'" it causes in the same mapping is left out.
    meant = {
        (v.keys[:-1], match[1])
        for v in found.values()
        if v.at_key and (match := re.search(r"did you mean '(.+)'\?\)$", v.message))
    }
    return [
        v
        for v in found.values()
        if not any(
            v.keys == parent and v.message == f"missing required field {name!r}"
            for parent, name in meant
        )
    ]


def _explain(error: ValidationError) -> Iterator[Violation]:
    """What one error means in words: the schema's own ``x-message`` where it has one (e.g.
    never echo a secret), else the wording of its kind of check."""
    keys = tuple(error.absolute_path)
    kind = str(error.validator)
    message = error.schema.get("x-message") if isinstance(error.schema, Mapping) else None
    if kind in ("anyOf", "oneOf") and error.context:
        if message:
            yield Violation(keys, str(message))
        else:
            yield from _explain(_best(error.context))
        return
    if kind in ("additionalProperties", "unevaluatedProperties"):
        if isinstance(error.instance, Mapping):
            yield from _unknown_fields(keys, error.instance, error.schema)
            return
    elif message and kind in _OWN_MESSAGE:
        yield Violation(keys, str(message))
        return
    explain = _EXPLAIN.get(kind)
    found = explain(error) if explain is not None else None
    if found is None:
        found = str(message) if message and kind != "type" else error.message
    yield Violation(keys, found)


def _unknown_fields(
    keys: tuple[str | int, ...], instance: Mapping[str, Any], schema: Any
) -> Iterator[Violation]:
    known = _known_fields(schema)
    for extra in _extras(instance, schema):
        yield Violation((*keys, extra), f"unknown field{suggest(extra, known)}", at_key=True)


def _too_long(error: ValidationError) -> str | None:
    if not isinstance(error.instance, str):
        return None
    return f"{len(error.instance)} characters; at most {error.validator_value}"


def _wrong_type(error: ValidationError) -> str:
    expected = error.validator_value
    names = expected if isinstance(expected, list) else [expected]
    shown = " or ".join(TYPE_NAMES.get(str(n), str(n)) for n in names)
    return f"expected {shown}, found {describe(error.instance)}"


def _missing(error: ValidationError) -> str:
    return f"missing required field {_quoted(error.message)!r}"


def _not_allowed(error: ValidationError) -> str:
    allowed = [str(v) for v in error.validator_value]  # type: ignore[union-attr]
    return (
        f"{error.instance!r} is not one of {', '.join(allowed)}{suggest(error.instance, allowed)}"
    )


def _no_match(error: ValidationError) -> str | None:
    expected = error.schema.get("x-expected") if isinstance(error.schema, Mapping) else None
    return f"{short(error.instance)} is not {expected}" if expected else None


def _needed_with(error: ValidationError) -> str:
    return error.message.replace(" is a dependency of ", " is needed with ")


_OWN_MESSAGE = frozenset({"required", "pattern", "not"})
"""Checks whose schema's ``x-message`` replaces the wording below."""
_EXPLAIN: dict[str, Callable[[ValidationError], str | None]] = {
    "maxLength": _too_long,
    "type": _wrong_type,
    "required": _missing,
    "enum": _not_allowed,
    "pattern": _no_match,
    "dependentRequired": _needed_with,
}
"""The wording of each kind of check; ``None``: the generic wording instead."""


TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "nothing",
}


def short(value: Any, limit: int = 40) -> str:
    """``repr`` of a value, cut to ``limit`` characters so one message stays one line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(value: Any) -> str:
    """What a YAML value is, in the words of a person reading the file."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true or false)"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {short(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return short(value)


def _best(errors: list[ValidationError]) -> ValidationError:
    """Among the failures of each alternative, the one that says most about the intended one.

    A ``type`` failure usually means "this was not the alternative you meant"; prefer errors
    from an alternative whose type matched, and deeper ones (closer to the real mistake).
    """

    def rank(error: ValidationError) -> tuple[int, int]:
        return (error.validator != "type", len(error.absolute_path))

    return max(errors, key=rank)


def _known_fields(schema: Any) -> list[str]:
    if not isinstance(schema, Mapping):
        return []
    return [str(name) for name in schema.get("properties", {})]


def _extras(instance: Mapping[str, Any], schema: Any) -> list[str]:
    properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    patterns = schema.get("patternProperties", {}) if isinstance(schema, Mapping) else {}
    return [
        str(name)
        for name in instance
        if name not in properties and not any(re.search(p, str(name)) for p in patterns)
    ]


def _quoted(message: str) -> str:
    match = re.match(r"^'(.*)' is a required property$", message)
    return match[1] if match else message
