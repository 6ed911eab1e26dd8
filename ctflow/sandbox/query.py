"""CleverTap's `where` query language (clevertap-api.md §4.2): parsing, and evaluation over the
store. Imports only the standard library and sandbox modules.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.sandbox.dates import day_bounds, parse_yyyymmdd, today
from ctflow.sandbox.store import Event, Profile, Store

PARSE_FAIL = "Query specified in where failed to parse"
FROM_AFTER_TO = "Query parse failure - The from date cannot be after the to date"
# §4.2: "`to` in the future → fail (message not captured)" [?]: this text is our choice.
TO_IN_FUTURE = "Query parse failure - The to date cannot be in the future"

OPERATORS = frozenset(
    {
        "equals",
        "not_equals",
        "contains",
        "greater_than",
        "less_than",
        "between",
        "exists",
        "does_not_exist",
    }
)
# Sections of common_profile_properties we read; the others (§4.2 app_fields, technographics,
# geo_fields, geo_radius) are accepted and ignored: the sandbox stores no such data.
PROFILE_SECTIONS = ("profile_fields", "demographics")
IGNORED_SECTIONS = ("app_fields", "technographics", "geo_fields", "geo_radius")


class QueryError(Exception):
    """A `where` the API refuses; the message is the API's error text."""


@dataclass(frozen=True)
class Cond:
    name: str
    operator: str
    value: Any


@dataclass(frozen=True)
class EventClause:
    name: str
    start: int
    end: int
    props: tuple[Cond, ...] = ()
    count: Cond | None = None


@dataclass(frozen=True)
class Query:
    event: EventClause | None = None
    profile: tuple[Cond, ...] = ()
    reachability: tuple[Cond, ...] = ()
    session: tuple[Cond, ...] = ()
    did_all: tuple[EventClause, ...] = ()
    did_none: tuple[EventClause, ...] = ()
    did_any: tuple[EventClause, ...] = ()
    did_any_count: Cond | None = None
    members: frozenset[int] | None = None
    """A campaign's `segment`: only these profiles (ids), None for no segment."""

    def filters_profiles(self) -> bool:
        return bool(
            self.profile or self.reachability or self.did_all or self.did_none or self.did_any
        ) or (self.members is not None)


# -- parsing ------------------------------------------------------------------------------
def _cond(raw: object) -> Cond:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise QueryError(PARSE_FAIL)
    operator = raw.get("operator", "equals")
    if operator not in OPERATORS:
        raise QueryError(PARSE_FAIL)
    value = raw.get("value")
    if operator not in ("exists", "does_not_exist") and "value" not in raw:
        raise QueryError(PARSE_FAIL)
    if operator == "between" and not (isinstance(value, list) and len(value) == 2):
        raise QueryError(PARSE_FAIL)
    return Cond(raw["name"], operator, value)


def _conds(raw: object) -> tuple[Cond, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise QueryError(PARSE_FAIL)
    return tuple(_cond(item) for item in raw)


def _count_cond(raw: dict[str, Any]) -> Cond | None:
    if "operator" not in raw and "value" not in raw:
        return None
    counted = {"name": "count", "operator": raw.get("operator", "equals")}
    if "value" in raw:
        counted["value"] = raw["value"]
    return _cond(counted)


def _window(raw: dict[str, Any], tz: ZoneInfo, now: float) -> tuple[int, int]:
    first, last = parse_yyyymmdd(raw.get("from")), parse_yyyymmdd(raw.get("to"))
    if first is None or last is None:
        raise QueryError(PARSE_FAIL)
    if first > last:
        raise QueryError(FROM_AFTER_TO)
    if last > today(now, tz):
        raise QueryError(TO_IN_FUTURE)
    return day_bounds(first, last, tz)


def _clause(raw: object, tz: ZoneInfo, now: float, *, with_count: bool) -> EventClause:
    if not isinstance(raw, dict) or not isinstance(raw.get("event_name"), str):
        raise QueryError(PARSE_FAIL)
    start, end = _window(raw, tz, now)
    count = _count_cond(raw) if with_count else None
    return EventClause(raw["event_name"], start, end, _conds(raw.get("event_properties")), count)


def _clauses(raw: object, tz: ZoneInfo, now: float) -> tuple[EventClause, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise QueryError(PARSE_FAIL)
    return tuple(_clause(item, tz, now, with_count=True) for item in raw)


def parse_query(where: object, tz: ZoneInfo, now: float, *, require_event: bool = False) -> Query:
    """Validate a `where` object; `{}` means the whole user base (§4.1)."""
    if not isinstance(where, dict):
        raise QueryError(PARSE_FAIL)
    event = None
    if "event_name" in where or require_event:
        event = _clause(where, tz, now, with_count=False)
    query = Query(event=event, session=_conds(where.get("session_properties")))
    common = where.get("common_profile_properties")
    if common is not None:
        if not isinstance(common, dict):
            raise QueryError(PARSE_FAIL)
        for section in IGNORED_SECTIONS:
            if section in common and not isinstance(common[section], list):
                raise QueryError(PARSE_FAIL)
        profile = tuple(c for s in PROFILE_SECTIONS for c in _conds(common.get(s)))
        query = replace(query, profile=profile, reachability=_conds(common.get("reachability")))
    advanced = where.get("advanced_query")
    if advanced is not None:
        if not isinstance(advanced, dict):
            raise QueryError(PARSE_FAIL)
        query = replace(
            query,
            did_all=_clauses(advanced.get("did_all"), tz, now),
            did_none=_clauses(advanced.get("did_none"), tz, now),
        )
        did_any = advanced.get("did_any")
        if did_any is not None:
            if not isinstance(did_any, dict):
                raise QueryError(PARSE_FAIL)
            clauses = _clauses(did_any.get("any_events"), tz, now)
            query = replace(query, did_any=clauses, did_any_count=_count_cond(did_any))
    return query


# -- evaluation ---------------------------------------------------------------------------
def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.removeprefix("$D_")
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()


def _equal(left: object, right: object) -> bool:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a == b
    return _text(left) == _text(right)


def _one(actual: object, cond: Cond) -> bool:
    wanted = cond.value if isinstance(cond.value, list) else [cond.value]
    if cond.operator == "equals":
        return any(_equal(actual, w) for w in wanted)
    if cond.operator == "contains":
        return any(_text(w) in _text(actual) for w in wanted)
    number = _number(actual)
    if number is None:
        return False
    if cond.operator == "between":
        low, high = (_number(v) for v in cond.value)
        return low is not None and high is not None and low <= number <= high
    limit = _number(wanted[0])
    if limit is None:
        return False
    return number > limit if cond.operator == "greater_than" else number < limit


def matches(cond: Cond, props: dict[str, Any]) -> bool:
    present = props.get(cond.name) is not None
    if cond.operator == "exists":
        return present
    if cond.operator == "does_not_exist":
        return not present
    actual = props.get(cond.name)
    values = actual if isinstance(actual, list) else [actual]
    if cond.operator == "not_equals":
        equals = replace(cond, operator="equals")
        return not present or not any(_one(v, equals) for v in values)
    return present and any(_one(v, cond) for v in values)


def _reachable(cond: Cond, profile: Profile) -> bool:
    if cond.name == "has_token":
        have = any(entry.get("push_token") for entry in profile.platform)
    elif cond.name == "has_email":
        have = bool(profile.data.get("Email"))
    elif cond.name == "has_phone":
        have = bool(profile.data.get("Phone"))
    else:
        return True
    return have == (_text(cond.value) in ("true", "1", "none"))


def _count_ok(count: int, cond: Cond | None) -> bool:
    if cond is None:
        return count >= 1
    return matches(replace(cond, name="count"), {"count": count})


def clause_counts(
    store: Store, clause: EventClause, session: tuple[Cond, ...] = ()
) -> Counter[int]:
    counts: Counter[int] = Counter()
    for event in store.events(name=clause.name, start=clause.start, end=clause.end):
        if all(matches(c, event.props) for c in clause.props) and all(
            matches(c, event.session) for c in session
        ):
            counts[event.profile_id] += 1
    return counts


def matching_profiles(store: Store, query: Query) -> list[Profile]:
    people = [
        p
        for p in store.profiles()
        if (query.members is None or p.id in query.members)
        and all(matches(c, p.data) for c in query.profile)
        and all(_reachable(c, p) for c in query.reachability)
    ]
    ids = {p.id for p in people}
    if query.event is not None:
        ids &= set(clause_counts(store, query.event, query.session))
    for clause in query.did_all:
        counts = clause_counts(store, clause)
        ids = {i for i in ids if _count_ok(counts[i], clause.count)}
    for clause in query.did_none:
        ids -= set(clause_counts(store, clause))
    if query.did_any:
        total: Counter[int] = Counter()
        for clause in query.did_any:
            total.update(clause_counts(store, clause))
        ids = {i for i in ids if _count_ok(total[i], query.did_any_count)}
    return [p for p in people if p.id in ids]


def matching_events(
    store: Store, query: Query, after_id: int = 0, max_id: int | None = None
) -> list[Event]:
    """Events of `query.event` (which must be set), restricted to the profiles the rest selects."""
    clause = query.event
    assert clause is not None
    events = [
        e
        for e in store.events(clause.name, clause.start, clause.end, after_id, max_id)
        if all(matches(c, e.props) for c in clause.props)
        and all(matches(c, e.session) for c in query.session)
    ]
    if query.filters_profiles():
        allowed = {p.id for p in matching_profiles(store, replace(query, event=None))}
        events = [e for e in events if e.profile_id in allowed]
    return events
