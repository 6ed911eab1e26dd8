"""Tables and progress lines: rich on a terminal, plain text otherwise."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from ctflow.commands.reading import ExportProgress, Reader, table
from ctflow.config import SANDBOX, Environment, Target


def reader(*, tables: bool = False, live: bool = False) -> Reader:
    target = Target(Environment(SANDBOX), sandbox_db=Path("unused.db"))
    out, err = io.StringIO(), io.StringIO()
    return Reader(target, "shop", "UTC", datetime.now(UTC), out, err, tables=tables, live=live)


ROWS = [["sent", "1,204"], ["clicked", "96"]]


def test_plain_tables_align_columns_and_numbers_right() -> None:
    plain = reader()
    table(plain, ["METRIC", "VALUE"], ROWS, right=(1,))
    assert plain.out.getvalue() == "METRIC   VALUE\nsent     1,204\nclicked     96\n"  # type: ignore[attr-defined]


def test_terminal_tables_are_drawn_by_rich_with_the_same_cells() -> None:
    drawn = reader(tables=True)
    table(drawn, ["METRIC", "VALUE"], ROWS, right=(1,))
    text = drawn.out.getvalue()  # type: ignore[attr-defined]
    assert [line.split() for line in text.splitlines()] == [
        ["METRIC", "VALUE"],
        ["sent", "1,204"],
        ["clicked", "96"],
    ]


def test_export_progress_off_a_terminal_is_plain_lines() -> None:
    plain = reader()
    progress = ExportProgress(plain, "events", every=0)
    progress.add(3)
    progress.add(2)
    progress.done()
    lines = plain.err.getvalue().splitlines()  # type: ignore[attr-defined]
    assert [line.split(",")[0] for line in lines] == [
        "ctflow: export: 3 events so far",
        "ctflow: export: 5 events so far",
    ]


def test_export_progress_on_a_terminal_redraws_one_line_then_erases_it() -> None:
    live = reader(live=True)
    progress = ExportProgress(live, "profiles")
    progress.every = 0
    progress.add(4)
    progress.done()
    text = live.err.getvalue()  # type: ignore[attr-defined]
    assert text.startswith("\rexporting: 4 profiles so far")
    assert text.endswith("\r\x1b[K")
    assert "\n" not in text
