"""``ctflow campaigns list [--all]`` (``/1/targets/list.json``, §4.5): the API-created campaigns
of a window, this project's marked as ours by their ownership marker (:mod:`ctflow.plan.marker`);
with ``--all``, the dashboard-built ones too, from the message report (§4.10).
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.clevertap import CampaignSummary, MessageReportRow
from ctflow.commands.performance import Fetched, Window, fetch
from ctflow.commands.reading import Reader, table, ticking
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


def list_campaigns(
    reader: Reader, start: date | None, end: date | None, fmt: str, *, every: bool = False
) -> int:
    """API-created campaigns scheduled in the window; ours carry this project's marker. With
    ``every``, the message report's other campaigns (built in the dashboard) as well."""
    first, last = window(reader, start, end)

    async def ask() -> tuple[list[CampaignSummary], Fetched]:
        async with reader.client() as client:
            listed = await client.list_campaigns(first, last)
            if not every:
                return listed, Fetched([])
            # in report's slices: one call for the whole window is slow, and may hold some back
            report = fetch(client, Window(first, last))
            return listed, await ticking(report, "message report:", reader)

    listed, fetched = asyncio.run(ask())
    reported = fetched.rows
    for held in fetched.held_back or ():
        reader.say(held)
    rows = [_row(reader, c) for c in listed]
    if every:
        for row in rows:
            row["source"] = "api"
        known = {r["id"] for r in rows}
        rows += [_dashboard_row(reader, m) for m in reported if m.message_id not in known]
        rows = _once(rows)
    rows.sort(key=lambda r: (r["scheduled_on"] or "", str(r["id"])))
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
        made = "campaigns" if every else "API-created campaigns"
        reader.out.write(f"No {made} {span} ({reader.place}).\n")
        return ExitCode.OK
    headers = ["ID", "STATUS", f"SCHEDULED ({reader.timezone})", "KEY", "NAME"]
    cells = [
        [
            str(r["id"]),
            r["status"],
            (r["scheduled_on"] or "-").replace("T", " ")[:16],
            r["key"] if r["ours"] else "-",
            r["display_name"] if r["ours"] else r["name"],
        ]
        for r in rows
    ]
    if every:
        headers.insert(2, "BUILT")
        for row, line in zip(rows, cells, strict=True):
            line.insert(2, "dashboard" if row["source"] == "dashboard" else "api")
    table(reader, headers, cells, whole=(0, 1, 2, 3, 4) if every else (0, 1, 2, 3))
    campaigns = "campaign" if len(rows) == 1 else "campaigns"
    built = ""
    if every:
        board = sum(1 for r in rows if r["source"] == "dashboard")
        built = f": {len(rows) - board} API-created, {board} built in the dashboard"
    reader.out.write(
        f"{len(rows)} {campaigns} {span} ({reader.place}){built}; {ours} "
        f"{'carries' if ours == 1 else 'carry'} the marker of project {reader.project} (KEY is "
        "their resource key).\n"
    )
    return ExitCode.OK


def _dashboard_row(reader: Reader, message: MessageReportRow) -> dict[str, Any]:
    """A campaign of the message report that targets/list does not show: built in the
    dashboard (a name carrying this project's marker is still read as ours)."""
    found = marker.parse(message.name)
    ours = found is not None and found.project == reader.project
    status = message.raw.get("status")
    return {
        "id": message.message_id,
        "name": message.name,
        "display_name": marker.display_name(message.name).rstrip(),
        "status": str(status) if status else "-",
        "scheduled_on": _local(message.start_date, reader.timezone),
        "ours": ours,
        "key": found.key if found is not None and ours else None,
        "marker": None if found is None else f"{found.project}/{found.key}@{found.hash}",
        "source": "dashboard",
    }


def _once(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each campaign once (a report lists a campaign once per day with ``daily``)."""
    seen: set[Any] = set()
    kept = []
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            kept.append(row)
    return kept


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
