"""`POST /1/targets/create.json`: validation (§4.1, §4.3, §4.4), estimates from stored data and
storage. Imports only the standard library and sandbox modules.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from ctflow.sandbox import content as checks
from ctflow.sandbox import segments
from ctflow.sandbox.config import SandboxConfig
from ctflow.sandbox.query import PARSE_FAIL, Query, QueryError, matching_profiles, parse_query
from ctflow.sandbox.replies import ApiError, Json, fail_body, malformed
from ctflow.sandbox.store import CampaignRow, Profile, Store

DEVICE_PLATFORMS = {"android": "Android", "ios": "iOS", "windows": "Windows"}
# §4.1: devices default when omitted [?]; windows is legacy, so android + ios.
DEFAULT_DEVICES = ["android", "ios"]
# §4.4 samples: email/sms report their estimate under "web"; webpush under "chrome".
OPT_IN = {
    "email": ("Email", "MSG-email"),
    "sms": ("Phone", "MSG-sms"),
    "whatsapp": ("Phone", "MSG-whatsapp"),
}


def _has_platform(profile: Profile, platform: str) -> bool:
    return any(e.get("platform") == platform and e.get("push_token") for e in profile.platform)


def _reachable(profile: Profile, mode: str) -> bool:
    if mode in OPT_IN:
        field, opt_in = OPT_IN[mode]
        return bool(profile.data.get(field)) and profile.data.get(opt_in) is not False
    return True


def estimates(store: Store, query: Query, mode: str, devices: list[str]) -> dict[str, int]:
    people = matching_profiles(store, query)
    if mode == "push":
        return {d: sum(_has_platform(p, DEVICE_PLATFORMS[d]) for p in people) for d in devices}
    if mode == "webpush":
        return {"chrome": sum(_has_platform(p, "Web") for p in people)}
    return {"web": sum(_reachable(p, mode) for p in people)}


def _devices(mode: str, body: dict[str, Any]) -> list[str]:
    if mode != "push":
        return []
    devices = body.get("devices", DEFAULT_DEVICES)
    if (
        not isinstance(devices, list)
        or not devices
        or any(d not in checks.PUSH_DEVICES for d in devices)
    ):
        raise checks.ContentError("Field devices is invalid")  # [?] text not recorded
    return list(dict.fromkeys(devices))


def _query(store: Store, body: dict[str, Any], tz: ZoneInfo, now: float) -> Query:
    if "where" in body:
        try:
            return parse_query(body["where"], tz, now)
        except QueryError as error:
            raise checks.ContentError(str(error)) from None
    if body.get("segment") not in (None, ""):
        # §4.1 a segment id; the sandbox knows its API segments (§9) and their members.
        try:
            return Query(members=segments.members(store, body["segment"]))
        except LookupError:
            raise checks.ContentError(f"Invalid segment : {body['segment']}") from None  # [?]
    raise checks.ContentError(PARSE_FAIL)


def validate(
    store: Store, body: dict[str, Any], config: SandboxConfig, now: float
) -> tuple[str, list[str], Query, float, bool]:
    """Checks in the order the recorded failures suggest.

    Returns (mode, devices, query, start epoch, recurring).
    """
    tz = ZoneInfo(config.timezone)
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise checks.ContentError("Field name is empty")
    mode = body.get("target_mode", "push")  # §4.1: push when omitted
    if mode not in checks.TARGET_MODES:
        raise checks.ContentError(f"Invalid target_mode : {mode}")  # [?] text not recorded
    checks.check_content(mode, body)
    start, recurring = checks.parse_when(body.get("when"), now, tz)
    query = _query(store, body, tz, now)
    devices = _devices(mode, body)
    if mode == "push" and "android" in devices:
        checks.check_android_channel(body, config, None)
    checks.check_control_group(body, config)
    checks.check_provider(mode, body, config)
    labels = body.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise checks.ContentError("Field labels is invalid")  # [?] text not recorded
    return mode, devices, query, start, recurring


def new_id(store: Store, now: float) -> int:
    """§1.6: "typically a 10-digit epoch-based identifier"; unique even within one second."""
    return max(int(now), store.max_id("campaigns") + 1)


def create(store: Store, body: object, config: SandboxConfig, now: float) -> Json:
    if not isinstance(body, dict):
        raise malformed()
    try:
        mode, devices, query, start, recurring = validate(store, body, config, now)
    except checks.ContentError as error:
        # §4.4: failures are {"status":"fail","error":…}; no code was recorded, so none is sent [?].
        raise ApiError(config.validation_http_status, fail_body(error.message, None)) from None
    reach = estimates(store, query, mode, devices)
    if body.get("estimate_only") is True:
        return {"status": "success", "estimates": reach}  # §4.4: no id, nothing stored
    with store.transaction():
        row = CampaignRow(
            id=new_id(store, now),
            name=body["name"],
            target_mode=mode,
            payload=body,
            estimates=reach,
            labels=list(body.get("labels", [])),
            created_at=now,
            scheduled_at=start,
            recurring=recurring,
            stopped_at=None,
        )
        store.add_campaign(row)
    shown = {} if body.get("skip_estimate") is True else reach  # §4.4 skip_estimate
    return {"status": "success", "id": row.id, "estimates": shown}
