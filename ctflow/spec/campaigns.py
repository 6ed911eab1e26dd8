"""Checks of campaigns (standalone and journey steps) that a JSON Schema cannot express.

Owns: audience and conversion-goal references to the tracking plan, the Android notification
channel rule, name lengths, schedules that exist on the calendar, ``api_fields`` collisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ctflow.problems import Problems
from ctflow.spec.audience import check_audience
from ctflow.spec.declared import undeclared
from ctflow.spec.model import Decl, Keys
from ctflow.spec.timeparse import parse_date, parse_datetime, zone
from ctflow.spec.types import Property
from ctflow.yamlio import Document

MAX_NAME_CHARS = 120
# Create-payload fields ctflow sets itself; `api_fields` may not override them.
MODELLED_API_FIELDS = frozenset(
    {
        "name",
        "target_mode",
        "where",
        "segment",
        "content",
        "devices",
        "when",
        "labels",
        "estimate_only",
        "skip_estimate",
        "respect_frequency_caps",
        "respect_throttle",
        "users_limit_overall",
        "users_limit_per_run",
        "control_group",
        "system_control_group_include",
        "conversion_goal",
        "provider_nick_name",
    }
)


def check_campaign(
    decl: Decl,
    events: Mapping[str, Mapping[str, Property]],
    profile: Mapping[str, Property],
    problems: Problems,
    *,
    today: date | None = None,
) -> None:
    """Rules beyond the campaign's JSON Schema (journey steps were checked against it too).

    With ``today`` (in the account's timezone), audience windows ending in the future are
    problems too: CleverTap refuses them at create time. A field that is absent (left out of a
    campaign that failed its schema) is not checked."""
    data = decl.data

    def report(keys: Keys, message: str, *, at_key: bool = False) -> None:
        problems.add(decl.document, decl.locate(keys), message, at_key=at_key)

    name = data.get("name")
    if isinstance(name, str) and len(name) > MAX_NAME_CHARS:
        report(
            ("name",),
            f"name is {len(name)} characters; at most {MAX_NAME_CHARS} (ctflow appends its "
            "ownership marker to it)",
        )
    if decl.journey is None and "audience" in data:
        check_audience_at(
            decl.document, ("audience",), data["audience"], events, profile, problems, today
        )
    for extra in data.get("api_fields") or {}:
        if extra in MODELLED_API_FIELDS:
            report(
                ("api_fields", extra),
                f"api_fields may not set {extra!r}: ctflow sets it from the declaration",
                at_key=True,
            )
    goal = data.get("conversion_goal")
    if isinstance(goal, Mapping):
        _check_goal(decl, goal, events, problems)
    if decl.journey is None and "schedule" in data:
        check_schedule(decl.document, ("schedule",), data["schedule"], problems)


def check_audience_at(
    document: Document,
    keys: Keys,
    audience: Any,
    events: Mapping[str, Mapping[str, Property]],
    profile: Mapping[str, Property],
    problems: Problems,
    today: date | None = None,
) -> None:
    for path, message in check_audience(audience, events, profile, today=today):
        problems.add(document, (*keys, *path), message)


def _check_goal(
    decl: Decl,
    goal: Mapping[str, Any],
    events: Mapping[str, Mapping[str, Property]],
    problems: Problems,
) -> None:
    keys: Keys = ("conversion_goal",)
    clause: dict[str, Any] = {"event": goal["event"], "in_last": "1d"}
    if "where" in goal:
        clause["where"] = goal["where"]
    for path, message in check_audience({"did": [clause]}, events, {}):
        inner = path[2:]  # ("did", 0, …) → relative to the goal
        problems.add(decl.document, decl.locate((*keys, *inner)), message)
    revenue = goal.get("revenue_property")
    properties = events.get(goal["event"])
    if revenue is None or properties is None:
        return
    prop = properties.get(revenue)
    if prop is None:
        if not undeclared(revenue, properties):
            return
        problems.add(
            decl.document,
            decl.locate((*keys, "revenue_property")),
            f"revenue_property {revenue!r} is not a property of {goal['event']!r}",
        )
    elif prop.type not in ("number", "integer"):
        problems.add(
            decl.document,
            decl.locate((*keys, "revenue_property")),
            f"revenue_property {revenue!r} is a {prop.type}; revenue must be a number",
        )


def check_schedule(document: Document, keys: Keys, schedule: Any, problems: Problems) -> None:
    """Dates and times that exist, real timezones, a recurrence that ends after it starts."""
    if not isinstance(schedule, Mapping):
        return
    check_timezone(document, (*keys, "timezone"), schedule.get("timezone"), problems)
    if "repeat" not in schedule:
        at = schedule.get("at")
        if isinstance(at, str) and parse_datetime(at) is None:
            problems.add(document, (*keys, "at"), f"{at!r} is not a real date-time")
        return
    start = schedule.get("start")
    end = schedule.get("end")
    first = parse_date(start) if isinstance(start, str) else None
    last = parse_date(end) if isinstance(end, str) else None
    for name, text, value in (("start", start, first), ("end", end, last)):
        if isinstance(text, str) and value is None:
            problems.add(document, (*keys, name), f"{text!r} is not a real date")
    if first and last and first > last:
        problems.add(document, (*keys, "end"), f"end {end} is before start {start}")


def check_timezone(document: Document, keys: Keys, name: Any, problems: Problems) -> None:
    if isinstance(name, str) and zone(name) is None:
        problems.add(document, keys, f"unknown timezone {name!r} (an IANA name like Europe/Berlin)")


def check_names(decls: Sequence[Decl], what: str, problems: Problems) -> dict[str, Decl]:
    """Keys must be unique within a kind (journey steps share the campaign namespace)."""
    seen: dict[str, Decl] = {}
    for decl in decls:
        if decl.key in seen:
            first = seen[decl.key]
            where = first.document.where(first.locate(("key",)))
            problems.add(
                decl.document,
                decl.locate(("key",)),
                f"{what} key {decl.key!r} is already declared at {where}",
            )
            continue
        seen[decl.key] = decl
    return seen
