"""The tracking plan: EventSchema and ProfileSchema checks, and the property maps others use.

Owns CleverTap's counting and size rules for schemas (clevertap-api.md §1.5): events per account,
properties per event, profile properties, key lengths, value sizes.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ctflow.config import Limits
from ctflow.problems import Problems
from ctflow.spec.declared import Declared
from ctflow.spec.model import Decl
from ctflow.spec.types import Property, parse_property, type_only, value_problem

MAX_KEY_CHARS = 120
LIMIT_TYPES = {
    "minimum": ("number", "integer"),
    "maximum": ("number", "integer"),
    "max_length": ("string",),
    "pattern": ("string",),
}


def event_properties(
    events: Sequence[Decl],
    limits: Limits,
    problems: Problems,
    *,
    partial: Collection[Decl] = (),
    complete: bool = True,
) -> Declared[Declared[Property]]:
    """Declared event name → its properties; duplicates and limits reported.

    The properties of a ``partial`` declaration (one that failed its schema, with the
    properties it got right) are incomplete; without ``complete``, so are the events."""
    found: Declared[Declared[Property]] = Declared(complete=complete)
    first: dict[str, Decl] = {}
    for count, decl in enumerate(events, start=1):
        name = decl.key
        if name in first:
            problems.add(
                decl.document,
                ("event",),
                f"event {name!r} is already declared at {first[name].document.where(['event'])}",
            )
            continue
        first[name] = decl
        if count == limits.events + 1:
            problems.add(
                decl.document,
                ("event",),
                f"more than {limits.events} events are declared; CleverTap allows "
                f"{limits.events} event types per account (limits.events in ctflow.yaml)",
            )
        _check_name(decl, ("event",), name, "event name", problems)
        properties = Declared(
            _properties(decl, problems).items(), complete=not any(decl is p for p in partial)
        )
        if len(properties) > limits.event_properties:
            problems.add(
                decl.document,
                ("properties",),
                f"{len(properties)} properties; CleverTap allows {limits.event_properties} per "
                "event (limits.event_properties in ctflow.yaml)",
            )
        found[name] = properties
    return found


def profile_properties(
    profiles: Sequence[Decl], limits: Limits, problems: Problems, *, complete: bool = True
) -> Declared[Property]:
    """Every declared profile property (all ProfileSchema documents merged); not ``complete``
    when a ProfileSchema failed (only the properties it got right are here)."""
    found: Declared[Property] = Declared(complete=complete)
    declared_in: dict[str, Decl] = {}
    for decl in profiles:
        for name, prop in _properties(decl, problems).items():
            if name in declared_in:
                where = declared_in[name].document.where(["properties", name])
                problems.add(
                    decl.document,
                    ("properties", name),
                    f"profile property {name!r} is already declared at {where}",
                    at_key=True,
                )
                continue
            declared_in[name] = decl
            found[name] = prop
    if len(found) > limits.profile_properties:
        last = list(declared_in.values())[-1]
        problems.add(
            last.document,
            ("properties",),
            f"{len(found)} profile properties are declared; CleverTap allows "
            f"{limits.profile_properties} (limits.profile_properties in ctflow.yaml)",
        )
    return found


def _properties(decl: Decl, problems: Problems) -> dict[str, Property]:
    raw: Mapping[str, Any] = decl.data.get("properties") or {}
    properties: dict[str, Property] = {}
    for name, definition in raw.items():
        keys = ("properties", name)
        _check_name(decl, keys, name, "property name", problems, at_key=True)
        prop = parse_property(name, definition)
        _check_property(decl, keys, prop, problems)
        properties[name] = prop
    return properties


def _check_name(
    decl: Decl,
    keys: tuple[str | int, ...],
    name: str,
    what: str,
    problems: Problems,
    *,
    at_key: bool = False,
) -> None:
    if len(name) > MAX_KEY_CHARS:
        problems.add(
            decl.document,
            keys,
            f"{what} is {len(name)} characters; CleverTap allows {MAX_KEY_CHARS}",
            at_key=at_key,
        )


def _check_property(
    decl: Decl, keys: tuple[str | int, ...], prop: Property, problems: Problems
) -> None:
    for name, kinds in LIMIT_TYPES.items():
        if getattr(prop, name) is not None and prop.type not in kinds:
            problems.add(
                decl.document,
                (*keys, name),
                f"{name} applies to {' and '.join(kinds)} properties; {prop.name} is {prop.kind}",
                at_key=True,
            )
    if prop.enum is not None:
        plain = type_only(prop)
        for index, value in enumerate(prop.enum):
            reason = value_problem(plain, value)
            if reason:
                problems.add(decl.document, (*keys, "enum", index), f"enum value: {reason}")
    if prop.minimum is not None and prop.maximum is not None and prop.minimum > prop.maximum:
        problems.add(
            decl.document,
            (*keys, "minimum"),
            f"minimum {prop.minimum:g} is above maximum {prop.maximum:g}",
        )
    if prop.pattern is not None:
        try:
            re.compile(prop.pattern)
        except re.error as error:
            problems.add(
                decl.document, (*keys, "pattern"), f"pattern is not a regular expression: {error}"
            )
