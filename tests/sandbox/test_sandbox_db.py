"""The sandbox database: writes committed together, readers beside the writer, and files written
by the previous version of the schema."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from ctflow.sandbox import Sandbox, owners, reads, upload
from ctflow.sandbox.db import Database
from ctflow.sandbox.store import Store

V1_PROFILES = """
CREATE TABLE profiles (
    id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, identity TEXT UNIQUE,
    fbid TEXT UNIQUE, gpid TEXT UNIQUE, email TEXT,
    data TEXT NOT NULL, platform TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX profiles_email ON profiles(email);
INSERT INTO profiles VALUES (1, 'g-ann', 'ann', NULL, NULL, 'ann@example.com',
    '{"Email": "ann@example.com"}', '[]', 1763600000);
"""


def test_a_failing_write_undoes_only_itself_when_committed_with_others(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "t.db"))
    db.conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        start.wait()

        def work() -> int:
            db.conn.execute("INSERT INTO t VALUES (?)", [n])
            if n == 3:
                raise ValueError("refused")
            return n

        try:
            assert db.write(work) == n
        except ValueError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [str(e) for e in errors] == ["refused"]
    assert [row[0] for row in db.all("SELECT n FROM t ORDER BY n")] == [0, 1, 2, 4, 5, 6, 7]
    db.close()


def test_a_reader_sees_the_last_commit_while_a_write_is_open(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "t.db"))
    db.conn.execute("CREATE TABLE t (n INTEGER)")
    db.conn.execute("INSERT INTO t VALUES (1)")
    with db.transaction(immediate=True):
        db.conn.execute("INSERT INTO t VALUES (2)")
        seen: list[int] = []
        reader = threading.Thread(
            target=lambda: seen.extend(r[0] for r in db.all("SELECT n FROM t"))
        )
        reader.start()
        reader.join(5)
        assert not reader.is_alive(), "the reader waited for the writer"
        assert seen == [1]
        assert [r[0] for r in db.all("SELECT n FROM t ORDER BY n")] == [1, 2]  # its own write
    db.close()


def test_a_file_of_the_previous_schema_keeps_its_profiles(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    conn = sqlite3.connect(path)
    conn.executescript(V1_PROFILES)
    conn.close()

    sb = Sandbox(path)
    assert sb.profile("ann") == {
        "identity": "ann",
        "objectId": "g-ann",
        "email": "ann@example.com",
        "profileData": {"Email": "ann@example.com"},
        "platformInfo": [],
    }
    assert sb.store.find_profile("email", "ann@example.com") is not None
    with pytest.raises(sqlite3.IntegrityError), sb.store.transaction():
        sb.store.conn.execute(
            "INSERT INTO profiles (guid, identity, data, platform, created_at) "
            "VALUES ('g-2', 'ann', '{}', '[]', 1)"
        )
    sb.close()
    store = Store(str(path))
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == 3
    store.close()


def test_a_version_2_file_loses_its_index_of_events_by_profile_and_keeps_its_events(
    tmp_path: Path,
) -> None:
    """That index made every upload rewrite pages all over it; a profile's events are still
    found (through event_owners), and now.json still tells new users from returning ones."""
    path = tmp_path / "sandbox.db"
    sb = Sandbox(path)
    now = int(sb.clock.timestamp())
    events = [
        {"type": "event", "identity": "ann", "evtName": "Viewed", "ts": now - 3600},
        {"type": "event", "identity": "ann", "evtName": "Viewed", "ts": now - 10},
        {"type": "event", "identity": "bob", "evtName": "Viewed", "ts": now - 20},
    ]
    assert upload.upload(sb.store, {"d": events}, now, False, set())["processed"] == 3
    sb.close()
    conn = sqlite3.connect(path)
    conn.execute("CREATE INDEX events_profile ON events(profile_id)")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()

    sb = Sandbox(path)
    indexes = sb.store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    assert "events_profile" not in {row[0] for row in indexes}
    assert reads.profile(sb.store, {"identity": "ann"})["record"]["events"] == {
        "Viewed": {"count": 2, "first_seen": now - 3600, "last_seen": now - 10}
    }
    counts = reads.now_counts(sb.store, {"user_type": True}, now)
    assert (counts["count"], counts["user_type"]["new"], counts["user_type"]["repeat"]) == (2, 1, 1)
    sb.close()


def _event(identity: str) -> dict[str, object]:
    return {"type": "event", "identity": identity, "evtName": "Viewed", "ts": 1763600000}


def test_profiles_made_by_another_process_are_found_not_made_twice(tmp_path: Path) -> None:
    """Two sandboxes on one file (two processes): each sees the profiles the other made, though
    it keeps the identifiers it knows in memory between calls."""
    one, other = Sandbox(tmp_path / "s.db"), Sandbox(tmp_path / "s.db")
    try:
        assert upload.upload(one.store, {"d": [_event("ann")]}, 1, False, set())["processed"] == 1
        assert upload.upload(other.store, {"d": [_event("bo")]}, 1, False, set())["processed"] == 1
        reply = upload.upload(one.store, {"d": [_event("bo"), _event("cy")]}, 1, False, set())
        assert reply["processed"] == 2
        assert one.counts()["profiles"] == 3
        assert len(one.events("Viewed")) == 4
    finally:
        one.close()
        other.close()


def test_profiles_of_a_write_undone_are_made_again(tmp_path: Path) -> None:
    sb = Sandbox(tmp_path / "s.db")
    records, outcomes = upload.check_call({"d": [_event("ann")]}, set())

    def then_fail() -> None:
        upload._apply(sb.store, records, outcomes, 1, False)
        raise ValueError("refused after writing")

    with pytest.raises(ValueError, match="refused"):
        sb.store.write(then_fail)
    assert sb.counts()["profiles"] == 0
    assert upload.upload(sb.store, {"d": [_event("ann")]}, 1, False, set())["processed"] == 1
    assert sb.profile("ann") is not None
    sb.close()


def test_a_profiles_events_are_found_whether_indexed_yet_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events are indexed by profile in bulk, TAIL at a time; a read by profile finds the indexed
    ones and those past the mark, and a deletion that frees the last ids keeps both right."""
    monkeypatch.setattr(owners, "TAIL", 3)
    sb = Sandbox(tmp_path / "s.db")
    now = int(sb.clock.timestamp())

    def send(*people: str) -> None:
        events = [
            {"type": "event", "identity": who, "evtName": "Viewed", "ts": now - 60 + n}
            for n, who in enumerate(people)
        ]
        assert upload.upload(sb.store, {"d": events}, now, False, set())["status"] == "success"

    def seen(identity: str) -> int:
        found = reads.profile(sb.store, {"identity": identity})["record"]["events"]
        return int(found["Viewed"]["count"])

    send("ann", "bob", "ann", "bob")  # 4 past the mark: indexed
    assert (seen("ann"), seen("bob")) == (2, 2)
    assert sb.store.delete_profiles("identity", ["bob"]) == 1  # frees the last id
    send("ann")  # given that id again, past the mark: not indexed yet
    indexed = sb.store.conn.execute("SELECT COUNT(*) FROM event_owners").fetchone()[0]
    assert (indexed, seen("ann")) == (2, 3)
    send("ann", "ann")  # 3 past the mark: indexed
    indexed = sb.store.conn.execute("SELECT COUNT(*) FROM event_owners").fetchone()[0]
    assert (indexed, seen("ann")) == (5, 5)
    counts = reads.now_counts(sb.store, {"user_type": True}, now)
    assert (counts["count"], counts["user_type"]["new"]) == (1, 1)
    sb.close()
