"""API segments (§9, private beta): `POST /api/createSegment`, `POST /api/updateSegment`, and the
membership campaigns with `segment: <id>` reach. Imports only the standard library and sandbox
modules.

What the docs state: create takes an array of `{segment_name, customer_segment_id}`, the client's
id unique across all requests, names unique within the request, and creates empty segments;
update adds or removes profiles (identity or guid) to segments named by `ct_segment_id` or
`customer_segment_id`, processing what it can. Not recorded, so chosen here [?]: the answers'
shapes (below), that a second create with a known `customer_segment_id` answers with the segment
it made the first time, and the texts of the failures.
"""

from __future__ import annotations

from typing import Any

from ctflow.sandbox.config import SandboxConfig
from ctflow.sandbox.replies import Json, fail, malformed
from ctflow.sandbox.store import Store

ACTIONS = ("ADD", "REMOVE")
# Segment ids look like campaign ids (§1.6, "10-digit epoch-based"), from their own sequence [?].
FIRST_ID = 1_700_000_000


def _client_id(value: object) -> str | None:
    """A `customer_segment_id` as stored: a non-empty string or a positive integer [?]."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def _entry(row: Any) -> Json:
    return {
        "segment_name": row["name"],
        "customer_segment_id": row["customer_segment_id"],
        "ct_segment_id": row["id"],
    }


def create(store: Store, body: object, now: float) -> Json:
    """`{"status":"success","segments":[{segment_name, customer_segment_id, ct_segment_id}]}`,
    one entry per requested segment, in order; a known `customer_segment_id` answers with its
    segment (named as first created) and creates nothing [?]."""
    if not isinstance(body, list) or not body:
        raise fail("Request body must be a non-empty array of segments")  # [?] text
    wanted: list[tuple[str, str]] = []
    for at, item in enumerate(body):
        if not isinstance(item, dict):
            raise malformed()
        name, client_id = item.get("segment_name"), _client_id(item.get("customer_segment_id"))
        if not isinstance(name, str) or not name.strip():
            raise fail(f"segment_name is empty (segment {at})")  # [?] text
        if client_id is None:
            raise fail(f"customer_segment_id is empty (segment {at})")  # [?] text
        wanted.append((name, client_id))
    names = [name for name, _ in wanted]
    if len(set(names)) != len(names):
        raise fail("segment_name must be unique within the request")  # §9; [?] text
    client_ids = [client_id for _, client_id in wanted]
    if len(set(client_ids)) != len(client_ids):
        raise fail("customer_segment_id must be unique")  # §9; [?] text

    def work() -> Json:
        made = []
        for name, client_id in wanted:
            rows = store.conn.execute(
                "SELECT * FROM segments WHERE customer_segment_id = ?", [client_id]
            ).fetchall()
            if not rows:
                last = store.conn.execute("SELECT MAX(id) FROM segments").fetchone()[0]
                store.conn.execute(
                    "INSERT INTO segments (id, customer_segment_id, name, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    [max(FIRST_ID, (last or 0) + 1), client_id, name, now],
                )
                rows = store.conn.execute(
                    "SELECT * FROM segments WHERE customer_segment_id = ?", [client_id]
                ).fetchall()
            made.append(_entry(rows[0]))
        return {"status": "success", "segments": made}

    return store.write(work)


def _segment_ref(raw: object) -> tuple[str, str] | None:
    """("id", ct id) or ("customer_segment_id", client id) of one `segments[]` entry."""
    if not isinstance(raw, dict) or raw.get("action") not in ACTIONS:
        return None
    has_ct, has_client = "ct_segment_id" in raw, "customer_segment_id" in raw
    if has_ct == has_client:
        return None
    if has_ct:
        ct = raw["ct_segment_id"]
        ok = (isinstance(ct, int) and not isinstance(ct, bool)) or isinstance(ct, str)
        return ("id", str(ct)) if ok and str(ct).isdecimal() else None
    client_id = _client_id(raw["customer_segment_id"])
    return None if client_id is None else ("customer_segment_id", client_id)


def _profile_ref(raw: object) -> tuple[str, str] | None:
    if not isinstance(raw, dict) or len(raw) != 1:
        return None
    ((key, value),) = raw.items()
    if key not in ("identity", "guid") or not isinstance(value, str) or not value:
        return None
    return key, value


def _check_update(body: object, limit: int) -> list[Any]:
    if not isinstance(body, dict):
        raise malformed()
    bulk = body.get("bulk_profiles")
    if not isinstance(bulk, list) or not bulk:
        raise fail("Field bulk_profiles is empty")  # [?] text
    total = 0
    for at, item in enumerate(bulk):
        profiles = item.get("user_profiles") if isinstance(item, dict) else None
        segments = item.get("segments") if isinstance(item, dict) else None
        if not isinstance(profiles, list) or not profiles:
            raise fail(f"Field user_profiles is empty (bulk_profiles[{at}])")  # [?] text
        if not isinstance(segments, list) or not segments:
            raise fail(f"Field segments is empty (bulk_profiles[{at}])")  # [?] text
        for segment in segments:
            if _segment_ref(segment) is None:
                raise fail(  # [?] text
                    f"Invalid segment in bulk_profiles[{at}]: give one of ct_segment_id or "
                    "customer_segment_id, and action ADD or REMOVE"
                )
        total += len(profiles)
    if limit and total > limit:
        raise fail(f"Too many profiles: {total} in one request, at most {limit}")  # §9 [?]
    return bulk


def update(store: Store, body: object, config: SandboxConfig) -> Json:
    """Adds and removes what it can: `{"status":"success","processed":N,"unprocessed":[…]}`, each
    unprocessed entry the profile as sent plus an `error` (unknown profile, or not an identity or
    guid) [?]. A segment that does not exist fails the whole request (404) [?]."""
    bulk = _check_update(body, config.segment_profiles_per_request)

    def work() -> Json:
        processed, unprocessed = 0, []
        for item in bulk:
            targets = []
            for raw in item["segments"]:
                column, value = _segment_ref(raw) or ("", "")
                rows = store.conn.execute(
                    f"SELECT id, kind FROM segments WHERE {column} = ?", [value]
                ).fetchall()
                if not rows:
                    raise fail(f"Segment not found: {column} {value}", 404, 404)  # [?] text
                if rows[0]["kind"] != "api":
                    raise fail("Only API segments can be updated")  # §9; [?] text
                targets.append((rows[0][0], raw["action"]))
            for raw in item["user_profiles"]:
                ref = _profile_ref(raw)
                if ref is None:
                    unprocessed.append({"profile": raw, "error": "Give one identity or guid"})
                    continue
                key = "identity" if ref[0] == "identity" else "objectId"
                found = store.find_profile(key, ref[1])
                if found is None:
                    unprocessed.append({**raw, "error": "Profile not found"})
                    continue
                for segment_id, action in targets:
                    store.conn.execute(
                        "INSERT OR IGNORE INTO segment_members VALUES (?, ?)"
                        if action == "ADD"
                        else "DELETE FROM segment_members WHERE segment_id = ? AND profile_id = ?",
                        [segment_id, found.id],
                    )
                processed += 1
        return {"status": "success", "processed": processed, "unprocessed": unprocessed}

    return store.write(work)


def members(store: Store, segment: object) -> frozenset[int]:
    """The profile ids in the segment `segment` (a campaign's `segment` field: its ct id)."""
    text = str(segment)
    if isinstance(segment, bool) or not text.isdecimal():
        raise LookupError(text)
    if not store.db.all("SELECT 1 FROM segments WHERE id = ?", [int(text)]):
        raise LookupError(text)
    rows = store.db.all("SELECT profile_id FROM segment_members WHERE segment_id = ?", [int(text)])
    return frozenset(row[0] for row in rows)


def listing(store: Store) -> list[Json]:
    """Every segment with its member count (for the sandbox's own inspection)."""
    rows = store.db.all(
        "SELECT s.*, (SELECT COUNT(*) FROM segment_members m WHERE m.segment_id = s.id) AS size "
        "FROM segments s WHERE kind = 'api' ORDER BY s.id"
    )
    return [{**_entry(row), "members": row["size"]} for row in rows]
