"""The journal: what the API cannot tell ctflow.

Owns the audit trail of runs and their steps (each intent committed before its API call), the
last-applied spec of each campaign version, the campaigns ctflow itself stopped, the upload ledger
(each batch's state, and which files were uploaded whole), the lock that keeps two applies apart,
and the idempotency keys of sends (each recorded before its call and after). Imports only the
standard library and ``ctflow.errors``; the caller passes user, host and git commit in.

    interface.py  what callers ask of a journal: the Journal protocol and its parts
    location.py   where a journal is: sqlite:///PATH or postgresql://… (password never shown)
    records.py    what every implementation agrees on (JSON columns, reclaiming sends, holders)
    sqlite/       the journal in one SQLite file (.ctflow/journal.db), the default
    postgres/     the journal in a PostgreSQL database, shared by many machines (psycopg 3);
                  the account's slots for processes sharing it; copying a SQLite journal in
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ctflow.errors import ConfigError, UsageError
from ctflow.journal.interface import (
    AppliedSpecs,
    ApplyLock,
    AudienceRecords,
    BatchState,
    Holder,
    Journal,
    RunLog,
    SendKeys,
    UploadRecords,
)
from ctflow.journal.location import JournalLocation
from ctflow.journal.sqlite import JOURNAL_NAME, SCHEMA_VERSION, SqliteJournal

if TYPE_CHECKING:
    from ctflow.journal.postgres import PgJournal
    from ctflow.journal.postgres.copy import Copied


logger = logging.getLogger("ctflow.journal")


def _utc_now() -> datetime:
    return datetime.now(UTC)


__all__ = [
    "JOURNAL_NAME",
    "SCHEMA_VERSION",
    "AppliedSpecs",
    "ApplyLock",
    "AudienceRecords",
    "BatchState",
    "Holder",
    "Journal",
    "JournalLocation",
    "RunLog",
    "SendKeys",
    "SqliteJournal",
    "UploadRecords",
    "copy_journal",
    "existing_journal",
    "open_journal",
]


Clock = Callable[[], datetime]


def open_journal(
    location: JournalLocation | Path, *, project: str | None = None, now: Clock = _utc_now
) -> Journal:
    """The journal at ``location``, created when missing, for ``project`` (a PostgreSQL
    journal holds many projects; a SQLite file one, which it refuses to mix with another).
    ``now`` stamps what is written (tests hand in a clock)."""
    if isinstance(location, Path):
        location = JournalLocation.sqlite(location)
    logger.debug("journal: %s", location.shown)
    if location.kind == "postgresql":
        return _postgres().open(location, project or "", now=now)
    assert location.path is not None  # a SQLite location always has its file
    return SqliteJournal.open(location.path, project=project or None, now=now)


def existing_journal(
    location: JournalLocation | Path, *, project: str | None = None, now: Clock = _utc_now
) -> Journal | None:
    """The journal at ``location`` if there is one: reading (a plan) never creates a journal."""
    if isinstance(location, Path):
        location = JournalLocation.sqlite(location)
    logger.debug("journal: %s", location.shown)
    if location.kind == "postgresql":
        return _postgres().existing(location, project or "", now=now)
    assert location.path is not None
    if not location.path.exists():
        return None
    return SqliteJournal.open(location.path, project=project or None, now=now)


def copy_journal(
    source: Path, destination: JournalLocation, *, project: str, holder: Holder
) -> Copied:
    """Everything the SQLite journal ``source`` holds, copied into the PostgreSQL journal at
    ``destination`` for ``project``: all of it, or nothing when a row there differs. Both are
    locked meanwhile (every environment of the project), so no run writes to either."""
    if destination.kind != "postgresql":
        raise UsageError(f"copy into a PostgreSQL journal, not {destination.shown}")
    if not source.is_file():
        raise UsageError(f"no journal to copy at {source}")
    with (
        SqliteJournal.open(source, project=project) as old,
        old.lock(holder, project=project, environment="*"),
    ):
        rows = old.export()
        environments = {
            r["environment"] for table in rows.values() for r in table if "environment" in r
        }
        with _postgres().open(destination, project) as new, ExitStack() as locks:
            for environment in sorted(environments):
                locks.enter_context(new.lock(holder, project=project, environment=environment))
            return new.copy_in(rows)


def _postgres() -> type[PgJournal]:
    try:
        from ctflow.journal.postgres import PgJournal
    except ImportError:
        raise ConfigError(
            "a PostgreSQL journal needs psycopg: pip install 'ctflow[postgres]'"
        ) from None
    return PgJournal
