"""What every journal implementation agrees on: how JSON columns are written and read, when a
recorded send may be claimed again, and how a lock's holder is described. Standard library
only."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from ctflow.journal.interface import Holder


def dumps(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def claimable(
    row: Mapping[str, Any], digest: str, again: Collection[str], stale_before: str | None
) -> bool:
    """Whether a recorded send (its ``state``, ``digest``, ``updated_at`` and whether its run
    has finished, ``run_finished``) may be claimed for sending ``digest`` again."""
    if row["state"] == "failed" and "failed" in again:
        return True
    if row["state"] not in again or row["digest"] != digest:
        return False
    return row["state"] != "sending" or bool(row["run_finished"]) or stale(row, stale_before)


def in_progress(row: Mapping[str, Any], stale_before: str | None) -> bool:
    """A send some process may be making right now: ``sending``, its run open, not stale."""
    return row["state"] == "sending" and not (row["run_finished"] or stale(row, stale_before))


def stale(row: Mapping[str, Any], stale_before: str | None) -> bool:
    return stale_before is not None and str(row["updated_at"]) < stale_before


def batch_order(batch: Mapping[str, Any]) -> tuple[str, int]:
    """Batches ``<prefix>:<n>`` by prefix, then by ``n`` as a number."""
    prefix, _, index = str(batch["batch_id"]).rpartition(":")
    return (prefix, int(index)) if index.isdecimal() else (str(batch["batch_id"]), -1)


def holder_json(holder: Holder) -> str:
    return json.dumps(
        {
            "pid": holder.pid,
            "user": holder.user,
            "host": holder.host,
            "command": holder.command,
            "started_at": holder.started_at,
        },
        sort_keys=True,
    )


def describe_holder(text: str | None) -> str:
    """Who holds a lock, from its :func:`holder_json`; ``another process`` when unknown."""
    try:
        holder = Holder(**json.loads(text or ""))
    except (ValueError, TypeError):
        return "another process"
    return (
        f"another run: pid {holder.pid} ({holder.user}@{holder.host}), `{holder.command}`,"
        f" since {holder.started_at}"
    )
