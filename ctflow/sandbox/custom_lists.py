"""Custom lists (§9, generally available): `POST /get_custom_list_segment_url` hands out a
presigned URL, the CSV is `PUT` there, and `POST /upload_custom_list_segment_completed` turns it
into a list segment. Imports only the standard library and sandbox modules.

What the sources say: the URL is valid 24 hours and a PUT after that gets 403; the completion
body is `{name, creator, filename, email, url, replace}`; the CSV's header is `Type,Identity`,
each row `i` (identity) or `g` (GUID); the result is e-mailed; a name already used fails with
`duplicate_name` unless `replace` is true. Chosen here [?]: the answers' shapes (the URL under
`presignedS3URL`, the completion answering `{"status":"success"}`), the texts of the failures,
and that unknown profiles in the file are left out.
"""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

from ctflow.sandbox.replies import ApiError, Json, fail, malformed
from ctflow.sandbox.store import Store

PRESIGNED_PREFIX = "/_presigned/"
"""Where the sandbox serves its presigned URLs: no CleverTap headers needed, as on S3."""
KIND = "custom_list"
COMPLETION_FIELDS = ("name", "creator", "filename", "email", "url")
EXPIRED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    "<Message>Request has expired</Message></Error>"
)


def presigned_url(store: Store, base_url: str, now: float) -> Json:
    token = secrets.token_urlsafe(18)
    store.put_state("presigned", token, {"created_at": now, "csv": None})
    return {"status": "success", "presignedS3URL": f"{base_url}{PRESIGNED_PREFIX}{token}"}


def put_file(store: Store, token: str, body: bytes, now: float, valid_seconds: int) -> bool:
    """Keep the uploaded CSV; False when the URL is unknown or expired (S3 answers 403)."""
    state = store.get_state("presigned", token)
    if state is None or now - float(state["created_at"]) > valid_seconds:
        return False
    store.put_state("presigned", token, {**state, "csv": body.decode("utf-8", "replace")})
    return True


def _token(url: object) -> str | None:
    if not isinstance(url, str) or PRESIGNED_PREFIX not in url:
        return None
    return url.split(PRESIGNED_PREFIX, 1)[1].split("?", 1)[0]


def _rows(text: str) -> list[tuple[str, str]]:
    """(``identity`` or ``objectId``, value) of each row of a `Type,Identity` CSV."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:2] != ["type", "identity"]:
        raise fail("The file must have the header Type,Identity")  # [?] text
    found = []
    for number, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        kind = row[0].strip().lower()
        if kind not in ("i", "g") or len(row) < 2 or not row[1].strip():
            raise fail(f"Invalid row {number}: Type is i or g, then the Identity")  # [?] text
        found.append(("identity" if kind == "i" else "objectId", row[1].strip()))
    return found


def completed(store: Store, body: object, now: float) -> Json:
    if not isinstance(body, dict):
        raise malformed()
    for name in COMPLETION_FIELDS:
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise fail(f"Field {name} is empty")  # [?] text
    state = None
    token = _token(body["url"])
    if token is not None:
        state = store.get_state("presigned", token)
    if state is None or state.get("csv") is None:
        raise fail("No file was uploaded to url")  # [?] text
    rows = _rows(str(state["csv"]))
    replace = body.get("replace") is True

    def work() -> Json:
        found = store.conn.execute(
            "SELECT id FROM segments WHERE kind = ? AND name = ?", [KIND, body["name"]]
        ).fetchall()
        if found and not replace:
            raise ApiError(400, {"status": "fail", "error": "duplicate_name", "code": 400})
        if found:
            segment_id = found[0][0]
            store.conn.execute("DELETE FROM segment_members WHERE segment_id = ?", [segment_id])
        else:
            last = store.conn.execute("SELECT MAX(id) FROM segments").fetchone()[0]
            segment_id = max(1_700_000_000, (last or 0) + 1)
            store.conn.execute(
                "INSERT INTO segments (id, customer_segment_id, name, created_at, kind)"
                " VALUES (?, NULL, ?, ?, ?)",
                [segment_id, body["name"], now, KIND],
            )
        for key, value in rows:
            profile = store.find_profile(key, value)
            if profile is not None:
                store.conn.execute(
                    "INSERT OR IGNORE INTO segment_members VALUES (?, ?)", [segment_id, profile.id]
                )
        return {"status": "success"}

    return store.write(work)


def custom_lists(store: Store) -> list[dict[str, Any]]:
    rows = store.db.all(
        "SELECT s.id, s.name, (SELECT COUNT(*) FROM segment_members m"
        " WHERE m.segment_id = s.id) AS size FROM segments s WHERE kind = ? ORDER BY s.id",
        [KIND],
    )
    return [{"id": row["id"], "name": row["name"], "members": row["size"]} for row in rows]
