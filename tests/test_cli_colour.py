"""Colour and progress follow one rule (a terminal that can redraw, not CI), and the colour
conventions: NO_COLOR never, FORCE_COLOR always, each only when set to non-empty text."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.cli.shared import _color, terminal

ROOT = Path(__file__).resolve().parent.parent


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "environ", "colour", "progress"),
    [
        (True, {}, True, True),
        (False, {}, False, False),
        (True, {"NO_COLOR": "1"}, False, True),
        (True, {"NO_COLOR": ""}, True, True),  # set but empty: not a request
        (False, {"FORCE_COLOR": "1"}, True, False),
        (False, {"FORCE_COLOR": ""}, False, False),
        (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, True),
        (True, {"CI": "true"}, False, False),
        (True, {"TERM": "dumb"}, False, False),
        (False, {"CI": "true", "FORCE_COLOR": "1"}, True, False),
    ],
)
def test_colour_and_progress(
    tty: bool, environ: dict[str, str], colour: bool, progress: bool
) -> None:
    stream = Tty() if tty else io.StringIO()
    assert (_color(stream, environ), terminal(stream, environ)) == (colour, progress)


def test_force_color_colours_a_plan_written_to_a_pipe(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "journeys", root)
    assert cli.run(["-C", str(root), "plan"], {}) == 0
    plain = capsys.readouterr().out
    assert cli.run(["-C", str(root), "plan"], {"FORCE_COLOR": "1"}) == 0
    coloured = capsys.readouterr().out
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured
