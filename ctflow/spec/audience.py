"""Audiences: checking one against the declared events and profile properties (compiling it to
CleverTap's `where` is in ``where.py``). Imports only the standard library and ctflow.spec.types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from ctflow.problems import suggest
from ctflow.spec.declared import undeclared
from ctflow.spec.types import (
    Property,
    day_count,
    iso_date,
    show,
    type_only,
    utc_epoch,
    value_problem,
)

Path = tuple[str | int, ...]
Problem = tuple[Path, str]
Events = Mapping[str, Mapping[str, Property]]
Profile = Mapping[str, Property]

CONDITION_PARTS = ("did", "did_not", "did_any")
PARTS = (*CONDITION_PARTS, "profile", "reachable_by")
OPERATORS = ("equals", "not_equals", "contains", "greater_than", "less_than", "between", "exists")
_ORDERED = ("equals", "not_equals", "greater_than", "less_than", "between", "exists")
_TEXT = ("equals", "not_equals", "contains", "exists")
OPERATORS_BY_TYPE = {
    "string": _TEXT,
    "list": _TEXT,
    "number": _ORDERED,
    "integer": _ORDERED,
    "date": _ORDERED,
    "boolean": ("equals", "not_equals", "exists"),
}
COUNTS = ("at_least", "at_most", "exactly", "between")
COUNT_MINIMUM = {"at_least": 1, "at_most": 0, "exactly": 0}
REACHABILITY = {
    "push": "has_token",
    "webpush": "has_token",
    "email": "has_email",
    "sms": "has_phone",
    "whatsapp": "has_phone",
}
REACHABILITY_ORDER = ("has_token", "has_email", "has_phone")
LIST_OF_VALUES = "a list of values (equals one of)"
LIST_FILTERS = "{contains: TEXT} or {equals: [...]}"
WINDOW_KEYS = ("in_last", "since", "from", "to")
MAX_WINDOW_DAYS = 36525  # 100 years: anything longer is a typo, and keeps date arithmetic sane


def _words(names: Sequence[str]) -> str:
    """`a, b or c`."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _under(prefix: Path, problems: Iterable[Problem]) -> list[Problem]:
    return [((*prefix, *path), message) for path, message in problems]


# -- checking --------------------------------------------------------------------------------
def check_audience(
    audience: Any, events: Events, profile: Profile, *, today: date | None = None
) -> list[Problem]:
    """Every problem of an audience, each with the path of the offending value (relative to the
    audience). With `today`, windows ending in the future are problems too (CleverTap refuses
    them); without it the check needs no clock."""
    if isinstance(audience, str) and audience:
        return []  # everyone, or an Audience's key (``audiences.check_references``)
    if not isinstance(audience, Mapping):
        return [
            ((), f"an audience is 'everyone', an Audience's key or a mapping of {_words(PARTS)}")
        ]
    problems: list[Problem] = []
    for part, value in audience.items():
        if part in CONDITION_PARTS:
            problems += _check_conditions(part, value, events, today)
        elif part == "profile":
            problems += _check_profile(value, profile)
        elif part == "reachable_by":
            problems += _check_reachability(value)
        else:
            problems.append(((part,), f"{part!r} is not an audience part{suggest(part, PARTS)}"))
    return problems


def _check_conditions(part: str, value: Any, events: Events, today: date | None) -> list[Problem]:
    if not isinstance(value, list):
        return [((part,), f"{part} takes a list of event conditions")]
    problems: list[Problem] = []
    for index, condition in enumerate(value):
        if found := _check_condition(condition, events, today):
            problems += _under((part, index), found)
    if part == "did_any":
        problems += _check_any_counts(value)
    return problems


def _check_any_counts(conditions: list[Any]) -> list[Problem]:
    """did_any has one count, on the total of its events (§4.2 `did_any.operator/value`)."""
    counts = [c.get("count") if isinstance(c, Mapping) else None for c in conditions]
    message = (
        "in did_any a count applies to all its events together: give the same count on every "
        "condition, or none"
    )
    return [
        (("did_any", index, "count") if count is not None else ("did_any", index), message)
        for index, count in enumerate(counts)
        if count != counts[0]
    ]


def _check_condition(condition: Any, events: Events, today: date | None) -> list[Problem]:
    if not isinstance(condition, Mapping):
        return [((), "an event condition is a mapping with 'event' and a window")]
    event = condition.get("event")
    props = events.get(event) if isinstance(event, str) else None
    problems: list[Problem] = []
    if props is None and undeclared(event, events):
        problems.append(
            (("event",), f"event {show(event)} is not declared{suggest(event, events)}")
        )
    problems += _check_window(condition, today)
    where = condition.get("where")
    if where is not None and not isinstance(where, Mapping):
        problems.append((("where",), "where takes a mapping of property: filter"))
    elif where is not None and props is not None:
        for name, spec in where.items():
            prop = props.get(name)
            if prop is None:
                if undeclared(name, props):
                    problems.append(
                        (
                            ("where", name),
                            f"property {show(name)} is not declared for event {event!r}"
                            f"{suggest(name, props)}",
                        )
                    )
            elif found := check_filter(prop, spec):
                problems += _under(("where", name), found)
    if "count" in condition:
        problems += _under(("count",), _check_count(condition["count"]))
    return problems


def _check_window(condition: Mapping[str, Any], today: date | None) -> list[Problem]:
    given = [key for key in WINDOW_KEYS if key in condition]
    if not given:
        return [((), "give a window: in_last, since, or from and to")]
    if len(given) > 1 and given != ["from", "to"]:
        return [((), f"give one window: in_last, since, or from and to (found {_words(given)})")]
    if given == ["in_last"]:
        return _check_in_last(condition["in_last"])
    if given == ["since"]:
        return _check_day(condition, "since", today)
    if given != ["from", "to"]:
        missing = "to" if given == ["from"] else "from"
        return [((given[0],), f"'{given[0]}' needs '{missing}'")]
    problems = _check_day(condition, "from", None) + _check_day(condition, "to", today)
    first, last = iso_date(condition["from"]), iso_date(condition["to"])
    if not problems and first is not None and last is not None and first > last:
        problems.append((("from",), f"'from' {first} is after 'to' {last}"))
    return problems


def _check_in_last(value: Any) -> list[Problem]:
    days = day_count(value)
    if days is None:
        return [(("in_last",), f"{show(value)} is not a whole number of days (like 7d or 2w)")]
    if not 1 <= days <= MAX_WINDOW_DAYS:
        return [(("in_last",), f"in_last must be 1 day to 100 years, not {show(value)}")]
    return []


def _check_day(condition: Mapping[str, Any], key: str, today: date | None) -> list[Problem]:
    value = condition[key]
    day = iso_date(value)
    if day is None:
        looks = isinstance(value, str) and len(value) == 10 and value[4::3] == "--"
        reason = "is not a calendar date" if looks else "is not a date (YYYY-MM-DD)"
        return [((key,), f"{show(value)} {reason}")]
    if today is not None and day > today:
        return [
            ((key,), f"'{key}' {day} is in the future (today is {today}); CleverTap refuses it")
        ]
    return []


def _check_count(count: Any) -> list[Problem]:
    if not isinstance(count, Mapping) or len(count) != 1:
        return [((), f"give one of {_words(COUNTS)}")]
    ((kind, value),) = count.items()
    if kind not in COUNTS:
        return [((kind,), f"{kind!r} is not a count{suggest(kind, COUNTS)}; use {_words(COUNTS)}")]
    if kind != "between":
        return _under((kind,), _count_number(value, COUNT_MINIMUM[kind]))
    if not isinstance(value, list) or len(value) != 2:
        return [((kind,), "between takes [LOW, HIGH]")]
    problems = [((kind, i, *p), m) for i, v in enumerate(value) for p, m in _count_number(v, 0)]
    if not problems and value[0] > value[1]:
        problems.append(((kind,), f"'between' low {value[0]} is above high {value[1]}"))
    return problems


def _count_number(value: Any, minimum: int) -> list[Problem]:
    if not isinstance(value, int) or isinstance(value, bool):
        return [((), f"{show(value)} is not a whole number")]
    if value < minimum:
        return [((), f"{value} is below {minimum}")]
    return []


def _check_profile(value: Any, profile: Profile) -> list[Problem]:
    if not isinstance(value, Mapping):
        return [(("profile",), "profile takes a mapping of property: filter")]
    problems: list[Problem] = []
    for name, spec in value.items():
        prop = profile.get(name)
        if prop is None:
            if undeclared(name, profile):
                problems.append(
                    (
                        ("profile", name),
                        f"profile property {show(name)} is not declared{suggest(name, profile)}",
                    )
                )
        elif found := check_filter(prop, spec):
            problems += _under(("profile", name), found)
    return problems


def _check_reachability(value: Any) -> list[Problem]:
    if not isinstance(value, list):
        return [(("reachable_by",), "reachable_by takes a list of channels")]
    channels = list(REACHABILITY)
    return [
        (
            ("reachable_by", index),
            f"{show(item)} is not a channel{suggest(item, channels)}; use {_words(channels)}",
        )
        for index, item in enumerate(value)
        if item not in REACHABILITY
    ]


def check_filter(prop: Property, spec: Any) -> list[Problem]:
    """Problems of one filter (`where` / `profile` value) on `prop`; paths relative to it."""
    if isinstance(spec, list):
        if prop.type == "list":
            return [((), f"{LIST_OF_VALUES} does not apply to {_about(prop)}; use {LIST_FILTERS}")]
        return _check_values(prop, spec)
    if not isinstance(spec, Mapping):
        problem = value_problem(prop, spec, in_filter=True)
        return [] if problem is None else [((), problem)]
    applies = OPERATORS_BY_TYPE[prop.type]
    if not spec:
        return [((), f"no filter given; use {_words(applies)}")]
    problems: list[Problem] = []
    for operator, operand in spec.items():
        if operator not in OPERATORS:
            hint = suggest(operator, OPERATORS)
            message = f"{show(operator)} is not a filter{hint}; use {_words(applies)}"
            problems.append(((operator,), message))
        elif operator not in applies:
            message = f"{operator!r} does not apply to {_about(prop)}; use {_words(applies)}"
            problems.append(((operator,), message))
        elif found := _check_operand(prop, operator, operand):
            problems += _under((operator,), found)
    return problems


def _about(prop: Property) -> str:
    return f"{prop.name} ({prop.kind})"


def _check_values(prop: Property, values: list[Any]) -> list[Problem]:
    if not values:
        return [((), "an empty list matches nothing; give at least one value")]
    found = ((i, value_problem(prop, v, in_filter=True)) for i, v in enumerate(values))
    return [((i,), problem) for i, problem in found if problem is not None]


def _check_operand(prop: Property, operator: str, operand: Any) -> list[Problem]:
    if operator in ("equals", "not_equals"):
        if isinstance(operand, list) and prop.type != "list":
            return _check_values(prop, operand)
        problem = value_problem(prop, operand, in_filter=True)
    elif operator == "exists":
        problem = None if isinstance(operand, bool) else f"{show(operand)} is not true or false"
    elif operator == "contains":
        text = replace(type_only(prop), type="string")
        problem = value_problem(text, operand)
        if problem is not None and not isinstance(operand, str):
            problem = f"{show(operand)} is not text ('contains' looks for text)"
    elif operator == "between":
        return _check_between(prop, operand)
    else:
        problem = value_problem(type_only(prop), operand)
    return [] if problem is None else [((), problem)]


def _check_between(prop: Property, operand: Any) -> list[Problem]:
    if not isinstance(operand, list) or len(operand) != 2:
        return [((), "between takes [LOW, HIGH]")]
    bare = type_only(prop)
    found = ((i, value_problem(bare, v)) for i, v in enumerate(operand))
    problems: list[Problem] = [((i,), problem) for i, problem in found if problem is not None]
    if problems:
        return problems
    low, high = operand
    if prop.type == "date":
        low_at, high_at = utc_epoch(low), utc_epoch(high)
        wrong = low_at is not None and high_at is not None and low_at > high_at
    else:
        wrong = low > high
    return [((), f"'between' low {show(low)} is above high {show(high)}")] if wrong else []
