"""The SQLite journal's storage: its file, its schema and the one connection every part writes
through.

Imports only the standard library, ``ctflow.errors`` and the journal's interface.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ctflow.errors import CtflowError
from ctflow.journal.records import loads

JOURNAL_NAME = "journal.db"
SCHEMA_VERSION = 5

# Later versions add tables here (IF NOT EXISTS) and raise SCHEMA_VERSION.
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL, project TEXT NOT NULL, environment TEXT NOT NULL,
        user TEXT NOT NULL, host TEXT NOT NULL, git_commit TEXT, command TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT, outcome TEXT, summary TEXT)""",
    """CREATE TABLE IF NOT EXISTS steps (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs (id),
        key TEXT NOT NULL, action TEXT NOT NULL, hash TEXT, campaign_id INTEGER,
        intent_at TEXT NOT NULL, outcome TEXT, outcome_at TEXT, detail TEXT)""",
    "CREATE INDEX IF NOT EXISTS steps_by_run ON steps (run_id)",
    """CREATE TABLE IF NOT EXISTS specs (
        environment TEXT NOT NULL, key TEXT NOT NULL, hash TEXT NOT NULL,
        spec TEXT NOT NULL, campaign_id INTEGER, applied_at TEXT NOT NULL,
        PRIMARY KEY (environment, key, hash))""",
    # version 2: the upload ledger
    """CREATE TABLE IF NOT EXISTS upload_batches (
        environment TEXT NOT NULL, batch_id TEXT NOT NULL, state TEXT NOT NULL,
        records INTEGER NOT NULL, run_id INTEGER, updated_at TEXT NOT NULL, detail TEXT,
        PRIMARY KEY (environment, batch_id))""",
    """CREATE TABLE IF NOT EXISTS uploads (
        environment TEXT NOT NULL, upload_key TEXT NOT NULL, kind TEXT NOT NULL,
        source TEXT NOT NULL, dataset TEXT, state TEXT NOT NULL, summary TEXT,
        run_id INTEGER, updated_at TEXT NOT NULL, PRIMARY KEY (environment, upload_key))""",
    # version 3: send idempotency keys
    """CREATE TABLE IF NOT EXISTS sends (
        environment TEXT NOT NULL, send_key TEXT NOT NULL, recipient TEXT NOT NULL,
        trigger_key TEXT NOT NULL, digest TEXT NOT NULL, state TEXT NOT NULL,
        run_id INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, detail TEXT,
        PRIMARY KEY (environment, send_key, recipient))""",
    # version 4: audiences, their segments and the members last applied
    """CREATE TABLE IF NOT EXISTS audiences (
        environment TEXT NOT NULL, key TEXT NOT NULL, customer_segment_id TEXT NOT NULL,
        ct_segment_id INTEGER, updated_at TEXT NOT NULL,
        PRIMARY KEY (environment, key))""",
    """CREATE TABLE IF NOT EXISTS audience_members (
        environment TEXT NOT NULL, key TEXT NOT NULL, member TEXT NOT NULL,
        PRIMARY KEY (environment, key, member))""",
    # version 5: audience members sent in a batch whose outcome is not known yet
    """CREATE TABLE IF NOT EXISTS audience_pending (
        environment TEXT NOT NULL, key TEXT NOT NULL, member TEXT NOT NULL,
        direction TEXT NOT NULL, PRIMARY KEY (environment, key, member))""",
)


JOURNAL_TABLES = (
    "runs",
    "steps",
    "specs",
    "upload_batches",
    "uploads",
    "sends",
    "audiences",
    "audience_members",
    "audience_pending",
)
"""The tables that hold what the journal remembers (``meta`` holds its own bookkeeping)."""


def row_dict(row: sqlite3.Row, *json_columns: str) -> dict[str, Any]:
    found = dict(row)
    for column in json_columns:
        found[column] = loads(found[column])
    return found


class Store:
    """One SQLite connection in autocommit mode: every write is durable when the call returns."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, created: bool, now: Callable[[], datetime]
    ) -> None:
        self.path = path
        self.created = created
        self._conn = conn
        self._now = now

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        project: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Self:
        """The journal at ``path``, created (with its parent directories) when missing. A file
        holds one project's journal: opened for ``project``, it refuses another's."""
        conn: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            created = _create_schema(conn)
            if project is not None:
                _claim_for(conn, project)
        except (OSError, sqlite3.Error, ValueError) as exc:
            if conn is not None:
                conn.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise CtflowError(f"cannot open the journal {path}: {reason}") from None
        return cls(path, conn, created, now)

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _stamp(self) -> str:
        return self._now().astimezone(UTC).isoformat(timespec="seconds")

    def export(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, as stored (JSON columns as text), oldest first: what
        :func:`ctflow.journal.copy_journal` moves into a PostgreSQL journal."""
        return {
            table: [dict(row) for row in self._query(f"SELECT * FROM {table} ORDER BY rowid", ())]
            for table in JOURNAL_TABLES
        }

    def _execute(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise CtflowError(f"cannot write the journal {self.path}: {exc}") from None

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise CtflowError(f"cannot read the journal {self.path}: {exc}") from None


def _create_schema(conn: sqlite3.Connection) -> bool:
    """Create or complete the schema; True when the database had none before."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        existed = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        found = (
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if existed
            else None
        )
        version = int(found[0]) if found else 0
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"it has schema version {version}, newer than this ctflow knows"
                f" ({SCHEMA_VERSION}); upgrade ctflow"
            )
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found is None


def _claim_for(conn: sqlite3.Connection, project: str) -> None:
    """The file is ``project``'s journal (it says so from the first time a project opens it)."""
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('project', ?)", (project,))
    owner = conn.execute("SELECT value FROM meta WHERE key = 'project'").fetchone()[0]
    if owner != project:
        raise ValueError(
            f"it is project {owner!r}'s journal, not {project!r}'s: give each project a journal "
            "file of its own (or one PostgreSQL journal, which keeps projects apart)"
        )


def lastrowid(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
    return cursor.lastrowid


def exactly_one(cursor: sqlite3.Cursor, what: str) -> None:
    if cursor.rowcount != 1:
        raise ValueError(f"the journal has no {what}")
