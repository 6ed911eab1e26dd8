"""Campaigns built in CleverTap's dashboard, as the sandbox keeps them (one keyed state each):
never listed by ``/1/targets/list.json`` (§4.5), reported by ``/1/message/report.json``
(§4.10) and ``/1/targets/result.json`` (§4.7). Stdlib and sandbox only."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ctflow.sandbox.store import Store

KIND = "dashboard_campaign"
DAY = 86400
FIRST_ID = 1_600_000_000  # §1.6: epoch-like ids, below any the sandbox's clock hands out [?]
SEEDED = (1_700_000_101, 1_700_000_102)  # the same on every seed, so seeding twice adds none


@dataclass(frozen=True)
class DashboardCampaign:
    """One campaign a person built in the dashboard; ``sent`` users once it started."""

    id: int
    name: str
    channel: str
    """The §4.10 vocabulary: push, email, sms, browser, inapp, …"""
    start: float
    sent: int = 0
    labels: list[str] = field(default_factory=list)
    recurring: bool = False
    stopped: bool = False

    def status(self, now: float, run_seconds: int) -> str:
        """§4.10 vocabulary: scheduled, running, completed, stopped."""
        if self.stopped:
            return "stopped"
        if now < self.start:
            return "scheduled"
        if self.recurring or now < self.start + run_seconds:
            return "running"
        return "completed"


def add(store: Store, campaign: DashboardCampaign) -> None:
    """Keep ``campaign`` under its id (replacing one kept with that id)."""
    value = asdict(campaign)
    del value["id"]
    store.put_state(KIND, str(campaign.id), value)


def every(store: Store) -> list[DashboardCampaign]:
    return [_campaign(int(key), value) for key, value in store.states(KIND)]


def by_id(store: Store, campaign_id: int) -> DashboardCampaign | None:
    value = store.get_state(KIND, str(campaign_id))
    return None if value is None else _campaign(campaign_id, value)


def _campaign(campaign_id: int, value: dict[str, Any]) -> DashboardCampaign:
    return DashboardCampaign(
        id=campaign_id,
        name=str(value["name"]),
        channel=str(value["channel"]),
        start=float(value["start"]),
        sent=int(value.get("sent", 0)),
        labels=[str(x) for x in value.get("labels") or ()],
        recurring=bool(value.get("recurring")),
        stopped=bool(value.get("stopped")),
    )


def add_dashboard_campaign(
    store: Store,
    *,
    name: str,
    channel: str,
    start: float,
    sent: int,
    labels: list[str] | None = None,
) -> DashboardCampaign:
    """Record a dashboard-built campaign starting at ``start`` (epoch seconds) to ``sent`` users,
    under the next free id."""
    next_id = max((c.id for c in every(store)), default=FIRST_ID - 1) + 1
    made = DashboardCampaign(next_id, name, channel, start, sent, list(labels or []))
    add(store, made)
    return made


def seed(store: Store, now: float, push: int, email: int) -> int:
    """The two campaigns a marketer built in the dashboard, replacing a previous seed's: a push
    to the ``push`` users with a device token ten days ago and a weekly newsletter to the
    ``email`` opted in, running for three weeks; how many."""
    hour = now // 3600 * 3600
    push_id, email_id = SEEDED
    for campaign in (
        DashboardCampaign(push_id, "Diwali flash sale", "push", hour - 10 * DAY, push, ["diwali"]),
        DashboardCampaign(
            email_id, "Weekly newsletter", "email", hour - 21 * DAY, email, ["newsletter"], True
        ),
    ):
        add(store, campaign)
    return len(SEEDED)
