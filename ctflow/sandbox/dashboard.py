"""Campaigns built in CleverTap's dashboard, as the sandbox keeps them: never listed by
``/1/targets/list.json`` (§4.5), reported by ``/1/message/report.json`` (§4.10). Stdlib and
sandbox only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctflow.sandbox.store import Store

KIND = "dashboard_campaign"
DAY = 86400


@dataclass(frozen=True)
class DashboardCampaign:
    id: int
    name: str
    channel: str
    """§4.10 vocabulary: push, email, sms, browser, …"""
    started_at: float
    recurring: bool = False
    labels: tuple[str, ...] = ()

    def status(self, now: float, run_seconds: int) -> str:
        """§4.10 vocabulary: scheduled, running, completed."""
        if now < self.started_at:
            return "scheduled"
        if self.recurring or now < self.started_at + run_seconds:
            return "running"
        return "completed"


def add(store: Store, campaign: DashboardCampaign) -> None:
    value: dict[str, Any] = {
        "name": campaign.name,
        "channel": campaign.channel,
        "started_at": campaign.started_at,
        "recurring": campaign.recurring,
        "labels": list(campaign.labels),
    }
    store.put_state(KIND, str(campaign.id), value)


def every(store: Store) -> list[DashboardCampaign]:
    return [
        DashboardCampaign(
            id=int(key),
            name=str(value["name"]),
            channel=str(value["channel"]),
            started_at=float(value["started_at"]),
            recurring=bool(value.get("recurring")),
            labels=tuple(value.get("labels") or ()),
        )
        for key, value in store.states(KIND)
    ]


def seed(store: Store, now: float) -> int:
    """Two campaigns a marketer built in the dashboard: a push that went out ten days ago and
    a weekly e-mail newsletter running for three weeks. Their ids stay the same on every seed."""
    for campaign in (
        DashboardCampaign(1700000101, "Diwali flash sale", "push", now - 10 * DAY),
        DashboardCampaign(1700000102, "Weekly newsletter", "email", now - 21 * DAY, True),
    ):
        add(store, campaign)
    return 2
