"""The terraform-like text of a Plan, for a terminal (optionally coloured). Also owns the
phrases the Markdown renderer shares: groups, live-campaign details, values and reach.
Pure: standard library and ``ctflow.plan`` only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ctflow.plan.diff import SENSITIVE, is_long, is_sensitive, text_diff
from ctflow.plan.model import Action, Change, FieldChange, LiveRef, Note, Plan

HEAD_LINES = 20
GATED = "[gated: needs --allow-stop]"
FORCES = "  # forces replacement"
BEFORE_UNKNOWN = "(previous version not in the journal: showing the new values)"
_ANSI = {"+": "32", "-": "31", "-/+": "33", "~": "33", "!": "33", "bold": "1", "dim": "2"}

Pen = Callable[[str, str], str]


# --- shared phrases ------------------------------------------------------------------------


def header(plan: Plan) -> str:
    where = " (the built-in sandbox)" if plan.sandbox else ""
    window = f"{plan.window[0]}..{plan.window[1]}"
    return (
        f"ctflow plan for project {plan.project}, environment {plan.environment}{where}; "
        f"live campaigns listed {window}."
    )


def targets_line(plan: Plan) -> str | None:
    if not plan.targets:
        return None
    return f"Only these keys were planned: {', '.join(plan.targets)}."


def groups(plan: Plan) -> list[tuple[str, list[Change]]]:
    """``Journey <key>`` sections in key order, then ``Campaigns``; empty ones left out."""
    journeys = sorted({c.journey for c in plan.changes if c.journey is not None})
    found = [(f"Journey {j}", [c for c in plan.changes if c.journey == j]) for j in journeys]
    loose = [c for c in plan.changes if c.journey is None and c.action is not Action.UPLOAD]
    data = [c for c in plan.changes if c.action is Action.UPLOAD]
    return (
        found + ([("Campaigns", loose)] if loose else []) + ([("Datasets", data)] if data else [])
    )


def _refs(refs: Iterable[LiveRef]) -> str:
    return ", ".join(f"{r.id} {r.status.value}" for r in refs)


def _create_detail(change: Change) -> str:
    return ""


def _replace_detail(change: Change) -> str:
    return f"(stops {_refs(change.stop)}, then creates)" if change.stop else ""


def _stop_detail(change: Change) -> str:
    return f"({_refs(change.stop)})" if change.stop else ""


def _repair_detail(change: Change) -> str:
    kept = [f"keeps {change.keep.id}"] if change.keep else []
    stopped = [f"stops {_refs(change.stop)}"] if change.stop else []
    return f"({', '.join(kept + stopped)})" if kept or stopped else ""


def _upload_detail(change: Change) -> str:
    """``(1,200 records, 2 batches)``; rows of the file, valid or not, as the plan counts them."""
    payload = change.payload or {}
    rows, batches = int(payload.get("rows", 0)), int(payload.get("batches", 0))
    plural = ("s" if rows != 1 else "", "es" if batches != 1 else "")
    text = f"{rows:,} record{plural[0]}, {batches:,} batch{plural[1]}"
    done = int(payload.get("accepted_batches", 0))
    return f"({text}; {done:,} already accepted)" if done else f"({text})"


_DETAILS: dict[Action, Callable[[Change], str]] = {
    Action.CREATE: _create_detail,
    Action.REPLACE: _replace_detail,
    Action.STOP: _stop_detail,
    Action.REPAIR: _repair_detail,
    Action.UPLOAD: _upload_detail,
}


def live_detail(change: Change) -> str:
    """What the change does to live campaigns: ``(stops 17 pending, then creates)``."""
    return _DETAILS[change.action](change)


def reach(estimate: Mapping[str, int]) -> str:
    devices = ", ".join(f"{device} {count}" for device, count in estimate.items()) or "none"
    return f"reach: {devices} (total {sum(estimate.values())})"


def show(path: str, value: Any) -> str:
    """A value as JSON; a masked one as the bare word ``(sensitive)``."""
    if value == SENSITIVE and is_sensitive(path):
        return SENSITIVE
    return json.dumps(value, ensure_ascii=False, default=str)


def first_lines(text: str) -> tuple[list[str], int]:
    """The first lines of a long string and how many more there are."""
    lines = text.splitlines()
    return lines[:HEAD_LINES], max(0, len(lines) - HEAD_LINES)


def change_notes(change: Change) -> list[str]:
    """The lines under a change's title and reason: what is unknown, its reach."""
    lines = []
    if change.action is Action.REPLACE and not change.before_known:
        lines.append(BEFORE_UNKNOWN)
    if change.estimate is not None:
        lines.append(reach(change.estimate))
    return lines


# --- text ----------------------------------------------------------------------------------


def _pen(color: bool) -> Pen:
    def paint(style: str, text: str) -> str:
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if color and text else text

    return paint


def _diff_line(pen: Pen, line: str) -> str:
    return pen(line[0], line) if line[:1] in ("+", "-") else line


def _field(pen: Pen, field: FieldChange, forced: bool) -> list[str]:
    """One field: ``+ path: value``, ``- path: value``, ``~ path: old → new``, or a long
    string as a text diff / its first lines, indented under ``path:``."""
    path, old, new = field.path, field.before, field.after
    mark = FORCES if forced else ""
    if isinstance(old, str) and isinstance(new, str) and (is_long(old) or is_long(new)):
        body = [_diff_line(pen, line) for line in text_diff(old, new, path=path)]
        return [f"{pen('~', '~')} {path}:{mark}", *("    " + line for line in body)]
    if old is not None and new is not None:
        return [f"{pen('~', '~')} {path}: {show(path, old)} → {show(path, new)}{mark}"]
    symbol, value = ("+", new) if old is None else ("-", old)
    if not is_long(value):
        return [f"{pen(symbol, symbol)} {path}: {show(path, value)}{mark}"]
    shown, more = first_lines(value)
    lines = [f"{pen(symbol, symbol)} {path}:{mark}"]
    lines += [f"    {pen(symbol, symbol + ' ' + line)}" for line in shown]
    return lines + ([f"    … ({more} more lines)"] if more else [])


def _change(pen: Pen, change: Change) -> list[str]:
    title = f"{pen(change.symbol, change.symbol)} {change.action.value} {change.key}"
    if change.action is Action.UPLOAD:
        title += f" {live_detail(change)}"
    else:
        title += f"  {json.dumps(change.name, ensure_ascii=False)}"
        if detail := live_detail(change):
            title += f"  {detail}"
    if change.gated:
        title += f"  {GATED}"
    lines = [f"  {title}", f"      {pen('dim', '# ' + change.reason)}"]
    if change.action is Action.UPLOAD:
        lines.append(f"      file: {change.name}")
    lines += [f"      {note}" for note in change_notes(change)]
    forces = set(change.forces)
    for field in change.fields:
        lines += [f"      {line}" for line in _field(pen, field, field.path in forces)]
    return lines


def _note(pen: Pen, note: Note) -> str:
    return f"  {pen('!', '!')} {note.key}: {note.message}"


def render_text(plan: Plan, *, color: bool = False) -> str:
    """The plan as ``ctflow plan`` prints it; the last line is ``plan.summary()``."""
    pen = _pen(color)
    blocks = ["\n".join(filter(None, [header(plan), targets_line(plan)]))]
    for title, changes in groups(plan):
        lines = [pen("bold", title)]
        for change in changes:
            lines += _change(pen, change)
        blocks.append("\n".join(lines))
    if plan.notes:
        blocks.append("\n".join([pen("bold", "Warnings"), *(_note(pen, n) for n in plan.notes)]))
    blocks.append(pen("bold", plan.summary()))
    return "\n\n".join(blocks) + "\n"
