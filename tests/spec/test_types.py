"""Property definitions, value checks (full message texts) and the record JSON Schema."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator

from ctflow.spec.types import (
    Property,
    date_epoch,
    parse_properties,
    parse_property,
    property_json_schema,
    value_problem,
)

AMOUNT = Property("Amount", "number", minimum=0, maximum=100000)
QTY = Property("Qty", "integer", minimum=1)
TIER = Property("Customer Type", "string", enum=("Silver", "Gold", "Platinum"))
EMAIL = Property("Email", "string", pattern="^[^@]+@[^@]+$")
CODE = Property("Code", "string", max_length=4)
NAME = Property("Name", "string")
PUSH = Property("MSG-push", "boolean")
BIRTHDAY = Property("Birthday", "date")
ITEMS = Property("Items", "list")
SIZES = Property("Sizes", "list", enum=("S", "M", "L"))


def test_shorthand_and_mapping_definitions() -> None:
    props = parse_properties(
        {
            "Items": "list",
            "Amount": {"type": "number", "required": True, "minimum": 0, "description": "Total"},
            "Currency": {"type": "string", "enum": ["INR", "USD"]},
        }
    )
    assert props == {
        "Items": Property("Items", "list"),
        "Amount": Property("Amount", "number", required=True, minimum=0, description="Total"),
        "Currency": Property("Currency", "string", enum=("INR", "USD")),
    }
    assert parse_properties(None) == {}


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="property 'X': unknown type 'text'"):
        parse_property("X", "text")


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        (AMOUNT, 12.5),
        (AMOUNT, 0),
        (QTY, 3),
        (QTY, 3.0),
        (TIER, "Gold"),
        (EMAIL, "a@b.example"),
        (CODE, "ABCD"),
        (PUSH, False),
        (BIRTHDAY, "2026-02-28"),
        (BIRTHDAY, "2026-02-28 09:30"),
        (BIRTHDAY, "2026-02-28T09:30"),
        (BIRTHDAY, 1767225600),
        (ITEMS, ["Mug", "Tea"]),
        (ITEMS, []),
        (SIZES, ["S", "L"]),
        (NAME, "é" * 256),  # 512 bytes exactly
    ],
)
def test_values_that_fit(prop: Property, value: Any) -> None:
    assert value_problem(prop, value) is None


@pytest.mark.parametrize(
    ("prop", "value", "message"),
    [
        (AMOUNT, "abc", "'abc' is not a number (Amount is a number)"),
        (AMOUNT, True, "true is not a number (Amount is a number)"),
        (AMOUNT, float("nan"), "nan is not a number (Amount is a number)"),
        (AMOUNT, -5, "-5 is below Amount's minimum 0"),
        (AMOUNT, 100001, "100001 is above Amount's maximum 100000"),
        (QTY, 1.5, "1.5 is not an integer (Qty is an integer)"),
        (QTY, False, "false is not an integer (Qty is an integer)"),
        (QTY, 0, "0 is below Qty's minimum 1"),
        (TIER, "Bronze", "'Bronze' is not one of Silver, Gold, Platinum"),
        (NAME, 40001, "40001 is not a string (Name is a string)"),
        (NAME, None, "null is not a string (Name is a string)"),
        (EMAIL, "nobody", "'nobody' does not match Email's pattern ^[^@]+@[^@]+$"),
        (CODE, "ABCDE", "'ABCDE' is longer than Code's max_length 4"),
        (PUSH, "yes", "'yes' is not a boolean (MSG-push is a boolean)"),
        (BIRTHDAY, "2026-02-30", "'2026-02-30' is not a calendar date"),
        (
            BIRTHDAY,
            "next week",
            "'next week' is not a date (Birthday is a date: YYYY-MM-DD, YYYY-MM-DD HH:MM or "
            "epoch seconds)",
        ),
        (ITEMS, "Mug", "'Mug' is not a list of strings (Items is a list)"),
        (ITEMS, ["Mug", 3], "3 is not a string (Items is a list of strings)"),
        (ITEMS, ["x"] * 101, "Items has 101 values; CleverTap keeps at most 100"),
        (SIZES, ["S", "XL"], "'XL' is not one of S, M, L"),
        (
            NAME,
            "é" * 257,
            "'ééééééééééééééééééééééééééééééééééééééé…' is 514 bytes; CleverTap allows at most "
            "512 (UTF-8)",
        ),
    ],
)
def test_values_that_do_not_fit(prop: Property, value: Any, message: str) -> None:
    assert value_problem(prop, value) == message


def test_a_list_property_takes_one_element_in_a_filter() -> None:
    assert value_problem(ITEMS, "Mug", in_filter=True) is None
    assert value_problem(SIZES, "XL", in_filter=True) == "'XL' is not one of S, M, L"


@pytest.mark.parametrize(
    ("value", "end_of_day", "epoch"),
    [
        ("2026-12-01", False, 1796063400),  # 00:00 in Kolkata = 2026-11-30 18:30 UTC
        ("2026-12-01", True, 1796149799),  # 23:59:59 in Kolkata
        ("2026-12-01 10:00", False, 1796099400),
        ("2026-12-01 10:00", True, 1796099400),  # a date-time is an instant
        (1796067000, True, 1796067000),  # so are epoch seconds
        ("someday", False, None),
    ],
)
def test_date_values_in_the_account_timezone(
    value: Any, end_of_day: bool, epoch: int | None
) -> None:
    assert date_epoch(value, ZoneInfo("Asia/Kolkata"), end_of_day=end_of_day) == epoch


PROPS = {
    "Amount": Property("Amount", "number", required=True, minimum=0),
    "Qty": QTY,
    "Currency": Property("Currency", "string", enum=("INR", "USD")),
    "Code": CODE,
    "Paid": PUSH,
    "On": BIRTHDAY,
    "Items": ITEMS,
}


def _errors(record: dict[str, Any], *, strict: bool) -> list[str]:
    validator = Draft202012Validator(property_json_schema(PROPS, strict=strict))
    return sorted(error.message for error in validator.iter_errors(record))


def test_record_schema_accepts_a_fitting_record() -> None:
    record = {
        "Amount": 12.5,
        "Qty": 2,
        "Currency": "INR",
        "Code": "AB",
        "Paid": True,
        "On": "2026-11-01 10:00",
        "Items": ["Mug"],
    }
    assert _errors(record, strict=True) == []
    assert _errors({"Amount": 1, "On": "$D_1796067000"}, strict=True) == []
    assert _errors({"Amount": 1, "On": 1796067000}, strict=True) == []


def test_record_schema_refuses_what_does_not_fit() -> None:
    record = {
        "Qty": 1.5,
        "Currency": "EUR",
        "Code": "ABCDE",
        "Paid": "yes",
        "On": "soon",
        "Items": "Mug",
    }
    assert _errors(record, strict=False) == [
        "'ABCDE' is too long",
        "'Amount' is a required property",
        "'EUR' is not one of ['INR', 'USD']",
        "'Mug' is not of type 'array'",
        "'soon' is not valid under any of the given schemas",
        "'yes' is not of type 'boolean'",
        "1.5 is not of type 'integer'",
    ]


def test_strict_record_schema_refuses_undeclared_properties() -> None:
    assert _errors({"Amount": 1, "Extra": "x"}, strict=False) == []
    assert _errors({"Amount": 1, "Extra": "x"}, strict=True) == [
        "Additional properties are not allowed ('Extra' was unexpected)"
    ]
