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
# §4.7 names sent and clicked; the message report's figures are not recorded: these are the ones
# a client describes it as giving (sent, viewed, clicked, errors) [?].
VIEWED, CLICKED = "Notification Viewed", "Notification Clicked"
CAMPAIGN_PROPERTY = "Campaign id"  # on CleverTap's notification events [?]


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
    """§4.7: the figures of :func:`figures`, once the campaign has completed; "all campaign
    types", so the dashboard's too."""
    campaign_id = _campaign_id(body)
    built = dashboard.by_id(store, campaign_id)
    if built is not None:
        status = built.status(now, config.run_seconds)
        sent = built.sent + _identity_sends(store, built.id)
    else:
        row = _existing(store, body)
        status, sent = status_of(row, now, config.run_seconds), sum(row.estimates.values())
    if status != "completed":
        # §4.7 sample has no code; HTTP 200 is our reading of an unrecorded status [?].
        return {"status": "fail", "error": NOT_COMPLETED}
    found = figures(store, campaign_id, sent)
    return {"status": "success", "result": {"sent": found["sent"], "clicked": found["clicked"]}}


def _identity_sends(store: Store, campaign_id: int) -> int:
    """§5: identity sends that name a dashboard "API campaign" count under it: their
    recipients."""
    total = 0
    for _endpoint, body, _at in store.sends():
        if str(body.get("campaign_id")) == str(campaign_id) and isinstance(body.get("to"), dict):
            total += sum(len(v) for v in body["to"].values() if isinstance(v, list))
    return total


def figures(store: Store, campaign_id: int, sent: int) -> dict[str, int]:
    """What a started campaign did: ``sent`` is its reach when it started (the estimate, from
    the stored profiles); views and clicks are the stored notification events that name the
    campaign, or, without any, shares that vary by campaign; a few sends fail."""
    viewed = _events_of(store, VIEWED, campaign_id)
    clicked = _events_of(store, CLICKED, campaign_id)
    if viewed is None:
        viewed = sent * (35 + campaign_id % 25) // 100
    if clicked is None:
        clicked = sent * (5 + campaign_id % 20) // 100
    return {
        "sent": sent,
        "viewed": viewed,
        "clicked": clicked,
        "errors": sent * (campaign_id % 4) // 100,
    }


def _events_of(store: Store, name: str, campaign_id: int) -> int | None:
    """How many ``name`` events carry ``campaign_id``; ``None`` when none of them name it."""
    count = sum(
        1
        for e in store.events(name=name)
        if str(e.props.get(CAMPAIGN_PROPERTY)) == str(campaign_id)
    )
    return count or None


def _wanted(body: dict[str, Any], key: str) -> set[str] | None:
    value = body.get(key)
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return {str(v).lower() for v in values}


def message_report(store: Store, body: object, config: SandboxConfig, now: float) -> Json:
    """§4.10: campaigns (API- and dashboard-built) whose start date is in [from, to]
    ("YYYYMMDD" strings), with their figures; at most ``config.message_report_max_results``
    of them, ``total_results`` counting all [?]."""
    first, last = _window(body, strings=True)
    assert isinstance(body, dict)
    statuses, channels, labels = (_wanted(body, k) for k in ("status", "channel", "label"))
    tz = ZoneInfo(config.timezone)
    messages: list[Json] = []
    for item in _reported(store, config, now):
        start = local(item["start"], tz)
        if not first <= start.date() <= last:
            continue
        if statuses is not None and item["status"] not in statuses:
            continue
        if channels is not None and item["channel"] not in channels:
            continue
        if labels is not None and not labels & {x.lower() for x in item["labels"]}:
            continue
        messages.append(
            {
                "message id": item["id"],
                "message_name": item["name"],
                "start_date": start.strftime("%d %b, %Y %H:%M:%S"),
                "channel": item["channel"],
                "status": item["status"],
                "labels": item["labels"],
                **item["figures"],
            }
        )
    total = len(messages)
    cap = config.message_report_max_results
    shown = messages if cap is None else messages[:cap]
    return {"status": "success", "total_results": total, "messages": shown}


def _reported(store: Store, config: SandboxConfig, now: float) -> list[Json]:
    """Every campaign the message report knows: the API's and the dashboard's."""
    items: list[Json] = []
    for row in store.campaigns():
        status = status_of(row, now, config.run_seconds)
        started = status in ("running", "completed") or (
            row.stopped_at is not None and row.stopped_at > row.scheduled_at
        )
        sent = sum(row.estimates.values()) if started else 0
        items.append(
            {
                "id": row.id,
                "name": row.name,
                "start": row.scheduled_at,
                "channel": REPORT_CHANNELS[row.target_mode],
                "status": "scheduled" if status == "pending" else status,  # §4.10 vocabulary
                "labels": row.labels,
                "figures": figures(store, row.id, sent),
            }
        )
    for made in dashboard.every(store):
        status = made.status(now, config.run_seconds)
        sent = made.sent + _identity_sends(store, made.id) if now >= made.start else 0
        items.append(
            {
                "id": made.id,
                "name": made.name,
                "start": made.start,
                "channel": made.channel,
                "status": status,
                "labels": made.labels,
                "figures": figures(store, made.id, sent),
            }
        )
    return sorted(items, key=lambda item: (item["start"], item["id"]))
