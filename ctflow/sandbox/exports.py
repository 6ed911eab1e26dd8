"""Cursor exports of events and profiles (§8.1, §8.2) and counts with `partial` + `req_id` polling
(§8.4). Cursor and count state live in the store's keyed table. Stdlib and sandbox only.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from ctflow.sandbox.config import SandboxConfig
from ctflow.sandbox.dates import compact_ts
from ctflow.sandbox.query import Query, QueryError, matching_events, matching_profiles, parse_query
from ctflow.sandbox.replies import ApiError, Json, fail, fail_body, malformed
from ctflow.sandbox.store import Profile, Store

MAX_BATCH = 5000  # §1.5
DEFAULT_BATCH = 10  # the Node SDK's default [?]
INCORRECT_USAGE = "Incorrect Usage"  # §8.1: what a re-encoded cursor gets
IN_PROGRESS = "Request still in progress, please retry later"  # §1.3, code 2
INVALID_REQ_ID = "invalid request id"  # §8.4 [?]


def _query(body: object, kind: str, config: SandboxConfig, now: float) -> Query:
    if not isinstance(body, dict):
        raise malformed()
    try:
        return parse_query(body, ZoneInfo(config.timezone), now, require_event=kind == "events")
    except QueryError as error:
        raise fail(str(error)) from None


def new_cursor() -> str:
    """Looks like CleverTap's: percent-encoded base64 text, with `%2F` and `%3D` in it (§8.1)."""
    text = "/".join(base64.b64encode(secrets.token_bytes(16)).decode() for _ in range(2))
    return quote(text, safe="")


def _save_cursor(store: Store, state: dict[str, Any]) -> str:
    cursor = new_cursor()
    store.put_state("cursor", unquote(cursor), state)
    return cursor


def start_export(
    store: Store, kind: str, body: object, batch_size: str | None, config: SandboxConfig, now: float
) -> Json:
    size = DEFAULT_BATCH if batch_size is None else int(batch_size) if batch_size.isdecimal() else 0
    if not 1 <= size <= MAX_BATCH:
        raise fail(f"batch_size must be between 1 and {MAX_BATCH}")  # [?] text
    _query(body, kind, config, now)
    state = {
        "kind": kind,
        "where": body,
        "now": now,
        "batch_size": size,
        "after_id": 0,
        "max_id": store.max_id(kind),
        "polls": config.export_not_ready_polls,
    }
    return {"status": "success", "cursor": _save_cursor(store, state)}


def _profile_of(profile: Profile) -> Json:
    platform = profile.platform[0].get("platform", "Web") if profile.platform else "Web"
    return {
        "objectId": profile.guid,
        "platform": platform,
        "email": profile.email,
        "profileData": profile.data,
        "identity": profile.identity,
        "id": profile.id,
    }


def page(store: Store, kind: str, raw_cursor: str | None, config: SandboxConfig) -> Json:
    """Serve one page; the cursor must arrive exactly as issued (one level of percent-encoding)."""
    state = None if raw_cursor is None else store.get_state("cursor", unquote(raw_cursor))
    if state is None or state["kind"] != kind:
        raise fail(INCORRECT_USAGE)  # [?] HTTP 400 + code 400
    assert raw_cursor is not None
    if state["polls"] > 0:
        state["polls"] -= 1
        store.put_state("cursor", unquote(raw_cursor), state)
        # §1.3: code 2; its HTTP status was not recorded, 400 is our reading [?].
        raise ApiError(400, fail_body(IN_PROGRESS, 2))
    query = _query(state["where"], kind, config, state["now"])
    size, after, ceiling = state["batch_size"], state["after_id"], state["max_id"]
    if kind == "events":
        events = matching_events(store, query, after, ceiling)
        people = store.profiles_by_id(e.profile_id for e in events[:size])
        tz = ZoneInfo(config.timezone)
        records = [
            {
                "profile": _profile_of(people[e.profile_id]),
                "ts": compact_ts(e.ts, tz),
                "event_props": e.props,
                "session_props": e.session,
            }
            for e in events[:size]
        ]
        ids = [e.id for e in events]
    else:
        found = [p for p in matching_profiles(store, query) if after < p.id <= ceiling]
        records = [
            {"identity": p.identity, "profileData": p.data, "platformInfo": p.platform}
            for p in found[:size]
        ]
        ids = [p.id for p in found]
    reply: Json = {"status": "success", "records": records}
    if len(ids) > size:
        follow = dict(state, after_id=ids[size - 1], polls=config.export_not_ready_polls)
        reply["next_cursor"] = _save_cursor(store, follow)
    return reply


def start_count(store: Store, kind: str, body: object, config: SandboxConfig, now: float) -> Json:
    query = _query(body, kind, config, now)
    if kind == "events":
        count = len(matching_events(store, query))
    else:
        count = len(matching_profiles(store, query))
    if config.count_polls <= 0:
        return {"status": "success", "count": count}
    req_id = secrets.randbelow(9 * 10**14) + 10**14  # 15 digits, like §8.4's sample
    state = {"kind": kind, "count": count, "polls": config.count_polls - 1}
    store.put_state("count", str(req_id), state)
    return {"status": "partial", "req_id": req_id}


def poll_count(store: Store, kind: str, req_id: str) -> Json:
    state = store.get_state("count", req_id.strip())
    if state is None or state["kind"] != kind:
        raise fail(INVALID_REQ_ID)
    if state["polls"] > 0:
        state["polls"] -= 1
        store.put_state("count", req_id.strip(), state)
        return {"status": "partial", "req_id": int(req_id)}
    return {"status": "success", "count": state["count"]}
