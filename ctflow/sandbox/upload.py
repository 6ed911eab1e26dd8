"""`POST /1/upload`: the call's limits, each record's checks (`record_checks`) and applying the
records that pass.

Imports only the standard library and sandbox modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ctflow.sandbox.record_checks import (
    EMPTY,
    IDENTIFIERS,
    MAX_EVENT_PROPS,
    TOKEN_PLATFORMS,
    RecordError,
    check_record,
)
from ctflow.sandbox.replies import Json, fail, malformed
from ctflow.sandbox.store import (
    Profile,
    Store,
    encode,
    guid_for,
    new_profile,
    new_profile_row,
    profile_row,
)

MAX_RECORDS = 1000  # §1.5
MAX_TOKENS = 100  # §1.5, device tokens per call
MAX_LIST_ITEMS = 100  # §1.5 multi-value: FIFO eviction past 100

# §2.1: "Only tokens of users already live on the app can be uploaded" — checked last, in order.
NO_SUCH_USER = RecordError(530, "Token upload failed. objectId is invalid. ")


def _merge(data: dict[str, Any], key: str, value: Any) -> None:
    if not isinstance(value, dict):
        data[key] = value[-MAX_LIST_ITEMS:] if isinstance(value, list) else value
        return
    op, arg = next(iter(value.items()))
    current = data.get(key)
    if op == "$delete":
        data.pop(key, None)
    elif op in ("$incr", "$decr"):
        base = current if isinstance(current, int | float) and not isinstance(current, bool) else 0
        step = arg if isinstance(arg, int | float) and not isinstance(arg, bool) else 0
        data[key] = base + step if op == "$incr" else base - step
    elif op == "$remove" and key not in data:
        return  # nothing to remove from: the property stays absent
    else:
        items = current if isinstance(current, list) else [] if current is None else [current]
        changes = arg if isinstance(arg, list) else [arg]
        kept = [item for item in items if item not in changes]
        data[key] = (kept + changes)[-MAX_LIST_ITEMS:] if op == "$add" else kept


class Batch:
    """The profiles one call touches: looked up together, created and merged in record order, and
    written with the events in a few statements at the end. Only the store's identifier maps
    outlive the call (they notice another process's commits); its profiles are read afresh."""

    def __init__(self, store: Store, to_load: Iterable[tuple[str, str]]) -> None:
        self.store = store
        self.ids = {key: store.identifiers(key) for key in IDENTIFIERS}
        """The store's own maps: a profile made here is in them at once (a rollback drops them)."""
        loading = {self.ids[key][value] for key, value in to_load if value in self.ids[key]}
        self.loaded = store.profiles_by_id(loading) if loading else {}
        self.next_id = store.max_id("profiles") + 1
        self.created: dict[int, tuple[str, str, int]] = {}
        """New profiles: id → the identifier (key, value) that made it and when."""
        self.made: dict[int, Profile] = {}
        """The new profiles a profile or token record changes (the others stay rows)."""
        self.changed: dict[int, Profile] = {}
        self.events: list[tuple[int, str, int, str]] = []
        """Rows of `Store.insert_event_rows`: their properties encoded as they are read."""

    def exists(self, identifier: tuple[str, str]) -> bool:
        key, value = identifier
        return value in self.ids[key]

    def profile_id(self, identifier: tuple[str, str], now: int) -> int:
        key, value = identifier
        found = self.ids[key].get(value)
        if found is not None:
            return found
        profile_id = self.next_id
        self.next_id += 1
        self.created[profile_id] = (key, value, now)
        self.ids[key][value] = profile_id
        if key != "objectId":
            self.ids["objectId"][guid_for(profile_id)] = profile_id
        return profile_id

    def profile(self, identifier: tuple[str, str], now: int) -> Profile:
        profile_id = self.profile_id(identifier, now)
        if profile_id in self.created:
            made = self.made.get(profile_id)
            if made is None:
                made = self.made[profile_id] = new_profile(profile_id, *self.created[profile_id])
            return made
        found = self.changed[profile_id] = self.loaded[profile_id]
        return found

    def write(self) -> None:
        made = self.made
        self.store.insert_profile_rows(
            [
                profile_row(made[profile_id])
                if profile_id in made
                else new_profile_row(profile_id, *identifier)
                for profile_id, identifier in self.created.items()
            ]
        )
        self.store.save_profiles(self.changed.values())
        self.store.insert_event_rows(self.events)


def _add_token(profile: Profile, data: dict[str, Any]) -> None:
    entry = {
        "platform": TOKEN_PLATFORMS[data["type"]],
        "push_token": data["id"],
        "token_type": data["type"],
        "objectId": profile.guid,
    }
    if "keys" in data:
        entry["keys"] = data["keys"]
    profile.platform = [e for e in profile.platform if e.get("push_token") != data["id"]]
    profile.platform.append(entry)


def apply_record(
    record: dict[str, Any], identifier: tuple[str, str], batch: Batch, now: int
) -> None:
    ts = int(record.get("ts", now))
    kind = record["type"]
    if kind == "event":
        profile_id = batch.profile_id(identifier, ts)
        batch.events.append((profile_id, record["evtName"], ts, encode(record.get("evtData", {}))))
    elif kind == "profile":
        profile = batch.profile(identifier, ts)
        for key, value in record.get("profileData", {}).items():
            _merge(profile.data, key, value)
    else:
        _add_token(batch.profile(identifier, ts), record["tokenData"])


Outcome = tuple[str, str] | RecordError
"""A record's identifier (key, value) if it passed the checks that need no stored data."""


def upload(
    store: Store,
    body: object,
    now: int,
    dry_run: bool,
    discarded: set[str],
    most_props: int = MAX_EVENT_PROPS,
) -> Json:
    records, outcomes = check_call(body, discarded, most_props)
    return apply_call(store, records, outcomes, now, dry_run)


def check_call(
    body: object, discarded: set[str], most_props: int = MAX_EVENT_PROPS
) -> tuple[list[Any], list[Outcome]]:
    """The call's records and each one's outcome of the checks that need no stored data."""
    if not isinstance(body, dict) or not isinstance(body.get("d"), list):
        raise malformed()
    records: list[Any] = body["d"]
    if not records:
        raise fail("No records to process: 'd' must hold 1 to 1000 records")
    if len(records) > MAX_RECORDS:
        raise fail(f"Too many records: {len(records)} in 'd', at most {MAX_RECORDS} per request")
    tokens = sum(1 for r in records if isinstance(r, dict) and r.get("type") == "token")
    if tokens > MAX_TOKENS:
        raise fail(f"Too many token records: {tokens} in 'd', at most {MAX_TOKENS} per request")
    outcomes: list[Outcome] = []
    for record in records:
        try:
            outcomes.append(check_record(record, discarded, most_props))
        except RecordError as error:
            outcomes.append(error)
    return records, outcomes


def apply_call(
    store: Store, records: list[Any], outcomes: list[Outcome], now: int, dry_run: bool
) -> Json:
    """The checked records applied, committed with the other calls writing at the same time."""
    return store.write(lambda: _apply(store, records, outcomes, now, dry_run))


def _apply(
    store: Store,
    records: list[Any],
    outcomes: list[Outcome],
    now: int,
    dry_run: bool,
) -> Json:
    to_load = [
        found
        for r, found in zip(records, outcomes, strict=True)
        if type(found) is tuple and r["type"] != "event" and not dry_run
    ]
    unprocessed: list[Json] = []
    batch = Batch(store, to_load)
    events, known = batch.events, batch.ids["identity"]
    for number, (record, outcome) in enumerate(zip(records, outcomes, strict=True), start=1):
        if type(outcome) is tuple:
            kind = record["type"]
            if kind == "event" and not dry_run:  # most records: apply_record's steps, inline
                ts = record.get("ts", now)
                found = known.get(outcome[1]) if outcome[0] == "identity" else None
                profile_id = found if found is not None else batch.profile_id(outcome, ts)
                props = encode(record.get("evtData", EMPTY))
                events.append((profile_id, record["evtName"], ts, props))
                continue
            if kind == "token" and not batch.exists(outcome):
                outcome = NO_SUCH_USER
            else:
                if not dry_run:
                    apply_record(record, outcome, batch, now)
                continue
        assert isinstance(outcome, RecordError)
        text = f"{outcome.text}Skipped record number : {number}"
        unprocessed.append(
            {"status": "fail", "code": outcome.code, "error": text, "record": record}
        )
    if not dry_run:
        batch.write()
    processed = len(records) - len(unprocessed)
    status = "success" if not unprocessed else "partial" if processed else "fail"
    return {"status": status, "processed": processed, "unprocessed": unprocessed}
