"""``ctflow campaigns list`` (``/1/targets/list.json``, §4.5): the API-created campaigns of a
window, this project's marked as ours by their ownership marker (:mod:`ctflow.plan.marker`).
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.clevertap import CampaignSummary
from ctflow.commands.reading import Reader, table
from ctflow.errors import ExitCode, UsageError
from ctflow.plan import marker

DAYS_BACK = 30
DAYS_AHEAD = 365
"""Without ``--from``: 30 days before today; without ``--to``: a year after today. Campaigns
made as code are often scheduled weeks ahead, so the default looks ahead as well as back."""


def window(reader: Reader, start: date | None, end: date | None) -> tuple[date, date]:
    first = start or reader.today - timedelta(days=DAYS_BACK)
    last = end or reader.today + timedelta(days=DAYS_AHEAD)
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    return first, last


def list_campaigns(reader: Reader, start: date | None, end: date | None, fmt: str) -> int:
    """API-created campaigns scheduled in the window; ours carry this project's marker."""
    first, last = window(reader, start, end)

    async def ask() -> list[CampaignSummary]:
        async with reader.client() as client:
            return await client.list_campaigns(first, last)

    rows = [_row(reader, c) for c in asyncio.run(ask())]
    rows.sort(key=lambda r: (r["scheduled_on"] or "", r["id"]))
    if fmt == "json":
        reader.json(
            {
                "environment": reader.environment,
                "project": reader.project,
                "from": first.isoformat(),
                "to": last.isoformat(),
                "campaigns": rows,
            }
        )
        return ExitCode.OK
    ours = sum(1 for r in rows if r["ours"])
    span = f"scheduled {first} to {last}"
    if not rows:
        reader.out.write(f"No API-created campaigns {span} ({reader.place}).\n")
        return ExitCode.OK
    table(
        reader,
        ["ID", "STATUS", f"SCHEDULED ({reader.timezone})", "KEY", "NAME"],
        [
            [
                str(r["id"]),
                r["status"],
                (r["scheduled_on"] or "-").replace("T", " ")[:16],
                r["key"] if r["ours"] else "-",
                r["display_name"] if r["ours"] else r["name"],
            ]
            for r in rows
        ],
        whole=(0, 1, 2, 3),
    )
    campaigns = "campaign" if len(rows) == 1 else "campaigns"
    reader.out.write(
        f"{len(rows)} {campaigns} {span} ({reader.place}); {ours} carry the marker of project "
        f"{reader.project} (KEY is their resource key).\n"
    )
    return ExitCode.OK


def _row(reader: Reader, campaign: CampaignSummary) -> dict[str, Any]:
    found = marker.parse(campaign.name)
    ours = found is not None and found.project == reader.project
    return {
        "id": campaign.id,
        "name": campaign.name,
        "display_name": marker.display_name(campaign.name).rstrip(),
        "status": campaign.status,
        "scheduled_on": _local(campaign.scheduled_on, reader.timezone),
        "ours": ours,
        "key": found.key if found is not None and ours else None,
        "marker": None if found is None else f"{found.project}/{found.key}@{found.hash}",
    }


def _local(moment: datetime | None, timezone: str) -> str | None:
    """ISO text in the account's timezone (CleverTap's wall-clock forms already are)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return moment.isoformat(timespec="minutes")
