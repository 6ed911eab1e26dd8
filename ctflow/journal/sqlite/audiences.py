"""The SQLite journal's audiences: each Audience's segment and the members last applied to it
(a batch's members marked pending before its call, recorded in one transaction once CleverTap
took it)."""

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
        other = (
            "WHERE environment = ? AND key = ? AND EXISTS (SELECT 1 FROM audiences a"
            " WHERE a.environment = ? AND a.key = ? AND a.customer_segment_id <> ?)"
        )
        of = [(environment, key, environment, key, customer_segment_id)]
        self._batch(
            [
                # members of another segment or list of this key (its source switched) go
                (f"DELETE FROM audience_members {other}", of),
                (f"DELETE FROM audience_pending {other}", of),
                (
                    "INSERT INTO audiences (environment, key, customer_segment_id,"
                    " ct_segment_id, updated_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (environment, key) DO UPDATE SET"
                    " customer_segment_id = excluded.customer_segment_id,"
                    " ct_segment_id = excluded.ct_segment_id, updated_at = excluded.updated_at",
                    [(environment, key, customer_segment_id, ct_segment_id, self._stamp())],
                ),
            ]
        )

    def audience_members(self, environment: str, key: str) -> set[str]:
        rows = self._query(
            "SELECT member FROM audience_members WHERE environment = ? AND key = ?",
            (environment, key),
        )
        return {row["member"] for row in rows}

    def audience_pending(self, environment: str, key: str) -> tuple[set[str], set[str]]:
        rows = self._query(
            "SELECT member, direction FROM audience_pending WHERE environment = ? AND key = ?",
            (environment, key),
        )
        pending: dict[str, set[str]] = {"add": set(), "remove": set()}
        for row in rows:
            pending[row["direction"]].add(row["member"])
        return pending["add"], pending["remove"]

    def pending_members(
        self, environment: str, key: str, *, added: Sequence[str], removed: Sequence[str]
    ) -> None:
        rows = [(environment, key, m, "add") for m in added]
        rows += [(environment, key, m, "remove") for m in removed]
        self._batch(
            [
                (
                    "INSERT INTO audience_pending (environment, key, member, direction)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (environment, key, member)"
                    " DO UPDATE SET direction = excluded.direction",
                    rows,
                )
            ]
        )

    def forget_environment_audiences(self, environment: str) -> int:
        found = len(self.audiences(environment))
        self._execute("DELETE FROM audience_pending WHERE environment = ?", (environment,))
        self._execute("DELETE FROM audience_members WHERE environment = ?", (environment,))
        self._execute("DELETE FROM audiences WHERE environment = ?", (environment,))
        return found

    def record_members(
        self,
        environment: str,
        key: str,
        *,
        added: Sequence[str],
        removed: Sequence[str],
        settled: Sequence[str] = (),
    ) -> None:
        where = "WHERE environment = ? AND key = ? AND member = ?"
        self._batch(
            [
                (
                    "INSERT OR IGNORE INTO audience_members (environment, key, member)"
                    " VALUES (?, ?, ?)",
                    [(environment, key, member) for member in added],
                ),
                (
                    f"DELETE FROM audience_members {where}",
                    [(environment, key, member) for member in removed],
                ),
                (
                    f"DELETE FROM audience_pending {where}",
                    [(environment, key, m) for m in (*added, *removed, *settled)],
                ),
            ]
        )

    def _batch(self, statements: Sequence[tuple[str, Sequence[tuple[Any, ...]]]]) -> None:
        """Each statement run for each of its rows, in one transaction: all or nothing."""
        try:
            with self._conn:  # committed, or rolled back on an error
                self._conn.execute("BEGIN IMMEDIATE")
                for sql, rows in statements:
                    self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise CtflowError(f"cannot write the journal {self.path}: {exc}") from None
