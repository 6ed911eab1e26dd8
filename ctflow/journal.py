"""The local journal (``.ctflow/journal.db``): what the API cannot tell ctflow.

Owns the audit trail of runs and their steps (each intent committed before its API call), the
last-applied spec of each campaign version, the campaigns ctflow itself stopped, the upload ledger
(each batch's state, and which files were uploaded whole), and the lock that keeps two applies on
one machine apart, and the idempotency keys of sends (each recorded before its call and after).
Imports only the standard library and ``ctflow.errors``;
the caller passes user, host and git commit in.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from ctflow.errors import ConflictError, CtflowError

JOURNAL_NAME = "journal.db"
SCHEMA_VERSION = 3

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
)

_RUN_COLUMNS = (
    "id, kind, project, environment, user, host, git_commit, command,"
    " started_at, finished_at, outcome, summary"
)
_STEP_COLUMNS = (
    "steps.id, run_id, key, action, hash, campaign_id, intent_at, steps.outcome, outcome_at, detail"
)


@dataclass(frozen=True)
class Holder:
    """Who holds the lock; ``started_at`` is ISO 8601 UTC."""

    pid: int
    user: str
    host: str
    command: str
    started_at: str


def _dumps(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _row(row: sqlite3.Row, *json_columns: str) -> dict[str, Any]:
    found = dict(row)
    for column in json_columns:
        found[column] = _loads(found[column])
    return found


class Journal:
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
        cls, path: Path, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> Journal:
        """The journal at ``path``, created (with its parent directories) when missing."""
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
        except (OSError, sqlite3.Error, ValueError) as exc:
            if conn is not None:
                conn.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise CtflowError(f"cannot open the journal {path}: {reason}") from None
        return cls(path, conn, created, now)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def lock(self, holder: Holder) -> Iterator[None]:
        """Exclusive use of the journal by this process; the OS releases it if the process dies."""
        lock_path = Path(f"{self.path}.lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CtflowError(f"cannot lock the journal {self.path}: {exc.strerror}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ConflictError(
                    f"the journal {self.path} is locked by {_describe_holder(lock_path)}; "
                    "wait for it to finish"
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(asdict(holder), sort_keys=True).encode())
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def begin(
        self,
        kind: str,
        *,
        project: str,
        environment: str,
        user: str,
        host: str,
        git_commit: str | None,
        command: str,
    ) -> int:
        """Start a run (``apply``, ``stop``, …) and return its id."""
        cursor = self._execute(
            "INSERT INTO runs (kind, project, environment, user, host, git_commit, command,"
            " started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, project, environment, user, host, git_commit, command, self._stamp()),
        )
        return _lastrowid(cursor)

    def finish(self, run_id: int, outcome: str, summary: Mapping[str, Any] | None = None) -> None:
        """Close a run: ``ok``, ``failed``, ``interrupted`` or ``gated``, with a JSON summary."""
        cursor = self._execute(
            "UPDATE runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?",
            (self._stamp(), outcome, _dumps(summary), run_id),
        )
        _exactly_one(cursor, f"run {run_id}")

    def finish_if_open(
        self, run_id: int, outcome: str, summary: Mapping[str, Any] | None = None
    ) -> bool:
        """Close a run that nothing closed yet (an error cut it short); ``True`` if it was open."""
        cursor = self._execute(
            "UPDATE runs SET finished_at = ?, outcome = ?, summary = ?"
            " WHERE id = ? AND finished_at IS NULL",
            (self._stamp(), outcome, _dumps(summary), run_id),
        )
        return cursor.rowcount == 1

    def intent(
        self,
        run_id: int,
        *,
        key: str,
        action: str,
        hash: str | None = None,
        campaign_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """Record what a step is about to do, before it does it; returns the step id."""
        cursor = self._execute(
            "INSERT INTO steps (run_id, key, action, hash, campaign_id, intent_at, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, key, action, hash, campaign_id, self._stamp(), _dumps(detail)),
        )
        return _lastrowid(cursor)

    def outcome(
        self,
        step_id: int,
        outcome: str,
        *,
        campaign_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Record how a step ended; ``detail`` is merged over the intent's detail."""
        rows = self._query("SELECT detail FROM steps WHERE id = ?", (step_id,))
        if not rows:
            raise ValueError(f"the journal has no step {step_id}")
        merged = {**(_loads(rows[0]["detail"]) or {}), **(detail or {})}
        self._execute(
            "UPDATE steps SET outcome = ?, outcome_at = ?,"
            " campaign_id = COALESCE(?, campaign_id), detail = ? WHERE id = ?",
            (outcome, self._stamp(), campaign_id, _dumps(merged or None), step_id),
        )

    def record_spec(
        self,
        environment: str,
        key: str,
        hash: str,
        spec: Mapping[str, Any],
        *,
        campaign_id: int | None,
    ) -> None:
        """Remember the spec applied for one campaign version (replacing an earlier record)."""
        self._execute(
            "INSERT INTO specs (environment, key, hash, spec, campaign_id, applied_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (environment, key, hash) DO UPDATE SET"
            " spec = excluded.spec, campaign_id = excluded.campaign_id,"
            " applied_at = excluded.applied_at",
            (environment, key, hash, _dumps(spec), campaign_id, self._stamp()),
        )

    def spec(self, environment: str, key: str, hash: str) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT spec FROM specs WHERE environment = ? AND key = ? AND hash = ?",
            (environment, key, hash),
        )
        return _loads(rows[0]["spec"]) if rows else None

    def specs(self, environment: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Every spec ever applied in ``environment``, by (key, hash)."""
        rows = self._query(
            "SELECT key, hash, spec FROM specs WHERE environment = ?", (environment,)
        )
        return {(row["key"], row["hash"]): _loads(row["spec"]) for row in rows}

    def stopped_ids(self, environment: str, *, kind: str = "apply") -> set[int]:
        """Campaign ids that runs of ``kind`` stopped in ``environment`` (stop steps that ended
        ``done``). The planner asks about applies only: what the kill switch (``stop-all``)
        stopped stays stopped until someone says otherwise."""
        rows = self._query(
            "SELECT DISTINCT campaign_id FROM steps JOIN runs ON runs.id = steps.run_id"
            " WHERE runs.environment = ? AND runs.kind = ? AND steps.action = 'stop'"
            " AND steps.outcome = 'done' AND campaign_id IS NOT NULL",
            (environment, kind),
        )
        return {row["campaign_id"] for row in rows}

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest runs, newest first."""
        rows = self._query(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        return [_row(row, "summary") for row in rows]

    def steps(self, run_id: int) -> list[dict[str, Any]]:
        """The steps of one run, in the order they were intended."""
        rows = self._query(
            f"SELECT {_STEP_COLUMNS} FROM steps WHERE run_id = ? ORDER BY id", (run_id,)
        )
        return [_row(row, "detail") for row in rows]

    def open_runs(self, environment: str, *, kinds: tuple[str, ...]) -> list[int]:
        """Runs of these kinds never closed (their process was killed), oldest first."""
        marks = ", ".join("?" * len(kinds))
        rows = self._query(
            f"SELECT id FROM runs WHERE environment = ? AND finished_at IS NULL"
            f" AND kind IN ({marks}) ORDER BY id",
            (environment, *kinds),
        )
        return [row["id"] for row in rows]

    def unfinished_steps(self, environment: str) -> list[dict[str, Any]]:
        """Steps intended but never given an outcome (their run was killed), newest first.

        A later run that settles one (for instance by adopting the campaign) closes it with
        :meth:`outcome`.
        """
        rows = self._query(
            f"SELECT {_STEP_COLUMNS} FROM steps JOIN runs ON runs.id = steps.run_id"
            " WHERE runs.environment = ? AND steps.outcome IS NULL ORDER BY steps.id DESC",
            (environment,),
        )
        return [_row(row, "detail") for row in rows]

    # -- the upload ledger -------------------------------------------------------------------

    def batch_states(self, environment: str, prefix: str) -> dict[str, str]:
        """The state of every batch whose id starts with ``prefix``."""
        rows = self._query(
            "SELECT batch_id, state FROM upload_batches"
            " WHERE environment = ? AND substr(batch_id, 1, ?) = ?",
            (environment, len(prefix), prefix),
        )
        return {row["batch_id"]: row["state"] for row in rows}

    def batch_state(
        self,
        environment: str,
        batch_id: str,
        state: str,
        *,
        records: int,
        run_id: int | None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Record a batch's state (``sending`` before its call, then how it ended)."""
        self._execute(
            "INSERT INTO upload_batches (environment, batch_id, state, records, run_id,"
            " updated_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (environment, batch_id) DO UPDATE SET state = excluded.state,"
            " records = excluded.records, run_id = excluded.run_id,"
            " updated_at = excluded.updated_at, detail = excluded.detail",
            (environment, batch_id, state, records, run_id, self._stamp(), _dumps(detail)),
        )

    def forget_batches(self, environment: str, prefix: str) -> int:
        """Forget every batch whose id starts with ``prefix`` (``upload --restart``)."""
        cursor = self._execute(
            "DELETE FROM upload_batches WHERE environment = ? AND substr(batch_id, 1, ?) = ?",
            (environment, len(prefix), prefix),
        )
        return cursor.rowcount

    def record_upload(
        self,
        environment: str,
        upload_key: str,
        *,
        kind: str,
        source: str,
        dataset: str | None,
        state: str,
        summary: Mapping[str, Any],
        run_id: int | None,
    ) -> None:
        """How the upload of one file content ended: ``complete`` or ``partial``."""
        self._execute(
            "INSERT INTO uploads (environment, upload_key, kind, source, dataset, state, summary,"
            " run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (environment, upload_key) DO UPDATE SET kind = excluded.kind,"
            " source = excluded.source, dataset = excluded.dataset, state = excluded.state,"
            " summary = excluded.summary, run_id = excluded.run_id,"
            " updated_at = excluded.updated_at",
            (
                environment,
                upload_key,
                kind,
                source,
                dataset,
                state,
                _dumps(summary),
                run_id,
                self._stamp(),
            ),
        )

    def uploads(self, environment: str) -> list[dict[str, Any]]:
        """Every upload recorded in ``environment``, newest first."""
        rows = self._query(
            "SELECT upload_key, kind, source, dataset, state, summary, run_id, updated_at"
            " FROM uploads WHERE environment = ? ORDER BY updated_at DESC, rowid DESC",
            (environment,),
        )
        return [_row(row, "summary") for row in rows]

    def forget_environment_uploads(self, environment: str) -> int:
        """Forget what was uploaded to ``environment`` (its account was emptied)."""
        batches = self._execute(
            "DELETE FROM upload_batches WHERE environment = ?", (environment,)
        ).rowcount
        self._execute("DELETE FROM uploads WHERE environment = ?", (environment,))
        return batches

    def claim_sends(
        self,
        environment: str,
        sends: Sequence[tuple[str, str, str]],
        *,
        trigger: str,
        run_id: int | None,
        again: Collection[str] = ("failed",),
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Record sends, each ``(send_key, recipient, digest of what is sent)``, as ``sending``
        before their call, in one transaction. A send already recorded in a state not in
        ``again`` is left as it was and returned by ``(send_key, recipient)`` with its record;
        the others are claimed."""
        now = self._stamp()
        earlier: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for send_key, recipient, digest in sends:
                row = self._conn.execute(
                    "SELECT trigger_key, digest, state, run_id, created_at, updated_at, detail"
                    " FROM sends WHERE environment = ? AND send_key = ? AND recipient = ?",
                    (environment, send_key, recipient),
                ).fetchone()
                if row is not None and row["state"] not in again:
                    earlier[(send_key, recipient)] = _row(row, "detail")
                    continue
                self._conn.execute(
                    "INSERT INTO sends (environment, send_key, recipient, trigger_key, digest,"
                    " state, run_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'sending', ?,"
                    " ?, ?) ON CONFLICT (environment, send_key, recipient) DO UPDATE SET"
                    " trigger_key = excluded.trigger_key, digest = excluded.digest,"
                    " state = 'sending', run_id = excluded.run_id,"
                    " updated_at = excluded.updated_at, detail = NULL",
                    (environment, send_key, recipient, trigger, digest, run_id, now, now),
                )
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise CtflowError(f"cannot write the journal {self.path}: {exc}") from None
        return earlier

    def send_outcomes(
        self,
        environment: str,
        sends: Sequence[tuple[str, str]],
        state: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """How claimed sends ended: ``sent``, ``failed`` (provably not sent) or ``ambiguous``."""
        stamp, text = self._stamp(), _dumps(detail)
        try:
            with self._conn:  # one transaction
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(
                    "UPDATE sends SET state = ?, updated_at = ?, detail = ?"
                    " WHERE environment = ? AND send_key = ? AND recipient = ?",
                    [(state, stamp, text, environment, key, to) for key, to in sends],
                )
        except sqlite3.Error as exc:
            raise CtflowError(f"cannot write the journal {self.path}: {exc}") from None

    def _stamp(self) -> str:
        return self._now().astimezone(UTC).isoformat(timespec="seconds")

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


def _describe_holder(lock_path: Path) -> str:
    try:
        holder = Holder(**json.loads(lock_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return "another process"
    return (
        f"another run: pid {holder.pid} ({holder.user}@{holder.host}), `{holder.command}`,"
        f" since {holder.started_at}"
    )


def _lastrowid(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
    return cursor.lastrowid


def _exactly_one(cursor: sqlite3.Cursor, what: str) -> None:
    if cursor.rowcount != 1:
        raise ValueError(f"the journal has no {what}")
