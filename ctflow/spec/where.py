"""Compiling a checked audience to CleverTap's `where` query (clevertap-api.md §4.2).

Imports only the standard library, ``ctflow.spec.types`` and ``ctflow.spec.audience``'s names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.spec.audience import (
    OPERATORS,
    REACHABILITY,
    REACHABILITY_ORDER,
    Events,
    Profile,
)
from ctflow.spec.types import Property, date_epoch, day_count, iso_date


def compile_where(
    audience: Any,
    today: date,
    *,
    events: Events,
    profile: Profile,
    timezone: str = "UTC",
) -> dict[str, Any]:
    """CleverTap's `where` for an audience `check_audience` accepts; `everyone` is `{}`.

    Windows are whole days in the account timezone, as integers YYYYMMDD: `in_last: Nd` is the
    N days ending today inclusive (from = today - (N-1), to = today), `since: D` runs from D to
    today, `from`/`to` are taken as written.

    The first `did` condition without a `count` is the top-level `event_name`; the other `did`
    conditions go to `advanced_query.did_all`, `did_not` to `did_none`, `did_any` to
    `did_any.any_events` with its (shared) count as `did_any.operator/value`. Counts: at_least N
    is `greater_than N-1`, at_most N `less_than N+1`, exactly `equals`, between `between`.

    Filters become `{name, operator, value}`, sorted by property name (so reordering YAML keys
    does not change the payload's fingerprint). Date values become CleverTap's `$D_<epoch>` and an
    ISO date means the whole day in `timezone`: `greater_than D` is after the day's last second,
    `less_than D` before its first, `between [A, B]` from A's first second to B's last, and a
    single date under `equals` is the whole day (`between`). A list of dates under `equals` and
    `not_equals` compare the days' first seconds (the query language has no "not between").
    Date-times (in `timezone`) and epoch seconds are exact instants.

    `events` and `profile` are the declared properties: they say which values are dates.
    """
    return _Compiler(events, profile, ZoneInfo(timezone), today).where(audience)


def symbolic_where(
    audience: Any, *, events: Events, profile: Profile, timezone: str = "UTC"
) -> dict[str, Any]:
    """`compile_where` with relative windows kept relative, for a fingerprint that does not
    change every day: `in_last: 7d` is `{"in_last_days": 7}` and `since: D` is
    `{"from": D, "to": "today"}`; everything else is exactly what `compile_where` sends."""
    return _Compiler(events, profile, ZoneInfo(timezone), None).where(audience)


def compile_filters(
    filters: Mapping[str, Any], props: Mapping[str, Property], timezone: str = "UTC"
) -> list[dict[str, Any]]:
    """`{name, operator, value}` conditions for a mapping of property: filter (e.g. the
    `where` of a conversion goal), as `compile_where` writes them."""
    return _Compiler({}, {}, ZoneInfo(timezone), None).filters(filters, props)


class _Compiler:
    def __init__(self, events: Events, profile: Profile, tz: ZoneInfo, today: date | None):
        self.events, self.profile, self.tz, self.today = events, profile, tz, today

    def where(self, audience: Any) -> dict[str, Any]:
        if audience == "everyone" or not audience:
            return {}
        where: dict[str, Any] = {}
        did = list(audience.get("did") or [])
        top = next((c for c in did if "count" not in c), None)
        if top is not None:
            did.remove(top)
            where.update(self.clause(top))
        common: dict[str, Any] = {}
        fields = self.filters(audience.get("profile") or {}, self.profile)
        if fields:
            common["profile_fields"] = fields
        reach = {REACHABILITY[channel] for channel in audience.get("reachable_by") or []}
        if reach:
            ordered = [name for name in REACHABILITY_ORDER if name in reach]
            common["reachability"] = [{"name": name, "value": "True"} for name in ordered]
        if common:
            where["common_profile_properties"] = common
        advanced: dict[str, Any] = {}
        if did:
            advanced["did_all"] = [self.clause(c) for c in did]
        if audience.get("did_not"):
            advanced["did_none"] = [self.clause(c) for c in audience["did_not"]]
        if audience.get("did_any"):
            advanced["did_any"] = self.did_any(audience["did_any"])
        if advanced:
            where["advanced_query"] = advanced
        return where

    def did_any(self, conditions: list[Mapping[str, Any]]) -> dict[str, Any]:
        clauses = [self.clause(c, with_count=False) for c in conditions]
        out: dict[str, Any] = {"any_events": clauses}
        count = conditions[0].get("count")
        if count is not None:
            out["operator"], out["value"] = compile_count(count)
        return out

    def clause(self, condition: Mapping[str, Any], *, with_count: bool = True) -> dict[str, Any]:
        event = condition["event"]
        out: dict[str, Any] = {"event_name": event, **self.window(condition)}
        props = self.events.get(event, {})
        filters = self.filters(condition.get("where") or {}, props)
        if filters:
            out["event_properties"] = filters
        if with_count and "count" in condition:
            out["operator"], out["value"] = compile_count(condition["count"])
        return out

    def window(self, condition: Mapping[str, Any]) -> dict[str, Any]:
        if "in_last" in condition:
            days = day_count(condition["in_last"])
            assert days is not None
            if self.today is None:
                return {"in_last_days": days}
            return _window(self.today - timedelta(days=days - 1), self.today)
        if "since" in condition:
            first = _day(condition["since"])
            if self.today is None:
                return {"from": _yyyymmdd(first), "to": "today"}
            return _window(first, self.today)
        return _window(_day(condition["from"]), _day(condition["to"]))

    def filters(
        self, filters: Mapping[str, Any], props: Mapping[str, Property]
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name in sorted(filters):
            out += self.filter(name, filters[name], props.get(name))
        return out

    def filter(self, name: str, spec: Any, prop: Property | None) -> list[dict[str, Any]]:
        if not isinstance(spec, Mapping):
            return [self.equals(name, "equals", spec, prop)]
        out = []
        for operator in OPERATORS:
            if operator not in spec:
                continue
            operand = spec[operator]
            if operator in ("equals", "not_equals"):
                out.append(self.equals(name, operator, operand, prop))
            elif operator == "exists":
                out.append({"name": name, "operator": "exists" if operand else "does_not_exist"})
            elif operator == "between":
                low, high = operand
                value = [self.value(low, prop), self.value(high, prop, end_of_day=True)]
                out.append(_cond(name, "between", value))
            else:
                late = operator == "greater_than"
                out.append(_cond(name, operator, self.value(operand, prop, end_of_day=late)))
        return out

    def equals(self, name: str, operator: str, value: Any, prop: Property | None) -> dict[str, Any]:
        is_date = prop is not None and prop.type == "date"
        if operator == "equals" and is_date and iso_date(value) is not None:
            day = [self.value(value, prop), self.value(value, prop, end_of_day=True)]
            return _cond(name, "between", day)
        if isinstance(value, list) and (prop is None or prop.type != "list"):
            return _cond(name, operator, [self.value(v, prop) for v in value])
        return _cond(name, operator, self.value(value, prop))

    def value(self, value: Any, prop: Property | None, *, end_of_day: bool = False) -> Any:
        if prop is None or prop.type != "date":
            return value
        epoch = date_epoch(value, self.tz, end_of_day=end_of_day)
        assert epoch is not None
        return f"$D_{epoch}"


def compile_count(count: Mapping[str, Any]) -> tuple[str, Any]:
    """`(operator, value)` for a count: `{at_least: 3}` → `("greater_than", 2)`."""
    ((kind, value),) = count.items()
    if kind == "at_least":
        return "greater_than", value - 1
    if kind == "at_most":
        return "less_than", value + 1
    if kind == "exactly":
        return "equals", value
    return "between", list(value)


def _cond(name: str, operator: str, value: Any) -> dict[str, Any]:
    return {"name": name, "operator": operator, "value": value}


def _day(value: Any) -> date:
    day = iso_date(value)
    assert day is not None
    return day


def _yyyymmdd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _window(first: date, last: date) -> dict[str, Any]:
    return {"from": _yyyymmdd(first), "to": _yyyymmdd(last)}
