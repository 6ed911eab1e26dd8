"""The SQLite journal's audiences: each Audience's segment and the members last applied to it
(a batch's members recorded in one transaction, once CleverTap took the batch)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from ctflow.errors import CtflowError
from ctflow.journal.sqlite.store import Store


class SqliteAudiences(Store):
    def audience(self, environment: str, key: str) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT customer_segment_id, ct_segment_id, updated_at FROM audiences"
            " WHERE environment = ? AND key = ?",
            (environment, key),
        )
        return dict(rows[0]) if rows else None

    def audiences(self, environment: str) -> list[str]:
        rows = self._query(
            "SELECT key FROM audiences WHERE environment = ? ORDER BY key", (environment,)
        )
        return [row["key"] for row in rows]

    def record_audience(
        self, environment: str, key: str, *, customer_segment_id: str, ct_segment_id: int | None
    ) -> None:
        self._execute(
            "INSERT INTO audiences (environment, key, customer_segment_id, ct_segment_id,"
            " updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (environment, key) DO UPDATE SET"
            " customer_segment_id = excluded.customer_segment_id,"
            " ct_segment_id = excluded.ct_segment_id, updated_at = excluded.updated_at",
            (environment, key, customer_segment_id, ct_segment_id, self._stamp()),
        )

    def audience_members(self, environment: str, key: str) -> set[str]:
        rows = self._query(
            "SELECT member FROM audience_members WHERE environment = ? AND key = ?",
            (environment, key),
        )
        return {row["member"] for row in rows}

    def forget_environment_audiences(self, environment: str) -> int:
        found = len(self.audiences(environment))
        self._execute("DELETE FROM audience_members WHERE environment = ?", (environment,))
        self._execute("DELETE FROM audiences WHERE environment = ?", (environment,))
        return found

    def record_members(
        self, environment: str, key: str, *, added: Sequence[str], removed: Sequence[str]
    ) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                "INSERT OR IGNORE INTO audience_members (environment, key, member)"
                " VALUES (?, ?, ?)",
                [(environment, key, member) for member in added],
            )
            self._conn.executemany(
                "DELETE FROM audience_members WHERE environment = ? AND key = ? AND member = ?",
                [(environment, key, member) for member in removed],
            )
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise CtflowError(f"cannot write the journal {self.path}: {exc}") from None
