"""`/1/upload` applies a batch in a few statements yet exactly as record-by-record would: order
within a batch, identifiers of every kind, merges, tokens, and what another connection wrote."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctflow.sandbox import Clock, Sandbox, record_checks, upload
from ctflow.sandbox.record_checks import RecordError
from ctflow.sandbox.replies import Json
from ctflow.sandbox.store import Store, guid_for, new_profile, new_profile_row, profile_row

from .conftest import AUTH, NOW

TS = 1_790_000_000


def event(who: str = "u1", name: str = "Viewed", key: str = "identity", **extra: Any) -> Json:
    return {"type": "event", key: who, "evtName": name, **extra}


def profile(who: str = "u1", key: str = "identity", ts: int | None = None, **data: Any) -> Json:
    record = {"type": "profile", key: who, "profileData": data}
    return record if ts is None else {**record, "ts": ts}


def token(object_id: str, token_id: str = "tok", kind: str = "fcm") -> Json:
    return {"type": "token", "objectId": object_id, "tokenData": {"id": token_id, "type": kind}}


async def send(client: httpx.AsyncClient, *records: Any, query: str = "") -> Any:
    response = await client.post(f"/1/upload{query}", json={"d": list(records)})
    assert response.status_code == 200, response.text
    return response.json()


def skipped(reply: Json) -> list[tuple[int, int]]:
    """(code, record number) of each unprocessed record, the number read from the error text."""
    return [(u["code"], int(u["error"].rsplit(" : ", 1)[1])) for u in reply["unprocessed"]]


def owners(sb: Sandbox) -> list[tuple[str, str | None, int]]:
    """Each stored event as (name, its profile's identity, its ts), in upload order."""
    return [(e["name"], e["identity"], e["ts"]) for e in sb.events()]


async def test_a_batch_mixing_known_and_new_identities(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    await send(client, profile("old-1", Name="Ann"), profile("old-2", Name="Bo"))
    batch = [
        event("old-1", ts=TS + 1),
        event("new-1", ts=TS + 2),
        event("old-2", ts=TS + 3),
        event("new-2", ts=TS + 4),
        event("new-1", ts=TS + 5),
    ]
    assert await send(client, *batch) == {"status": "success", "processed": 5, "unprocessed": []}
    assert owners(sb) == [
        ("Viewed", "old-1", TS + 1),
        ("Viewed", "new-1", TS + 2),
        ("Viewed", "old-2", TS + 3),
        ("Viewed", "new-2", TS + 4),
        ("Viewed", "new-1", TS + 5),
    ]
    assert sb.counts()["profiles"] == 4
    known = sb.store.find_profile("identity", "old-1")
    new = sb.store.find_profile("identity", "new-1")
    assert known is not None
    assert known.data == {"Name": "Ann"}
    assert new is not None
    assert new.data == {}
    assert new.created_at == TS + 2
    assert new.guid == guid_for(new.id)


@pytest.mark.parametrize(
    ("key", "value", "column", "guid"),
    [
        ("objectId", "g-42", "guid", "g-42"),
        ("FBID", "fb-42", "fbid", guid_for(1)),
        ("GPID", "gp-42", "gpid", guid_for(1)),
        ("identity", "42", "identity", guid_for(1)),
    ],
)
async def test_every_identifier_finds_or_creates_one_profile(
    sb: Sandbox, client: httpx.AsyncClient, key: str, value: str, column: str, guid: str
) -> None:
    await send(client, event(value, key=key), profile(value, key=key, Name="N"))
    await send(client, event(value, key=key), event(value, key=key))
    [stored] = sb.store.profiles()
    assert stored.guid == guid
    assert getattr(stored, column) == value
    assert stored.data == {"Name": "N"}
    assert {e.profile_id for e in sb.store.events()} == {stored.id}
    assert len(sb.store.events()) == 3


def test_the_guids_of_new_profiles_look_like_clevertaps_and_sort_in_creation_order() -> None:
    """Each is an objectId the API accepts (a token upload names a profile by it), no two alike,
    and each sorts after the last, so storing it touches only the end of the GUID index."""
    guids = [guid_for(n) for n in (*range(1, 5000), 2**32, 2**39)]
    assert all(len(g) == 34 and record_checks.OBJECT_ID.match(g) for g in guids)
    assert guids == sorted(set(guids))


@pytest.mark.parametrize("key", ["identity", "objectId", "FBID", "GPID"])
def test_a_new_profile_stored_as_a_row_is_the_profile_it_stands_for(key: str) -> None:
    assert new_profile_row(7, key, "u-7", TS) == profile_row(new_profile(7, key, "u-7", TS))


async def test_an_integer_identity_is_the_same_profile_as_its_string(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    await send(client, {"type": "event", "identity": 42, "evtName": "A"}, event("42", "B"))
    assert owners(sb) == [("A", "42", int(NOW.timestamp())), ("B", "42", int(NOW.timestamp()))]


async def test_a_profile_record_then_an_event_for_it_in_one_batch(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    await send(client, profile("p1", Name="Ann", ts=TS), event("p1", ts=TS + 5))
    stored = sb.store.find_profile("identity", "p1")
    assert stored is not None
    assert stored.data == {"Name": "Ann"}
    assert [e.profile_id for e in sb.store.events()] == [stored.id]


async def test_two_updates_of_one_profile_apply_in_order(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    await send(client, profile("p1", Score=10, Tags=["a"], Gone="x"))
    reply = await send(
        client,
        profile("p1", Score={"$incr": 5}, Tags={"$add": ["b"]}),
        event("p1"),
        profile("p1", Score={"$incr": 2}, Tags={"$add": ["a", "c"]}, Gone={"$delete": True}),
        profile("p1", Visits={"$decr": 1}, Tags={"$remove": "b"}, Email="p1@example.com"),
    )
    assert reply["processed"] == 4
    stored = sb.store.find_profile("identity", "p1")
    assert stored is not None
    assert stored.data == {
        "Score": 17,
        "Tags": ["a", "c"],  # ["a"] + "b" → ["a", "b"] + "a", "c" → ["b", "a", "c"] - "b"
        "Visits": -1,
        "Email": "p1@example.com",
    }
    assert stored.email == "p1@example.com"
    assert sb.store.find_profile("email", "p1@example.com") == stored


async def test_a_new_profile_updated_twice_in_its_first_batch(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    await send(
        client,
        profile("p2", Score={"$incr": 1}, ts=TS),
        profile("p2", Score={"$incr": 1}, Tags={"$add": "x"}, ts=TS + 9),
    )
    stored = sb.store.find_profile("identity", "p2")
    assert stored is not None
    assert stored.data == {"Score": 2, "Tags": ["x"]}
    assert stored.created_at == TS


async def test_invalid_records_between_valid_ones_keep_their_numbers(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    bad_gender = profile("u2", Gender="Male")
    no_identity = {"type": "event", "evtName": "X"}
    records = [
        event("u1", "A", ts=TS + 1),
        bad_gender,
        event("u2", "B", ts=TS + 2),
        no_identity,
        event("u3", "", ts=TS + 3),
        profile("u3", Name="C"),
        event("u3", "C", ts=TS + 4),
    ]
    reply = await send(client, *records)
    assert reply["status"] == "partial"
    assert reply["processed"] == 4
    assert [u["error"] for u in reply["unprocessed"]] == [
        "Profile data is incorrect. Gender needs to be M/F.Skipped record number : 2",
        f"{record_checks.IDENTITY_TEXT}Skipped record number : 4",
        "Event name is mandatory. Skipped record number : 5",
    ]
    assert skipped(reply) == [(514, 2), (523, 4), (509, 5)]
    assert [u["record"] for u in reply["unprocessed"]] == [bad_gender, no_identity, records[4]]
    assert owners(sb) == [("A", "u1", TS + 1), ("B", "u2", TS + 2), ("C", "u3", TS + 4)]
    u2 = sb.store.find_profile("identity", "u2")
    assert u2 is not None
    assert u2.data == {}


async def test_non_ascii_values_are_measured_in_bytes(client: httpx.AsyncClient) -> None:
    fits, too_long = "é" * 256, "€" * 171  # 512 bytes, and 513 bytes in 171 characters
    reply = await send(client, event(evtData={"a": fits}), event(evtData={"a": [1, too_long]}))
    assert [u["code"] for u in reply["unprocessed"]] == [512]
    assert reply["unprocessed"][0]["error"].endswith("Skipped record number : 2")


async def test_a_deleted_profile_is_created_again_by_a_later_upload(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    await send(client, profile("gone", Name="Old", ts=TS), event("gone", "Before", ts=TS))
    first = sb.store.find_profile("identity", "gone")
    deleted = await client.post("/1/delete/profiles.json", json={"identity": "gone"})
    assert deleted.json() == {"status": "success"}
    await send(client, event("gone", "After", ts=TS + 60), profile("gone", Visits={"$incr": 1}))
    again = sb.store.find_profile("identity", "gone")
    assert first is not None
    assert again is not None
    assert again.data == {"Visits": 1}
    assert again.created_at == TS + 60
    assert again.guid == first.guid  # the GUID follows from the identity
    assert owners(sb) == [("After", "gone", TS + 60)]


async def test_a_token_for_a_profile_created_earlier_in_the_batch(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    """As record by record: the earlier record made the user live, so the token is accepted —
    but not in a dry run, where nothing earlier was stored."""
    derived = guid_for(2)  # "g-new" is the first profile, "via-identity" the second
    batch = [
        token("g-new"),
        profile("g-new", key="objectId", Name="T"),
        token("g-new", "t1", "apns"),
        event("via-identity"),
        token(derived, "t2"),
        token("g-new", "t1", "fcm"),
    ]
    dry = await send(client, *batch, query="?dryRun=1")
    assert skipped(dry) == [(530, 1), (530, 3), (530, 5), (530, 6)]
    assert sb.counts()["profiles"] == 0
    reply = await send(client, *batch)
    assert skipped(reply) == [(530, 1)]
    made = sb.store.find_profile("objectId", "g-new")
    other = sb.store.find_profile("identity", "via-identity")
    assert made is not None
    assert other is not None
    assert made.data == {"Name": "T"}
    assert made.platform == [
        {"platform": "Android", "push_token": "t1", "token_type": "fcm", "objectId": "g-new"}
    ]
    assert [e["push_token"] for e in other.platform] == ["t2"]


async def test_what_another_connection_wrote_is_seen_by_the_next_upload(tmp_path: Path) -> None:
    """No identity cache: `ctflow sandbox seed` or a second `serve` may write the same file."""
    db = tmp_path / "sandbox.db"
    first, second = Sandbox(db, clock=Clock(NOW)), Sandbox(db, clock=Clock(NOW))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=first.app), base_url="http://s", headers=AUTH
        ) as client:
            await send(client, event("shared", "A"))
            upload.upload(second.store, {"d": [profile("shared", Name="S")]}, TS, False, set())
            second.store.delete_profiles("identity", ["shared"])
            again = [profile("other", Name="O"), profile("shared", Name="Again")]
            upload.upload(second.store, {"d": again}, TS, False, set())
            await send(client, event("shared", "B"), profile("shared", Score={"$incr": 1}))
        outside = sqlite3.connect(db)
        rows = outside.execute("SELECT identity, data FROM profiles ORDER BY id").fetchall()
        outside.close()
        assert [(who, json.loads(data)) for who, data in rows] == [
            ("other", {"Name": "O"}),
            ("shared", {"Name": "Again", "Score": 1}),
        ]
        assert [(e["name"], e["identity"]) for e in first.events()] == [("B", "shared")]
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(
    "value",
    [
        2**64,
        -(2**63) - 1,
        12345678901234567890123,
        0.1,
        1e300,
        -0.0,
        5e-324,
        "⚡ 非ASCII",
        [1, {"a": None}],
    ],
)
async def test_values_are_stored_exactly_as_json_would_read_them(
    sb: Sandbox, client: httpx.AsyncClient, value: Any
) -> None:
    body = json.dumps({"d": [event(evtData={"v": value}), profile(V=value)]})
    response = await client.post("/1/upload", content=body.encode())
    assert response.json()["processed"] == 2
    [stored] = sb.events()
    assert repr(stored["props"]["v"]) == repr(value)
    person = sb.profile("u1")
    assert person is not None
    assert repr(person["profileData"]["V"]) == repr(value)


async def test_nan_in_a_body_is_read_as_before(sb: Sandbox, client: httpx.AsyncClient) -> None:
    body = b'{"d": [{"type": "event", "identity": "u1", "evtName": "A", "evtData": {"v": NaN}}]}'
    assert (await client.post("/1/upload", content=body)).json()["processed"] == 1
    assert repr(sb.events()[0]["props"]["v"]) == "nan"


@pytest.mark.parametrize("body", [b"", b"{", b'{"d": [1,]}', b"\xff\xfe{", b"nul"])
async def test_a_malformed_body_is_refused_as_before(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/1/upload", content=body)
    assert response.status_code == 400
    assert response.json() == {"status": "fail", "error": "Malformed request", "code": 400}


# -- the property: a batch stores what applying its records one by one would ---------------------


def reference_upload(store: Store, records: list[Any], now: int, dry_run: bool) -> Json:
    """The record-by-record path the bulk one replaced: each record checked against the store as
    it stands (a token needs its profile stored), then applied with one query per step."""
    unprocessed: list[Json] = []
    with store.transaction():
        for number, record in enumerate(records, start=1):
            try:
                _reference_check(record, store)
            except RecordError as error:
                text = f"{error.text}Skipped record number : {number}"
                unprocessed.append(
                    {"status": "fail", "code": error.code, "error": text, "record": record}
                )
                continue
            if not dry_run:
                _reference_apply(record, store, now)
    processed = len(records) - len(unprocessed)
    status = "success" if not unprocessed else "partial" if processed else "fail"
    return {"status": status, "processed": processed, "unprocessed": unprocessed}


def _reference_check(record: Any, store: Store) -> None:
    record_checks.check_record(record, DISCARDED)
    if record["type"] == "token" and store.find_profile("objectId", record["objectId"]) is None:
        raise RecordError(530, "Token upload failed. objectId is invalid. ")


def _reference_apply(record: Json, store: Store, now: int) -> None:
    ts = int(record.get("ts", now))
    if record["type"] == "token":
        found = store.find_profile("objectId", record["objectId"])
        assert found is not None
        data = record["tokenData"]
        entry = {
            "platform": record_checks.TOKEN_PLATFORMS[data["type"]],
            "push_token": data["id"],
            "token_type": data["type"],
            "objectId": found.guid,
        }
        if "keys" in data:
            entry["keys"] = data["keys"]
        found.platform = [e for e in found.platform if e.get("push_token") != data["id"]]
        found.platform.append(entry)
        store.save_profile(found)
        return
    key, value = record_checks._identifier(record)
    person = store.find_profile(key, value) or store.create_profile(key, value, ts)
    if record["type"] == "event":
        store.add_event(person.id, record["evtName"], ts, record.get("evtData", {}), {})
        return
    for name, change in record.get("profileData", {}).items():
        upload._merge(person.data, name, change)
    store.save_profile(person)


def snapshot(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every stored row, JSON columns decoded (their spacing may differ, their values may not)."""
    conn = store.conn
    people = [
        (*row[:6], json.loads(row[6]), json.loads(row[7]), row[8])
        for row in conn.execute(
            "SELECT id, guid, identity, fbid, gpid, email, data, platform, created_at "
            "FROM profiles ORDER BY id"
        )
    ]
    events = [
        (*row[:4], json.loads(row[4]), json.loads(row[5]))
        for row in conn.execute(
            "SELECT id, profile_id, name, ts, props, session FROM events ORDER BY id"
        )
    ]
    return people, events


def seeded_store() -> Store:
    """A profile with data, an e-mail and a device, as `ctflow sandbox seed` writes them."""
    store = Store(":memory:")
    data = {"Name": "Ann", "Email": "ann@example.com", "Score": 3, "Tags": ["x", "y"]}
    device = [{"platform": "iOS", "push_token": "t1", "token_type": "apns", "objectId": "g-ann"}]
    with store.transaction():
        store.bulk_profiles(
            [(1, "g-ann", "ann", "ann@example.com", json.dumps(data), json.dumps(device), TS)]
        )
    return store


DISCARDED = {"Old Event"}
IDENTIFIERS = st.sampled_from(
    [
        ("identity", "ann"),
        ("identity", "bo"),
        ("identity", 7),
        ("identity", "7"),
        ("objectId", "g-ann"),
        ("objectId", "g-new"),
        ("objectId", guid_for(2)),  # the first profile a batch creates (the seeded one is 1)
        ("objectId", guid_for(3)),
        ("FBID", "fb-1"),
        ("GPID", "gp-1"),
    ]
)
TIMES = st.sampled_from([None, TS + 1, TS + 2, 0])
SCALARS = st.one_of(st.integers(-5, 5), st.sampled_from(["a", "b", "", None, True, 1.5]))
CHANGES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.builds(lambda op, arg: {op: arg}, st.sampled_from(["$incr", "$decr"]), SCALARS),
    st.builds(
        lambda op, arg: {op: arg},
        st.sampled_from(["$add", "$remove"]),
        st.one_of(SCALARS, st.lists(SCALARS, max_size=3)),
    ),
    st.just({"$delete": True}),
    st.just({"$bad": 1}),
)
PROFILE_DATA = st.dictionaries(
    st.sampled_from(["Score", "Tags", "Name", "Gender", "Email", "Age"]),
    st.one_of(
        CHANGES, st.sampled_from(["M", "Male", "ann@example.com", "bo@example.com", "not-mail"])
    ),
    max_size=4,
)


def _record(kind: str, identifier: tuple[str, Any], ts: int | None, body: Json) -> Json:
    record: Json = {"type": kind, identifier[0]: identifier[1], **body}
    if ts is not None:
        record["ts"] = ts
    return record


EVENTS = st.builds(
    _record,
    st.just("event"),
    IDENTIFIERS,
    TIMES,
    st.fixed_dictionaries(
        {
            "evtName": st.sampled_from(["Viewed", "Charged", "", "App Launched", "Old Event"]),
            "evtData": st.one_of(st.dictionaries(st.sampled_from("pq"), SCALARS), st.just("x")),
        }
    ),
)
PROFILES = st.builds(
    _record,
    st.just("profile"),
    IDENTIFIERS,
    TIMES,
    st.fixed_dictionaries({"profileData": PROFILE_DATA}),
)
TOKENS = st.builds(
    lambda object_id, token_id, kind: token(object_id, token_id, kind),
    st.sampled_from(["g-ann", "g-new", guid_for(2), guid_for(3), "nobody", "bad id!"]),
    st.sampled_from(["t1", "t2"]),
    st.sampled_from(["fcm", "apns", "sms"]),
)
ODD = st.sampled_from(
    [
        5,
        {"type": "page", "identity": "ann"},
        {"type": "event", "evtName": "X"},
        {"type": "event", "identity": "ann", "FBID": "fb-1", "evtName": "X"},
        {"type": "event", "objectId": "bad id!", "evtName": "X"},
    ]
)
BATCHES = st.lists(
    st.tuples(
        st.lists(st.one_of(EVENTS, PROFILES, TOKENS, ODD), min_size=1, max_size=25),
        st.booleans(),
    ),
    min_size=1,
    max_size=3,
)


def _outcome(run: Any, *args: Any) -> Any:
    try:
        return run(*args)
    except sqlite3.IntegrityError as error:  # e.g. an identity whose GUID another profile holds
        return ("IntegrityError", str(error))


@pytest.mark.slow
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(BATCHES)
def test_a_batch_stores_what_record_by_record_would(batches: list[tuple[list[Any], bool]]) -> None:
    bulk, reference = seeded_store(), seeded_store()
    try:
        for records, dry_run in batches:
            mine, theirs = copy.deepcopy(records), copy.deepcopy(records)
            got = _outcome(upload.upload, bulk, {"d": mine}, TS, dry_run, DISCARDED)
            want = _outcome(reference_upload, reference, theirs, TS, dry_run)
            assert got == want
            assert snapshot(bulk) == snapshot(reference)
    finally:
        bulk.close()
        reference.close()
