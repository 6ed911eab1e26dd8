"""Fuzzing the loader and the validator: random and mutated YAML never produce a traceback.

Whatever the files hold, ``ctflow validate`` either accepts the project or lists problems that
each say where (a real file, a line and a column), and exits 3.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctflow.commands.validate import validate
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
    out, err = io.StringIO(), io.StringIO()
    code = validate(root, "text", out=out, err=err)
    assert code == (0 if result.valid else 3)
    for line in out.getvalue().splitlines():
        assert POSITION.match(line), line


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
