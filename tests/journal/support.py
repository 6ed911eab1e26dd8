"""What the journal tests share: a journal of either kind (a SQLite file, or a fresh PostgreSQL
database on the session's real server), a clock that moves a minute a read, and child
processes that hold the journal while a test looks on."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ctflow.journal import Journal, JournalLocation, open_journal
from ctflow.journal.location import parse_location

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
PROJECT = "shop"


def clock() -> Callable[[], datetime]:
    """A clock that moves one minute each time it is read."""
    ticks = iter(range(10_000))
    return lambda: START + timedelta(minutes=next(ticks))


def at(minute: int) -> str:
    return (START + timedelta(minutes=minute)).isoformat()


@dataclass(frozen=True)
class Backend:
    """One journal's place: ``url`` is what ``CTFLOW_JOURNAL_URL`` (or a child) is given."""

    kind: str
    url: str
    root: Path

    @property
    def location(self) -> JournalLocation:
        return parse_location(self.url, self.root, source="the test")

    def open(self, *, project: str = PROJECT, now: Callable[[], datetime] | None = None) -> Journal:
        if now is None:
            return open_journal(self.location, project=project)
        return open_journal(self.location, project=project, now=now)


def sqlite_backend(root: Path) -> Backend:
    return Backend("sqlite", f"sqlite:///{root / '.ctflow' / 'journal.db'}", root)


OPEN_IN_CHILD = """
import sys
from pathlib import Path
from ctflow.journal import open_journal
from ctflow.journal.location import parse_location
journal = open_journal(parse_location(sys.argv[1], Path.cwd(), source="child"), project="shop")
"""


@contextmanager
def child(script: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """A Python process running ``script`` (after :data:`OPEN_IN_CHILD`, with the journal's
    URL as its first argument), once it has printed its first line; killed after."""
    proc = subprocess.Popen(
        [sys.executable, "-c", OPEN_IN_CHILD + script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.communicate()[1]
        yield proc
    finally:
        proc.kill()
        proc.communicate()
