"""A trigger's ``parameters`` as written, made safe to read: every part that breaks JSON Schema's
own rules (the 2020-12 metaschema) is a problem at its position, and is left out of the schema
the rest of the checks are given (keys are text already: ``documents`` refuses any other).

A compiled check (jsonschema-rs) answers first; only a schema it cannot vouch for goes through
jsonschema. Imports jsonschema, jsonschema-rs, ``ctflow.problems``, ``ctflow.schemacheck`` and
the declarations' model only.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Mapping
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator

from ctflow.problems import Problems
from ctflow.schemacheck import violations
from ctflow.spec.model import Decl, Keys

_META = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)
_ROUNDS = 8
"""Left-out parts can uncover others (an emptied list); after this many rounds, none is used."""
EMPTY: Mapping[str, Any] = {"type": "object"}
_FAST_META = jsonschema_rs.Draft202012Validator(Draft202012Validator.META_SCHEMA)
_FORMATTED = frozenset(
    {"pattern", "patternProperties", "$id", "$schema", "$ref", "$dynamicRef", "$vocabulary"}
    | {"$anchor", "$dynamicAnchor"}
)
"""Keywords whose values the metaschema checks with a ``format`` (regex, URI) or a regex: checked
by Python's ``re`` and jsonschema only, as the compiled validator's rules for them differ."""


def _surely_valid(schema: Any) -> bool:
    """Whether the compiled validator vouches for ``schema`` (no keyword it might judge
    differently from jsonschema anywhere in it); False when it cannot tell."""
    if _mentions(schema, _FORMATTED):
        return False
    try:
        return bool(_FAST_META.is_valid(schema))
    except (ValueError, TypeError, OverflowError):
        return False


_JUDGED_ALIKE_NOT = _FORMATTED | {"format", "multipleOf", "uniqueItems", "enum", "const"}
"""Keywords of ``parameters`` after which the compiled validator's word on data is not taken:
formats and regexes (see above), float division, and equality (1 and true)."""


def vouched(parameters: Mapping[str, Any], data: Any) -> bool:
    """Whether the compiled validator vouches for ``data`` against ``parameters`` (a fixture,
    checked many times faster than by jsonschema); False when it cannot tell, or when
    ``parameters`` has a keyword it might judge differently: then ask jsonschema."""
    validator = _compiled(json.dumps(parameters, sort_keys=True, default=str))
    try:
        return validator is not None and _finite(data) and bool(validator.is_valid(data))
    except (ValueError, TypeError, OverflowError):
        return False


def _finite(value: Any) -> bool:
    """No infinity or NaN anywhere in ``value`` (YAML's ``.inf``): the compiled validator lets
    them past ``maximum`` where jsonschema does not."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


@functools.lru_cache(maxsize=256)
def _compiled(parameters: str) -> jsonschema_rs.Validator | None:
    schema = json.loads(parameters)
    if _mentions(schema, _JUDGED_ALIKE_NOT):
        return None
    try:
        return jsonschema_rs.Draft202012Validator(schema)
    except (ValueError, TypeError, OverflowError):
        return None


def _mentions(value: Any, keys: frozenset[str]) -> bool:
    if isinstance(value, dict):
        return not keys.isdisjoint(value) or any(_mentions(v, keys) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, keys) for v in value)
    return False


def readable(decl: Decl, problems: Problems) -> tuple[Mapping[str, Any], bool]:
    """(``parameters`` with every malformed part left out, whether nothing was left out)."""
    written: Any = decl.data["parameters"]
    if _surely_valid(written):
        return written, True
    found = violations(_META, written)
    for v in found:
        message = f"not valid in a JSON Schema: {v.message}"
        problems.add(decl.document, ("parameters", *v.keys), message, at_key=v.at_key)
    if not found:
        return written, True
    schema = copy.deepcopy(written)
    for _ in range(_ROUNDS):
        broken = [tuple(error.absolute_path) for error in _META.iter_errors(schema)]
        if not broken:
            return schema, False
        for keys in broken:
            schema = _without(schema, keys)
    return EMPTY, False


def _without(schema: Any, keys: Keys) -> Any:
    """``schema`` without the mapping entry holding the value at ``keys`` (a list element's
    whole list goes: ``required: [1]`` loses ``required``)."""
    keys = tuple(keys)
    while keys and isinstance(keys[-1], int) and not _is_key(schema, keys):
        keys = keys[:-1]
    if not keys:
        return dict(EMPTY)
    parent = schema
    for part in keys[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return schema  # already left out with an enclosing part
    if isinstance(parent, dict):
        parent.pop(keys[-1], None)
    return schema


def _is_key(schema: Any, keys: Keys) -> bool:
    """Whether ``keys`` ends at a mapping entry (an integer key is one) rather than a list item."""
    parent = schema
    for part in keys[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(parent, dict)
