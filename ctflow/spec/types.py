"""Property types: definitions, value checks and the JSON Schema of record properties, plus
the date values filters use (docs/declarations.md "Types and values used throughout").

Imports only the standard library and ctflow.spec.timeparse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.spec import timeparse

PROPERTY_TYPES = ("string", "number", "integer", "boolean", "date", "list")
MAX_VALUE_BYTES = 512  # clevertap-api.md §1.5: a property value is at most 512 bytes (UTF-8)
MAX_LIST_ITEMS = 100  # §1.5: a multi-value property keeps at most 100 items
ARTICLE = {"integer": "an"}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Property:
    """One declared event or profile property."""

    name: str
    type: str
    required: bool = False
    description: str | None = None
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    pattern: str | None = None

    @property
    def kind(self) -> str:
        """The type with its article, for messages: 'a number', 'an integer'."""
        return f"{ARTICLE.get(self.type, 'a')} {self.type}"


def parse_property(name: str, raw: str | Mapping[str, Any]) -> Property:
    """A property from its declaration: the shorthand `list` or a mapping with `type`."""
    if isinstance(raw, str):
        return Property(name, _type(name, raw))
    enum = raw.get("enum")
    return Property(
        name=name,
        type=_type(name, raw.get("type")),
        required=bool(raw.get("required", False)),
        description=raw.get("description"),
        enum=tuple(enum) if isinstance(enum, list | tuple) else None,
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        max_length=raw.get("max_length"),
        pattern=raw.get("pattern"),
    )


def _type(name: str, value: object) -> str:
    if value not in PROPERTY_TYPES:
        raise ValueError(f"property {name!r}: unknown type {value!r}")
    return str(value)


def type_only(prop: Property) -> Property:
    """The property without the limits that do not bind comparison operands or enum values
    (every filter of every audience asks: one copy per property)."""
    if (prop.enum, prop.minimum, prop.maximum, prop.max_length, prop.pattern) == _NO_LIMITS:
        return prop
    return _bare(prop.name, prop.type, prop.required, prop.description)


_NO_LIMITS = (None, None, None, None, None)


@lru_cache(maxsize=1024)
def _bare(name: str, type_: str, required: bool, description: str | None) -> Property:
    return Property(name, type_, required, description)


def parse_properties(raw: Mapping[str, Any] | None) -> dict[str, Property]:
    return {name: parse_property(name, spec) for name, spec in (raw or {}).items()}


# -- values ------------------------------------------------------------------------------------
def show(value: object) -> str:
    """A value as a message shows it: strings quoted (and cut at 40 characters), YAML words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:39] + "…")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def is_number(value: object) -> bool:
    """int or finite float, never bool."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def is_integer(value: object) -> bool:
    """An int, or a float without a fraction (JSON Schema's reading); never bool."""
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def iso_date(value: object) -> date | None:
    """A date written `YYYY-MM-DD` (and only so: not `20261201`), None when it is not one."""
    if isinstance(value, str) and _DATE.fullmatch(value):
        return timeparse.parse_date(value)
    return None


def iso_datetime(value: object) -> datetime | None:
    """`YYYY-MM-DD HH:MM` (or with `T`, optional seconds), naive; None when it is not one."""
    return timeparse.parse_datetime(value) if isinstance(value, str) else None


def day_count(value: object) -> int | None:
    """The days of a whole-day duration (`7d`, `2w`, `48h`); None for anything else."""
    return _days(value) if isinstance(value, str) else None


@lru_cache(maxsize=1024)
def _days(text: str) -> int | None:
    length = timeparse.parse_duration(text)
    if length is None or length % timedelta(days=1):
        return None
    return length.days


def date_epoch(value: object, tz: ZoneInfo, *, end_of_day: bool = False) -> int | None:
    """Epoch seconds of a date property value: an ISO date (its first second, or last with
    `end_of_day`), a date-time in `tz`, or epoch seconds as they are. None for anything else."""
    if is_integer(value):
        assert isinstance(value, int | float)
        return int(value)
    day = iso_date(value)
    if day is not None:
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        if end_of_day:
            return int((start + timedelta(days=1)).timestamp()) - 1
        return int(start.timestamp())
    moment = iso_datetime(value)
    if moment is None:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=tz)).timestamp())


def _date_problem(prop: Property, value: object) -> str | None:
    if is_integer(value) or iso_date(value) is not None or iso_datetime(value) is not None:
        return None
    if isinstance(value, str) and _DATE.match(value):
        return f"{show(value)} is not a calendar date"
    return (
        f"{show(value)} is not a date ({prop.name} is a date: YYYY-MM-DD, YYYY-MM-DD HH:MM or "
        "epoch seconds)"
    )


def _type_problem(prop: Property, value: object, in_filter: bool) -> str | None:
    if prop.type in _IS_TYPE:
        if _IS_TYPE[prop.type](value):
            return None
        return f"{show(value)} is not {prop.kind} ({prop.name} is {prop.kind})"
    if prop.type == "date":
        return _date_problem(prop, value)
    if in_filter and isinstance(value, str):
        return None
    if not isinstance(value, list | tuple):
        return f"{show(value)} is not a list of strings ({prop.name} is a list)"
    for item in value:
        if not isinstance(item, str):
            return f"{show(item)} is not a string ({prop.name} is a list of strings)"
    if len(value) > MAX_LIST_ITEMS:
        return f"{prop.name} has {len(value)} values; CleverTap keeps at most {MAX_LIST_ITEMS}"
    return None


_IS_TYPE: dict[str, Callable[[object], bool]] = {
    "string": lambda value: isinstance(value, str),
    "number": is_number,
    "integer": is_integer,
    "boolean": lambda value: isinstance(value, bool),
}


def _text_problem(prop: Property, text: str) -> str | None:
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    if size > MAX_VALUE_BYTES:
        return f"{show(text)} is {size} bytes; CleverTap allows at most {MAX_VALUE_BYTES} (UTF-8)"
    if prop.enum is not None and text not in prop.enum:
        return f"{show(text)} is not one of {', '.join(str(v) for v in prop.enum)}"
    if prop.max_length is not None and len(text) > prop.max_length:
        return f"{show(text)} is longer than {prop.name}'s max_length {prop.max_length}"
    if prop.pattern is not None:
        try:
            found = re.search(prop.pattern, text)
        except re.error:
            return None  # a broken pattern is the definition's problem
        if found is None:
            return f"{show(text)} does not match {prop.name}'s pattern {prop.pattern}"
    return None


def value_problem(prop: Property, value: Any, *, in_filter: bool = False) -> str | None:
    """None when `value` fits `prop`, else a one-line reason.

    `in_filter`: the value is a filter operand, so a `list` property also takes one string (an
    element to look for).
    """
    problem = _type_problem(prop, value, in_filter)
    if problem is not None:
        return problem
    if prop.type in ("string", "list"):
        for text in value if isinstance(value, list | tuple) else [value]:
            problem = _text_problem(prop, text)
            if problem is not None:
                return problem
        return None
    if prop.enum is not None and value not in prop.enum:
        return f"{show(value)} is not one of {', '.join(show(v) for v in prop.enum)}"
    if prop.type in ("number", "integer"):
        if prop.minimum is not None and value < prop.minimum:
            return f"{show(value)} is below {prop.name}'s minimum {show(prop.minimum)}"
        if prop.maximum is not None and value > prop.maximum:
            return f"{show(value)} is above {prop.name}'s maximum {show(prop.maximum)}"
    return None


# -- JSON Schema for records -------------------------------------------------------------------
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$"
ISO_DATE_PATTERN = _ISO_DATE
"""The pattern a date property's ISO form matches (uploads take it out: shaping turns every
valid ISO date into ``$D_<epoch>``, so one left is not a calendar date)."""


def _value_schema(prop: Property) -> dict[str, Any]:
    schema: dict[str, Any]
    if prop.type in ("string", "list"):
        limit = min(prop.max_length or MAX_VALUE_BYTES, MAX_VALUE_BYTES)
        schema = {"type": "string", "maxLength": limit}
        if prop.pattern is not None:
            schema["pattern"] = prop.pattern
        if prop.enum is not None:
            schema["enum"] = list(prop.enum)
        if prop.type == "list":
            schema = {"type": "array", "items": schema, "maxItems": MAX_LIST_ITEMS}
    elif prop.type == "date":
        schema = {
            "anyOf": [
                {"type": "string", "pattern": _ISO_DATE},
                {"type": "string", "pattern": r"^\$D_-?[0-9]+$"},
                {"type": "integer"},
            ]
        }
    else:
        schema = {"type": prop.type}
        if prop.enum is not None:
            schema["enum"] = list(prop.enum)
        if prop.minimum is not None:
            schema["minimum"] = prop.minimum
        if prop.maximum is not None:
            schema["maximum"] = prop.maximum
    if prop.description:
        schema = {"description": prop.description, **schema}
    return schema


def property_json_schema(props: Mapping[str, Property], *, strict: bool) -> dict[str, Any]:
    """A JSON Schema for one record's property mapping.

    Dates take ISO dates and date-times, CleverTap's `$D_<epoch>` and epoch seconds. Limits a
    JSON Schema cannot state (512 bytes in UTF-8, calendar validity) are `value_problem`'s.
    `strict` refuses undeclared properties (EventSchema `strict: true`).
    """
    return {
        "type": "object",
        "properties": {name: _value_schema(prop) for name, prop in props.items()},
        "required": [name for name, prop in props.items() if prop.required],
        "additionalProperties": not strict,
    }


def utc_epoch(value: object) -> int | None:
    """`date_epoch` in UTC: for comparing two declared dates where no timezone matters."""
    return date_epoch(value, ZoneInfo("UTC"))
