"""``Reader``: what every read command is handed by ``cli.py`` (the target, the project's name
and timezone, the moment, the streams and whether they are terminals), and how it prints JSON.
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ctflow.clevertap import CleverTap
from ctflow.config import Target
from ctflow.connect import open_client


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
