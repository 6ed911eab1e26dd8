"""The per-field diff of two create bodies, with sensitive values masked, and the text diff of
long strings. Pure: standard library, ``ctflow.masking`` and ``ctflow.plan.model`` only."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from ctflow.masking import SENSITIVE, is_sensitive
from ctflow.plan.model import FieldChange

LONG = 80


def flatten(body: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings → dotted paths; lists, scalars and empty mappings are leaf values."""
    flat: dict[str, Any] = {}
    for key, value in body.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON: ``1``, ``1.0`` and ``true`` differ, key order does not matter."""
    return json.dumps(a, sort_keys=True, default=repr) == json.dumps(
        b, sort_keys=True, default=repr
    )


def _mask(path: str, value: Any) -> Any:
    return SENSITIVE if value is not None and is_sensitive(path) else value


def field_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[FieldChange, ...]:
    """The paths whose values differ, sorted; ``before=None`` means unknown: all of ``after``
    is added. Raw values are compared first, then sensitive ones are masked on both sides."""
    old, new = flatten(before or {}), flatten(after or {})
    return tuple(
        FieldChange(path, _mask(path, old.get(path)), _mask(path, new.get(path)))
        for path in sorted(old.keys() | new.keys())
        if path not in old or path not in new or not _same(old[path], new[path])
    )


def is_long(value: Any) -> bool:
    """A string better shown line by line than inline."""
    return isinstance(value, str) and (len(value) > LONG or "\n" in value)


def text_diff(before: str, after: str, *, path: str) -> list[str]:
    """Unified diff lines (two lines of context) of a long string field."""
    return list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            fromfile=f"{path} (before)",
            tofile=f"{path} (after)",
            n=2,
            lineterm="",
        )
    )
