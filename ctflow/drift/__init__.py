"""Drift of the tracking plan: the declared EventSchemas against the account's event schema
(docs/drift.md). No I/O; imports the upload rules' declared schemas and system events, never the
client or the sandbox.

    live.py     the ``/getSchema`` answer read tolerantly, and the type table
    compare.py  the comparison: (declared, live) -> Drift
    render.py   text and JSON
"""

from ctflow.drift.compare import (
    DRIFT_KINDS,
    NOTE_KINDS,
    Drift,
    EventFinding,
    PropertyFinding,
    drift,
)
from ctflow.drift.live import TYPE_TABLE, LiveEvent, live_events, read_type
from ctflow.drift.render import render_json, render_text, to_json

__all__ = [
    "DRIFT_KINDS",
    "NOTE_KINDS",
    "TYPE_TABLE",
    "Drift",
    "EventFinding",
    "LiveEvent",
    "PropertyFinding",
    "drift",
    "live_events",
    "read_type",
    "render_json",
    "render_text",
    "to_json",
]
