"""Per-channel checks shared by campaign create and identity sends: content (§4.3), the Android
channel rule, providers, and the `when` schedule (§4.1). Imports only stdlib and sandbox modules.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.sandbox.config import SandboxConfig

TARGET_MODES = ("push", "email", "sms", "webpush", "whatsapp", "webhook", "notificationinbox")
PUSH_DEVICES = ("android", "ios", "windows")
CHANNEL_REQUIRED = "Notification channel is required for devices having Android 8.0 or above"
CHANNEL_INVALID = "Invalid Notification Channel ID"
WHEN_EMPTY = "Field when is empty"
# §4.1: the message for a malformed `when` was not recorded [?]; these texts are our choice.
WHEN_INVALID = "Field when is invalid: expected now, YYYYMMDD HH:MM or a when object"
WHEN_PAST = "Field when is invalid: the campaign start time is in the past"
SCHEDULE = re.compile(r"^\d{8} \d{2}:\d{2}$")
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "push": ("title", "body"),
    "email": ("subject", "sender_name", "body"),
    "sms": ("body",),
    "webpush": ("title", "body"),
}


class ContentError(Exception):
    """A create/send validation failure; `code` is the app code when one was recorded (§5)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def check_content(mode: str, body: dict[str, Any]) -> None:
    content = body.get("content")
    if mode == "webhook":
        inner = content if isinstance(content, dict) else {}
        if not _text(body.get("webhook_endpoint_name") or inner.get("webhook_endpoint_name")):
            raise ContentError("Field webhook_endpoint_name is empty")
        return
    if not isinstance(content, dict) or not content:
        # §4.4 wording, extended to the whole object [?].
        if mode in ("notificationinbox", "whatsapp"):
            raise ContentError("Field content is empty")
        content = {}
    if mode == "whatsapp":
        # §4.3: flat message_type template|Freeform [?].
        freeform = str(content.get("message_type", "template")).lower() == "freeform"
        field = "body" if freeform else "template_name"
        if not _text(content.get(field)):
            raise ContentError(f"Field {field} is empty (inside content)")
        return
    for field in REQUIRED_FIELDS.get(mode, ()):
        if not _text(content.get(field)):
            raise ContentError(f"Field {field} is empty (inside content)")


def android_channel(body: dict[str, Any]) -> object:
    content = body.get("content")
    specific = content.get("platform_specific") if isinstance(content, dict) else None
    android = specific.get("android") if isinstance(specific, dict) else None
    inner = android.get("wzrk_cid") if isinstance(android, dict) else None
    return inner or body.get("wzrk_cid")


def has_android_section(body: dict[str, Any]) -> bool:
    content = body.get("content")
    specific = content.get("platform_specific") if isinstance(content, dict) else None
    return isinstance(specific, dict) and "android" in specific


def check_android_channel(body: dict[str, Any], config: SandboxConfig, code: int | None) -> None:
    """§4.3/§5: Android O+ needs `wzrk_cid` (in platform_specific.android, or top-level)."""
    channel = android_channel(body)
    if not _text(channel):
        raise ContentError(CHANNEL_REQUIRED, code)
    if config.notification_channels is not None and channel not in config.notification_channels:
        raise ContentError(CHANNEL_INVALID, code)


def check_provider(mode: str, body: dict[str, Any], config: SandboxConfig) -> None:
    nick = body.get("provider_nick_name")
    if (
        mode in ("email", "sms", "whatsapp")
        and nick is not None
        and config.providers is not None
        and nick not in config.providers
    ):
        raise ContentError("InCorrect provider_nick_name!")


def _schedule(text: object, now: float, tz: ZoneInfo) -> float:
    if not isinstance(text, str) or not SCHEDULE.match(text):
        raise ContentError(WHEN_INVALID)
    try:
        moment = datetime.strptime(text, "%Y%m%d %H:%M").replace(tzinfo=tz)
    except ValueError:
        raise ContentError(WHEN_INVALID) from None
    # Minute precision: anything from the start of the current minute on is still on time [?].
    if moment.timestamp() < now - now % 60:
        raise ContentError(WHEN_PAST)
    return moment.timestamp()


def parse_when(when: object, now: float, tz: ZoneInfo) -> tuple[float, bool]:
    """(start epoch, recurring) for `"now"`, `"YYYYMMDD HH:MM"` (account tz) or the object form."""
    if when is None or when == "" or when == {}:
        raise ContentError(WHEN_EMPTY)
    if when == "now":
        return now, False
    if isinstance(when, str):
        return _schedule(when, now, tz), False
    if not isinstance(when, dict):
        raise ContentError(WHEN_INVALID)
    kind = when.get("type")
    if kind == "now":
        return now, False
    if kind == "later":
        return _schedule(when.get("delivery_date_time"), now, tz), False
    if kind == "recurring":
        start = when.get("delivery_date_time") or when.get("start_time")
        return (now if start is None else _schedule(start, now, tz)), True
    raise ContentError(WHEN_INVALID)


def check_control_group(body: dict[str, Any], config: SandboxConfig) -> None:
    group = body.get("control_group")
    if group is None:
        return
    if not isinstance(group, dict) or group.get("type") not in ("campaign", "custom"):
        raise ContentError("Field control_group is invalid")  # [?] text not recorded
    if group["type"] == "custom" and group.get("name") not in config.custom_control_groups:
        raise ContentError(f"No custom control group with name {group.get('name')} is defined")
