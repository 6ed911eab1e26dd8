"""Campaigns built in the dashboard: never listed by targets/list (§4.5), reported by the message
report (§4.10). Kept in the store's small keyed state; stdlib and sandbox only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ctflow.sandbox.store import Store

KIND, KEY = "dashboard", "campaigns"
FIRST_ID = 1_600_000_000  # §1.6: epoch-like ids, below any the sandbox's clock hands out [?]


@dataclass(frozen=True)
class DashboardCampaign:
    """One campaign a person built in the dashboard; ``sent`` once it started."""

    id: int
    name: str
    channel: str
    """The §4.10 vocabulary: push, email, sms, browser, inapp, …"""
    start: float
    sent: int
    labels: list[str] = field(default_factory=list)
    stopped: bool = False


def dashboard_campaigns(store: Store) -> list[DashboardCampaign]:
    found = store.get_state(KIND, KEY) or {"campaigns": []}
    return [DashboardCampaign(**item) for item in found["campaigns"]]


def add_dashboard_campaign(
    store: Store,
    *,
    name: str,
    channel: str,
    start: float,
    sent: int,
    labels: list[str] | None = None,
) -> DashboardCampaign:
    """Record a dashboard-built campaign starting at ``start`` (epoch seconds) to ``sent`` users."""
    known = dashboard_campaigns(store)
    next_id = max((c.id for c in known), default=FIRST_ID - 1) + 1
    made = DashboardCampaign(next_id, name, channel, start, sent, list(labels or []))
    items: list[dict[str, Any]] = [asdict(c) for c in [*known, made]]
    store.put_state(KIND, KEY, {"campaigns": items})
    return made


def seed_dashboard_campaigns(store: Store, now: float, push: int, email: int) -> int:
    """Replace the dashboard's campaigns with two a marketer built lately: a push to the
    ``push`` users with a device token and a newsletter to the ``email`` opted in; how many."""
    store.put_state(KIND, KEY, {"campaigns": []})
    day, hour = 86400, now // 3600 * 3600
    add_dashboard_campaign(
        store,
        name="Diwali sale: 20% off electronics",
        channel="push",
        start=hour - 20 * day,
        sent=push,
        labels=["diwali"],
    )
    add_dashboard_campaign(
        store,
        name="Weekly newsletter",
        channel="email",
        start=hour - 6 * day,
        sent=email,
        labels=["newsletter"],
    )
    return 2
