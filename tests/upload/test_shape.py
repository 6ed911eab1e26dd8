"""From a row of a file to a CleverTap record (ctflow/upload/shape.py): native rows, ISO times,
declared dates, Dataset mapping of flat rows and CSV cells read as their declared types.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ctflow.spec.types import Property
from ctflow.upload.rules import Schemas
from ctflow.upload.shape import DatasetMapping, Shaper

IST = ZoneInfo("Asia/Kolkata")  # +05:30, so a time read in UTC by mistake shows


def epoch(*parts: int, tz: ZoneInfo = IST) -> int:
    return int(datetime(*parts, tzinfo=tz).timestamp())  # type: ignore[misc]


def declared(props: dict[str, str]) -> dict[str, Property]:
    return {name: Property(name, kind) for name, kind in props.items()}


EARNED = declared(
    {
        "Points": "integer",
        "Amount": "number",
        "Gift": "boolean",
        "Tags": "list",
        "Since": "date",
        "Reason": "string",
    }
)
CUSTOMER = declared({"Name": "string", "Visits": "integer", "Last Order": "date", "VIP": "boolean"})
SCHEMAS = Schemas(events={"Points Earned": EARNED}, profile=CUSTOMER)


def native(kind: str = "events") -> Shaper:
    return Shaper(kind, SCHEMAS, IST, None)  # type: ignore[arg-type]


def earned(**data: Any) -> dict[str, Any]:
    return {"identity": "C1", "evtName": "Points Earned", "evtData": data}


# -- native rows -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "row", "type_"),
    [
        ("events", earned(), "event"),
        ("profiles", {"identity": "C1", "profileData": {}}, "profile"),
        ("tokens", {"objectId": "g", "tokenData": {"id": "t", "type": "fcm"}}, "token"),
    ],
)
def test_native_row_gets_the_record_type_of_the_upload(
    kind: str, row: dict[str, Any], type_: str
) -> None:
    assert native(kind).shape(row) == {**row, "type": type_}


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2026-01-01", epoch(2026, 1, 1)),
        ("2026-01-01 10:00", epoch(2026, 1, 1, 10, 0)),
        ("2026-01-01T10:00:30", epoch(2026, 1, 1, 10, 0, 30)),
        ("2026-01-01T10:00:00Z", epoch(2026, 1, 1, 10, tz=ZoneInfo("UTC"))),
        ("2026-01-01T10:00:00+02:00", epoch(2026, 1, 1, 8, tz=ZoneInfo("UTC"))),
        ("1767225600", 1767225600),
        (" 1767225600 ", 1767225600),
        (1767225600.9, 1767225600),
        (1767225600, 1767225600),
    ],
)
def test_ts_becomes_epoch_seconds_in_the_project_timezone(ts: Any, expected: int) -> None:
    assert native().shape({**earned(), "ts": ts})["ts"] == expected


@pytest.mark.parametrize("ts", ["yesterday", "2026-02-30", True, None])
def test_unreadable_ts_is_left_for_the_rules_to_refuse(ts: Any) -> None:
    assert native().shape({**earned(), "ts": ts})["ts"] == ts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01", f"$D_{epoch(2026, 1, 1)}"),
        ("2026-01-01 18:30", f"$D_{epoch(2026, 1, 1, 18, 30)}"),
        ("2026-01-01T00:00:00Z", f"$D_{epoch(2026, 1, 1, tz=ZoneInfo('UTC'))}"),
        ("2026-01-01T00:00:00-05:00", f"$D_{epoch(2026, 1, 1, 5, tz=ZoneInfo('UTC'))}"),
        (1767225600, "$D_1767225600"),
        ("$D_1767225600", "$D_1767225600"),
        ("not a date", "not a date"),
    ],
)
def test_declared_event_date_becomes_clevertap_date(value: Any, expected: str) -> None:
    assert native().shape(earned(Since=value))["evtData"]["Since"] == expected


def test_declared_profile_date_becomes_clevertap_date() -> None:
    row = {"identity": "C1", "profileData": {"Last Order": "2026-01-01", "Name": "2026-01-01"}}
    data = native("profiles").shape(row)["profileData"]
    assert data == {"Last Order": f"$D_{epoch(2026, 1, 1)}", "Name": "2026-01-01"}


def test_only_declared_date_properties_are_converted() -> None:
    shaped = native().shape(earned(Reason="2026-01-01", Other="2026-01-01"))
    assert shaped["evtData"] == {"Reason": "2026-01-01", "Other": "2026-01-01"}


def test_date_of_an_undeclared_event_is_left_alone() -> None:
    row = {"identity": "C1", "evtName": "Other", "evtData": {"Since": "2026-01-01"}}
    assert native().shape(row)["evtData"] == {"Since": "2026-01-01"}


@pytest.mark.parametrize(
    ("kind", "row"),
    [
        pytest.param("events", earned(Since="2026-01-01", Points="many")),
        pytest.param("events", {**earned(Since="2026-01-01"), "ts": "2026-01-01"}),
        pytest.param("profiles", {"identity": "C1", "profileData": {"Last Order": "2026-01-01"}}),
    ],
)
def test_native_row_properties_are_converted_on_a_copy(kind: str, row: dict[str, Any]) -> None:
    as_read = copy.deepcopy(row)
    shaped = native(kind).shape(row)
    assert shaped != as_read
    assert {k: v for k, v in row.items() if k != "type"} == as_read


@pytest.mark.parametrize("type_", ["profile", "event", "token", None])
def test_row_that_says_its_type_keeps_it_for_the_rules(type_: Any) -> None:
    assert native().shape({**earned(), "type": type_})["type"] == type_


# -- Dataset mapping of flat rows ------------------------------------------------------------

LOYALTY = DatasetMapping(
    event="Points Earned",
    identity="customer_id",
    timestamp="earned_at",
    columns={"points": "Points", "reason": "Reason"},
)


def mapped(kind: str = "events", mapping: DatasetMapping = LOYALTY) -> Shaper:
    return Shaper(kind, SCHEMAS, IST, mapping)  # type: ignore[arg-type]


def test_flat_json_row_becomes_an_event_record() -> None:
    row = {"customer_id": "C1", "earned_at": "2026-01-04T11:42:10", "points": 250, "note": "x"}
    assert mapped().shape(row) == {
        "identity": "C1",
        "ts": epoch(2026, 1, 4, 11, 42, 10),
        "evtName": "Points Earned",
        "evtData": {"Points": 250, "note": "x"},
        "type": "event",
    }


def test_flat_json_row_becomes_a_profile_record() -> None:
    mapping = DatasetMapping(identity="cid", columns={"name": "Name"})
    row = {"cid": 100234, "name": "Ana", "Last Order": "2026-01-01", "Visits": 3}
    assert mapped("profiles", mapping).shape(row) == {
        "identity": 100234,
        "profileData": {"Name": "Ana", "Last Order": f"$D_{epoch(2026, 1, 1)}", "Visits": 3},
        "type": "profile",
    }


def test_default_identity_column_is_identity() -> None:
    shaped = mapped(mapping=DatasetMapping(event="Points Earned")).shape({"identity": "C9"})
    assert shaped["identity"] == "C9"
    assert "ts" not in shaped


@pytest.mark.parametrize("missing", [{}, {"customer_id": ""}, {"customer_id": None}])
def test_row_without_identity_gets_none_for_the_rules_to_refuse(missing: dict[str, Any]) -> None:
    shaped = mapped().shape({"points": 5, **missing})
    assert "identity" not in shaped


def test_json_values_of_flat_rows_keep_their_json_types() -> None:
    row = {"customer_id": "C1", "points": "250", "Gift": "yes", "Amount": ""}
    assert mapped().shape(row)["evtData"] == {"Points": "250", "Gift": "yes", "Amount": ""}


def test_flat_row_is_not_changed_by_shaping() -> None:
    row = {"customer_id": "C1", "earned_at": "2026-01-04", "points": "5", "Since": "2026-01-01"}
    as_read = dict(row)
    mapped().shape(row, True)
    assert row == as_read


# -- CSV cells read as the declared types ----------------------------------------------------


def cells(**row: str) -> dict[str, Any]:
    data: dict[str, Any] = mapped().shape({"customer_id": "C1", **row}, True)["evtData"]
    return data


@pytest.mark.parametrize(
    ("column", "text", "value"),
    [
        ("points", "250", 250),
        ("points", " -7 ", -7),
        ("points", "2.5", "2.5"),
        ("points", "many", "many"),
        ("Amount", "12.50", 12.5),
        ("Amount", "3", 3),
        ("Amount", "1e3", 1000.0),
        ("Amount", "nan", "nan"),
        ("Amount", "inf", "inf"),
        ("Gift", "true", True),
        ("Gift", "Yes", True),
        ("Gift", "Y", True),
        ("Gift", "1", True),
        ("Gift", "FALSE", False),
        ("Gift", "no", False),
        ("Gift", "n", False),
        ("Gift", "0", False),
        ("Gift", "maybe", "maybe"),
        ("Tags", '["gold", "app"]', ["gold", "app"]),
        ("Tags", "gold", ["gold"]),
        ("Tags", "[gold", "[gold"),
        ("Since", "2026-01-01", f"$D_{epoch(2026, 1, 1)}"),
        ("Since", "1767225600", "$D_1767225600"),
        ("reason", "007", "007"),
    ],
)
def test_csv_cell_is_read_as_the_declared_type(column: str, text: str, value: Any) -> None:
    name = LOYALTY.columns.get(column, column)
    assert cells(**{column: text}) == {name: value}


def test_undeclared_csv_column_stays_text() -> None:
    assert cells(store="12", vip="true") == {"store": "12", "vip": "true"}


def test_empty_csv_cell_sets_nothing() -> None:
    assert cells(points="", Gift="", store="", Tags="") == {}


def test_csv_timestamp_and_identity_cells() -> None:
    shaped = mapped().shape({"customer_id": "C1", "earned_at": "1767225600"}, True)
    assert (shaped["identity"], shaped["ts"]) == ("C1", 1767225600)
    shaped = mapped().shape({"customer_id": "C1", "earned_at": ""}, True)
    assert "ts" not in shaped


def test_csv_profile_cells_are_read_as_the_profile_schema_says() -> None:
    mapping = DatasetMapping(identity="cid")
    row = {"cid": "C1", "Visits": "4", "VIP": "no", "Name": "42", "Last Order": ""}
    shaped = mapped("profiles", mapping).shape(row, True)
    assert shaped["profileData"] == {"Visits": 4, "VIP": False, "Name": "42"}
