"""Which profile each identifier names, kept in memory between upload calls.

Looking a call's 1000 identifiers up in SQLite costs more than the rest of its reads; the map
answers from memory. It is right only while nothing else changes the profiles' identifiers:
`Store` drops it when it deletes or replaces profiles, a rollback drops it, and
`PRAGMA data_version` on the writer says when another connection (another process sharing the
file) committed, when it is read again. Used only on the writer, under its lock.

Imports only the standard library.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


class IdentifierMap:
    """identifier column → {value: profile id}, each column read whole the first time."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._maps: dict[str, dict[str, int]] = {}
        self._version: int | None = None

    def column(self, column: str) -> dict[str, int]:
        """The map of `column`, itself: a writer adds the profiles it makes (see `add`)."""
        return self._map(column)

    def add(self, column: str, written: Iterable[tuple[str, int]]) -> None:
        """Profiles just written, (value, id) each: kept if the column's map is loaded."""
        known = self._maps.get(column)
        if known is not None:
            known.update(written)

    def drop(self) -> None:
        self._maps.clear()

    def _map(self, column: str) -> dict[str, int]:
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._maps.clear()
            self._version = version
        known = self._maps.get(column)
        if known is None:
            rows = self._conn.execute(f"SELECT {column}, id FROM profiles WHERE {column} NOT NULL")
            known = self._maps[column] = dict(rows.fetchall())
        return known
