"""The SQLite journal's upload ledger: each batch's state, and which file contents were
uploaded whole."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ctflow.errors import CtflowError
from ctflow.journal.interface import BatchState
from ctflow.journal.records import batch_order, dumps
from ctflow.journal.sqlite.store import Store, row_dict

_UPSERT_BATCH = (
    "INSERT INTO upload_batches (environment, batch_id, state, records, run_id,"
    " updated_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (environment, batch_id) DO UPDATE SET state = excluded.state,"
    " records = excluded.records, run_id = excluded.run_id,"
    " updated_at = excluded.updated_at, detail = excluded.detail"
)


class SqliteUploads(Store):
    def batch_states(self, environment: str, prefix: str) -> dict[str, str]:
        """The state of every batch whose id starts with ``prefix``."""
        rows = self._query(
            "SELECT batch_id, state FROM upload_batches"
            " WHERE environment = ? AND substr(batch_id, 1, ?) = ?",
            (environment, len(prefix), prefix),
        )
        return {row["batch_id"]: row["state"] for row in rows}

    def batch_records(self, environment: str, prefix: str) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT batch_id, state, records, updated_at, detail FROM upload_batches"
            " WHERE environment = ? AND substr(batch_id, 1, ?) = ?",
            (environment, len(prefix), prefix),
        )
        return sorted((row_dict(row, "detail") for row in rows), key=batch_order)

    def sent_records(self, environment: str, prefix: str) -> int:
        rows = self._query(
            "SELECT COALESCE(SUM(records), 0) AS sent FROM upload_batches"
            " WHERE environment = ? AND substr(batch_id, 1, ?) = ? AND state != 'failed'",
            (environment, len(prefix), prefix),
        )
        return int(rows[0]["sent"])

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
            _UPSERT_BATCH,
            (environment, batch_id, state, records, run_id, self._stamp(), dumps(detail)),
        )

    def record_batch_states(
        self, environment: str, batches: Sequence[BatchState], *, run_id: int | None
    ) -> None:
        """Several batches' states in one transaction (one commit, one disk flush)."""
        stamp = self._stamp()
        rows = [
            (environment, b.batch_id, b.state, b.records, run_id, stamp, dumps(b.detail))
            for b in batches
        ]
        try:
            with self._conn:  # one transaction: committed, or rolled back on an error
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(_UPSERT_BATCH, rows)
        except sqlite3.Error as exc:
            raise CtflowError(f"cannot write the journal {self.path}: {exc}") from None

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
                dumps(summary),
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
        return [row_dict(row, "summary") for row in rows]

    def batches_of(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT batch_id, state, records, updated_at, detail FROM upload_batches"
            " WHERE run_id = ?",
            (run_id,),
        )
        return sorted((row_dict(row, "detail") for row in rows), key=batch_order)

    def forget_environment_uploads(self, environment: str) -> int:
        """Forget what was uploaded to ``environment`` (its account was emptied)."""
        batches = self._execute(
            "DELETE FROM upload_batches WHERE environment = ?", (environment,)
        ).rowcount
        self._execute("DELETE FROM uploads WHERE environment = ?", (environment,))
        return batches
