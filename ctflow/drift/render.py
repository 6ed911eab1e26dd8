"""Drift for people (:func:`render_text`) and for machines (:func:`to_json`, docs/drift.md
"JSON")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ctflow.drift.compare import DRIFT_KINDS, NOTE_KINDS, Drift, EventFinding, PropertyFinding


def _live(finding: PropertyFinding) -> str:
    if finding.live is None:
        return "live type not given" if finding.reported is None else f"live {finding.reported!r}"
    reported = finding.reported
    if reported is None or reported.strip().lower() == finding.live:
        return f"live {finding.live}"
    return f"live {finding.live} (reported as {reported!r})"


def _declared(finding: PropertyFinding) -> str:
    return f"{finding.declared}, required" if finding.required else f"{finding.declared}"


_PROPERTY_LINE: dict[str, Callable[[PropertyFinding], str]] = {
    "type_mismatches": lambda f: f"declared {f.declared}, {_live(f)}",
    "strict_undeclared_properties": _live,
    "undeclared_properties": _live,
    "unseen_properties": _declared,
    "unknown_types": lambda f: f"declared {f.declared}, {_live(f)}",
}
"""How each list of property findings says one property (after ``name: ``)."""


def _event_line(finding: EventFinding) -> str:
    if finding.count is None:
        return f"  {finding.event}"
    return f"  {finding.event} (seen {finding.count:,} {'time' if finding.count == 1 else 'times'})"


def _section(kind: str, title: str, items: tuple[Any, ...]) -> list[str]:
    lines = [f"{title} ({len(items)})"]
    line = _PROPERTY_LINE.get(kind)
    if line is None:
        return [*lines, *(_event_line(item) for item in items)]
    event = None
    for item in items:
        if item.event != event:
            event = item.event
            lines.append(f"  {event}")
        lines.append(f"    {item.property}: {line(item)}")
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def render_text(found: Drift, where: str) -> str:
    """For people: a headline, then one section per kind of drift, then the notes; sorted.
    ``where`` names the account (``the sandbox``, ``environment 'production'``)."""
    sizes = f"({_plural(found.declared_events, 'declared event')}, {found.live_events:,} live)"
    if found.found:
        head = f"Drift against {where}: {_plural(found.findings, 'finding')} {sizes}."
    else:
        head = f"No drift against {where} {sizes}."
    blocks = [[head]]
    for kinds, intro in ((DRIFT_KINDS, None), (NOTE_KINDS, "Not drift:")):
        sections = [(k, t, getattr(found, k)) for k, t in kinds if getattr(found, k)]
        if intro and sections:
            blocks.append([intro])
        blocks.extend(_section(kind, title, items) for kind, title, items in sections)
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def _event_json(finding: EventFinding) -> dict[str, Any]:
    return {"event": finding.event, "count": finding.count}


_PROPERTY_JSON = ("event", "property", "declared", "live", "reported")


def _property_json(kind: str, finding: PropertyFinding) -> dict[str, Any]:
    entry = {key: getattr(finding, key) for key in _PROPERTY_JSON}
    if kind == "unseen_properties":
        entry["required"] = finding.required
    return entry


def to_json(found: Drift, environment: str) -> dict[str, Any]:
    """The ``--format json`` object (docs/drift.md "JSON")."""

    def entries(kind: str) -> list[dict[str, Any]]:
        items = getattr(found, kind)
        if kind in _PROPERTY_LINE:
            return [_property_json(kind, item) for item in items]
        return [_event_json(item) for item in items]

    return {
        "environment": environment,
        "drift": found.found,
        "declared_events": found.declared_events,
        "live_events": found.live_events,
        "findings": {kind: entries(kind) for kind, _ in DRIFT_KINDS},
        "notes": {kind: entries(kind) for kind, _ in NOTE_KINDS},
    }


def render_json(found: Drift, environment: str) -> str:
    return json.dumps(to_json(found, environment), indent=2, ensure_ascii=False) + "\n"
