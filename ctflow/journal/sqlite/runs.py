"""The SQLite journal (:class:`SqliteJournal`): the audit trail (runs and their steps, each
intent committed before its API call), the last-applied spec of each campaign version, the
campaigns ctflow stopped, and the lock that keeps two applies on one machine apart, with the
upload ledger and the send keys."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ctflow.errors import ConflictError, CtflowError
from ctflow.journal.interface import Holder
from ctflow.journal.records import describe_holder, dumps, holder_json, loads
from ctflow.journal.sqlite.audiences import SqliteAudiences
from ctflow.journal.sqlite.sends import SqliteSends
from ctflow.journal.sqlite.store import exactly_one, lastrowid, row_dict
from ctflow.journal.sqlite.uploads import SqliteUploads

_RUN_COLUMNS = (
    "id, kind, project, environment, user, host, git_commit, command,"
    " started_at, finished_at, outcome, summary"
)
_STEP_COLUMNS = (
    "steps.id, run_id, key, action, hash, campaign_id, intent_at, steps.outcome, outcome_at, detail"
)


class SqliteJournal(SqliteUploads, SqliteSends, SqliteAudiences):
    """A journal in one SQLite file (``.ctflow/journal.db``): :class:`ctflow.journal.Journal`."""

    @contextmanager
    def lock(
        self, holder: Holder, *, project: str, environment: str, only: Sequence[str] = ()
    ) -> Iterator[None]:
        """Exclusive use of the journal by this process; the OS releases it if the process dies.
        The file is one project's, so the lock covers every environment of it (and ``only``)."""
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
                    f"the journal {self.path} is locked by {_holder_of(lock_path)}; "
                    "wait for it to finish"
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, holder_json(holder).encode())
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
        return lastrowid(cursor)

    def finish(self, run_id: int, outcome: str, summary: Mapping[str, Any] | None = None) -> None:
        """Close a run: ``ok``, ``failed``, ``interrupted`` or ``gated``, with a JSON summary."""
        cursor = self._execute(
            "UPDATE runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?",
            (self._stamp(), outcome, dumps(summary), run_id),
        )
        exactly_one(cursor, f"run {run_id}")

    def finish_if_open(
        self, run_id: int, outcome: str, summary: Mapping[str, Any] | None = None
    ) -> bool:
        """Close a run that nothing closed yet (an error cut it short); ``True`` if it was open."""
        cursor = self._execute(
            "UPDATE runs SET finished_at = ?, outcome = ?, summary = ?"
            " WHERE id = ? AND finished_at IS NULL",
            (self._stamp(), outcome, dumps(summary), run_id),
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
            (run_id, key, action, hash, campaign_id, self._stamp(), dumps(detail)),
        )
        return lastrowid(cursor)

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
        merged = {**(loads(rows[0]["detail"]) or {}), **(detail or {})}
        self._execute(
            "UPDATE steps SET outcome = ?, outcome_at = ?,"
            " campaign_id = COALESCE(?, campaign_id), detail = ? WHERE id = ?",
            (outcome, self._stamp(), campaign_id, dumps(merged or None), step_id),
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
            (environment, key, hash, dumps(spec), campaign_id, self._stamp()),
        )

    def spec(self, environment: str, key: str, hash: str) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT spec FROM specs WHERE environment = ? AND key = ? AND hash = ?",
            (environment, key, hash),
        )
        return loads(rows[0]["spec"]) if rows else None

    def specs(self, environment: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Every spec ever applied in ``environment``, by (key, hash)."""
        rows = self._query(
            "SELECT key, hash, spec FROM specs WHERE environment = ?", (environment,)
        )
        return {(row["key"], row["hash"]): loads(row["spec"]) for row in rows}

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

    def runs(
        self,
        limit: int = 20,
        *,
        environment: str | None = None,
        kind: str | None = None,
        since: str | None = None,
    ) -> list[dict[str, Any]]:
        """The latest runs, newest first (see the protocol for the filters)."""
        rows = self._query(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE (?1 IS NULL OR environment = ?1)"
            " AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR started_at >= ?3)"
            " ORDER BY id DESC LIMIT ?4",
            (environment, kind, since, limit),
        )
        return [row_dict(row, "summary") for row in rows]

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return row_dict(rows[0], "summary") if rows else None

    def steps(self, run_id: int) -> list[dict[str, Any]]:
        """The steps of one run, in the order they were intended."""
        rows = self._query(
            f"SELECT {_STEP_COLUMNS} FROM steps WHERE run_id = ? ORDER BY id", (run_id,)
        )
        return [row_dict(row, "detail") for row in rows]

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
        return [row_dict(row, "detail") for row in rows]


def _holder_of(lock_path: Path) -> str:
    try:
        return describe_holder(lock_path.read_text(encoding="utf-8"))
    except OSError:
        return "another process"
