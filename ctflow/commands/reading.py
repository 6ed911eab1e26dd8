"""What the read commands share: :class:`Reader`, what ``ctflow.cli`` hands each of them (the
target, the project's name and timezone, the moment, the streams and whether they are
terminals), and how they print: JSON, tables (rich on a terminal, plain aligned text otherwise),
a ticking "still computing" line while a count polls, a running record count while an export
streams (both a :class:`~ctflow.commands.statusline.StatusLine`). Progress goes to stderr only.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, TextIO, TypeVar
from zoneinfo import ZoneInfo

from ctflow.clevertap import CleverTap
from ctflow.commands.statusline import TICK, StatusLine
from ctflow.config import Target
from ctflow.connect import open_client

T = TypeVar("T")


@dataclass(frozen=True)
class Reader:
    target: Target
    project: str
    """The project's name: what its campaigns' ownership markers say."""
    timezone: str
    """The account's timezone: what "today" and YYYYMMDD dates mean."""
    now: datetime
    out: TextIO
    err: TextIO
    tables: bool = False
    """``out`` is a terminal: draw tables with rich instead of plain aligned text."""
    live: bool = False
    """``err`` is a terminal that can redraw a progress line."""

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def environment(self) -> str:
        return self.target.environment.name

    @property
    def place(self) -> str:
        """Where the numbers come from, for the end of a sentence."""
        return "sandbox" if self.target.is_sandbox else f"environment {self.environment!r}"

    def client(self) -> AbstractAsyncContextManager[CleverTap]:
        return open_client(self.target, timezone=self.timezone)

    def json(self, payload: Any) -> None:
        self.out.write(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n")

    def say(self, line: str) -> None:
        """One line on stderr (progress, summaries, notes), prefixed like every ctflow note."""
        self.err.write(f"ctflow: {line}\n")
        self.err.flush()


def table(
    reader: Reader,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[int] = (),
    whole: Sequence[int] = (),
) -> None:
    """``rows`` under ``headers``; the columns numbered in ``right`` (numbers) align right. On a
    narrow terminal the columns numbered in ``whole`` (what people copy: ids, keys) keep every
    cell on one line, uncut; the others wrap, a word too long for them folded."""
    if reader.tables:
        from rich.console import Console
        from rich.table import Table

        drawn = Table(box=None, header_style="bold", pad_edge=False)
        for index, header in enumerate(headers):
            justify: Literal["right", "left"] = "right" if index in right else "left"
            if index in whole:
                widest = max([len(row[index]) for row in rows] + [len(w) for w in header.split()])
                drawn.add_column(header, justify=justify, width=widest)
            else:
                drawn.add_column(header, justify=justify, overflow="fold")
        for row in rows:
            drawn.add_row(*row)
        Console(file=reader.out, highlight=False, soft_wrap=True).print(drawn)
        return
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for line in (headers, *rows):
        cells = [
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        reader.out.write("  ".join(cells).rstrip() + "\n")


async def ticking(
    work: Awaitable[T], label: str, reader: Reader, *, every: float | None = None
) -> T:
    """Await ``work``; meanwhile show ``label`` and the seconds waited on stderr, once the wait
    lasts (:class:`StatusLine`: redrawn on a terminal and erased when it ends, else a line every
    few seconds)."""
    task = asyncio.ensure_future(work)
    status = StatusLine(reader.err, live=reader.live, every=every)
    started = time.monotonic()
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=TICK)
            waited = time.monotonic() - started
            if not task.done() and waited >= 2 * TICK:
                status.show(f"{label} {waited:.0f}s")
    finally:
        if not task.done():
            task.cancel()
        status.done()
    return task.result()


class ExportProgress:
    """Records written so far, on a :class:`StatusLine`."""

    def __init__(self, reader: Reader, kind: str, *, every: float | None = None) -> None:
        self.kind = kind
        self.records = 0
        self.started = time.monotonic()
        self.status = StatusLine(reader.err, live=reader.live, every=every)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def add(self, records: int = 1) -> None:
        self.records += records
        elapsed = max(self.elapsed, 1e-9)
        self.status.show(
            f"export: {self.records:,} {self.kind} so far, {self.records / elapsed:,.0f}/s"
        )

    def done(self) -> None:
        self.status.done()
