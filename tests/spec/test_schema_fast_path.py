"""The compiled validator (jsonschema-rs) that spares valid documents the explaining one
(jsonschema) never calls valid what the explaining one faults: one or two values swapped anywhere
in every kind of declaration the tests know (but a trigger's parameters, which the metaschema
checks)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctflow.resources import KINDS, surely_valid, validator
from ctflow.schemacheck import violations
from tests.spec.project_support import BASE
from tests.spec.test_validate_salvage_fuzz import ODD, _paths

DOCUMENTS = [
    doc
    for name, text in sorted(BASE.items())
    if name.endswith(".yaml") and name != "ctflow.yaml"
    for doc in yaml.safe_load_all(text)
    if isinstance(doc, dict) and doc.get("kind") in KINDS
]
MORE_ODD = [*ODD, -1, 0, 1.5, 10**30, "", " ", "x" * 300, "2026-02-30", "9:75", "@", "a b"]


def test_the_documents_are_every_kind_and_valid() -> None:
    assert {doc["kind"] for doc in DOCUMENTS} >= set(KINDS) - {"Project"}
    for doc in DOCUMENTS:
        assert surely_valid(KINDS[doc["kind"]], doc)
        assert violations(validator(KINDS[doc["kind"]]), doc) == []


@st.composite
def changed(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(draw(st.sampled_from(DOCUMENTS)))
    for _ in range(draw(st.integers(1, 2))):
        keys = draw(st.sampled_from([k for k in _paths(doc) if k[0] != "kind"]))
        parent = doc
        for part in keys[:-1]:
            parent = parent[part]
        parent[keys[-1]] = copy.deepcopy(draw(st.sampled_from(MORE_ODD)))
    return doc


@settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(changed())
def test_what_the_compiled_validator_passes_the_explaining_one_passes(doc: dict[str, Any]) -> None:
    name = KINDS[doc["kind"]]
    if surely_valid(name, doc):
        assert violations(validator(name), doc) == []


@pytest.mark.parametrize("value", [float("nan"), 10**40, {"a": {1: 2}}])
def test_a_value_it_cannot_read_is_left_to_the_explaining_validator(value: Any) -> None:
    doc = copy.deepcopy(next(d for d in DOCUMENTS if d["kind"] == "Campaign"))
    doc["description"] = value
    assert not surely_valid("campaign", doc)
