"""``ctflow campaigns list`` (``/1/targets/list.json``, §4.5: this project's campaigns marked as
ours by their ownership marker) and ``ctflow report`` (``/1/targets/result.json``, §4.7).
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.clevertap import CampaignNotCompleted, CampaignReport, CampaignSummary
from ctflow.errors import ExitCode, InvalidInput, UsageError
from ctflow.plan import marker
from ctflow.reads.context import Reader
from ctflow.reads.output import table

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


def report(reader: Reader, campaign_id: int, fmt: str) -> int:
    """The metrics CleverTap reports for a finished campaign."""

    async def ask() -> CampaignReport:
        async with reader.client() as client:
            try:
                return await client.campaign_report(campaign_id)
            except CampaignNotCompleted:
                raise InvalidInput(
                    f"campaign {campaign_id} has not completed yet ({reader.place}): CleverTap "
                    "reports a campaign once it has finished sending; `ctflow campaigns list` "
                    "shows its status"
                ) from None

    result = asyncio.run(ask())
    metrics = dict(result.metrics)
    if fmt == "json":
        reader.json({"environment": reader.environment, "id": result.id, "metrics": metrics})
        return ExitCode.OK
    reader.out.write(f"Campaign {result.id} ({reader.place})\n")
    if not metrics:
        reader.out.write("CleverTap reported no metrics.\n")
        return ExitCode.OK
    table(
        reader,
        ["METRIC", "VALUE"],
        [[name, _number(value)] for name, value in metrics.items()],
        right=(1,),
    )
    return ExitCode.OK


def _number(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)
