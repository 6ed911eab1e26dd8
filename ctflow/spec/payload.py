"""A Campaign declaration → the `/1/targets/create.json` body (clevertap-api.md §4.1, §4.3).

Pure: no checks (the spec layer's validation ran before), no I/O. Imports only the standard
library and ctflow.spec modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.spec.audience import Events, Profile
from ctflow.spec.audiences import segment_of
from ctflow.spec.types import iso_datetime
from ctflow.spec.where import compile_filters, compile_where, symbolic_where

TARGET_MODES = {"app_inbox": "notificationinbox"}
DEFAULT_DEVICES = ("android", "ios")
PUSH_PLATFORMS = ("android", "ios", "windows")
# declared field → API field, per platform (§4.3 push sample keys).
PUSH_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "android": (
        ("channel_id", "wzrk_cid"),
        ("deep_link", "deep_link"),
        ("large_icon", "large_icon"),
        ("background_image", "background_image"),
        ("sound", "sound_file"),
    ),
    "ios": (
        ("deep_link", "deep_link"),
        ("sound", "sound_file"),
        ("category", "category"),
        ("badge_count", "badge_count"),
        ("mutable_content", "mutable-content"),
    ),
    "windows": (("deep_link", "deep_link"),),
}
WEBPUSH_BROWSERS = ("chrome", "firefox", "safari")
WEBPUSH_FIELDS = ("icon", "image", "deep_link", "require_interaction", "ttl")
EMAIL_FIELDS = (
    "subject",
    "body",
    "sender_name",
    "from_email",
    "reply_to",
    "pre_header",
    "cc",
    "bcc",
)
# CleverTap's days of the week: 1 = Sunday … 7 = Saturday (§4.1 `repeat_on_days_of_week`).
WEEKDAYS = {"sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7}
SCHEDULE_FORMAT = "%Y%m%d %H:%M"


def create_payload(
    campaign: Mapping[str, Any],
    *,
    labels: Sequence[str],
    today: date,
    account_timezone: str,
    events: Events,
    profile: Profile,
    symbolic: bool = False,
) -> dict[str, Any]:
    """The create body for a campaign whose content is rendered and whose `body_file` is `body`.

    `labels` (project and ownership labels) come first, then the campaign's own, without
    repeats. `name` is the declared one: the caller appends the ownership marker. `events` and
    `profile` are the declared properties (they say which filter values are dates). `symbolic`
    keeps the audience's windows relative to today (`symbolic_where`), for a fingerprint that
    does not change every day; it is never sent.
    """
    channel = campaign["channel"]
    tz = account_timezone
    audience = campaign["audience"]
    payload: dict[str, Any] = {
        "name": campaign["name"],
        "target_mode": TARGET_MODES.get(channel, channel),
    }
    segment = segment_of(audience)
    if segment is not None:
        payload["segment"] = segment_placeholder(segment)
    elif symbolic:
        payload["where"] = symbolic_where(audience, events=events, profile=profile, timezone=tz)
    else:
        payload["where"] = compile_where(
            audience, today, events=events, profile=profile, timezone=tz
        )
    payload.update(CONTENT[channel](campaign))
    if channel == "push":
        payload["devices"] = list(dict.fromkeys(campaign.get("devices", DEFAULT_DEVICES)))
    payload["when"] = schedule_when(campaign["schedule"], tz)
    payload["labels"] = list(dict.fromkeys([*labels, *campaign.get("labels", [])]))
    payload["respect_frequency_caps"] = campaign.get("respect_frequency_caps", True)
    if "respect_throttle" in campaign:
        payload["respect_throttle"] = campaign["respect_throttle"]
    limit = campaign.get("user_limit") or {}
    for field in ("overall", "per_run"):
        if field in limit:
            payload[f"users_limit_{field}"] = limit[field]
    if "control_group" in campaign:
        payload["control_group"] = _control_group(campaign["control_group"])
    if "system_control_group" in campaign:
        payload["system_control_group_include"] = campaign["system_control_group"]
    if "conversion_goal" in campaign:
        goal = campaign["conversion_goal"]
        payload["conversion_goal"] = _conversion_goal(goal, events.get(goal["event"], {}), tz)
    if "provider" in campaign:
        payload["provider_nick_name"] = campaign["provider"]
    extra = campaign.get("api_fields") or {}
    clash = sorted(set(extra) & set(payload))
    assert not clash, f"api_fields repeat fields ctflow sets: {clash}"
    payload.update(extra)
    return payload


def segment_placeholder(audience: str) -> dict[str, str]:
    """A create body's ``segment`` until apply knows the Audience's segment id."""
    return {"audience": audience}


def placeholder_audience(payload: Mapping[str, Any]) -> str | None:
    """The Audience key of a create body whose ``segment`` is still a placeholder."""
    segment = payload.get("segment")
    if isinstance(segment, Mapping) and isinstance(segment.get("audience"), str):
        return str(segment["audience"])
    return None


# -- content per channel (§4.3) --------------------------------------------------------------
def _pick(source: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {field: source[field] for field in fields if field in source}


def _push(campaign: Mapping[str, Any]) -> dict[str, Any]:
    """`custom_data` goes into every platform in `devices`; a platform field wins over a custom
    key of the same name."""
    content = campaign["content"]
    devices = campaign.get("devices", DEFAULT_DEVICES)
    custom = content.get("custom_data") or {}
    specific: dict[str, Any] = {}
    for platform in PUSH_PLATFORMS:
        declared = content.get(platform) or {}
        section = {
            api: declared[field] for field, api in PUSH_FIELDS[platform] if field in declared
        }
        if custom and platform in devices:
            section.update({k: v for k, v in custom.items() if k not in section})
        if section or platform in content:
            specific[platform] = section
    out = _pick(content, ("title", "body"))
    if specific:
        out["platform_specific"] = specific
    return {"content": out}


def _email(campaign: Mapping[str, Any]) -> dict[str, Any]:
    return {"content": _pick(campaign["content"], EMAIL_FIELDS)}


def _sms(campaign: Mapping[str, Any]) -> dict[str, Any]:
    """India DLT ids go to `message_info` (§4.3 [?]: from clients, not the docs)."""
    content = campaign["content"]
    out = _pick(content, ("body", "sender_id", "unicode"))
    if "dlt" in content:
        out["message_info"] = _pick(content["dlt"], ("template_id", "entity_id", "pe_id"))
    return {"content": out}


def _webpush(campaign: Mapping[str, Any]) -> dict[str, Any]:
    """The optional fields are the same for Chrome, Firefox and Safari (§4.3 sample keys);
    `ttl` is sent as declared (its unit is not documented [?])."""
    content = campaign["content"]
    out = _pick(content, ("title", "body"))
    shared = _pick(content, WEBPUSH_FIELDS)
    if shared:
        out["platform_specific"] = {browser: dict(shared) for browser in WEBPUSH_BROWSERS}
    return {"content": out}


def _whatsapp(campaign: Mapping[str, Any]) -> dict[str, Any]:
    """Flat `message_type`, `template_name`, `locale`, `header`, `body.replacements`,
    `buttons[].replacements` (§4.3 [?]: from one client's tool catalogue)."""
    content = campaign["content"]
    if "template" not in content:
        return {"content": {"message_type": "Freeform", "body": content["text"]}}
    template = content["template"]
    out: dict[str, Any] = {"message_type": "template", "template_name": template["name"]}
    out.update(_pick(template, ("locale", "header")))
    if "body" in template:
        out["body"] = {"replacements": list(template["body"])}
    if "buttons" in template:
        out["buttons"] = [{"replacements": [text]} for text in template["buttons"]]
    return {"content": out}


def _webhook(campaign: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level `webhook_endpoint_name` / `webhook_key_value` (§4.1 [?]); no `content`."""
    content = campaign["content"]
    out: dict[str, Any] = {"webhook_endpoint_name": content["endpoint"]}
    if "key_values" in content:
        out["webhook_key_value"] = dict(content["key_values"])
    return out


def _app_inbox(campaign: Mapping[str, Any]) -> dict[str, Any]:
    """`time_to_live` is a top-level field (§4.1), sent in days as declared (unit [?])."""
    content = campaign["content"]
    out: dict[str, Any] = {
        "content": _pick(content, ("title", "body", "image", "deep_link", "tags"))
    }
    if "ttl_days" in content:
        out["time_to_live"] = content["ttl_days"]
    return out


CONTENT: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "push": _push,
    "email": _email,
    "sms": _sms,
    "webpush": _webpush,
    "whatsapp": _whatsapp,
    "webhook": _webhook,
    "app_inbox": _app_inbox,
}


# -- the rest ----------------------------------------------------------------------------------
def _control_group(group: Mapping[str, Any]) -> dict[str, Any]:
    if "custom" in group:
        return {"type": "custom", "name": group["custom"]}
    return {"type": "campaign", "percentage": group["percentage"]}


def _conversion_goal(
    goal: Mapping[str, Any], props: Mapping[str, Any], timezone: str
) -> dict[str, Any]:
    """§4.1 lists `{event_name, filter_type, conversion_time, revenue_property}` [?]: the shape
    is not confirmed in the docs. The goal's filters go to `filter_type.event_properties`, our
    reading of `filter_type: {…}` [?]."""
    out: dict[str, Any] = {"event_name": goal["event"], "conversion_time": goal["within"]}
    if "revenue_property" in goal:
        out["revenue_property"] = goal["revenue_property"]
    if goal.get("where"):
        filters = compile_filters(goal["where"], props, timezone)
        out["filter_type"] = {"event_properties": filters}
    return out


def _moment(text: Any, timezone: str | None, account: ZoneInfo) -> datetime:
    """A declared date-time in its timezone (default: the account's), in the account's."""
    moment = iso_datetime(text)
    assert moment is not None, f"not a date-time: {text!r}"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone) if timezone else account)
    return moment.astimezone(account)


def schedule_when(schedule: Any, account_timezone: str) -> Any:
    """`when` for a schedule: `"now"`; once → `"YYYYMMDD HH:MM"` in the account timezone;
    recurring → the object form (§4.1 [?], accepted by the sandbox).

    A recurrence's first run, `start` at `at` in its timezone converted to the account's, is
    sent as both `start_time` and `delivery_date_time` (§4.1 names both without saying which
    carries it [?]). When the conversion moves the run to another day, the weekdays of `on` move
    with it. `end` (the last day, at `at`) becomes the account-timezone date `end_by_date` (int
    YYYYMMDD, like query dates [?]).
    """
    if schedule == "now":
        return "now"
    account = ZoneInfo(account_timezone)
    timezone = schedule.get("timezone")
    if "repeat" not in schedule:
        return _moment(schedule["at"], timezone, account).strftime(SCHEDULE_FORMAT)
    weekly = schedule["repeat"] == "weekly"
    when: dict[str, Any] = {
        "type": "recurring",
        "repeat_type": "week" if weekly else "day",
        "repeats_every": schedule.get("every", 1),
    }
    first = _moment(f"{schedule['start']} {schedule['at']}", timezone, account)
    when["start_time"] = when["delivery_date_time"] = first.strftime(SCHEDULE_FORMAT)
    if "end" in schedule:
        last = _moment(f"{schedule['end']} {schedule['at']}", timezone, account)
        when["end_by_date"] = int(last.strftime("%Y%m%d"))
    if "occurrences" in schedule:
        when["end_by_occurrences"] = schedule["occurrences"]
    if weekly:
        shift = (first.date() - date.fromisoformat(schedule["start"])).days
        days = {(WEEKDAYS[day] - 1 + shift) % 7 + 1 for day in schedule["on"]}
        when["repeat_on_days_of_week"] = sorted(days)
    return when
