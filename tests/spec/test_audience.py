"""Audiences: every form compiled to the exact `where`, every problem text in full, and a
property: whatever `check_audience` accepts compiles, and the sandbox's query parser takes it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctflow.sandbox.query import parse_query
from ctflow.spec.audience import check_audience
from ctflow.spec.types import parse_properties
from ctflow.spec.where import compile_where, symbolic_where

TODAY = date(2026, 11, 22)
EVENTS = {
    "App Launched": {},
    "Product Viewed": parse_properties(
        {"Category": "string", "Price": {"type": "number", "minimum": 0}}
    ),
    "Charged": parse_properties(
        {
            "Amount": "number",
            "Currency": {"type": "string", "enum": ["INR", "USD", "EUR"]},
            "Items": "list",
            "Qty": "integer",
            "Paid On": "date",
            "Gift": "boolean",
        }
    ),
}
PROFILE = parse_properties(
    {
        "Customer Type": {"type": "string", "enum": ["Silver", "Gold", "Platinum"]},
        "Age": "integer",
        "Birthday": "date",
        "MSG-push": "boolean",
        "Interests": "list",
        "Name": "string",
    }
)


def compiled(audience: Any, timezone: str = "UTC") -> dict[str, Any]:
    return compile_where(audience, TODAY, events=EVENTS, profile=PROFILE, timezone=timezone)


def did(**condition: Any) -> dict[str, Any]:
    return {"did": [{"event": "App Launched", **condition}]}


LAUNCHED_7D = {"event_name": "App Launched", "from": 20261116, "to": 20261122}


@pytest.mark.parametrize(
    ("audience", "where"),
    [
        pytest.param("everyone", {}, id="everyone"),
        pytest.param({}, {}, id="empty mapping"),
        pytest.param(did(in_last="7d"), LAUNCHED_7D, id="in_last ends today inclusive"),
        pytest.param(
            did(in_last="1d"),
            {"event_name": "App Launched", "from": 20261122, "to": 20261122},
            id="in_last 1d is today",
        ),
        pytest.param(
            did(in_last="2w"),
            {"event_name": "App Launched", "from": 20261109, "to": 20261122},
            id="in_last weeks",
        ),
        pytest.param(
            did(since="2026-11-01"),
            {"event_name": "App Launched", "from": 20261101, "to": 20261122},
            id="since",
        ),
        pytest.param(
            {"did": [{"event": "App Launched", "from": "2026-10-01", "to": "2026-10-31"}]},
            {"event_name": "App Launched", "from": 20261001, "to": 20261031},
            id="from to",
        ),
        pytest.param(
            {
                "did": [
                    {
                        "event": "Product Viewed",
                        "in_last": "7d",
                        "where": {"Price": {"greater_than": 50}, "Category": "Shoes"},
                    }
                ]
            },
            {
                "event_name": "Product Viewed",
                "from": 20261116,
                "to": 20261122,
                "event_properties": [
                    {"name": "Category", "operator": "equals", "value": "Shoes"},
                    {"name": "Price", "operator": "greater_than", "value": 50},
                ],
            },
            id="event filters sorted by name",
        ),
        pytest.param(
            {
                "did": [
                    {"event": "Charged", "in_last": "7d", "count": {"at_least": 3}},
                    {"event": "App Launched", "in_last": "7d"},
                    {"event": "Product Viewed", "in_last": "7d"},
                ]
            },
            {
                **LAUNCHED_7D,
                "advanced_query": {
                    "did_all": [
                        {
                            "event_name": "Charged",
                            "from": 20261116,
                            "to": 20261122,
                            "operator": "greater_than",
                            "value": 2,
                        },
                        {"event_name": "Product Viewed", "from": 20261116, "to": 20261122},
                    ]
                },
            },
            id="first did without count is top level",
        ),
        pytest.param(
            {"did": [{"event": "Charged", "in_last": "7d", "count": {"at_most": 2}}]},
            {
                "advanced_query": {
                    "did_all": [
                        {
                            "event_name": "Charged",
                            "from": 20261116,
                            "to": 20261122,
                            "operator": "less_than",
                            "value": 3,
                        }
                    ]
                }
            },
            id="every did counted: no top level",
        ),
        pytest.param(
            {
                "did": [
                    {"event": "Charged", "in_last": "1d", "count": {"exactly": 1}},
                    {"event": "App Launched", "in_last": "1d", "count": {"between": [2, 5]}},
                ]
            },
            {
                "advanced_query": {
                    "did_all": [
                        {
                            "event_name": "Charged",
                            "from": 20261122,
                            "to": 20261122,
                            "operator": "equals",
                            "value": 1,
                        },
                        {
                            "event_name": "App Launched",
                            "from": 20261122,
                            "to": 20261122,
                            "operator": "between",
                            "value": [2, 5],
                        },
                    ]
                }
            },
            id="exactly and between counts",
        ),
        pytest.param(
            {
                "did_not": [
                    {"event": "Charged", "in_last": "7d"},
                    {"event": "Charged", "in_last": "7d"},
                ]
            },
            {
                "advanced_query": {
                    "did_none": [
                        {"event_name": "Charged", "from": 20261116, "to": 20261122},
                        {"event_name": "Charged", "from": 20261116, "to": 20261122},
                    ]
                }
            },
            id="did_not",
        ),
        pytest.param(
            {
                "did_any": [
                    {"event": "Charged", "in_last": "7d"},
                    {"event": "Product Viewed", "in_last": "1d"},
                ]
            },
            {
                "advanced_query": {
                    "did_any": {
                        "any_events": [
                            {"event_name": "Charged", "from": 20261116, "to": 20261122},
                            {"event_name": "Product Viewed", "from": 20261122, "to": 20261122},
                        ]
                    }
                }
            },
            id="did_any without count",
        ),
        pytest.param(
            {
                "did_any": [
                    {"event": "Charged", "in_last": "7d", "count": {"at_least": 2}},
                    {"event": "Product Viewed", "in_last": "7d", "count": {"at_least": 2}},
                ]
            },
            {
                "advanced_query": {
                    "did_any": {
                        "any_events": [
                            {"event_name": "Charged", "from": 20261116, "to": 20261122},
                            {"event_name": "Product Viewed", "from": 20261116, "to": 20261122},
                        ],
                        "operator": "greater_than",
                        "value": 1,
                    }
                }
            },
            id="did_any count on the total",
        ),
        pytest.param(
            {
                "profile": {
                    "Name": {"contains": "an", "exists": True},
                    "Customer Type": ["Gold", "Platinum"],
                    "MSG-push": {"exists": False},
                    "Age": {"between": [18, 30], "not_equals": [21, 22]},
                }
            },
            {
                "common_profile_properties": {
                    "profile_fields": [
                        {"name": "Age", "operator": "not_equals", "value": [21, 22]},
                        {"name": "Age", "operator": "between", "value": [18, 30]},
                        {
                            "name": "Customer Type",
                            "operator": "equals",
                            "value": ["Gold", "Platinum"],
                        },
                        {"name": "MSG-push", "operator": "does_not_exist"},
                        {"name": "Name", "operator": "contains", "value": "an"},
                        {"name": "Name", "operator": "exists"},
                    ]
                }
            },
            id="profile filters",
        ),
        pytest.param(
            {"profile": {"Interests": "Tea", "MSG-push": True}},
            {
                "common_profile_properties": {
                    "profile_fields": [
                        {"name": "Interests", "operator": "equals", "value": "Tea"},
                        {"name": "MSG-push", "operator": "equals", "value": True},
                    ]
                }
            },
            id="a list property and one element",
        ),
        pytest.param(
            {"profile": {"Interests": {"equals": ["Tea", "Mugs"]}}},
            {
                "common_profile_properties": {
                    "profile_fields": [
                        {"name": "Interests", "operator": "equals", "value": ["Tea", "Mugs"]}
                    ]
                }
            },
            id="a list property equals a list",
        ),
        pytest.param(
            {"reachable_by": ["sms", "webpush", "whatsapp", "push", "email"]},
            {
                "common_profile_properties": {
                    "reachability": [
                        {"name": "has_token", "value": "True"},
                        {"name": "has_email", "value": "True"},
                        {"name": "has_phone", "value": "True"},
                    ]
                }
            },
            id="reachability in a fixed order, once each",
        ),
    ],
)
def test_compile_where(audience: Any, where: dict[str, Any]) -> None:
    assert compiled(audience) == where


# 2026-12-01 00:00 in Kolkata is 2026-11-30 18:30 UTC = 1796063400; the day ends 86399 s later.
DAY_START, DAY_END = "$D_1796063400", "$D_1796149799"


@pytest.mark.parametrize(
    ("filter_", "conditions"),
    [
        ("2026-12-01", [{"operator": "between", "value": [DAY_START, DAY_END]}]),
        ({"equals": "2026-12-01"}, [{"operator": "between", "value": [DAY_START, DAY_END]}]),
        ({"greater_than": "2026-12-01"}, [{"operator": "greater_than", "value": DAY_END}]),
        ({"less_than": "2026-12-01"}, [{"operator": "less_than", "value": DAY_START}]),
        (
            {"between": ["2026-12-01", "2026-12-01"]},
            [{"operator": "between", "value": [DAY_START, DAY_END]}],
        ),
        ({"not_equals": "2026-12-01"}, [{"operator": "not_equals", "value": DAY_START}]),
        (["2026-12-01"], [{"operator": "equals", "value": [DAY_START]}]),
        (
            {"greater_than": "2026-12-01 10:00"},
            [{"operator": "greater_than", "value": "$D_1796099400"}],
        ),
        ({"less_than": 1796099400}, [{"operator": "less_than", "value": "$D_1796099400"}]),
    ],
)
def test_dates_are_whole_days_in_the_account_timezone(
    filter_: Any, conditions: list[dict[str, Any]]
) -> None:
    where = compiled({"profile": {"Birthday": filter_}}, timezone="Asia/Kolkata")
    expected = [{"name": "Birthday", **c} for c in conditions]
    assert where == {"common_profile_properties": {"profile_fields": expected}}


def test_symbolic_where_keeps_relative_windows_relative() -> None:
    audience = {
        "did": [{"event": "App Launched", "in_last": "90d"}],
        "did_not": [{"event": "Charged", "since": "2026-11-01"}],
        "did_any": [{"event": "Product Viewed", "from": "2026-10-01", "to": "2026-10-31"}],
    }
    assert symbolic_where(audience, events=EVENTS, profile=PROFILE) == {
        "event_name": "App Launched",
        "in_last_days": 90,
        "advanced_query": {
            "did_none": [{"event_name": "Charged", "from": 20261101, "to": "today"}],
            "did_any": {
                "any_events": [{"event_name": "Product Viewed", "from": 20261001, "to": 20261031}]
            },
        },
    }


PRICE_OPS = "use equals, not_equals, greater_than, less_than, between or exists"


@pytest.mark.parametrize(
    ("audience", "problems"),
    [
        (
            {"did": [{"event": "Charged ", "in_last": "7d"}]},
            [(("did", 0, "event"), "event 'Charged ' is not declared (did you mean 'Charged'?)")],
        ),
        (
            {"did": [{"event": "Purchase", "in_last": "7d", "where": {"Anything": 1}}]},
            [(("did", 0, "event"), "event 'Purchase' is not declared")],
        ),
        (
            {"profile": {"Customer Type ": "Gold", "Zip": "1"}},
            [
                (
                    ("profile", "Customer Type "),
                    "profile property 'Customer Type ' is not declared (did you mean "
                    "'Customer Type'?)",
                ),
                (("profile", "Zip"), "profile property 'Zip' is not declared"),
            ],
        ),
        (
            {
                "did": [
                    {"event": "App Launched", "in_last": "1d"},
                    {
                        "event": "Product Viewed",
                        "in_last": "7d",
                        "where": {"Price": {"contains": "9"}, "Categry": "Shoes"},
                    },
                ]
            },
            [
                (
                    ("did", 1, "where", "Price", "contains"),
                    f"'contains' does not apply to Price (a number); {PRICE_OPS}",
                ),
                (
                    ("did", 1, "where", "Categry"),
                    "property 'Categry' is not declared for event 'Product Viewed' (did you mean "
                    "'Category'?)",
                ),
            ],
        ),
        (
            {"profile": {"MSG-push": {"greater_than": 1}, "Age": {"greater_thn": 3}}},
            [
                (
                    ("profile", "MSG-push", "greater_than"),
                    "'greater_than' does not apply to MSG-push (a boolean); use equals, "
                    "not_equals or exists",
                ),
                (
                    ("profile", "Age", "greater_thn"),
                    f"'greater_thn' is not a filter (did you mean 'greater_than'?); {PRICE_OPS}",
                ),
            ],
        ),
        (
            {"profile": {"Customer Type": ["Gold", "Bronze"], "Age": "thirty"}},
            [
                (
                    ("profile", "Customer Type", 1),
                    "'Bronze' is not one of Silver, Gold, Platinum",
                ),
                (("profile", "Age"), "'thirty' is not an integer (Age is an integer)"),
            ],
        ),
        (
            {"profile": {"Interests": ["Tea", "Mugs"], "Name": {}, "Age": []}},
            [
                (
                    ("profile", "Interests"),
                    "a list of values (equals one of) does not apply to Interests (a list); use "
                    "{contains: TEXT} or {equals: [...]}",
                ),
                (
                    ("profile", "Name"),
                    "no filter given; use equals, not_equals, contains or exists",
                ),
                (("profile", "Age"), "an empty list matches nothing; give at least one value"),
            ],
        ),
        (
            {
                "profile": {
                    "Age": {"between": [65, 18]},
                    "Birthday": {"between": ["2000-01-02", "2000-01-01"]},
                    "Name": {"between": ["a", "b"]},
                }
            },
            [
                (("profile", "Age", "between"), "'between' low 65 is above high 18"),
                (
                    ("profile", "Birthday", "between"),
                    "'between' low '2000-01-02' is above high '2000-01-01'",
                ),
                (
                    ("profile", "Name", "between"),
                    "'between' does not apply to Name (a string); use equals, not_equals, "
                    "contains or exists",
                ),
            ],
        ),
        (
            {
                "profile": {
                    "Age": {"between": [18], "exists": "yes"},
                    "Name": {"contains": 5},
                    "Birthday": {"less_than": "2026-02-30"},
                }
            },
            [
                (("profile", "Age", "between"), "between takes [LOW, HIGH]"),
                (("profile", "Age", "exists"), "'yes' is not true or false"),
                (("profile", "Name", "contains"), "5 is not text ('contains' looks for text)"),
                (("profile", "Birthday", "less_than"), "'2026-02-30' is not a calendar date"),
            ],
        ),
        (
            {"did": [{"event": "Charged", "from": "2026-12-01", "to": "2026-11-01"}]},
            [(("did", 0, "from"), "'from' 2026-12-01 is after 'to' 2026-11-01")],
        ),
        (
            {
                "did": [
                    {"event": "Charged", "from": "2026-02-30", "to": "2026-03-01"},
                    {"event": "Charged", "since": "1st of May"},
                    {"event": "Charged", "in_last": "36h"},
                    {"event": "Charged", "in_last": "0d"},
                    {"event": "Charged"},
                    {"event": "Charged", "in_last": "7d", "since": "2026-11-01"},
                    {"event": "Charged", "from": "2026-11-01"},
                ]
            },
            [
                (("did", 0, "from"), "'2026-02-30' is not a calendar date"),
                (("did", 1, "since"), "'1st of May' is not a date (YYYY-MM-DD)"),
                (("did", 2, "in_last"), "'36h' is not a whole number of days (like 7d or 2w)"),
                (("did", 3, "in_last"), "in_last must be 1 day to 100 years, not '0d'"),
                (("did", 4), "give a window: in_last, since, or from and to"),
                (
                    ("did", 5),
                    "give one window: in_last, since, or from and to (found in_last or since)",
                ),
                (("did", 6, "from"), "'from' needs 'to'"),
            ],
        ),
        (
            {
                "did": [
                    {"event": "Charged", "in_last": "7d", "count": {"at_least": 0}},
                    {"event": "Charged", "in_last": "7d", "count": {"between": [5, 2]}},
                    {"event": "Charged", "in_last": "7d", "count": {"more_than": 2}},
                    {"event": "Charged", "in_last": "7d", "count": {"exactly": "2"}},
                    {"event": "Charged", "in_last": "7d", "count": {}},
                ]
            },
            [
                (("did", 0, "count", "at_least"), "0 is below 1"),
                (("did", 1, "count", "between"), "'between' low 5 is above high 2"),
                (
                    ("did", 2, "count", "more_than"),
                    "'more_than' is not a count; use at_least, at_most, exactly or between",
                ),
                (("did", 3, "count", "exactly"), "'2' is not a whole number"),
                (("did", 4, "count"), "give one of at_least, at_most, exactly or between"),
            ],
        ),
        (
            {
                "did_any": [
                    {"event": "Charged", "in_last": "7d", "count": {"at_least": 2}},
                    {"event": "App Launched", "in_last": "7d"},
                ]
            },
            [
                (
                    ("did_any", 1),
                    "in did_any a count applies to all its events together: give the same count "
                    "on every condition, or none",
                )
            ],
        ),
        (
            {"reachable_by": ["push", "e-mail"], "did_nothing": []},
            [
                (
                    ("reachable_by", 1),
                    "'e-mail' is not a channel (did you mean 'email'?); use push, webpush, "
                    "email, sms or whatsapp",
                ),
                (
                    ("did_nothing",),
                    "'did_nothing' is not an audience part (did you mean 'did_not'?)",
                ),
            ],
        ),
        (
            42,
            [
                (
                    (),
                    "an audience is 'everyone', an Audience's key or a mapping of did, did_not, "
                    "did_any, profile or reachable_by",
                )
            ],
        ),
        ("vip", []),  # an Audience's key: checked against the declared ones elsewhere
        (
            "",
            [
                (
                    (),
                    "an audience is 'everyone', an Audience's key or a mapping of did, did_not, "
                    "did_any, profile or reachable_by",
                )
            ],
        ),
    ],
)
def test_check_audience_problems(audience: Any, problems: list[tuple[Any, str]]) -> None:
    assert check_audience(audience, EVENTS, PROFILE) == problems


def test_windows_ending_in_the_future_are_problems_when_today_is_known() -> None:
    audience = {
        "did": [
            {"event": "Charged", "from": "2026-11-01", "to": "2026-11-23"},
            {"event": "Charged", "since": "2026-11-23"},
            {"event": "Charged", "from": "2026-11-01", "to": "2026-11-22"},
        ]
    }
    assert check_audience(audience, EVENTS, PROFILE) == []
    assert check_audience(audience, EVENTS, PROFILE, today=TODAY) == [
        (
            ("did", 0, "to"),
            "'to' 2026-11-23 is in the future (today is 2026-11-22); CleverTap refuses it",
        ),
        (
            ("did", 1, "since"),
            "'since' 2026-11-23 is in the future (today is 2026-11-22); CleverTap refuses it",
        ),
    ]


# -- property: what check_audience accepts compiles, and the sandbox parses it ---------------
def _values(type_: str) -> st.SearchStrategy[Any]:
    base: dict[str, st.SearchStrategy[Any]] = {
        "string": st.sampled_from(["Gold", "Silver", "Shoes", "INR", "x" * 600, ""]),
        "number": st.one_of(st.integers(-5, 500), st.floats(-5, 500), st.just("5")),
        "integer": st.one_of(st.integers(-5, 500), st.just(1.5)),
        "boolean": st.booleans(),
        "date": st.one_of(
            st.dates(date(2000, 1, 1), date(2030, 12, 31)).map(date.isoformat),
            st.just("2026-02-30"),
            st.just("2026-11-01 10:00"),
            st.integers(0, 2_000_000_000),
        ),
        "list": st.one_of(st.sampled_from(["Tea", "Mugs"]), st.lists(st.just("Tea"), max_size=2)),
    }
    return base[type_]


def _filter(type_: str) -> st.SearchStrategy[Any]:
    value = _values(type_)
    operator = st.sampled_from(
        ["equals", "not_equals", "contains", "greater_than", "less_than", "between", "exists"]
    )

    def operand(op: str) -> st.SearchStrategy[Any]:
        if op == "between":
            return st.lists(value, min_size=2, max_size=2)
        if op == "exists":
            return st.booleans()
        if op in ("equals", "not_equals"):
            return st.one_of(value, st.lists(value, max_size=3))
        return value

    mapping = operator.flatmap(lambda op: operand(op).map(lambda v: {op: v}))
    return st.one_of(value, st.lists(value, max_size=3), mapping)


def _filters(props: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    names = (
        st.lists(st.sampled_from(sorted(props)), unique=True, max_size=3) if props else st.just([])
    )
    return names.flatmap(
        lambda chosen: st.fixed_dictionaries({n: _filter(props[n].type) for n in chosen})
    )


DAYS = st.dates(date(2025, 1, 1), TODAY).map(date.isoformat)
WINDOWS = st.one_of(
    st.sampled_from(["1d", "7d", "2w", "90 days", "36h"]).map(lambda d: {"in_last": d}),
    DAYS.map(lambda d: {"since": d}),
    st.tuples(DAYS, DAYS).map(lambda pair: {"from": pair[0], "to": pair[1]}),
)
COUNTS = st.one_of(
    st.none(),
    st.sampled_from(["at_least", "at_most", "exactly"]).flatmap(
        lambda kind: st.integers(0, 5).map(lambda n: {kind: n})
    ),
    st.tuples(st.integers(0, 5), st.integers(0, 5)).map(lambda p: {"between": list(p)}),
)


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    event = draw(st.sampled_from(sorted(EVENTS)))
    condition: dict[str, Any] = {"event": event, **draw(WINDOWS)}
    where = draw(_filters(dict(EVENTS[event])))
    if where:
        condition["where"] = where
    count = draw(COUNTS)
    if count is not None:
        condition["count"] = count
    return condition


@st.composite
def audiences(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return "everyone"
    audience: dict[str, Any] = {}
    for part in ("did", "did_not", "did_any"):
        items = draw(st.lists(conditions(), max_size=2))
        if items:
            audience[part] = items
    profile = draw(_filters(dict(PROFILE)))
    if profile:
        audience["profile"] = profile
    reach = draw(st.lists(st.sampled_from(["push", "email", "sms", "webpush", "whatsapp"])))
    if reach:
        audience["reachable_by"] = reach
    return audience


@pytest.mark.slow
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(audiences(), st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York"]))
def test_what_check_accepts_compiles_and_the_sandbox_parses(audience: Any, timezone: str) -> None:
    if check_audience(audience, EVENTS, PROFILE, today=TODAY):
        return
    where = compiled(audience, timezone)
    symbolic_where(audience, events=EVENTS, profile=PROFILE, timezone=timezone)
    noon = datetime(2026, 11, 22, 12, 0, tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    parse_query(where, ZoneInfo(timezone), noon.timestamp())
