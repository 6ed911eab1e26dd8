"""Identity sends `/1/send/{push,email,sms,webpush,whatsapp}.json` (§5) and the external triggers
`/1/send/externaltrigger.json` (§6.1) and `/2/send/externaltrigger.json` (§6.2, several campaigns
a call): validate, record, acknowledge. Stdlib and sandbox only.
"""

from __future__ import annotations

from typing import Any

from ctflow.sandbox import content as checks
from ctflow.sandbox import personalise
from ctflow.sandbox.config import SandboxConfig
from ctflow.sandbox.replies import ApiError, Json, fail_body, malformed
from ctflow.sandbox.store import Store

QUEUED: Json = {"status": "success", "message": "Added to queue for processing"}
SEND_CHANNELS = ("push", "email", "sms", "webpush", "whatsapp")
SEND_KEYS = ("FBID", "GPID", "Email", "Identity", "objectId")  # §5: case-sensitive as shown
TRIGGER_KEYS = ("identity", "email", "objectId")  # §6.1: lower-case keys here
MAX_RECIPIENTS = 1000  # §1.5 [?]
MAX_CAMPAIGNS = 5  # §1.5 [?]: campaign ids in one /2/ external trigger
CHANNEL_CODE = 9  # §5: recorded app code for the Android channel failure, at HTTP 400


def _recipients(to: object, keys: tuple[str, ...]) -> None:
    # §5/§6.1: the texts of these failures were not recorded [?].
    if not isinstance(to, dict) or not to:
        raise checks.ContentError("Field to is empty")
    total = 0
    for key, values in to.items():
        if key not in keys:
            raise checks.ContentError(f"Invalid key in to: {key} (allowed: {', '.join(keys)})")
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise checks.ContentError(f"Field to.{key} must be a list of non-empty strings")
        total += len(values)
    if total == 0:
        raise checks.ContentError("Field to is empty")
    if total > MAX_RECIPIENTS:
        raise checks.ContentError(
            f"Too many recipients: {total} in to, at most {MAX_RECIPIENTS} per request"
        )


def _reject(error: checks.ContentError, config: SandboxConfig) -> ApiError:
    if error.code == CHANNEL_CODE:
        return ApiError(400, fail_body(error.message, CHANNEL_CODE))
    status = config.validation_http_status
    return ApiError(status, fail_body(error.message, 400))


def identity_send(
    store: Store, channel: str, body: object, config: SandboxConfig, now: float, path: str
) -> Json:
    if not isinstance(body, dict):
        raise malformed()
    try:
        _recipients(body.get("to"), SEND_KEYS)
        checks.check_content(channel, body)
        # §5: the recorded failure had platform_specific present but no channel; we apply the
        # rule when an android section is given (a send has no `devices` to consult) [?].
        if channel == "push" and checks.has_android_section(body):
            checks.check_android_channel(body, config, CHANNEL_CODE)
        checks.check_provider(channel, body, config)
    except checks.ContentError as error:
        raise _reject(error, config) from None
    send_id = store.add_send(path, body, now)
    if personalise.has_liquid(
        body.get("content")
    ):  # what each recipient gets, as CleverTap fills it
        rendered = personalise.deliveries(store, body["to"], body["content"])
        store.put_state(personalise.KIND, str(send_id), {"deliveries": rendered})
    return dict(QUEUED)


def _campaign_id_ok(campaign: object) -> bool:
    valid_int = isinstance(campaign, int) and not isinstance(campaign, bool) and campaign > 0
    return valid_int or (isinstance(campaign, str) and campaign.isdecimal())


def _campaigns(item: dict[str, Any], several: bool) -> None:
    """§6.1 `campaign_id`, or §6.2 `campaign_id_list` of 1 to 5 ids [?] texts."""
    if not several:
        if not _campaign_id_ok(item.get("campaign_id")):
            raise checks.ContentError("Field campaign_id is invalid")
        return
    if "campaign_id_list" not in item:
        raise checks.ContentError("Field campaign_id_list is empty")
    ids = item["campaign_id_list"]
    if not isinstance(ids, list) or not ids:
        raise checks.ContentError("Field campaign_id_list must be a list of campaign ids")
    if len(ids) > MAX_CAMPAIGNS:
        raise checks.ContentError(
            f"Too many campaigns: {len(ids)} in campaign_id_list, at most {MAX_CAMPAIGNS}"
        )
    for campaign in ids:
        if not _campaign_id_ok(campaign):
            raise checks.ContentError(f"Invalid campaign id in campaign_id_list: {campaign!r}")


def _trigger(item: object, config: SandboxConfig, several: bool = False) -> None:
    if not isinstance(item, dict):
        raise checks.ContentError("Malformed external trigger entry")
    _recipients(item.get("to"), TRIGGER_KEYS)
    _campaigns(item, several)
    data = item.get("ExternalTrigger", {})
    if not isinstance(data, dict):
        raise checks.ContentError("Field ExternalTrigger must be an object")  # [?] text
    if config.external_trigger_strings_only:
        for key, value in data.items():
            if not isinstance(value, str):
                # §6.1: "only string values are supported for mapped properties".
                raise checks.ContentError(
                    f"Only string values are supported in ExternalTrigger: {key}"
                )


def external_trigger(
    store: Store,
    body: object,
    config: SandboxConfig,
    now: float,
    path: str,
    several: bool = False,
) -> Json:
    """§6.1 (one campaign) or, with ``several``, §6.2 (``campaign_id_list``)."""
    if not isinstance(body, dict):
        raise malformed()
    # §6.1: the intro mentions a "d" wrapper; both forms are accepted [?].
    items: list[Any] = body["d"] if isinstance(body.get("d"), list) else [body]
    try:
        if not items:
            raise checks.ContentError("Field d is empty")
        for item in items:
            _trigger(item, config, several)
    except checks.ContentError as error:
        raise _reject(error, config) from None
    store.add_send(path, body, now)
    return dict(QUEUED)


def check_token(config: SandboxConfig, account: str, token: str | None) -> None:
    """§1.2/§6.2: /2/send/externaltrigger.json needs the account's X-CleverTap-Token (the texts
    of these failures were not recorded [?])."""
    if not token:
        if config.external_trigger_token_required:
            raise ApiError(401, fail_body("X-CleverTap-Token is required", 401))
        return
    expected = config.tokens.get(account)
    if expected is not None and token != expected:
        raise ApiError(401, fail_body("Token Invalid", 401))
