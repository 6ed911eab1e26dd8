"""The PostgreSQL journal's audiences: each Audience's segment and the members last applied to
it, per project (a batch's members marked pending before its call, recorded in one transaction
once CleverTap took it).
Mixed into :class:`~ctflow.journal.postgres.journal.PgJournal`, whose connection it uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, LiteralString

import psycopg

if TYPE_CHECKING:
    from ctflow.errors import CtflowError


_OF_ANOTHER: LiteralString = (
    " WHERE project = %s AND environment = %s AND key = %s AND EXISTS (SELECT 1 FROM audiences a"
    " WHERE a.project = %s AND a.environment = %s AND a.key = %s"
    " AND a.customer_segment_id <> %s)"
)
_MEMBER_TABLES: tuple[LiteralString, ...] = (
    "DELETE FROM audience_members" + _OF_ANOTHER,
    "DELETE FROM audience_pending" + _OF_ANOTHER,
)


class PgAudiences:
    project: str
    _conn: psycopg.Connection[Any]

    if TYPE_CHECKING:  # PgJournal's own

        def _execute(
            self, sql: LiteralString, params: Sequence[Any] = ()
        ) -> psycopg.Cursor[Any]: ...

        def _query(
            self, sql: LiteralString, params: Sequence[Any] | Mapping[str, Any] = ()
        ) -> list[Any]: ...

        def _stamp(self) -> str: ...

        def _failure(self, doing: str, exc: psycopg.Error) -> CtflowError: ...

    def audience(self, environment: str, key: str) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT customer_segment_id, ct_segment_id, updated_at FROM audiences"
            " WHERE project = %s AND environment = %s AND key = %s",
            (self.project, environment, key),
        )
        return dict(rows[0]) if rows else None

    def audiences(self, environment: str) -> list[str]:
        rows = self._query(
            "SELECT key FROM audiences WHERE project = %s AND environment = %s ORDER BY key",
            (self.project, environment),
        )
        return [str(row["key"]) for row in rows]

    def record_audience(
        self, environment: str, key: str, *, customer_segment_id: str, ct_segment_id: int | None
    ) -> None:
        at = (self.project, environment, key)
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                # members of another segment or list of this key (its source switched) go
                for table in _MEMBER_TABLES:
                    cur.execute(table, (*at, *at, customer_segment_id))
                cur.execute(
                    "INSERT INTO audiences (project, environment, key, customer_segment_id,"
                    " ct_segment_id, updated_at) VALUES (%s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (project, environment, key) DO UPDATE SET"
                    " customer_segment_id = excluded.customer_segment_id,"
                    " ct_segment_id = excluded.ct_segment_id, updated_at = excluded.updated_at",
                    (*at, customer_segment_id, ct_segment_id, self._stamp()),
                )
        except psycopg.Error as exc:
            raise self._failure("write", exc) from None

    def audience_members(self, environment: str, key: str) -> set[str]:
        rows = self._query(
            "SELECT member FROM audience_members WHERE project = %s AND environment = %s"
            " AND key = %s",
            (self.project, environment, key),
        )
        return {str(row["member"]) for row in rows}

    def audience_pending(self, environment: str, key: str) -> tuple[set[str], set[str]]:
        rows = self._query(
            "SELECT member, direction FROM audience_pending WHERE project = %s"
            " AND environment = %s AND key = %s",
            (self.project, environment, key),
        )
        pending: dict[str, set[str]] = {"add": set(), "remove": set()}
        for row in rows:
            pending[str(row["direction"])].add(str(row["member"]))
        return pending["add"], pending["remove"]

    def pending_members(
        self, environment: str, key: str, *, added: Sequence[str], removed: Sequence[str]
    ) -> None:
        rows = [(self.project, environment, key, m, "add") for m in added]
        rows += [(self.project, environment, key, m, "remove") for m in removed]
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO audience_pending (project, environment, key, member, direction)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (project, environment, key, member)"
                    " DO UPDATE SET direction = excluded.direction",
                    rows,
                )
        except psycopg.Error as exc:
            raise self._failure("write", exc) from None

    def forget_environment_audiences(self, environment: str) -> int:
        found = len(self.audiences(environment))
        self._execute(
            "DELETE FROM audience_pending WHERE project = %s AND environment = %s",
            (self.project, environment),
        )
        self._execute(
            "DELETE FROM audience_members WHERE project = %s AND environment = %s",
            (self.project, environment),
        )
        self._execute(
            "DELETE FROM audiences WHERE project = %s AND environment = %s",
            (self.project, environment),
        )
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
        at = (self.project, environment, key)
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO audience_members (project, environment, key, member)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    [(*at, member) for member in added],
                )
                cur.executemany(
                    "DELETE FROM audience_members WHERE project = %s AND environment = %s"
                    " AND key = %s AND member = %s",
                    [(*at, member) for member in removed],
                )
                cur.executemany(
                    "DELETE FROM audience_pending WHERE project = %s AND environment = %s"
                    " AND key = %s AND member = %s",
                    [(*at, member) for member in (*added, *removed, *settled)],
                )
        except psycopg.Error as exc:
            raise self._failure("write", exc) from None
