"""One line of progress on stderr for the read commands (a count waiting, an export streaming), in
upload's style: drawn by rich on a terminal that can redraw, erased when done; elsewhere (CI, a
pipe, a file) a plain ``ctflow:`` line every few seconds. Rich is imported only when drawing.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

TICK = 0.25
"""On a terminal, redrawn at most this often (seconds)."""
PLAIN_EVERY = 5.0
"""Off a terminal, a progress line at most this often (seconds): what a CI log wants."""


class StatusLine:
    """``show(text)`` as often as there is news; ``done()`` leaves no half-drawn line behind."""

    def __init__(self, err: TextIO, *, live: bool, every: float | None = None) -> None:
        self.err = err
        self.live = live
        self.every = every if every is not None else (TICK if live else PLAIN_EVERY)
        self._last = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def show(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        if not self.live:
            self.err.write(f"ctflow: {text}\n")
            self.err.flush()
            return
        if self._bar is None:
            self._start(text)
        self._bar.update(self._task, description=text)
        self._bar.refresh()

    def print(self, line: str) -> None:
        """A line of its own, above the status line while one is drawn."""
        if self._bar is not None:
            self._bar.console.print(
                line, markup=False, highlight=False, emoji=False, soft_wrap=True
            )
            return
        self.err.write(line + "\n")
        self.err.flush()

    def done(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _start(self, text: str) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn

        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            console=Console(file=self.err, force_terminal=True),
            transient=True,
            auto_refresh=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(text, total=None)
