"""``ctflow report --from D --to D``: every campaign's figures in a window, through the message
report (``/1/message/report.json``, clevertap-api.md §4.10), dashboard-built campaigns included,
this project's marked with their resource key (:mod:`ctflow.plan.marker`).

The report matches campaigns by start date and grows slow with the window (about 26 s for 30
days, §11), so a window is asked in slices of :data:`SLICE_DAYS`; a slice whose answer holds back
campaigns (``total_results`` above the rows) is halved until it is one day. A campaign answered
twice is kept once, by its message id.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ctflow.clevertap import CleverTap, MessageReportRow
from ctflow.commands.reading import Reader, table
from ctflow.errors import ExitCode, UsageError
from ctflow.plan import marker

SLICE_DAYS = 14  # §11: a client measured 26 s for 30 days and asks 14 at a time
DAYS_BACK = 29
"""Without ``--from``: the 30 days that end with ``--to`` (default today)."""
FIRST_FIGURES = ("sent", "viewed", "clicked", "errors", "converted")
"""The figures shown first, in this order; any others CleverTap gives follow by name."""
NOT_FIGURES = frozenset({"message id", "message_id"})


@dataclass(frozen=True)
class Window:
    first: date
    last: date
    labels: tuple[str, ...] = ()


def window(reader: Reader, start: date | None, end: date | None) -> tuple[date, date]:
    last = end or (reader.today if start is None else max(reader.today, start))
    first = start or last - timedelta(days=DAYS_BACK)
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    return first, last


def slices(first: date, last: date, days: int = SLICE_DAYS) -> list[tuple[date, date]]:
    """``first``..``last`` as consecutive windows of at most ``days`` days."""
    out = []
    while first <= last:
        end = min(first + timedelta(days=days - 1), last)
        out.append((first, end))
        first = end + timedelta(days=1)
    return out


@dataclass
class Fetched:
    rows: list[MessageReportRow]
    calls: int = 0
    held_back: list[str] | None = None
    """Days whose answer still held campaigns back at one day a call."""


async def fetch(client: CleverTap, asked: Window) -> Fetched:
    """Every campaign started in the window, each once."""
    done = Fetched([], held_back=[])
    labels = list(asked.labels) or None

    async def part(first: date, last: date) -> list[MessageReportRow]:
        answer = await client.message_report_window(first, last, label=labels)
        done.calls += 1
        if answer.total <= len(answer.rows):
            return answer.rows
        if first == last:
            assert done.held_back is not None
            done.held_back.append(
                f"CleverTap answered {len(answer.rows)} of the {answer.total} campaigns started "
                f"on {first}; the others are missing from this list"
            )
            return answer.rows
        middle = first + (last - first) // 2
        halves = await asyncio.gather(part(first, middle), part(middle + timedelta(days=1), last))
        return [row for half in halves for row in half]

    parts = await asyncio.gather(*(part(a, b) for a, b in slices(asked.first, asked.last)))
    seen: set[object] = set()
    for rows in parts:
        for row in rows:
            key = row.message_id if row.message_id is not None else id(row)
            if key not in seen:
                seen.add(key)
                done.rows.append(row)
    return done


def campaign(reader: Reader, row: MessageReportRow) -> dict[str, Any]:
    found = marker.parse(row.name)
    ours = found is not None and found.project == reader.project
    start = row.start_date.isoformat(timespec="minutes") if row.start_date else None
    return {
        "id": row.message_id,
        "name": row.name,
        "display_name": marker.display_name(row.name).rstrip(),
        "ours": ours,
        "key": found.key if found is not None and ours else None,
        "marker": None if found is None else f"{found.project}/{found.key}@{found.hash}",
        "channel": row.channel or None,
        "status": row.raw.get("status"),
        "start_date": start,
        "figures": figures_of(row.raw),
    }


def figures_of(raw: Any, prefix: str = "") -> dict[str, int | float]:
    """The numbers of one answer: its numeric fields, a nested object's as ``outer.inner``."""
    found: dict[str, int | float] = {}
    if not isinstance(raw, dict):
        return found
    for name, value in raw.items():
        if name in NOT_FIGURES and not prefix:
            continue
        if isinstance(value, dict):
            found.update(figures_of(value, f"{prefix}{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found[f"{prefix}{name}"] = value
    return found


def figure_names(campaigns: Sequence[dict[str, Any]]) -> list[str]:
    names = {name for c in campaigns for name in c["figures"]}
    first = [name for name in FIRST_FIGURES if name in names]
    return first + sorted(names - set(first))


def performance(reader: Reader, asked: Window, fmt: str) -> int:
    async def ask() -> Fetched:
        async with reader.client() as client:
            return await fetch(client, asked)

    fetched = asyncio.run(ask())
    campaigns = [campaign(reader, row) for row in fetched.rows]
    campaigns.sort(key=lambda c: (c["start_date"] or "", str(c["id"])))
    names = figure_names(campaigns)
    for held in fetched.held_back or ():
        reader.say(f"{held} (narrow it with --label)")
    if fmt == "json":
        reader.json(
            {
                "environment": reader.environment,
                "project": reader.project,
                "from": asked.first.isoformat(),
                "to": asked.last.isoformat(),
                "labels": list(asked.labels),
                "figures": names,
                "complete": not fetched.held_back,
                "campaigns": campaigns,
            }
        )
    elif fmt == "csv":
        reader.out.write(_csv(campaigns, names))
    else:
        _text(reader, asked, campaigns, names)
    return ExitCode.OK


COLUMNS = ("id", "start_date", "channel", "status", "key", "name")


def _csv(campaigns: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    """One line per campaign: its fields, then each figure (empty where it has none)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*COLUMNS, *names])
    for c in campaigns:
        fields = [c["id"], c["start_date"], c["channel"], c["status"], c["key"], c["display_name"]]
        writer.writerow(
            [*("" if v is None else v for v in fields), *(c["figures"].get(n, "") for n in names)]
        )
    return buffer.getvalue()


def _text(
    reader: Reader, asked: Window, campaigns: Sequence[dict[str, Any]], names: Sequence[str]
) -> None:
    span = f"starting {asked.first} to {asked.last}"  # scheduled ones too: a start in the window
    if asked.labels:
        span += f" labelled {', '.join(asked.labels)}"
    if not campaigns:
        reader.out.write(f"No campaigns {span} ({reader.place}).\n")
        return
    headers = ["ID", f"STARTED ({reader.timezone})", "CHANNEL", "STATUS", "KEY", "NAME"]
    rows = [
        [
            str(c["id"]),
            (c["start_date"] or "-").replace("T", " "),
            c["channel"] or "-",
            c["status"] or "-",
            c["key"] or "-",
            c["display_name"] if c["ours"] else c["name"],
        ]
        + [_number(c["figures"].get(name)) for name in names]
        for c in campaigns
    ]
    fixed = len(headers)
    table(
        reader,
        headers + [name.upper() for name in names],
        rows,
        right=tuple(range(fixed, fixed + len(names))),
        whole=(0, 1, 2, 3, 4),
    )
    ours = sum(1 for c in campaigns if c["ours"])
    noun = "campaign" if len(campaigns) == 1 else "campaigns"
    others = len(campaigns) - ours
    reader.out.write(
        f"{len(campaigns)} {noun} {span} ({reader.place}); {ours} "
        f"{'carries' if ours == 1 else 'carry'} the marker of project {reader.project} (KEY is "
        f"their resource key), {others} {'was' if others == 1 else 'were'} built elsewhere (the "
        "dashboard, another project).\n"
    )


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"
