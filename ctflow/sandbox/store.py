"""Store: the sandbox's SQLite schema and every query against it (profiles, events, campaigns, …).

Imports only the standard library, orjson and sandbox modules.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ctflow.sandbox import owners
from ctflow.sandbox.db import Database
from ctflow.sandbox.ids import IdentifierMap

SCHEMA_VERSION = 3
# Identifiers and emails are NULL for most profiles (one identifier each), so their indexes are
# partial: a new profile costs two index entries (guid and its own identifier), not five.
# Events have no SQLite index by profile (its entries land on random pages): `owners` keeps one up
# in bulk.
SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    id INTEGER PRIMARY KEY, guid TEXT NOT NULL, identity TEXT, fbid TEXT, gpid TEXT, email TEXT,
    data TEXT NOT NULL, platform TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS profiles_guid ON profiles(guid);
CREATE UNIQUE INDEX IF NOT EXISTS profiles_identity ON profiles(identity)
    WHERE identity IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS profiles_fbid ON profiles(fbid) WHERE fbid IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS profiles_gpid ON profiles(gpid) WHERE gpid IS NOT NULL;
CREATE INDEX IF NOT EXISTS profiles_email ON profiles(email) WHERE email IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, profile_id INTEGER NOT NULL, name TEXT NOT NULL,
    ts INTEGER NOT NULL, props TEXT NOT NULL, session TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_name_ts ON events(name, ts);
DROP INDEX IF EXISTS events_profile;
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, target_mode TEXT NOT NULL,
    payload TEXT NOT NULL, estimates TEXT NOT NULL, labels TEXT NOT NULL,
    created_at REAL NOT NULL, scheduled_at REAL NOT NULL, recurring INTEGER NOT NULL,
    stopped_at REAL);
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY, endpoint TEXT NOT NULL, body TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kv (
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY, customer_segment_id TEXT UNIQUE, name TEXT NOT NULL,
    created_at REAL NOT NULL, kind TEXT NOT NULL DEFAULT 'api');
CREATE TABLE IF NOT EXISTS segment_members (
    segment_id INTEGER NOT NULL, profile_id INTEGER NOT NULL,
    PRIMARY KEY (segment_id, profile_id)) WITHOUT ROWID;
"""


def _create_schema(conn: sqlite3.Connection) -> None:
    """The tables, in the caller's transaction; a version-1 file (its identifiers declared UNIQUE
    in the table, so five full indexes) has its profiles moved to the version-2 table, and an
    older file loses its index of events by profile."""
    found = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'profiles'").fetchone()
    upgrading = found is not None and "UNIQUE" in found[0]
    if upgrading:
        conn.execute("ALTER TABLE profiles RENAME TO profiles_v1")
        conn.execute("DROP INDEX IF EXISTS profiles_email")
    for statement in (SCHEMA + owners.SCHEMA).split(";"):
        if statement.strip():
            conn.execute(statement)
    if upgrading:
        conn.execute("INSERT INTO profiles SELECT * FROM profiles_v1")
        conn.execute("DROP TABLE profiles_v1")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


TABLES = (
    "profiles",
    "events",
    "campaigns",
    "sends",
    "kv",
    "segments",
    "segment_members",
    *owners.TABLES,
)
IDENTIFIER_COLUMNS = {"identity": "identity", "objectId": "guid", "FBID": "fbid", "GPID": "gpid"}


@dataclass(slots=True)
class Profile:
    id: int
    guid: str
    identity: str | None
    fbid: str | None
    gpid: str | None
    email: str | None
    data: dict[str, Any]
    platform: list[dict[str, Any]]
    created_at: int


@dataclass(frozen=True)
class Event:
    id: int
    profile_id: int
    name: str
    ts: int
    props: dict[str, Any]
    session: dict[str, Any]


@dataclass
class CampaignRow:
    id: int
    name: str
    target_mode: str
    payload: dict[str, Any]
    estimates: dict[str, int]
    labels: list[str]
    created_at: float
    scheduled_at: float
    recurring: bool
    stopped_at: float | None


SCRAMBLE = 0x9E3779B97F4A7C15F39CC0605CEDC835  # odd: distinct ids keep distinct tails
TAIL = (1 << 88) - 1


def guid_for(profile_id: int) -> str:
    """A CleverTap-looking GUID ("__" and 32 hex digits) for the profile `profile_id` created from
    another identifier. The id comes first, so new GUIDs sort in creation order and each lands at
    the end of the GUID index (a hash of the identifier dirtied a random index page per new
    profile: the dearest part of storing an upload's new profiles); the rest scrambles the id."""
    return f"__{profile_id:010x}{profile_id * SCRAMBLE & TAIL:022x}"


def new_profile(profile_id: int, key: str, value: str, created_at: int) -> Profile:
    """An empty profile first seen by its identifier `key` (objectId: its own GUID)."""
    return Profile(
        id=profile_id,
        guid=value if key == "objectId" else guid_for(profile_id),
        identity=value if key == "identity" else None,
        fbid=value if key == "FBID" else None,
        gpid=value if key == "GPID" else None,
        email=None,
        data={},
        platform=[],
        created_at=created_at,
    )


def new_profile_row(profile_id: int, key: str, value: str, created_at: int) -> tuple[Any, ...]:
    """`new_profile`'s row as stored, made without the Profile: most of an upload's new profiles
    come from events, and are never read or changed before they are written."""
    return (
        profile_id,
        value if key == "objectId" else guid_for(profile_id),
        value if key == "identity" else None,
        value if key == "FBID" else None,
        value if key == "GPID" else None,
        None,
        "{}",
        "[]",
        created_at,
    )


def _profile(row: sqlite3.Row) -> Profile:
    return Profile(
        id=row["id"],
        guid=row["guid"],
        identity=row["identity"],
        fbid=row["fbid"],
        gpid=row["gpid"],
        email=row["email"],
        data=json.loads(row["data"]),
        platform=json.loads(row["platform"]),
        created_at=row["created_at"],
    )


def _event(row: sqlite3.Row) -> Event:
    return Event(
        id=row["id"],
        profile_id=row["profile_id"],
        name=row["name"],
        ts=row["ts"],
        props=json.loads(row["props"]),
        session=json.loads(row["session"]),
    )


def _campaign(row: sqlite3.Row) -> CampaignRow:
    return CampaignRow(
        id=row["id"],
        name=row["name"],
        target_mode=row["target_mode"],
        payload=json.loads(row["payload"]),
        estimates=json.loads(row["estimates"]),
        labels=json.loads(row["labels"]),
        created_at=row["created_at"],
        scheduled_at=row["scheduled_at"],
        recurring=bool(row["recurring"]),
        stopped_at=row["stopped_at"],
    )


def encode(value: Any) -> str:
    """JSON text for a stored column, read back by json.loads as the same value. orjson where it
    can; json.dumps where it can't (integers past 64 bits, lone surrogates) or would change the
    value (it writes NaN and Infinity as null)."""
    try:
        out = orjson.dumps(value)
    except TypeError:
        return json.dumps(value)
    return json.dumps(value) if b"null" in out else out.decode()


def profile_row(p: Profile) -> tuple[Any, ...]:
    email = _email_of(p.data)
    data = encode(p.data) if p.data else "{}"  # most new profiles come from an event
    platform = encode(p.platform) if p.platform else "[]"
    return (p.id, p.guid, p.identity, p.fbid, p.gpid, email, data, platform, p.created_at)


def _email_of(data: dict[str, Any]) -> str | None:
    email = data.get("Email")
    return email if isinstance(email, str) else None


class Store:
    """The queries, over a :class:`~ctflow.sandbox.db.Database`: `conn` is its writer (used under
    `lock` or in a transaction), reads go through this thread's reader."""

    def __init__(self, db: str) -> None:
        self.db = Database(db)
        self.conn = self.db.conn
        self.lock = self.db.lock
        self.transaction = self.db.transaction
        self.write = self.db.write
        self._all = self.db.all
        with self.transaction(immediate=True):
            _create_schema(self.conn)
        self.ids = IdentifierMap(self.conn)
        self.db.on_rollback = self.ids.drop

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, params)

    def reset(self) -> None:
        self.ids.drop()
        with self.transaction():
            for table in TABLES:
                self.conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        self.db.close()

    def counts(self) -> dict[str, int]:
        return {
            table: self._all(f"SELECT COUNT(*) FROM {table}")[0][0]
            for table in ("profiles", "events", "campaigns", "sends")
        }

    # -- profiles -----------------------------------------------------------------------
    def find_profile(self, key: str, value: str) -> Profile | None:
        column = "email" if key == "email" else IDENTIFIER_COLUMNS[key]
        rows = self._all(f"SELECT * FROM profiles WHERE {column} = ? ORDER BY id LIMIT 1", [value])
        return _profile(rows[0]) if rows else None

    def create_profile(self, key: str, value: str, now: int) -> Profile:
        self.ids.drop()
        with self.transaction(immediate=True):
            profile = new_profile(self.max_id("profiles") + 1, key, value, now)
            self.insert_profiles([profile])
        return profile

    def save_profile(self, profile: Profile) -> None:
        profile.email = _email_of(profile.data)
        self._run(
            "UPDATE profiles SET data = ?, platform = ?, email = ? WHERE id = ?",
            [json.dumps(profile.data), json.dumps(profile.platform), profile.email, profile.id],
        )

    def identifiers(self, key: str) -> dict[str, int]:
        """Every stored profile's identifier `key` → its id, from the identifier map: for a write
        transaction (under the lock), which adds the profiles it makes to it."""
        with self.lock:
            return self.ids.column(IDENTIFIER_COLUMNS[key])

    def insert_profiles(self, profiles: Iterable[Profile]) -> None:
        """New profiles, each with its id already chosen (see `max_id`)."""
        self.insert_profile_rows(list(map(profile_row, profiles)))

    def insert_profile_rows(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """`insert_profiles` of their rows (`profile_row`, `new_profile_row`)."""
        with self.lock:
            self.conn.executemany(
                "INSERT INTO profiles (id, guid, identity, fbid, gpid, email, data, platform, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            for column, at in (("guid", 1), ("identity", 2), ("fbid", 3), ("gpid", 4)):
                self.ids.add(column, ((row[at], row[0]) for row in rows if row[at] is not None))

    def save_profiles(self, profiles: Iterable[Profile]) -> None:
        """`save_profile` for many: data, platform and the email taken from the data."""
        rows = ((encode(p.data), encode(p.platform), _email_of(p.data), p.id) for p in profiles)
        with self.lock:
            self.conn.executemany(
                "UPDATE profiles SET data = ?, platform = ?, email = ? WHERE id = ?", rows
            )

    def profiles(self, after_id: int = 0, max_id: int | None = None) -> list[Profile]:
        ceiling = max_id if max_id is not None else 2**62
        rows = self._all(
            "SELECT * FROM profiles WHERE id > ? AND id <= ? ORDER BY id", [after_id, ceiling]
        )
        return [_profile(row) for row in rows]

    def profiles_by_id(self, ids: Iterable[int]) -> dict[int, Profile]:
        wanted = sorted(set(ids))
        found: dict[int, Profile] = {}
        for at in range(0, len(wanted), 500):
            chunk = wanted[at : at + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._all(f"SELECT * FROM profiles WHERE id IN ({marks})", chunk):
                found[row["id"]] = _profile(row)
        return found

    def max_id(self, table: str) -> int:
        return int(self._all(f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0][0])

    def delete_profiles(self, key: str, values: Sequence[str]) -> int:
        column = IDENTIFIER_COLUMNS[key]
        marks = ",".join("?" * len(values))
        self.ids.drop()
        with self.transaction():
            ids = [
                r[0]
                for r in self._all(f"SELECT id FROM profiles WHERE {column} IN ({marks})", values)
            ]
            id_marks = ",".join("?" * len(ids))
            events = owners.of_profiles(f"IN ({id_marks})")
            self._run(f"DELETE FROM events WHERE id IN {events}", ids + ids)
            self._run(f"DELETE FROM profiles WHERE id IN ({id_marks})", ids)
            self._run(f"DELETE FROM segment_members WHERE profile_id IN ({id_marks})", ids)
            with self.lock:
                owners.forget(self.conn, ids)
        return len(ids)

    def bulk_profiles(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows of (id, guid, identity, email, data json, platform json, created_at)."""
        self.ids.drop()
        self.conn.executemany(
            "INSERT INTO profiles (id, guid, identity, email, data, platform, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def clear_people(self) -> None:
        self.ids.drop()
        self._run("DELETE FROM events")
        self._run("DELETE FROM profiles")
        self._run("DELETE FROM segment_members")
        with self.lock:
            owners.clear(self.conn)

    # -- events -------------------------------------------------------------------------
    def add_event(
        self, profile_id: int, name: str, ts: int, props: dict[str, Any], session: dict[str, Any]
    ) -> None:
        self._run(
            "INSERT INTO events (profile_id, name, ts, props, session) VALUES (?, ?, ?, ?, ?)",
            [profile_id, name, ts, json.dumps(props), json.dumps(session)],
        )

    def insert_event_rows(self, rows: Iterable[tuple[int, str, int, str]]) -> None:
        """`add_event` for many (profile_id, name, ts, props as `encode` wrote it), with an empty
        session each."""
        with self.lock:
            self.conn.executemany(
                "INSERT INTO events (profile_id, name, ts, props, session) "
                "VALUES (?, ?, ?, ?, '{}')",
                rows,
            )
            owners.catch_up(self.conn)

    def bulk_events(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows of (profile_id, name, ts, props json, session json), indexed by profile at once if
        they are many (rather than by the next upload)."""
        self.conn.executemany(
            "INSERT INTO events (profile_id, name, ts, props, session) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        owners.catch_up(self.conn)

    def events(
        self,
        name: str | None = None,
        start: int | None = None,
        end: int | None = None,
        after_id: int = 0,
        max_id: int | None = None,
        profile_id: int | None = None,
    ) -> list[Event]:
        sql = "SELECT * FROM events WHERE id > ?"
        params: list[Any] = [after_id]
        for clause, value in (
            ("name = ?", name),
            ("ts >= ?", start),
            ("ts <= ?", end),
            ("id <= ?", max_id),
        ):
            if value is not None:
                sql += f" AND {clause}"
                params.append(value)
        if profile_id is not None:
            sql += f" AND id IN {owners.of_profiles('= ?')}"
            params += [profile_id, profile_id]
        return [_event(row) for row in self._all(sql + " ORDER BY id", params)]

    def first_seen(self, profile_ids: Collection[int]) -> dict[int, int]:
        """The time of each profile's first event (absent: none)."""
        if not profile_ids:
            return {}
        wanted = "IN (SELECT value FROM json_each(?))"
        ids = json.dumps(sorted(profile_ids))
        rows = self._all(
            f"SELECT profile_id, MIN(ts) FROM events WHERE id IN {owners.of_profiles(wanted)} "
            "GROUP BY profile_id",
            [ids, ids],
        )
        return {row[0]: row[1] for row in rows}

    # -- campaigns ----------------------------------------------------------------------
    def add_campaign(self, row: CampaignRow) -> None:
        self._run(
            "INSERT INTO campaigns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                row.id,
                row.name,
                row.target_mode,
                json.dumps(row.payload),
                json.dumps(row.estimates),
                json.dumps(row.labels),
                row.created_at,
                row.scheduled_at,
                int(row.recurring),
                row.stopped_at,
            ],
        )

    def campaign(self, campaign_id: int) -> CampaignRow | None:
        rows = self._all("SELECT * FROM campaigns WHERE id = ?", [campaign_id])
        return _campaign(rows[0]) if rows else None

    def campaigns(self) -> list[CampaignRow]:
        return [_campaign(row) for row in self._all("SELECT * FROM campaigns ORDER BY id")]

    def stop_campaign(self, campaign_id: int, at: float) -> None:
        self._run("UPDATE campaigns SET stopped_at = ? WHERE id = ?", [at, campaign_id])

    # -- sends --------------------------------------------------------------------------
    def add_send(self, endpoint: str, body: dict[str, Any], at: float) -> int:
        cursor = self._run(
            "INSERT INTO sends (endpoint, body, at) VALUES (?, ?, ?)",
            [endpoint, json.dumps(body), at],
        )
        return int(cursor.lastrowid or 0)

    def sends(self) -> list[tuple[str, dict[str, Any], float]]:
        rows = self._all("SELECT endpoint, body, at FROM sends ORDER BY id")
        return [(row["endpoint"], json.loads(row["body"]), row["at"]) for row in rows]

    def send_ids(self) -> list[int]:
        return [row["id"] for row in self._all("SELECT id FROM sends ORDER BY id")]

    # -- small keyed state (cursors, count requests) ------------------------------------
    def put_state(self, kind: str, key: str, value: dict[str, Any]) -> None:
        self._run(
            "INSERT OR REPLACE INTO kv (kind, key, value) VALUES (?, ?, ?)",
            [kind, key, json.dumps(value)],
        )

    def states(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self._all("SELECT key, value FROM kv WHERE kind = ? ORDER BY key", [kind])
        return [(str(row[0]), json.loads(row[1])) for row in rows]

    def get_state(self, kind: str, key: str) -> dict[str, Any] | None:
        rows = self._all("SELECT value FROM kv WHERE kind = ? AND key = ?", [kind, key])
        if not rows:
            return None
        value: dict[str, Any] = json.loads(rows[0][0])
        return value
