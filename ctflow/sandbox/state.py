"""The state of one emulated CleverTap account set: store, clock, config, faults and limits,
which every handler reads and changes. Knows nothing of the ASGI app built on it (``core.py``).

Imports only the standard library and sandbox modules.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.sandbox import personalise
from ctflow.sandbox.clock import Clock
from ctflow.sandbox.config import SandboxConfig
from ctflow.sandbox.custom_lists import custom_lists as custom_list_segments
from ctflow.sandbox.dashboard import add_dashboard_campaign
from ctflow.sandbox.faults import FaultPicker, Faults
from ctflow.sandbox.limits import Limiter
from ctflow.sandbox.query import Query, matching_profiles, parse_query
from ctflow.sandbox.reports import status_of
from ctflow.sandbox.seed import seed as seed_population
from ctflow.sandbox.segments import listing as segment_listing
from ctflow.sandbox.segments import members as segment_members
from ctflow.sandbox.store import Store


def _at(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


class SandboxState:
    """`config` and `faults` are read per request, so tests may change them live."""

    def __init__(
        self,
        db: str | os.PathLike[str] = ":memory:",
        config: SandboxConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config if config is not None else SandboxConfig()
        self.faults = Faults()
        self.clock = clock if clock is not None else Clock()
        self.store = Store(os.fspath(db))
        self.limiter = Limiter()
        self.picker = FaultPicker()

    def campaigns(self) -> list[dict[str, Any]]:
        now = self.clock.timestamp()
        return [
            {
                "id": row.id,
                "name": row.name,
                "status": status_of(row, now, self.config.run_seconds),
                "target_mode": row.target_mode,
                "labels": row.labels,
                "estimates": row.estimates,
                "payload": row.payload,
                "created_at": _at(row.created_at),
                "scheduled_at": _at(row.scheduled_at),
                "stopped_at": _at(row.stopped_at),
            }
            for row in self.store.campaigns()
        ]

    def add_dashboard_campaign(
        self,
        name: str,
        *,
        channel: str = "push",
        start: datetime | None = None,
        sent: int = 1000,
        labels: list[str] | None = None,
    ) -> int:
        """A campaign built in the dashboard (the message report shows it, targets/list does
        not), starting at ``start`` (default: now) to ``sent`` users; its id."""
        at = self.clock.timestamp() if start is None else start.timestamp()
        made = add_dashboard_campaign(
            self.store, name=name, channel=channel, start=at, sent=sent, labels=labels
        )
        return made.id

    def sends(self) -> list[dict[str, Any]]:
        """Every send as received; one with Liquid in its content also has ``personalised``:
        each recipient and the content as CleverTap fills it in with their profile."""
        found = []
        for send_id, (endpoint, body, at) in zip(
            self.store.send_ids(), self.store.sends(), strict=True
        ):
            send = {"endpoint": endpoint, "body": body, "at": _at(at)}
            rendered = self.store.get_state(personalise.KIND, str(send_id))
            if rendered is not None:
                send["personalised"] = rendered["deliveries"]
            found.append(send)
        return found

    def messages(self, campaign_id: int) -> list[dict[str, Any]]:
        """What each profile the campaign's audience holds now receives: its content with
        CleverTap's Liquid filled in from the profile."""
        row = self.store.campaign(campaign_id)
        if row is None:
            return []
        where, segment = row.payload.get("where"), row.payload.get("segment")
        tz = ZoneInfo(self.config.timezone)
        if where is not None:
            query = parse_query(where, tz, self.clock.timestamp())
        elif segment not in (None, ""):
            try:  # a campaign on a segment reaches its members only
                query = Query(members=segment_members(self.store, segment))
            except LookupError:  # the segment is gone (a sandbox reset): no one
                return []
        else:
            query = Query()
        people = matching_profiles(self.store, query)
        return personalise.messages(people, row.payload.get("content"))

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        events = self.store.events(name=name)
        people = self.store.profiles_by_id(e.profile_id for e in events)
        return [
            {
                "name": e.name,
                "identity": people[e.profile_id].identity,
                "objectId": people[e.profile_id].guid,
                "ts": e.ts,
                "props": e.props,
            }
            for e in events
        ]

    def profile(self, identity: str) -> dict[str, Any] | None:
        found = self.store.find_profile("identity", identity)
        if found is None:
            return None
        return {
            "identity": found.identity,
            "objectId": found.guid,
            "email": found.email,
            "profileData": found.data,
            "platformInfo": found.platform,
        }

    def segments(self) -> list[dict[str, Any]]:
        """API segments: ct and customer ids, name, member count."""
        return segment_listing(self.store)

    def custom_lists(self) -> list[dict[str, Any]]:
        """Custom list segments: id, name, member count."""
        return custom_list_segments(self.store)

    def segment_members(self, ct_segment_id: int) -> set[str]:
        """The identities (or GUIDs, for profiles without one) in a segment."""
        ids = segment_members(self.store, ct_segment_id)
        return {p.identity or p.guid for p in self.store.profiles_by_id(ids).values()}

    def counts(self) -> dict[str, int]:
        return self.store.counts()

    def seed(self, profiles: int = 3000, seed: int = 42) -> dict[str, Any]:
        """Replace all profiles and events with a deterministic demo population."""
        return seed_population(self.store, self.clock.timestamp(), profiles, seed)

    def reset(self) -> None:
        self.store.reset()

    def close(self) -> None:
        self.store.close()
