"""The tracking plan's drift as a pure function: declared schemas and live events in, findings out.

Table tests in pip-tools' ``test_diff_*`` manner (STYLE.md 5): each case is two short literals
and the findings it must give; then the tolerant reading of ``/getSchema`` and the renderers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ctflow.drift import (
    DRIFT_KINDS,
    NOTE_KINDS,
    TYPE_TABLE,
    Drift,
    EventFinding,
    LiveEvent,
    PropertyFinding,
    drift,
    live_events,
    read_type,
    render_json,
    render_text,
    to_json,
)
from ctflow.spec.types import PROPERTY_TYPES, Property
from ctflow.upload.rules import SYSTEM_EVENTS, Schemas


def declared(
    events: Mapping[str, Mapping[str, str | Property]], strict: tuple[str, ...] = ()
) -> Schemas:
    """EventSchemas as ``schemas_of`` gives them; a property is its type name or a Property."""
    return Schemas(
        events={
            name: {
                p: t if isinstance(t, Property) else Property(p, t) for p, t in properties.items()
            }
            for name, properties in events.items()
        },
        strict_events=frozenset(strict),
    )


def live(name: str, count: int | None = None, system: bool = False, **props: str) -> LiveEvent:
    return LiveEvent(name, props, count, system)


def only(found: Drift) -> dict[str, tuple[Any, ...]]:
    """The non-empty lists of ``found``, by name."""
    return {k: getattr(found, k) for k, _ in (*DRIFT_KINDS, *NOTE_KINDS) if getattr(found, k)}


P = PropertyFinding
E = EventFinding

CASES: list[tuple[str, Schemas, list[LiveEvent], dict[str, tuple[Any, ...]]]] = [
    ("nothing declared, nothing live", declared({}), [], {}),
    (
        "declared and live alike",
        declared({"Search": {"q": "string"}}),
        [live("Search", q="string")],
        {},
    ),
    (
        "a live event not declared",
        declared({}),
        [live("Search")],
        {"undeclared_events": (E("Search"),)},
    ),
    (
        "the count the account gives is kept",
        declared({}),
        [live("Search", count=1204)],
        {"undeclared_events": (E("Search", 1204),)},
    ),
    (
        "a declared event never seen",
        declared({"Search": {}}),
        [],
        {"unseen_events": (E("Search"),)},
    ),
    (
        "a system event by name is not undeclared",
        declared({}),
        [live("App Launched"), live("Notification Clicked")],
        {"system_events": (E("App Launched"), E("Notification Clicked"))},
    ),
    (
        "an event the account marks as its own is not undeclared",
        declared({}),
        [live("Charged", system=True)],
        {"system_events": (E("Charged"),)},
    ),
    (
        "a declared system event is compared like any other",
        declared({"App Launched": {"Source": "number"}}),
        [live("App Launched", system=True, Source="string")],
        {"type_mismatches": (P("App Launched", "Source", "number", "string", "string"),)},
    ),
    (
        "a declared system event never seen is unseen",
        declared({"App Launched": {}}),
        [],
        {"unseen_events": (E("App Launched"),)},
    ),
    (
        "a type mismatch",
        declared({"Order": {"Amount": "string"}}),
        [live("Order", Amount="number")],
        {"type_mismatches": (P("Order", "Amount", "string", "number", "number"),)},
    ),
    (
        "a date sent as a plain number is a mismatch",
        declared({"Order": {"At": "date"}}),
        [live("Order", At="number")],
        {"type_mismatches": (P("Order", "At", "date", "number", "number"),)},
    ),
    (
        "a list sent as a string is a mismatch",
        declared({"Order": {"Tags": "list"}}),
        [live("Order", Tags="string")],
        {"type_mismatches": (P("Order", "Tags", "list", "string", "string"),)},
    ),
    (
        "declared integer, live number",
        declared({"O": {"n": "integer"}}),
        [live("O", n="number")],
        {},
    ),
    (
        "declared number, live integer",
        declared({"O": {"n": "number"}}),
        [live("O", n="integer")],
        {},
    ),
    ("the account's names, any case", declared({"O": {"n": "number"}}), [live("O", n="Float")], {}),
    ("an array is a list", declared({"O": {"t": "list"}}), [live("O", t="Array")], {}),
    (
        "the account's own name is reported beside ctflow's",
        declared({"O": {"n": "boolean"}}),
        [live("O", n="Double")],
        {"type_mismatches": (P("O", "n", "boolean", "number", "Double"),)},
    ),
    (
        "a live type ctflow does not know is not compared",
        declared({"O": {"n": "string"}}),
        [live("O", n="object")],
        {"unknown_types": (P("O", "n", "string", None, "object"),)},
    ),
    (
        "a live property without a type is not compared",
        declared({"O": {"n": "string"}}),
        [LiveEvent("O", {"n": None})],
        {"unknown_types": (P("O", "n", "string", None, None),)},
    ),
    (
        "an extra live property on a non-strict event is a note",
        declared({"O": {}}),
        [live("O", Coupon="string")],
        {"undeclared_properties": (P("O", "Coupon", None, "string", "string"),)},
    ),
    (
        "an extra live property on a strict event is drift",
        declared({"O": {}}, strict=("O",)),
        [live("O", Coupon="string")],
        {"strict_undeclared_properties": (P("O", "Coupon", None, "string", "string"),)},
    ),
    (
        "an extra property of unknown type on a strict event is still drift",
        declared({"O": {}}, strict=("O",)),
        [live("O", Meta="object")],
        {"strict_undeclared_properties": (P("O", "Meta", None, None, "object"),)},
    ),
    (
        "a declared property never seen is a note, required or not",
        declared({"O": {"a": Property("a", "string", required=True), "b": "number"}}),
        [live("O")],
        {
            "unseen_properties": (
                P("O", "a", "string", required=True),
                P("O", "b", "number"),
            )
        },
    ),
    (
        "the properties of an unseen event are not listed one by one",
        declared({"O": {"a": "string"}}),
        [],
        {"unseen_events": (E("O"),)},
    ),
    (
        "the properties of an undeclared event are not listed one by one",
        declared({}),
        [live("O", a="string")],
        {"undeclared_events": (E("O"),)},
    ),
    (
        "names are matched exactly (case matters to CleverTap)",
        declared({"Order": {"Amount": "number"}}),
        [live("order", amount="number")],
        {"undeclared_events": (E("order"),), "unseen_events": (E("Order"),)},
    ),
    (
        "everything is sorted, case-insensitively",
        declared({"b": {}, "B2": {}, "a": {}}),
        [live("z"), live("Y"), live("a", q="string", P="string")],
        {
            "undeclared_events": (E("Y"), E("z")),
            "unseen_events": (E("b"), E("B2")),
            "undeclared_properties": (
                P("a", "P", None, "string", "string"),
                P("a", "q", None, "string", "string"),
            ),
        },
    ),
]


@pytest.mark.parametrize(
    ("title", "schemas", "events", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_drift(
    title: str, schemas: Schemas, events: list[LiveEvent], expected: dict[str, tuple[Any, ...]]
) -> None:
    found = drift(schemas, events)
    assert only(found) == expected
    drift_kinds = {k for k, _ in DRIFT_KINDS}
    assert found.found == any(k in drift_kinds for k in expected)
    assert (found.declared_events, found.live_events) == (len(schemas.events), len(events))


def test_the_system_events_are_the_upload_rules_own() -> None:
    assert {"App Launched", "Notification Clicked"} <= SYSTEM_EVENTS
    found = drift(declared({}), [live(name) for name in SYSTEM_EVENTS])
    assert not found.found
    assert len(found.system_events) == len(SYSTEM_EVENTS)


def test_the_findings_count_only_drift() -> None:
    found = drift(
        declared({"A": {"x": "string"}, "B": {}}, strict=("A",)),
        [live("A", x="number", y="string"), live("C"), live("App Launched")],
    )
    assert found.findings == 4  # C undeclared, B unseen, A.x type, A.y on a strict event
    notes = drift(declared({"A": {"x": "string"}}), [live("A", y="string")])
    assert notes.findings == 0
    assert not notes.found
    assert notes.undeclared_properties


# --- the type table ---------------------------------------------------------------------------


def test_every_ctflow_type_reads_as_itself_and_satisfies_itself() -> None:
    for ctflow in PROPERTY_TYPES:
        assert read_type(ctflow) == ctflow
        assert not drift(declared({"E": {"p": ctflow}}), [live("E", p=ctflow)]).found
    assert sorted(ctflow for _, ctflow, _ in TYPE_TABLE) == sorted(PROPERTY_TYPES)


def test_the_type_table_is_the_one_compatibility_rule() -> None:
    compatible = {
        (want, got)
        for want in PROPERTY_TYPES
        for got in PROPERTY_TYPES
        if not drift(declared({"E": {"p": want}}), [live("E", p=got)]).found
    }
    same = {(t, t) for t in PROPERTY_TYPES}
    assert compatible == same | {("integer", "number"), ("number", "integer")}


@pytest.mark.parametrize(
    ("reported", "reads_as"),
    [
        ("Number", "number"),
        (" float ", "number"),
        ("Long", "integer"),
        ("Bool", "boolean"),
        ("DateTime", "date"),
        ("multi-value", "list"),
        ("Text", "string"),
        ("object", None),
        (None, None),
    ],
)
def test_read_type(reported: str | None, reads_as: str | None) -> None:
    assert read_type(reported) == reads_as


# --- reading /getSchema -----------------------------------------------------------------------

SANDBOX_ANSWER = {
    "status": "success",
    "events": [
        {"name": "App Launched", "type": "system", "properties": []},
        {
            "name": "Charged",
            "type": "custom",
            "properties": [{"name": "Amount", "type": "number"}, {"name": "At", "type": "date"}],
        },
    ],
}


@pytest.mark.parametrize(
    ("title", "raw", "expected"),
    [
        (
            "the sandbox's answer",
            SANDBOX_ANSWER,
            (
                LiveEvent("App Launched", {}, None, True),
                LiveEvent("Charged", {"Amount": "number", "At": "date"}),
            ),
        ),
        ("no events", {"status": "success", "events": []}, ()),
        ("a list of names", {"events": ["b", "a"]}, (LiveEvent("a"), LiveEvent("b"))),
        ("a bare list", ["a"], (LiveEvent("a"),)),
        (
            "keyed by name, properties keyed by name",
            {
                "data": {
                    "Order": {"count": 7, "properties": {"n": "Integer", "m": {"type": "Text"}}}
                }
            },
            (LiveEvent("Order", {"n": "Integer", "m": "Text"}, 7),),
        ),
        (
            "nested containers, other key names",
            {"data": {"events": [{"eventName": "O", "eventCount": 3, "props": [{"key": "k"}]}]}},
            (LiveEvent("O", {"k": None}, 3),),
        ),
        (
            "a name-keyed entry that is the property list",
            {"events": {"O": [{"name": "k", "dataType": "String"}]}},
            (LiveEvent("O", {"k": "String"}),),
        ),
        (
            "system flags and a boolean is never a count",
            {"events": [{"name": "X", "system": True, "count": True}]},
            (LiveEvent("X", {}, None, True),),
        ),
        (
            "an event listed twice is one event",
            {"events": [{"name": "O", "properties": {"a": "string"}}, {"name": "O", "count": 2}]},
            (LiveEvent("O", {"a": "string"}, 2),),
        ),
        (
            "entries without a name are skipped",
            {"events": [{"count": 3}, 5, {"name": "O"}]},
            (LiveEvent("O"),),
        ),
    ],
)
def test_live_events(title: str, raw: Any, expected: tuple[LiveEvent, ...]) -> None:
    assert live_events(raw) == expected


@pytest.mark.parametrize("raw", [{"status": "success"}, {"result": []}, "events", None, 3])
def test_an_answer_without_events_is_unreadable_not_empty(raw: Any) -> None:
    assert live_events(raw) is None


# --- rendering --------------------------------------------------------------------------------

EVERYTHING = Drift(
    declared_events=3,
    live_events=5,
    undeclared_events=(E("Search", 1204), E("Wishlisted", 1)),
    unseen_events=(E("Subscription Renewed"),),
    type_mismatches=(
        P("Order Placed", "Amount", "string", "number", "number"),
        P("Order Placed", "Items", "integer", "boolean", "Bool"),
    ),
    strict_undeclared_properties=(P("Order Placed", "Coupon", None, "string", "string"),),
    undeclared_properties=(P("Signed Up", "Referrer", None, None, "object"),),
    unseen_properties=(P("Signed Up", "Plan", "string", required=True),),
    unknown_types=(P("Signed Up", "Meta", "string", None, None),),
    system_events=(E("App Launched"),),
)

EVERYTHING_TEXT = """\
Drift against the sandbox: 6 findings (3 declared events, 5 live).

Events live but not declared (2)
  Search (seen 1,204 times)
  Wishlisted (seen 1 time)

Events declared but never seen live (1)
  Subscription Renewed

Property types that differ (2)
  Order Placed
    Amount: declared string, live number
    Items: declared integer, live boolean (reported as 'Bool')

Undeclared properties of strict events (1)
  Order Placed
    Coupon: live string

Not drift:

Undeclared properties of events that allow extra ones (not strict) (1)
  Signed Up
    Referrer: live 'object'

Declared properties never seen live (1)
  Signed Up
    Plan: string, required

Properties whose live type ctflow does not know (not compared) (1)
  Signed Up
    Meta: declared string, live type not given

CleverTap's own events, not declared (ignored) (1)
  App Launched
"""


def test_text_shows_every_kind_grouped_and_sorted() -> None:
    assert render_text(EVERYTHING, "the sandbox") == EVERYTHING_TEXT


def test_text_without_drift_is_one_line_plus_its_notes() -> None:
    assert render_text(Drift(1, 1), "environment 'production'") == (
        "No drift against environment 'production' (1 declared event, 1 live).\n"
    )
    notes = replace(Drift(2, 3), system_events=(E("App Launched"),))
    assert render_text(notes, "the sandbox") == (
        "No drift against the sandbox (2 declared events, 3 live).\n\n"
        "Not drift:\n\n"
        "CleverTap's own events, not declared (ignored) (1)\n"
        "  App Launched\n"
    )


def test_json_shape() -> None:
    doc = json.loads(render_json(EVERYTHING, "sandbox"))
    assert doc == to_json(EVERYTHING, "sandbox")
    assert list(doc) == [
        "environment",
        "drift",
        "declared_events",
        "live_events",
        "findings",
        "notes",
    ]
    assert (doc["environment"], doc["drift"], doc["declared_events"], doc["live_events"]) == (
        "sandbox",
        True,
        3,
        5,
    )
    assert list(doc["findings"]) == [k for k, _ in DRIFT_KINDS]
    assert list(doc["notes"]) == [k for k, _ in NOTE_KINDS]
    assert doc["findings"]["undeclared_events"][0] == {"event": "Search", "count": 1204}
    assert doc["findings"]["unseen_events"] == [{"event": "Subscription Renewed", "count": None}]
    assert doc["findings"]["type_mismatches"][1] == {
        "event": "Order Placed",
        "property": "Items",
        "declared": "integer",
        "live": "boolean",
        "reported": "Bool",
    }
    assert doc["notes"]["unseen_properties"] == [
        {
            "event": "Signed Up",
            "property": "Plan",
            "declared": "string",
            "live": None,
            "reported": None,
            "required": True,
        }
    ]
    empty = to_json(Drift(), "sandbox")
    assert empty["drift"] is False
    assert all(v == [] for v in (*empty["findings"].values(), *empty["notes"].values()))


def test_the_docs_type_table_is_the_code_table() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "drift.md").read_text("utf-8")
    section = docs.split("## Types", 1)[1].split("\n\n")
    table = next(block for block in section if block.startswith("| the account reports"))
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]
    ]
    names = re.compile(r"`([^`]+)`")
    documented = [
        (tuple(names.findall(a)), names.findall(b)[0], tuple(names.findall(c))) for a, b, c in rows
    ]
    assert documented == list(TYPE_TABLE)
