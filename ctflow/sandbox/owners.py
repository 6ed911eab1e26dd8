"""Which events each profile has: an index of events by profile kept up in bulk, not per upload.

An index on events(profile_id) takes its entries at random places, so over a million events each
upload of 1000 rewrote ~1000 of its pages at its commit (half of the call's SQLite work). Here
the events past the mark, once they number TAIL, are indexed as one chunk of event_owners
(chunk, profile, event), in the transaction of the upload that passed it: a new chunk goes at the
end of the table's B-tree, so it touches no page of the earlier ones. A read by profile looks it
up in each chunk and scans only the tail (fewer than TAIL events, by id).

Imports only the standard library.
"""

from __future__ import annotations

import sqlite3

TAIL = 10_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS event_owners (
    chunk INTEGER NOT NULL, profile_id INTEGER NOT NULL, event_id INTEGER NOT NULL,
    PRIMARY KEY (chunk, profile_id, event_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS owner_chunks (chunk INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS events_indexed (through INTEGER NOT NULL);
"""
TABLES = ("event_owners", "owner_chunks", "events_indexed")
CHUNKS = "chunk IN (SELECT chunk FROM owner_chunks)"
MARK = "COALESCE((SELECT MAX(through) FROM events_indexed), 0)"
"""The last event id in event_owners (every event up to it is there): SQL, read in the query's own
snapshot."""


def of_profiles(profiles: str) -> str:
    """SQL for the ids of the events of the profiles `profiles` (SQL: `= ?` or `IN (...)`)."""
    return (
        f"(SELECT event_id FROM event_owners WHERE {CHUNKS} AND profile_id {profiles} UNION ALL "
        f"SELECT id FROM events WHERE id > {MARK} AND profile_id {profiles})"
    )


def catch_up(conn: sqlite3.Connection) -> None:
    """Index the events past the mark once there are TAIL of them (in the caller's transaction)."""
    through = conn.execute(f"SELECT {MARK}").fetchone()[0]
    last = conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
    if last - through < TAIL:
        return
    chunk = conn.execute("SELECT COALESCE(MAX(chunk), 0) + 1 FROM owner_chunks").fetchone()[0]
    conn.execute("INSERT INTO owner_chunks (chunk) VALUES (?)", [chunk])
    conn.execute(
        "INSERT INTO event_owners SELECT ?, profile_id, id FROM events WHERE id > ? "
        "ORDER BY profile_id, id",
        [chunk, through],
    )
    _mark(conn, last)


def forget(conn: sqlite3.Connection, profile_ids: list[int]) -> None:
    """After these profiles' events were deleted: their entries go, and the mark comes down to the
    last event left (ids past it may be given again, to events not indexed yet)."""
    for at in range(0, len(profile_ids), 500):
        chunk = profile_ids[at : at + 500]
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM event_owners WHERE {CHUNKS} AND profile_id IN ({marks})", chunk)
    last = conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
    _mark(conn, min(last, conn.execute(f"SELECT {MARK}").fetchone()[0]))


def clear(conn: sqlite3.Connection) -> None:
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")


def _mark(conn: sqlite3.Connection, through: int) -> None:
    conn.execute("DELETE FROM events_indexed")
    conn.execute("INSERT INTO events_indexed (through) VALUES (?)", [through])
