"""What is left to check of a declaration that failed its schema: the parts it found no fault in.

So that one misspelt field does not hide, until the next run, an undeclared event, a date that
does not exist or a template that cannot render in the same declaration. Pure; no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from ctflow.spec.documents import KEY_FIELD, Broken
from ctflow.spec.model import Decl, Keys

TEMPLATE_ROOTS = ("content", "values")
"""Checked leaf by leaf: a fault in one text leaves the other templates worth checking."""


def schema_part(broken: Broken) -> Decl | None:
    """A broken EventSchema's event and a broken ProfileSchema's properties, as far as the
    schema found no fault in them (``None`` when the event's name itself is at fault)."""
    data = broken.data
    raw = data.get("properties")
    properties = {
        name: definition
        for name, definition in (raw.items() if isinstance(raw, Mapping) else ())
        if isinstance(name, str) and broken.intact(("properties", name))
    }
    key = data.get(KEY_FIELD.get(broken.kind, "key"))
    if broken.kind == "EventSchema" and not (isinstance(key, str) and broken.intact(("event",))):
        return None
    kept = {"kind": broken.kind, "properties": properties}
    return Decl(broken.kind, key if isinstance(key, str) else "", kept, broken.document)


def pruned(broken: Broken) -> Decl:
    """The declaration without every field the schema found a fault at or under; template
    texts leaf by leaf, a journey's defaults field by field and its steps one by one (a step
    without a usable ``key`` and ``after`` becomes ``None``, so that the others keep their
    index). Checks must expect any field to be absent."""
    data, faults = broken.data, broken.faults
    kept = _fields(faults, data, ()) if broken.schema_checked else {}
    if broken.kind == "Journey" and broken.schema_checked:
        defaults, steps = data.get("defaults"), data.get("steps")
        if isinstance(defaults, Mapping):
            kept["defaults"] = _fields(faults, defaults, ("defaults",))
        if isinstance(steps, list):
            kept["steps"] = [_step(broken, step, index) for index, step in enumerate(steps)]
    key = data.get(KEY_FIELD.get(broken.kind, "key"))
    return Decl(broken.kind, key if isinstance(key, str) else "?", kept, broken.document)


def without_faults(data: Mapping[str, Any], faults: Collection[Keys]) -> dict[str, Any]:
    """``data`` without the fields a fault is at or under (template texts leaf by leaf): what
    is left of a journey step that fails the campaign schema, to check its templates."""
    return _fields(tuple(faults), data, ())


def usable(decl: Decl, required: Collection[str]) -> bool:
    """Whether the fields a check cannot do without survived the pruning."""
    return all(name in decl.data for name in required)


def plain_parameters(decl: Decl) -> bool:
    """Whether a trigger left by :func:`pruned` has parameters its templates can be checked
    against: a schema whose ``properties`` is a mapping of schemas, with no alias inside."""
    parameters = decl.data.get("parameters")
    if not isinstance(parameters, Mapping):
        return False
    properties = parameters.get("properties", {})
    if not isinstance(properties, Mapping) or not all(
        isinstance(p, Mapping) for p in properties.values()
    ):
        return False
    try:
        json.dumps(parameters, default=str)
    except ValueError:  # a value that contains itself
        return False
    return True


def _step(broken: Broken, step: Any, index: int) -> dict[str, Any] | None:
    keys: Keys = ("steps", index)
    if not isinstance(step, Mapping) or not all(
        broken.intact((*keys, name)) for name in ("key", "after")
    ):
        return None
    return _fields(broken.faults, step, keys)


def _fields(faults: tuple[Keys, ...], value: Mapping[str, Any], keys: Keys) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for name, child in value.items():
        at: Keys = (*keys, name)
        if name in TEMPLATE_ROOTS and isinstance(child, Mapping):
            kept[name] = _leaves(faults, child, at)
        elif not any(fault[: len(at)] == at for fault in faults):
            kept[name] = child
    return kept


def _leaves(
    faults: tuple[Keys, ...], value: Any, keys: Keys, above: frozenset[int] = frozenset()
) -> Any:
    """``value`` without the texts a fault is at (a list keeps ``None`` in their place, so
    that the others keep their index); a value that contains itself (a YAML alias) ends."""
    if _container(value) and id(value) in above:
        return None
    inner = above | {id(value)}
    if isinstance(value, Mapping):
        return {
            name: _leaves(faults, child, (*keys, name), inner)
            for name, child in value.items()
            if _container(child) or (*keys, name) not in faults
        }
    if isinstance(value, list):
        return [
            _leaves(faults, child, (*keys, index), inner)
            if _container(child) or (*keys, index) not in faults
            else None
            for index, child in enumerate(value)
        ]
    return value


def _container(value: Any) -> bool:
    return isinstance(value, Mapping | list)
