"""Arguments checked against CleverTap's documented limits before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ctflow.clevertap.errors import InvalidRequest

MAX_UPLOAD_RECORDS = 1000
MAX_TOKEN_RECORDS = 100
MAX_DELETE_PER_CALL = 100
MAX_SEND_IDENTITIES = 1000
MAX_TRIGGER_CAMPAIGNS = 5
MAX_SEGMENT_PROFILES = 100


def upload_batch(what: str, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """1..1000 records, at most 100 of them tokens."""
    batch = [dict(record) for record in _sequence(what, records)]
    if not 1 <= len(batch) <= MAX_UPLOAD_RECORDS:
        raise InvalidRequest(
            f"{what}: {len(batch)} records; CleverTap takes 1 to {MAX_UPLOAD_RECORDS} a call"
        )
    tokens = sum(1 for record in batch if record.get("type") == "token")
    if tokens > MAX_TOKEN_RECORDS:
        raise InvalidRequest(
            f"{what}: {tokens} token records; CleverTap takes at most {MAX_TOKEN_RECORDS}"
        )
    return batch


def typed(what: str, records: Sequence[Mapping[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [{**record, "type": kind} for record in _sequence(what, records)]


def chunks(what: str, name: str, values: Sequence[str]) -> list[list[str]]:
    """``values`` in lists of at most 100 (delete by identity / GUID)."""
    items = list(_sequence(f"{what}: {name}", values))
    step = MAX_DELETE_PER_CALL
    return [items[start : start + step] for start in range(0, len(items), step)]


def recipients(what: str, to: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """1..1000 identities in total, each key a list (never a bare string)."""
    result = {key: list(_sequence(f"{what}: to[{key!r}]", values)) for key, values in to.items()}
    total = sum(len(v) for v in result.values())
    if not 1 <= total <= MAX_SEND_IDENTITIES:
        raise InvalidRequest(
            f"{what}: {total} recipients; CleverTap takes 1 to {MAX_SEND_IDENTITIES} a call"
        )
    return result


def campaign_ids(what: str, ids: Sequence[int | str]) -> list[int | str]:
    """1..5 campaign ids, each a positive whole number (or its digits), none twice."""
    found = list(_sequence(f"{what}: campaign_ids", ids))
    if not 1 <= len(found) <= MAX_TRIGGER_CAMPAIGNS:
        raise InvalidRequest(
            f"{what}: {len(found)} campaign ids; CleverTap triggers 1 to "
            f"{MAX_TRIGGER_CAMPAIGNS} campaigns a call"
        )
    for value in found:
        whole = isinstance(value, int) and not isinstance(value, bool) and value > 0
        if not (whole or (isinstance(value, str) and value.isdecimal() and value.isascii())):
            raise InvalidRequest(f"{what}: {value!r} is not a campaign id")
    if len({str(value) for value in found}) != len(found):
        raise InvalidRequest(f"{what}: a campaign id is given twice")
    return found


def segment_profiles(what: str, add: Sequence[str], remove: Sequence[str]) -> None:
    """1..100 profiles in one updateSegment call (§9, from one client's catalogue)."""
    total = len(_sequence(f"{what}: add", add)) + len(_sequence(f"{what}: remove", remove))
    if not 1 <= total <= MAX_SEGMENT_PROFILES:
        raise InvalidRequest(
            f"{what}: {total} profiles; CleverTap takes 1 to {MAX_SEGMENT_PROFILES} a call"
        )


def date_range(what: str, from_date: date, to_date: date) -> None:
    if from_date > to_date:
        raise InvalidRequest(f"{what}: from_date {from_date} is after to_date {to_date}")


def _sequence(what: str, values: Any) -> Sequence[Any]:
    if isinstance(values, str | bytes | Mapping):
        raise InvalidRequest(f"{what}: expected a sequence, not a string or a single mapping")
    return list(values)
