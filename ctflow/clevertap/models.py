"""Typed results of CleverTap calls, parsed tolerantly from the documented (and historical) bodies.

Pure data and parsing: no I/O. Unknown shapes never crash a parse; the raw value is kept.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

_SKIPPED = re.compile(r"\s*Skipped record number\s*:\s*(\d+)\s*$", re.IGNORECASE)


def as_int(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if (
        isinstance(value, str) and value.strip().isdecimal()
    ):  # int() takes decimals; "²" is a digit, not one
        return int(value.strip())
    return default


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


# --- upload ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnprocessedRecord:
    """One rejected record; ``record_number`` is 1-based in the batch sent (None if not stated)."""

    record_number: int | None
    code: int | None
    error: str
    record: Any

    @property
    def reason(self) -> str:
        """``error`` without the ``Skipped record number : N`` suffix."""
        return _SKIPPED.sub("", self.error).strip()

    @classmethod
    def from_api(cls, item: Any) -> UnprocessedRecord:
        fields = _dict(item)
        error = str(fields.get("error", "")) if fields else str(item)
        match = _SKIPPED.search(error)
        record = fields.get("record")
        if isinstance(record, str):  # 2017 variant: the record echoed as a JSON string
            with contextlib.suppress(ValueError):
                record = json.loads(record)
        return cls(
            record_number=int(match.group(1)) if match else None,
            code=as_int(fields.get("code")),
            error=error,
            record=record,
        )


@dataclass(frozen=True)
class UploadResult:
    processed: int
    unprocessed: tuple[UnprocessedRecord, ...]
    status: str = ""

    @property
    def ok(self) -> bool:
        """Every record accepted; from ``unprocessed``, as 2017 answers said "success" anyway."""
        return not self.unprocessed

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> UploadResult:
        items = doc.get("unprocessed")
        return cls(
            processed=as_int(doc.get("processed"), 0) or 0,
            unprocessed=tuple(
                UnprocessedRecord.from_api(i) for i in (items if isinstance(items, list) else [])
            ),
            status=str(doc.get("status", "")),
        )


# --- campaigns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimates:
    """Reach per device (``android``, ``ios``, ``web``, ``chrome``, …) and their sum."""

    by_device: Mapping[str, int]
    total: int

    @classmethod
    def from_api(cls, value: Any) -> Estimates:
        by_device = {str(k): n for k, v in _dict(value).items() if (n := as_int(v)) is not None}
        return cls(by_device=by_device, total=sum(by_device.values()))


@dataclass(frozen=True)
class CreatedCampaign:
    id: int
    estimates: Estimates


@dataclass(frozen=True)
class CampaignSummary:
    """One entry of ``/1/targets/list.json``.

    ``scheduled_on`` is naive (account-local wall time) when CleverTap sent a wall-clock form
    (``YYYYMMDDHHMM``, ``"YYYYMMDD HH:MM"``) and UTC-aware when it sent epoch seconds; ``None``
    if absent or unrecognised, with the raw value kept in ``raw``.
    """

    id: int
    name: str
    status: str
    scheduled_on: datetime | None
    labels: tuple[str, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> CampaignSummary | None:
        """``None`` when the entry has no usable id."""
        campaign_id = as_int(item.get("id"))
        if campaign_id is None:
            return None
        return cls(
            id=campaign_id,
            name=str(item.get("name") or ""),
            status=str(item.get("status") or ""),
            scheduled_on=parse_schedule(item.get("scheduled_on")),
            labels=_labels(item.get("labels")),
            raw=dict(item),
        )


def _labels(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


_WALL_FORMATS = ("%Y%m%d %H:%M", "%Y%m%d %H:%M:%S", "%Y%m%d%H%M", "%Y%m%d%H%M%S", "%Y%m%d")


def parse_schedule(value: Any) -> datetime | None:
    """Read ``YYYYMMDDHHMM`` (int or str), epoch seconds/millis, ``"YYYYMMDD HH:MM"``, ISO 8601."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.isdecimal():
        return _from_digits(text)
    for fmt in _WALL_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _from_digits(text: str) -> datetime | None:
    wall = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    try:
        if len(text) in wall:
            return datetime.strptime(text, wall[len(text)])
        if 9 <= len(text) <= 10:
            return datetime.fromtimestamp(int(text), tz=UTC)
        if len(text) == 13:
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


@dataclass(frozen=True)
class CampaignReport:
    id: int
    metrics: Mapping[str, Any]

    @classmethod
    def from_api(cls, campaign_id: int, doc: Mapping[str, Any]) -> CampaignReport:
        return cls(id=campaign_id, metrics=_dict(doc.get("result")))


@dataclass(frozen=True)
class MessageReportRow:
    """One ``messages[]`` entry of ``/1/message/report.json`` (key ``"message id"`` has a space)."""

    message_id: int | str | None
    name: str
    channel: str
    start_date: datetime | None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> MessageReportRow:
        raw_id = item.get("message id", item.get("message_id"))
        message_id = as_int(raw_id)
        return cls(
            message_id=message_id if message_id is not None else raw_id,
            name=str(item.get("message_name") or item.get("name") or ""),
            channel=str(item.get("channel") or ""),
            start_date=_report_date(item.get("start_date")),
            raw=dict(item),
        )


@dataclass(frozen=True)
class MessageReport:
    """One answer of ``/1/message/report.json``: its rows, and how many campaigns matched
    (``total_results``; more than the rows when CleverTap held some back)."""

    rows: list[MessageReportRow]
    total: int

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> MessageReport:
        messages = doc.get("messages")
        items = messages if isinstance(messages, list) else []
        rows = [MessageReportRow.from_api(m) for m in items if isinstance(m, Mapping)]
        total = as_int(doc.get("total_results"))
        return cls(rows, max(total if total is not None else len(rows), len(rows)))


def _report_date(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), "%d %b, %Y %H:%M:%S")
        except ValueError:
            pass
    return parse_schedule(value)


# --- sends, profiles, counts, schema ---------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """An API segment (§9): CleverTap's id for it and the client-chosen one it was created with."""

    ct_id: int
    customer_id: str
    name: str


@dataclass(frozen=True)
class SegmentUpdate:
    """What ``updateSegment`` applied: profiles processed, and those it could not (unknown ones)."""

    processed: int
    unprocessed: tuple[Mapping[str, Any], ...]

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> SegmentUpdate:
        items = doc.get("unprocessed")
        return cls(
            processed=as_int(doc.get("processed"), 0) or 0,
            unprocessed=tuple(
                _dict(i) for i in (items if isinstance(items, list) else []) if _dict(i)
            ),
        )


@dataclass(frozen=True)
class SendAck:
    """CleverTap queued the message ("Added to queue for processing"); no id is returned."""

    message: str

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> SendAck:
        return cls(message=str(doc.get("message", "")))


@dataclass(frozen=True)
class Profile:
    identity: str | None
    email: str | None
    profile_data: Mapping[str, Any]
    events: Mapping[str, Any]
    platform_info: tuple[Mapping[str, Any], ...]
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, record: Mapping[str, Any]) -> Profile:
        identity, email = record.get("identity"), record.get("email")
        platform = record.get("platformInfo")
        return cls(
            identity=None if identity is None else str(identity),
            email=None if email is None else str(email),
            profile_data=_dict(record.get("profileData")),
            events=_dict(record.get("events")),
            platform_info=tuple(_dict(p) for p in (platform if isinstance(platform, list) else [])),
            raw=dict(record),
        )


@dataclass(frozen=True)
class RealtimeCounts:
    """``/1/now.json``: users active in the last minutes, plus one breakdown per requested flag.

    ``breakdowns``: ``user_type``, ``session_source``, ``browser``, ``os``, ``device`` (each
    word → users, keys lower case as in CleverTap's sample); ``new_users``: the same breakdowns
    of new users only, which CleverTap nests under ``new``. A flat ``new`` (word → users) is kept
    as the breakdown ``new``; values that are not counts are left out (``raw`` has them).
    """

    count: int
    last_processed_ts: int | None
    breakdowns: Mapping[str, Mapping[str, int]]
    new_users: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> RealtimeCounts:
        skip = {"status", "count", "last_processed_ts", "new"}
        breakdowns = {
            str(k): _tally(v) for k, v in doc.items() if k not in skip and isinstance(v, Mapping)
        }
        new = _dict(doc.get("new"))
        nested = {str(k): _tally(v) for k, v in new.items() if isinstance(v, Mapping)}
        flat = _tally({k: v for k, v in new.items() if not isinstance(v, Mapping)})
        if flat:
            breakdowns["new"] = flat
        return cls(
            count=as_int(doc.get("count"), 0) or 0,
            last_processed_ts=as_int(doc.get("last_processed_ts")),
            breakdowns=breakdowns,
            new_users=nested,
            raw=dict(doc),
        )


def _tally(value: Mapping[str, Any]) -> dict[str, int]:
    """word → count, the words lower case (``Mobile`` and ``mobile`` are one)."""
    counts: dict[str, int] = {}
    for key, raw in value.items():
        number = as_int(raw)
        if number is not None:
            word = str(key).lower()
            counts[word] = counts.get(word, 0) + number
    return counts


@dataclass(frozen=True)
class Schema:
    """``/getSchema`` answer, kept whole (its shape is undocumented)."""

    raw: Any

    def event_names(self) -> list[str]:
        """Best-effort sorted event names, from a list of names/objects or a name-keyed object."""
        names: set[str] = set()
        self._collect(self.raw, names, depth=0)
        return sorted(names)

    def _collect(self, value: Any, names: set[str], depth: int) -> None:
        if depth > 3:
            return
        if isinstance(value, Mapping):
            for key in ("events", "data", "schema", "eventSchema"):
                if key in value:
                    self._collect(value[key], names, depth + 1)
                    return
            if depth > 0:
                names.update(str(k) for k in value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    names.add(item)
                elif isinstance(item, Mapping):
                    for key in ("name", "event_name", "evtName", "eventName"):
                        if isinstance(item.get(key), str):
                            names.add(item[key])
                            break


def yyyymmdd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day
