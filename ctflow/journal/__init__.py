"""The journal: what the API cannot tell ctflow.

Owns the audit trail of runs and their steps (each intent committed before its API call), the
last-applied spec of each campaign version, the campaigns ctflow itself stopped, the upload ledger
(each batch's state, and which files were uploaded whole), the lock that keeps two applies apart,
and the idempotency keys of sends (each recorded before its call and after). Imports only the
standard library and ``ctflow.errors``; the caller passes user, host and git commit in.

    interface.py  what callers ask of a journal: the Journal protocol and its parts
    sqlite/       the journal in one SQLite file (.ctflow/journal.db), the default
"""

from __future__ import annotations

from pathlib import Path

from ctflow.journal.interface import (
    AppliedSpecs,
    ApplyLock,
    Holder,
    Journal,
    RunLog,
    SendKeys,
    UploadRecords,
)
from ctflow.journal.sqlite import JOURNAL_NAME, SCHEMA_VERSION, SqliteJournal

__all__ = [
    "JOURNAL_NAME",
    "SCHEMA_VERSION",
    "AppliedSpecs",
    "ApplyLock",
    "Holder",
    "Journal",
    "RunLog",
    "SendKeys",
    "SqliteJournal",
    "UploadRecords",
    "existing_journal",
    "open_journal",
]


def open_journal(path: Path) -> Journal:
    """The journal at ``path``, created when missing."""
    return SqliteJournal.open(path)


def existing_journal(path: Path) -> Journal | None:
    """The journal at ``path`` if there is one: reading (a plan) never creates a journal."""
    return SqliteJournal.open(path) if path.exists() else None
