"""Fuzzing the loader and the validator: random and mutated YAML never produce a traceback.

Whatever the files hold, ``ctflow validate`` either accepts the project or lists problems that
each say where (a real file, a line and a column), and exits 3. It runs through the command
line's own entry point with streams that encode as a terminal's do (strict UTF-8), so text that
cannot be printed is found too. Besides edits of whole lines: explicit YAML tags and lone
surrogates, any value at any place of a trigger's ``parameters``, any file name a declaration
names, and arguments that are not UTF-8.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctflow import cli
from ctflow.spec.validate import check
from tests.spec.project_support import BASE, write_project

POSITION = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): \S")
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
YAML_BITS = st.sampled_from(
    [
        ":",
        "- ",
        "  ",
        "\t",
        "{",
        "}",
        "[",
        "]",
        ",",
        "&a ",
        "*a",
        "!!python/object ",
        "? ",
        "|\n",
        ">-\n",
        "'",
        '"',
        "#",
        "---\n",
        "...\n",
        "~",
        "null",
        "true",
        "on",
        "10:00",
        "2026-02-30",
        "1e400",
        "kind: Campaign\n",
        "kind: Journey\n",
        "kind: EventSchema\n",
        "[[ ",
        " ]]",
        "[% for x in y %]",
        "{{ Profile.Name }}",
        "\n",
        "key: x\n",
        "\x00",
        "\ufeff",
        '"\\ud800": 1\n',
        '"\\udfff"',
        "!!int ",
        "!!int 0x1Fz",
        '!!int ""',
        "!!float ",
        "!!bool ",
        "!!null ",
        "!!timestamp ",
        "!!binary ",
        "!!set ",
        "!!str ",
        "!!seq ",
        "!!map ",
        "!local ",
        "0x1F",
        "9" * 4400,
        "x" * 300,
    ]
)


def _assert_reported_well(root: Path) -> None:
    result = check(root)
    for problem in result.problems:
        assert problem.line >= 1, problem
        assert problem.column >= 1, problem
        assert problem.message, problem
        assert "\n" not in problem.message, problem
        assert Path(problem.path).exists(), problem
    code, out, err = run_cli("-C", str(root), "validate")
    assert code == (0 if result.valid else 3), err
    for line in out.splitlines():
        assert POSITION.match(line), line


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``ctflow ARGV`` in process, its output read through streams that encode strictly as
    UTF-8 (as a terminal's do; ``io.StringIO`` would take text no terminal can show)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.run(list(argv), {})
    out.flush()
    err.flush()
    texts = [stream.buffer.getvalue().decode("utf-8") for stream in (out, err)]  # type: ignore[attr-defined]
    assert "this is a bug" not in texts[1], texts[1]
    return code, texts[0], texts[1]


@pytest.mark.slow
@FUZZ
@given(st.text(max_size=300) | st.lists(YAML_BITS, max_size=40).map("".join))
def test_any_text_as_a_declaration_file_is_reported_not_raised(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp))
        (root / "fuzz.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
        _assert_reported_well(root)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    """One of the base project's files with a few random edits of its lines and characters."""
    name = draw(st.sampled_from(sorted(BASE)))
    lines = BASE[name].splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "insert", "indent", "swap", "cut"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "insert":
            position = draw(st.integers(0, len(lines[index])))
            bit = draw(YAML_BITS | st.text(max_size=5))
            lines[index] = lines[index][:position] + bit + lines[index][position:]
        elif action == "indent":
            lines[index] = "  " + lines[index]
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        else:
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))] + "\n"
    return name, "".join(lines)


@pytest.mark.slow
@FUZZ
@given(mutated())
def test_mutated_project_files_are_reported_not_raised(edit: tuple[str, str]) -> None:
    name, text = edit
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp), {name: text})
        _assert_reported_well(root)


SCHEMA_WORDS = [
    "type",
    "properties",
    "items",
    "prefixItems",
    "required",
    "enum",
    "const",
    "$ref",
    "$defs",
    "additionalProperties",
    "patternProperties",
    "pattern",
    "format",
    "minimum",
    "allOf",
    "anyOf",
    "not",
    "if",
    "then",
    "default",
]
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["number", "object", "array", "string", "#/$defs/x", "[", "\ud800"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(SCHEMA_WORDS) | st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
"""Values a JSON Schema may hold, and many it may not."""


def _places(value: Any, keys: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield keys
    if isinstance(value, dict):
        for name, child in value.items():
            yield from _places(child, (*keys, name))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _places(child, (*keys, index))


@st.composite
def hostile_parameters(draw: st.DrawFn) -> str:
    """The receipt trigger with any value put at any place of its ``parameters`` (or under a
    new schema keyword there): wrong types at every level."""
    data = yaml.safe_load(BASE["triggers/receipt.yaml"])
    for _ in range(draw(st.integers(1, 3))):
        *path, last = draw(st.sampled_from(list(_places(data["parameters"], ("parameters",)))))
        parent: Any = data
        for part in path:
            parent = parent[part]
        value = draw(JSONISH)
        if draw(st.booleans()):
            parent[last] = value
        elif isinstance(parent[last], dict):
            parent[last][draw(st.sampled_from(SCHEMA_WORDS))] = value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.mark.slow
@FUZZ
@given(hostile_parameters())
def test_any_value_anywhere_in_parameters_is_reported_not_raised(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp), {"triggers/receipt.yaml": text})
        _assert_reported_well(root)


FILE_NAMES = (
    st.text(min_size=1, max_size=20)
    | st.integers(250, 5000).map(lambda n: "n" * n)
    | st.integers(100, 3000).map(lambda n: "d/" * n)
    | st.sampled_from(["..", "/", "/proc/self/mem", "/dev/zero", ".", "a\x00b", "~", "*"])
)


@pytest.mark.slow
@FUZZ
@given(
    st.sampled_from(
        [
            ("datasets/buyers.yaml", "file: buyers.csv", "file: {}"),
            ("journeys/onboarding.yaml", "body_file: day2.txt", "body_file: {}"),
            (
                "triggers/receipt.yaml",
                "data: {order_id: A-1, items: [{name: Mug, qty: 1}]}",
                "file: {}",
            ),
        ]
    ),
    FILE_NAMES,
)
def test_any_file_name_a_declaration_names_is_reported_not_raised(
    where: tuple[str, str, str], name: str
) -> None:
    file, old, new = where
    with tempfile.TemporaryDirectory() as tmp:
        text = BASE[file].replace(
            old, new.format(yaml.safe_dump(name).removesuffix("\n...\n").strip())
        )
        root = write_project(Path(tmp), {file: text})
        _assert_reported_well(root)


ARGUMENT = st.text(max_size=12) | st.binary(min_size=1, max_size=12).map(os.fsdecode)
"""Any argument, including bytes that are not UTF-8 (kept by Python as lone surrogates)."""


@pytest.mark.slow
@settings(FUZZ, max_examples=60)
@given(
    st.sampled_from(
        [
            ("send", "receipt", "--to", "{}", "--fixture", "one", "--dry-run"),
            ("send", "{}", "--to", "c-1", "--fixture", "one", "--dry-run"),
            ("send", "receipt", "--to", "c-1", "--data", "{}", "--dry-run"),
            ("send", "receipt", "--to", "c-1", "--fixture", "{}", "--dry-run"),
            ("render", "{}"),
            ("validate", "--format", "{}"),
            ("upload", "events", "{}"),
            ("-C", "{}", "validate"),
        ]
    ),
    ARGUMENT,
)
def test_any_argument_is_answered_not_raised(command: tuple[str, ...], argument: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp))
        argv = [argument if word == "{}" else word for word in command]
        code, _, err = run_cli("-C", str(root), *argv)
        assert code in (0, 3, 64), err
