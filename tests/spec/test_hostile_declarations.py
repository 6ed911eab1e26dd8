# ruff: noqa: E501 — golden lines are compared whole; splitting them would hide what users read
"""Declarations written to break ctflow (explicit YAML tags with bad values, lone surrogates,
file names the file system refuses, wrong types anywhere in a trigger's ``parameters``) are
problems with a position, never an exception. Each case crashed ``ctflow validate`` once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctflow.spec.templates_types import SchemaTypes
from tests.spec.project_support import BASE, problems

TK = "tracking.yaml"
TR = "triggers/receipt.yaml"
DS = "datasets/buyers.yaml"


def sub(file: str, old: str, new: str) -> dict[str, str | None]:
    assert old in BASE[file], old
    return {file: BASE[file].replace(old, new, 1)}


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("!!int 0x1Fz", "'0x1Fz' is not an integer (read as !!int)"),
        ('!!int ""', "'' is not an integer (read as !!int)"),
        ("!!float x", "'x' is not a number (read as !!float)"),
        ("!!bool x", "'x' is not true or false (read as !!bool)"),
        ("!!null x", "'x' is not null (read as !!null)"),
        (
            "!!timestamp x",
            "the tag !!timestamp is not one ctflow reads; YAML 1.2's core schema has !!str, !!int, !!float, !!bool, !!null, !!seq and !!map",
        ),
        (
            "!!binary aGk=",
            "the tag !!binary is not one ctflow reads; YAML 1.2's core schema has !!str, !!int, !!float, !!bool, !!null, !!seq and !!map",
        ),
        (
            "9" * 4301,
            "'99999999999999999999999999999999999999… is not a whole number of at most 4300 digits (read as !!int)",
        ),
    ],
)
def test_an_explicit_tag_with_a_bad_value_is_a_problem_at_the_value(
    tmp_path: Path, written: str, message: str
) -> None:
    found = problems(
        tmp_path, sub(TK, "event: Charged\nversion: 1", f"event: Charged\nversion: {written}")
    )
    assert found == [f"tracking.yaml:3:10: {message}"]


@pytest.mark.parametrize(("written", "shown"), [("!!int 0x1F", "31"), ("!!int 0o17", "15")])
def test_explicit_core_ints_read_as_yaml_1_2_says(tmp_path: Path, written: str, shown: str) -> None:
    found = problems(tmp_path, sub(TK, "version: 1", f"version: 1\nstrict: {written}"))
    assert found == [f"tracking.yaml:4:9: strict: expected true or false, found the number {shown}"]


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (
            "  Amount: {type: number",
            '  "\\ud800": string\n  Amount: {type: number',
            "tracking.yaml:5:3",
        ),
        ("event: Charged", 'event: "Charged \\udfff"', "tracking.yaml:2:8"),
    ],
)
def test_a_lone_surrogate_in_a_key_or_a_value_is_a_problem(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    found = problems(tmp_path, sub(TK, old, new))
    char = "\\udfff" if "udfff" in new else "\\ud800"
    assert found == [
        f"{where}: '{char}' is half of a UTF-16 surrogate pair, not a character; write the character itself (or both halves of its pair)"
    ]


def test_a_dataset_file_name_longer_than_the_file_system_allows_is_a_problem(
    tmp_path: Path,
) -> None:
    name = "b" * 300 + ".csv"
    found = problems(tmp_path, sub(DS, "file: buyers.csv", f"file: {name}"))
    assert found == [f"datasets/buyers.yaml:4:7: file: File name too long: datasets/{name}"]


def test_a_body_file_name_longer_than_the_file_system_allows_is_a_problem(
    tmp_path: Path,
) -> None:
    name = "d" * 300 + ".txt"
    found = problems(
        tmp_path,
        {"journeys/onboarding.yaml": BASE["journeys/onboarding.yaml"].replace("day2.txt", name)},
    )
    assert found == [
        f"journeys/onboarding.yaml:24:26: steps[1].content.body_file: File name too long: journeys/{name}"
    ]


PROPERTIES = "  properties:\n    order_id: {type: string}"
WRONG = [
    pytest.param(
        PROPERTIES,
        "  properties: abc\n  x:\n    order_id: {type: string}",
        [
            "triggers/receipt.yaml:8:15: parameters.properties: not valid in a JSON Schema: expected a mapping, found the text 'abc'"
        ],
        id="properties-text",
    ),
    pytest.param(
        PROPERTIES,
        "  properties: true\n  x:\n    order_id: {type: string}",
        [
            "triggers/receipt.yaml:8:15: parameters.properties: not valid in a JSON Schema: expected a mapping, found true (true or false)"
        ],
        id="properties-bool",
    ),
    pytest.param(
        PROPERTIES,
        "  properties: 12\n  x:\n    order_id: {type: string}",
        [
            "triggers/receipt.yaml:8:15: parameters.properties: not valid in a JSON Schema: expected a mapping, found the number 12"
        ],
        id="properties-number",
    ),
    pytest.param(
        "order_id: {type: string}",
        "order_id: {type: [[string]]}",
        [
            "triggers/receipt.yaml:9:23: parameters.properties.order_id.type[0]: not valid in a JSON Schema: ['string'] is not one of array, boolean, integer, null, number, object, string"
        ],
        id="type-nested-list",
    ),
    pytest.param(
        "order_id: {type: string}",
        "order_id: 7",
        [
            "triggers/receipt.yaml:9:15: parameters.properties.order_id: not valid in a JSON Schema: expected a mapping or true or false, found the number 7"
        ],
        id="property-number",
    ),
    pytest.param(
        "required: [order_id, items]",
        "required: [order_id, 3]",
        [
            "triggers/receipt.yaml:7:24: parameters.required[1]: not valid in a JSON Schema: expected text, found the number 3"
        ],
        id="required-item",
    ),
    pytest.param(
        "required: [name]",
        "required: [name]\n        additionalProperties: [name]",
        [
            "triggers/receipt.yaml:15:31: parameters.properties.items.items.additionalProperties: not valid in a JSON Schema: expected a mapping or true or false, found a list"
        ],
        id="nested-additional-properties-list",
    ),
    pytest.param(
        "name: {type: string}",
        'name: {type: string, pattern: "["}',
        [
            "triggers/receipt.yaml:16:41: parameters.properties.items.items.properties.name.pattern: not valid in a JSON Schema: '[' is not a 'regex'"
        ],
        id="pattern-not-a-regex",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), WRONG)
def test_a_wrong_type_anywhere_in_parameters_is_a_problem_at_its_place(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    assert problems(tmp_path, sub(TR, old, new)) == expected


def test_templates_of_a_trigger_with_malformed_parameters_still_render_with_its_fixtures(
    tmp_path: Path,
) -> None:
    broken = BASE[TR].replace("order_id: {type: string}", "order_id: {type: [[string]]}")
    broken = broken.replace("[[ item.name ]]", "[[ item.name + 1 ]]")
    found = problems(tmp_path, {TR: broken})
    assert found[1:] == [
        "triggers/receipt.yaml:23:5: content.body: fixture 'one' does not render: can only concatenate str (not \"int\") to str",
    ]


def test_the_template_checker_takes_a_type_list_that_is_not_of_names_as_unknown() -> None:
    types = SchemaTypes({})
    assert types.kinds({"type": [["number"]]}) is None
    assert types.arithmetic("+", {"type": [["number"]]}, {"type": "integer"}, ("n", "1")) == (
        None,
        None,
    )


def test_a_fixture_file_that_never_ends_is_a_problem_not_a_read(tmp_path: Path) -> None:
    found = problems(
        tmp_path, sub(TR, "data: {order_id: A-1, items: [{name: Mug, qty: 1}]}", "file: /dev/zero")
    )
    assert found == ["triggers/receipt.yaml:26:11: fixtures[0].file: not a file: /dev/zero"]


def test_a_declaration_that_is_a_pipe_is_a_problem_not_a_wait(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "waiting.yaml")
    assert problems(tmp_path) == ["waiting.yaml:1:1: not a regular file"]


def test_a_json_fixture_with_a_lone_surrogate_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "triggers").mkdir()
    (tmp_path / "triggers/one.json").write_text('{"order_id": "A-\\ud800", "items": []}')
    found = problems(
        tmp_path, sub(TR, "data: {order_id: A-1, items: [{name: Mug, qty: 1}]}", "file: one.json")
    )
    assert found == [
        "triggers/one.json:1:1: order_id: holds a lone surrogate (\\ud800-\\udfff), which is not a character"
    ]


def test_a_problem_stays_one_line_whatever_the_file_name_holds(tmp_path: Path) -> None:
    found = problems(tmp_path, sub(DS, "file: buyers.csv", 'file: "a\\fb\\nc.csv"'))
    assert found == ["datasets/buyers.yaml:4:7: file: file not found: datasets/a\\x0cb\\nc.csv"]


def test_a_mapping_tag_on_a_list_is_a_problem(tmp_path: Path) -> None:
    found = problems(
        tmp_path, sub(TK, "version: 1\nproperties:", "version: 1\nx: !!map [a]\nproperties:")
    )
    assert found == ["tracking.yaml:4:4: expected a mapping node, but found sequence"]


def test_a_timezone_longer_than_a_file_name_may_be_is_unknown(tmp_path: Path) -> None:
    name = "Europe/" + "x" * 300
    found = problems(tmp_path, {"ctflow.yaml": BASE["ctflow.yaml"].replace("Europe/Berlin", name)})
    assert found == [
        f"ctflow.yaml:2:11: timezone: unknown timezone {name!r} (an IANA name like Europe/Berlin)"
    ]


def test_aliases_that_expand_past_a_million_values_are_refused_at_the_document(
    tmp_path: Path,
) -> None:
    """A "billion laughs": seven lines that would make ten million values."""
    items = ['"x"'] + [f"*l{n - 1}" for n in range(1, 7)]
    bomb = "".join(f"l{n}: &l{n} [{', '.join([item] * 10)}]\n" for n, item in enumerate(items))
    found = problems(tmp_path, {"bomb.yaml": "kind: EventSchema\nevent: Bomb\n" + bomb})
    assert found == [
        "bomb.yaml:1:1: document expands to more than 1,000,000 values (through aliases?); "
        "refusing it"
    ]
