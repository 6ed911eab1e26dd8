"""Campaign lifecycle on the sandbox clock, and the campaign read/stop endpoints: targets/list,
targets/stop, targets/result (§4.5–§4.7) and message/report (§4.10). Stdlib and sandbox only.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.sandbox import dashboard
from ctflow.sandbox.config import SandboxConfig
from ctflow.sandbox.dates import local, parse_yyyymmdd
from ctflow.sandbox.replies import Json, fail, malformed
from ctflow.sandbox.store import CampaignRow, Store

NOT_COMPLETED = "This target hasn't been completed"
# §4.10 channel vocabulary; notificationinbox → "app_inbox" is our reading [?].
REPORT_CHANNELS = {
    "push": "push",
    "email": "email",
    "sms": "sms",
    "webpush": "browser",
    "whatsapp": "whatsapp",
    "webhook": "webhooks",
    "notificationinbox": "app_inbox",
}


def status_of(row: CampaignRow, now: float, run_seconds: int) -> str:
    if row.stopped_at is not None:
        return "stopped"
    if now < row.scheduled_at:
        return "pending"
    if row.recurring or now < row.scheduled_at + run_seconds:
        return "running"
    return "completed"


def _campaign_id(body: object) -> int:
    if not isinstance(body, dict):
        raise malformed()
    value = body.get("id")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise fail("Field id is invalid: expected a positive integer campaign id")  # [?]
    return value


def _existing(store: Store, body: object) -> CampaignRow:
    campaign_id = _campaign_id(body)
    row = store.campaign(campaign_id)
    if row is None:
        raise fail(f"Invalid campaign id: {campaign_id} not found")  # §4.6 "fail with details" [?]
    return row


def _window(body: object, *, strings: bool) -> tuple[date, date]:
    if not isinstance(body, dict):
        raise malformed()
    raw = (body.get("from"), body.get("to"))
    kind = "strings" if strings else "integers"
    if any(isinstance(v, bool) or not isinstance(v, str if strings else int) for v in raw):
        raise fail(f"Fields from and to are required as YYYYMMDD {kind}")  # [?] text
    first, last = parse_yyyymmdd(raw[0]), parse_yyyymmdd(raw[1])
    if first is None or last is None:
        raise fail(f"Fields from and to are required as YYYYMMDD {kind}")
    if first > last:
        raise fail("The from date cannot be after the to date")
    return first, last


def list_targets(store: Store, body: object, config: SandboxConfig, now: float) -> Json:
    """§4.5: API-created campaigns whose scheduled start (creation time for now) is in range."""
    first, last = _window(body, strings=False)
    tz = ZoneInfo(config.timezone)
    targets: list[Json] = []
    for row in store.campaigns():
        start = local(row.scheduled_at, tz)
        if not first <= start.date() <= last:
            continue
        scheduled_on = (
            int(row.scheduled_at)
            if config.list_scheduled_format == "epoch"
            else int(start.strftime("%Y%m%d%H%M"))
        )
        target: Json = {
            "id": row.id,
            "name": row.name,
            "status": status_of(row, now, config.run_seconds),
            "scheduled_on": scheduled_on,
        }
        if config.list_echo_labels:
            target["labels"] = row.labels
        targets.append(target)
    return {"status": "success", "targets": targets}


def stop(store: Store, body: object, config: SandboxConfig, now: float) -> Json:
    """§4.6: stopping a stopped campaign is a success no-op. Stopping a completed one is also a
    success no-op and it stays `completed` (it has already sent) — our reading [?]."""
    row = _existing(store, body)
    if status_of(row, now, config.run_seconds) in ("pending", "running"):
        store.stop_campaign(row.id, now)
    return {"status": "success"}


def result(store: Store, body: object, config: SandboxConfig, now: float) -> Json:
    """§4.7: numbers derive from the stored estimate, deterministically per campaign id."""
    row = _existing(store, body)
    if status_of(row, now, config.run_seconds) != "completed":
        # §4.7 sample has no code; HTTP 200 is our reading of an unrecorded status [?].
        return {"status": "fail", "error": NOT_COMPLETED}
    sent = sum(row.estimates.values())
    clicked = sent * (5 + row.id % 20) // 100
    return {"status": "success", "result": {"sent": sent, "clicked": clicked}}


def _wanted(body: dict[str, Any], key: str) -> set[str] | None:
    value = body.get(key)
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return {str(v).lower() for v in values}


def _reported(row: CampaignRow, now: float, config: SandboxConfig) -> str:
    status = status_of(row, now, config.run_seconds)
    return "scheduled" if status == "pending" else status  # §4.10 vocabulary


def message_report(store: Store, body: object, config: SandboxConfig, now: float) -> Json:
    """§4.10: campaigns whose start date is in [from, to] ("YYYYMMDD" strings)."""
    first, last = _window(body, strings=True)
    assert isinstance(body, dict)
    statuses, channels, labels = (_wanted(body, k) for k in ("status", "channel", "label"))
    tz = ZoneInfo(config.timezone)
    entries = [
        (
            row.id,
            row.name,
            row.scheduled_at,
            _reported(row, now, config),
            row.target_mode,
            row.labels,
        )
        for row in store.campaigns()
    ]
    entries += [  # built in the dashboard: in the report, never in targets/list
        (c.id, c.name, c.started_at, c.status(now, config.run_seconds), c.channel, list(c.labels))
        for c in dashboard.every(store)
    ]
    messages: list[Json] = []
    for campaign_id, name, started_at, status, mode, row_labels in entries:
        start = local(started_at, tz)
        channel = REPORT_CHANNELS.get(mode, mode)
        if not first <= start.date() <= last:
            continue
        if statuses is not None and status not in statuses:
            continue
        if channels is not None and channel not in channels:
            continue
        if labels is not None and not labels & {x.lower() for x in row_labels}:
            continue
        messages.append(
            {
                "message id": campaign_id,
                "message_name": name,
                "start_date": start.strftime("%d %b, %Y %H:%M:%S"),
                "channel": channel,
                "status": status,
                "labels": row_labels,
            }
        )
    return {"status": "success", "total_results": len(messages), "messages": messages}
