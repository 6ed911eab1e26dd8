"""A trigger's ``parameters`` are checked against JSON Schema's metaschema by a compiled validator
first: it never calls valid what jsonschema faults (regex and URI keywords are left to jsonschema,
which checks them with Python's ``re``), and a valid schema never reaches jsonschema."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ctflow.spec import parameters
from ctflow.spec.validate import check
from tests.spec.test_schema_fast_path import MORE_ODD
from tests.spec.test_validate_salvage_fuzz import _paths

SCHEMAS: list[Any] = [
    {
        "type": "object",
        "required": ["order_id", "items"],
        "properties": {
            "order_id": {"type": "string", "minLength": 1, "maxLength": 40},
            "total": {"type": "number", "minimum": 0},
            "items": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
            "tier": {"enum": ["gold", "silver"]},
        },
        "additionalProperties": False,
    },
    {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}},
    {"anyOf": [{"type": "string"}, {"type": "null"}], "$defs": {"x": {"$ref": "#"}}},
]


@st.composite
def changed(draw: st.DrawFn) -> Any:
    schema = copy.deepcopy(draw(st.sampled_from(SCHEMAS)))
    for _ in range(draw(st.integers(1, 2))):
        keys = draw(st.sampled_from(list(_paths(schema))))
        parent = schema
        for part in keys[:-1]:
            parent = parent[part]
        parent[keys[-1]] = copy.deepcopy(draw(st.sampled_from([*MORE_ODD, "(", "\\", "a b"])))
    return schema


@settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(changed())
def test_what_the_compiled_check_passes_jsonschema_passes(schema: Any) -> None:
    if parameters._surely_valid(schema):
        assert list(parameters._META.iter_errors(schema)) == []


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "("},  # not a regex: Python's re decides
        {"type": "object", "patternProperties": {"[": {"type": "string"}}},
        {"$ref": "http://exa mple.com/ schema"},
        {"type": "string", "pattern": "^\\p{L}+$"},  # fine for Rust, not for Python's re
    ],
)
def test_regex_and_uri_keywords_are_left_to_jsonschema(schema: Any) -> None:
    assert not parameters._surely_valid(schema)


def test_a_valid_schema_never_reaches_jsonschema(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Refuses:
        def iter_errors(self, instance: Any) -> Any:
            raise AssertionError("jsonschema asked about a valid schema")

    monkeypatch.setattr(parameters, "_META", Refuses())
    (tmp_path / "ctflow.yaml").write_text("project: p\n")
    (tmp_path / "t.yaml").write_text(
        "kind: Trigger\nkey: t\ntype: identity\nchannel: email\n"
        "parameters: {type: object, required: [order_id], "
        "properties: {order_id: {type: string, minLength: 1}}}\n"
        "content: {subject: 'Order [[ order_id ]]', sender_name: Shop, body: hi}\n"
    )
    result = check(tmp_path)
    assert result.valid, result


def test_a_bad_pattern_is_still_reported_where_it_stands(tmp_path: Any) -> None:
    (tmp_path / "ctflow.yaml").write_text("project: p\n")
    (tmp_path / "t.yaml").write_text(
        "kind: Trigger\nkey: t\ntype: identity\nchannel: email\n"
        "parameters:\n  type: object\n  properties:\n    code: {type: string, pattern: '('}\n"
        "content: {subject: Order, sender_name: Shop, body: hi}\n"
    )
    result = check(tmp_path)
    assert not result.valid
    assert any("t.yaml:8:" in str(p) and "regex" in str(p) for p in result.problems), result


FIXTURE_SCHEMAS: list[Any] = [
    {"type": "object", "properties": {"t": {"maximum": 5}, "u": {"items": {"minimum": 0}}}},
    {
        "type": "object",
        "required": ["order_id", "items"],
        "properties": {
            "order_id": {"type": "string", "minLength": 1, "maxLength": 4},
            "total": {"type": "number", "minimum": 0, "exclusiveMaximum": 100},
            "count": {"type": "integer"},
            "items": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
        },
        "additionalProperties": False,
    },
    {"type": "object", "properties": {"x": {"anyOf": [{"type": "boolean"}, {"type": "null"}]}}},
]
DATA = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 200)
    | st.floats(-1, 150, allow_nan=False)
    | st.sampled_from([float("inf"), float("-inf"), float("nan")])
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["order_id", "items", "name", "total", "count", "x", "y", "t", "u"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(st.sampled_from(FIXTURE_SCHEMAS), DATA)
def test_a_fixture_the_compiled_check_vouches_for_jsonschema_passes(schema: Any, data: Any) -> None:
    if parameters.vouched(schema, data):
        judge = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        assert list(judge.iter_errors(data)) == []


def test_a_valid_fixture_is_vouched_for_and_a_keyword_judged_apart_is_not() -> None:
    order = {"order_id": "A-1", "items": [{"name": "Mug"}], "total": 1.5}
    assert parameters.vouched(FIXTURE_SCHEMAS[1], order)
    assert not parameters.vouched(FIXTURE_SCHEMAS[1], {**order, "order_id": ""})
    assert not parameters.vouched(
        {"type": "object", "properties": {"t": {"maximum": 5}}}, {"t": float("inf")}
    ), "YAML's .inf: jsonschema says it is above the maximum"
    for keyword in ({"format": "email"}, {"pattern": "^A"}, {"enum": ["A-1"]}):
        schema = copy.deepcopy(FIXTURE_SCHEMAS[1])
        schema["properties"]["order_id"] |= keyword
        assert not parameters.vouched(schema, order), keyword
