"""``ctflow report``: one finished campaign's figures (``/1/targets/result.json``, §4.7), or
every campaign's in a window (:mod:`ctflow.commands.performance`, §4.10).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from ctflow.clevertap import CampaignNotCompleted, CampaignReport
from ctflow.commands import performance
from ctflow.commands.reading import Reader, table
from ctflow.errors import ExitCode, InvalidInput, UsageError


@dataclass(frozen=True)
class ReportOptions:
    campaign_id: int | None = None
    start: date | None = None
    end: date | None = None
    labels: tuple[str, ...] = ()
    fmt: str = "text"


def run(reader: Reader, options: ReportOptions) -> int:
    """One campaign's report with an id, else the window's."""
    windowed = options.start is not None or options.end is not None or options.labels
    if options.campaign_id is not None:
        if windowed:
            raise UsageError(
                "give a CAMPAIGN_ID for one campaign's report, or --from/--to/--label for "
                "every campaign's in a window, not both"
            )
        return report(reader, options.campaign_id, options.fmt)
    first, last = performance.window(reader, options.start, options.end)
    asked = performance.Window(first, last, options.labels)
    return performance.performance(reader, asked, options.fmt)


def report(reader: Reader, campaign_id: int, fmt: str) -> int:
    """Every figure CleverTap reports for a finished campaign (a nested one as ``a.b``)."""

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
    flat = _flat(metrics)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["metric", "value"])
        writer.writerows([name, _cell(value)] for name, value in flat.items())
        reader.out.write(buffer.getvalue())
        return ExitCode.OK
    reader.out.write(f"Campaign {result.id} ({reader.place})\n")
    if not flat:
        reader.out.write("CleverTap reported no metrics.\n")
        return ExitCode.OK
    table(
        reader,
        ["METRIC", "VALUE"],
        [[name, _number(value)] for name, value in flat.items()],
        right=(1,),
    )
    return ExitCode.OK


def _flat(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Each figure on its own line: a nested object's as ``outer.inner``."""
    out: dict[str, Any] = {}
    for name, value in metrics.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = value
    return out


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return "" if value is None else str(value)


def _number(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)
