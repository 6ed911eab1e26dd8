"""Tables (rich on a terminal, plain aligned text otherwise) and the progress lines of the read
commands: a ticking "still computing" line while a count polls, a running record count while an
export streams. Progress goes to stderr only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from typing import TextIO, TypeVar

from ctflow.reads.context import Reader

T = TypeVar("T")
TICK = 0.25
PLAIN_EVERY = 5.0
"""Off a terminal, a progress line at most this often (seconds): what a CI log wants."""


def table(
    reader: Reader,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[int] = (),
) -> None:
    """``rows`` under ``headers``; the columns numbered in ``right`` (numbers) align right."""
    if reader.tables:
        from rich.console import Console
        from rich.table import Table

        drawn = Table(box=None, header_style="bold", pad_edge=False)
        for index, header in enumerate(headers):
            drawn.add_column(header, justify="right" if index in right else "left")
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


async def ticking(work: Awaitable[T], label: str, reader: Reader) -> T:
    """Await ``work``; on a terminal, meanwhile redraw ``label`` and the seconds waited on stderr
    (shown only once the wait lasts, erased when it ends)."""
    task = asyncio.ensure_future(work)
    if not reader.live:
        return await task
    started = time.monotonic()
    drawn = False
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=TICK)
            waited = time.monotonic() - started
            if not task.done() and waited >= 2 * TICK:
                reader.err.write(f"\r{label} {waited:.0f}s")
                reader.err.flush()
                drawn = True
    finally:
        if not task.done():
            task.cancel()
        if drawn:
            reader.err.write("\r\x1b[K")
            reader.err.flush()
    return task.result()


class ExportProgress:
    """Records written so far: a line redrawn on a terminal, else one plain line every few
    seconds; ``done()`` leaves no half-drawn line behind."""

    def __init__(self, reader: Reader, kind: str, *, every: float = PLAIN_EVERY) -> None:
        self.err: TextIO = reader.err
        self.live = reader.live
        self.kind = kind
        self.every = TICK if self.live else every
        self.records = 0
        self.started = time.monotonic()
        self._last = self.started
        self._drawn = False

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def add(self, records: int = 1) -> None:
        self.records += records
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        line = f"{self.records:,} {self.kind} so far, {self.records / self.elapsed:,.0f}/s"
        if self.live:
            self.err.write(f"\rexporting: {line}\x1b[K")
            self._drawn = True
        else:
            self.err.write(f"ctflow: export: {line}\n")
        self.err.flush()

    def done(self) -> None:
        if self._drawn:
            self.err.write("\r\x1b[K")
            self.err.flush()
            self._drawn = False
