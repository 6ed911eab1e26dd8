"""SandboxConfig: the knobs that pick between readings of the API, read per request so live edits
apply. Imports only the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DEFAULT_ACCOUNT_ID = "SBX-000-0001"
DEFAULT_PASSCODE = "sandbox-passcode"
DEFAULT_TOKEN = "sandbox-token"

# One family per API (clevertap-api.md §1.4): 15 in flight for upload, 3 for everything else.
FAMILIES = (
    "create",
    "stop",
    "list",
    "report",
    "send",
    "external_trigger",
    "events_export",
    "profiles_export",
    "count_events",
    "count_profiles",
    "now",
    "profile",
    "delete",
    "message_report",
    "schema",
    "segment",
    "custom_list",
    "other",
)


def default_limits() -> dict[str, int]:
    limits = {family: 3 for family in FAMILIES}
    limits["upload"] = 15
    return limits


def default_accounts() -> dict[str, str]:
    return {DEFAULT_ACCOUNT_ID: DEFAULT_PASSCODE}


def default_tokens() -> dict[str, str]:
    return {DEFAULT_ACCOUNT_ID: DEFAULT_TOKEN}


@dataclass
class SandboxConfig:
    accounts: dict[str, str] = field(default_factory=default_accounts)
    # §1.2: each account's token (X-CleverTap-Token); an account without one takes any token.
    tokens: dict[str, str] = field(default_factory=default_tokens)
    limits: dict[str, int] = field(default_factory=default_limits)
    # §4.1: "limited to 3 requests per second"; 0 disables the window check.
    create_per_second: int = 3
    # §8.4: number of {"status":"partial","req_id":N} answers before the final count.
    count_polls: int = 1
    # §8.1: number of code-2 "Request still in progress" answers before a cursor page is served.
    export_not_ready_polls: int = 0
    # §1.3 / §12.11: the 429 body is JSON per client mocks, empty text/plain per a digest [?].
    rate_limit_body: Literal["json", "empty"] = "json"
    # §12.3: HTTP status of create/send validation failures is not recorded [?].
    validation_http_status: int = 400
    # §4.5: `scheduled_on` format is unknown [?].
    list_scheduled_format: Literal["yyyymmddhhmm", "epoch"] = "yyyymmddhhmm"
    # §4.5: whether targets/list echoes `labels` is unknown [?].
    list_echo_labels: bool = False
    # How long a one-time campaign stays `running` before it is `completed`.
    run_seconds: int = 900
    # Account timezone for "YYYYMMDD HH:MM" schedules and YYYYMMDD query dates.
    timezone: str = "UTC"
    # §1.5: properties per event, "100 by default, configurable per account" (2026 page); an
    # older page says 256 [?].
    event_properties: int = 100
    # §2.4 code 528: events discarded in the dashboard schema.
    discarded_events: set[str] = field(default_factory=set)
    # §6.1: the docs say only string values are supported in ExternalTrigger.
    external_trigger_strings_only: bool = True
    # §6.2 / §12.6: /2/send/externaltrigger.json requires X-CleverTap-Token, per the docs [?].
    external_trigger_token_required: bool = True
    # §4.1 control_group: custom groups defined in the dashboard.
    custom_control_groups: set[str] = field(default_factory=set)
    # §4.1 provider_nick_name: None accepts any nickname.
    providers: set[str] | None = None
    # §9: profiles per updateSegment request, "≤100" per one client's catalogue [?]; 0: no limit.
    segment_profiles_per_request: int = 100
    # §9: how long a custom list's presigned URL takes a PUT ("valid 24 h").
    custom_list_url_seconds: int = 86_400
    # §4.3 wzrk_cid: None accepts any Android notification channel id.
    notification_channels: set[str] | None = None
    # §4.10: the message report answers with `total_results`; whether it holds back campaigns
    # past some number is not recorded. None answers them all [?].
    message_report_max_results: int | None = None

    def limit_for(self, family: str) -> int:
        return self.limits.get(family, 15 if family == "upload" else 3)
