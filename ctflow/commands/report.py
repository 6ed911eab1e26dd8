"""``ctflow report CAMPAIGN_ID`` (``/1/targets/result.json``, §4.7): a finished campaign's
results.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ctflow.clevertap import CampaignNotCompleted, CampaignReport
from ctflow.commands.reading import Reader, table
from ctflow.errors import ExitCode, InvalidInput


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
