"""Declarations that fail their schema are still checked in their intact parts: whatever value
a field holds, that salvage reports problems and never raises."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctflow.spec.validate import check
from tests.spec.project_support import BASE, write_project

FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
ODD: list[Any] = [
    None,
    1,
    True,
    "x",
    "2027-13-40",
    "[[ nope ]]",
    "[[ ''.__class__ ]]",
    [],
    {},
    [1, "a"],
    {"a": 1},
    {"event": "Nope", "in_last": "7d"},
    {1: "a"},
]
FILES = sorted(f for f in BASE if f.endswith(".yaml") and f != "ctflow.yaml")


def _paths(value: Any, keys: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place a value can be replaced (a trigger's parameters left alone: what a
    parameters schema may hold is fuzzed on its own)."""
    if "parameters" in keys:
        return []
    found = [keys] if keys else []
    if isinstance(value, dict):
        for name, child in value.items():
            found += _paths(child, (*keys, name))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*keys, index))
    return found


@st.composite
def broken_documents(draw: st.DrawFn) -> dict[str, str | None]:
    file = draw(st.sampled_from(FILES))
    docs = list(yaml.safe_load_all(BASE[file]))
    index = draw(st.integers(0, len(docs) - 1))
    for _ in range(draw(st.integers(1, 3))):
        keys = draw(st.sampled_from(_paths(docs[index])))
        parent = docs[index]
        for part in keys[:-1]:
            parent = parent[part]
        parent[keys[-1]] = copy.deepcopy(draw(st.sampled_from(ODD)))
        if isinstance(docs[index], dict):
            extra = draw(st.sampled_from([None, "titel", 1]))  # a misspelt field, a number key
            if extra is not None:
                docs[index][extra] = "[[ vars.nope ]]"
    return {file: yaml.safe_dump_all(docs, sort_keys=False)}


@FUZZ
@given(broken_documents())
def test_a_declaration_with_any_value_in_any_field_is_reported_not_raised(
    overrides: dict[str, str | None],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp), overrides)
        result = check(root)
        for problem in result.problems:
            assert Path(problem.path).is_file(), problem
            assert problem.line >= 1, problem
            assert problem.column >= 1, problem
