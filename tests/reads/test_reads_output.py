"""Tables and progress lines: rich on a terminal, plain text otherwise."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime
from pathlib import Path

from ctflow.commands.reading import ExportProgress, Reader, table, ticking
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


ERASED = "\r\x1b[2K"
"""What rich writes to redraw a line from its start."""


def test_export_progress_on_a_terminal_is_drawn_by_rich_then_erased() -> None:
    live = reader(live=True)
    progress = ExportProgress(live, "profiles", every=0)
    progress.add(4)
    progress.add(5)
    progress.done()
    text = live.err.getvalue()  # type: ignore[attr-defined]
    assert "export: 4 profiles so far" in text
    assert "export: 9 profiles so far" in text
    assert text.count(ERASED) >= 2  # the line redrawn in place
    assert text.endswith("\x1b[1A\x1b[2K")  # and, when done, gone: up a line and erased
    assert "ctflow:" not in text


async def _slow(seconds: float) -> int:
    await asyncio.sleep(seconds)
    return 42


def test_a_count_that_waits_says_so_in_plain_lines_off_a_terminal() -> None:
    plain = reader()
    found = asyncio.run(ticking(_slow(0.8), "counting events (sandbox)…", plain, every=0))
    assert found == 42
    lines = plain.err.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines
    assert all(re.fullmatch(r"ctflow: counting events \(sandbox\)… \ds", line) for line in lines)


def test_a_count_that_waits_ticks_on_a_terminal_then_erases_the_line() -> None:
    live = reader(live=True)
    assert asyncio.run(ticking(_slow(0.8), "counting profiles (sandbox)…", live)) == 42
    text = live.err.getvalue()  # type: ignore[attr-defined]
    assert "counting profiles (sandbox)… " in text
    assert ERASED in text
    assert text.endswith("\x1b[1A\x1b[2K")
    assert "\n" not in text.replace("\n\x1b[?25h", "")  # no line left behind but rich's last


def test_a_quick_count_shows_nothing() -> None:
    for quiet in (reader(), reader(live=True)):
        assert asyncio.run(ticking(_slow(0), "counting events (sandbox)…", quiet, every=0)) == 42
        assert quiet.err.getvalue() == ""  # type: ignore[attr-defined]
