"""The terraform-like text of a Plan, for a terminal (optionally coloured). Also owns the
phrases the Markdown renderer shares: groups, live-campaign details, values and reach.
Pure: standard library and ``ctflow.plan`` only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ctflow.masking import SENSITIVE, is_sensitive
from ctflow.plan.cost import plan_cost
from ctflow.plan.diff import is_long, text_diff
from ctflow.plan.model import (
    SYMBOLS,
    Action,
    AudienceUpdate,
    Change,
    Create,
    FieldChange,
    LiveRef,
    Note,
    Plan,
    Repair,
    Replace,
    Timeline,
    Upload,
)
from ctflow.plan.triggerdiff import SYMBOLS as SYMBOLS_OF
from ctflow.plan.triggerdiff import FixtureDiff, Status, TriggerChange, TriggerReport

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
    journal = f"; journal {plan.journal}" if plan.journal else ""
    return (
        f"ctflow plan for project {plan.project}, environment {plan.environment}{where}; "
        f"live campaigns listed {window}{journal}."
    )


def cost_line(plan: Plan) -> str | None:
    """How many calls applying makes and how long they take (none when nothing changes)."""
    return plan_cost(plan.changes).text() if plan.has_changes else None


def targets_line(plan: Plan) -> str | None:
    if not plan.targets:
        return None
    return f"Only these keys were planned: {', '.join(plan.targets)}."


def groups(plan: Plan) -> list[tuple[str, list[Change]]]:
    """``Journey <key>`` sections in key order, then ``Campaigns``; empty ones left out."""
    journeys = sorted({c.journey for c in plan.changes if c.journey is not None})
    found = [(f"Journey {j}", [c for c in plan.changes if c.journey == j]) for j in journeys]
    apart = (Upload, AudienceUpdate)
    loose = [c for c in plan.changes if c.journey is None and not isinstance(c, apart)]
    data: list[Change] = [c for c in plan.changes if isinstance(c, Upload)]
    people: list[Change] = [c for c in plan.changes if isinstance(c, AudienceUpdate)]
    return (
        found
        + ([("Campaigns", loose)] if loose else [])
        + ([("Datasets", data)] if data else [])
        + ([("Audiences", people)] if people else [])
    )


def timeline_of(plan: Plan, changes: list[Change]) -> Timeline | None:
    """The timeline of the journey a group of changes belongs to, if it is one."""
    journey = changes[0].journey if changes else None
    return next((t for t in plan.timelines if t.journey == journey), None)


def timeline_rows(timeline: Timeline) -> list[list[str]]:
    """A header and one row per step: the change's symbol, step, after, send time (in the
    timeline's timezone, to the minute), channel and state."""
    rows = [["", "step", "after", f"sends ({timeline.timezone})", "channel", "state"]]
    for step in timeline.steps:
        sends = step.sends_at[:16].replace("T", " ") if step.sends_at else "now"
        if step.after is None and step.sends_at is None:
            sends = "?"
        rows.append(
            [
                SYMBOLS[step.action] if step.action is not None else "",
                step.step,
                step.after if step.after is not None else "(removed)",
                sends,
                step.channel or "",
                step.state.value,
            ]
        )
    return rows


def _refs(refs: Iterable[LiveRef]) -> str:
    return ", ".join(f"{r.id} {r.status.value}" for r in refs)


def _create_detail(change: Change) -> str:
    return ""


def _replace_detail(change: Change) -> str:
    return f"(stops {_refs(change.stop)}, then creates)" if change.stop else ""


def _stop_detail(change: Change) -> str:
    return f"({_refs(change.stop)})" if change.stop else ""


def _repair_detail(change: Repair) -> str:
    stopped = [f"stops {_refs(change.stop)}"] if change.stop else []
    return f"({', '.join([f'keeps {change.keep.id}', *stopped])})"


def _upload_detail(change: Upload) -> str:
    """``(1,200 records, 2 batches)``; rows of the file, valid or not, as the plan counts them."""
    rows, batches = change.dataset.rows, change.dataset.batches
    plural = ("s" if rows != 1 else "", "es" if batches != 1 else "")
    text = f"{rows:,} record{plural[0]}, {batches:,} batch{plural[1]}"
    done = change.dataset.accepted_batches
    return f"({text}; {done:,} already accepted)" if done else f"({text})"


def _audience_detail(change: AudienceUpdate) -> str:
    """``(+120 members, −8 members)``; a new segment (or a custom list) says so first."""
    added, removed = len(change.add), len(change.remove)
    counts = f"+{added:,} {_members(added)}, −{removed:,} {_members(removed)}"
    if change.custom_list:
        return f"(custom list{', new' if change.new_segment else ''}; {counts})"
    return f"(new segment; {counts})" if change.new_segment else f"({counts})"


def _members(count: int) -> str:
    return "member" if count == 1 else "members"


_DETAILS: dict[Action, Callable[[Any], str]] = {
    Action.CREATE: _create_detail,
    Action.REPLACE: _replace_detail,
    Action.STOP: _stop_detail,
    Action.REPAIR: _repair_detail,
    Action.UPLOAD: _upload_detail,
    Action.AUDIENCE: _audience_detail,
}


def live_detail(change: Change) -> str:
    """What the change does to live campaigns: ``(stops 17 pending, then creates)``."""
    return _DETAILS[change.action](change)


def field_diff(change: Change) -> tuple[tuple[FieldChange, ...], frozenset[str]]:
    """A create's (or a replace's) fields, and those that force the replace; none for the
    other changes."""
    if not isinstance(change, Create):
        return (), frozenset()
    return change.fields, frozenset(change.forces)


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
    lines: list[str] = []
    if not isinstance(change, Create):
        return lines
    if isinstance(change, Replace) and not change.before_known:
        lines.append(BEFORE_UNKNOWN)
    if change.estimate is not None:
        lines.append(reach(change.estimate))
    return lines


def triggers_heading(report: TriggerReport) -> str:
    return f"Triggers (rendered with their fixtures; compared with {report.base})"


def trigger_detail(change: TriggerChange, base: str) -> str:
    """``(1 of 2 fixtures render differently)``, ``(new since origin/main)``, …"""
    if change.status is Status.ADDED:
        return f"(new since {base})"
    if change.status is Status.REMOVED:
        return f"(removed since {base})"
    n, m = len(change.fixtures), change.total
    return f"({n} of {m} fixture{'s render' if m != 1 else ' renders'} differently)"


def fixture_detail(fixture: FixtureDiff, base: str) -> str:
    """``(new since origin/main)`` for a fixture on one side only; empty for a changed one."""
    return {Status.ADDED: f"(new since {base})", Status.REMOVED: f"(removed since {base})"}.get(
        fixture.status, ""
    )


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
    if isinstance(change, Upload):
        title += f" {live_detail(change)}"
    else:
        title += f"  {json.dumps(change.name, ensure_ascii=False)}"
        if detail := live_detail(change):
            title += f"  {detail}"
    if change.gated:
        title += f"  {GATED}"
    lines = [f"  {title}", f"      {pen('dim', '# ' + change.reason)}"]
    if isinstance(change, Upload):
        lines.append(f"      file: {change.name}")
    if isinstance(change, AudienceUpdate):
        count = f"{change.members:,} {_members(change.members)}"
        lines.append(
            f"      list: {change.segment!r}, uploaded whole ({count})"
            if change.custom_list
            else f"      segment: {change.segment} ({count} declared)"
        )
    lines += [f"      {note}" for note in change_notes(change)]
    fields, forces = field_diff(change)
    for field in fields:
        lines += [f"      {line}" for line in _field(pen, field, field.path in forces)]
    return lines


def _trigger(pen: Pen, change: TriggerChange, base: str) -> list[str]:
    symbol = pen(change.symbol, change.symbol)
    lines = [f"  {symbol} trigger {change.key}  {trigger_detail(change, base)}"]
    for fixture in change.fixtures:
        if fixture.status is not Status.CHANGED:
            mark = SYMBOLS_OF[fixture.status]
            detail = fixture_detail(fixture, base)
            lines.append(f"      {pen(mark, mark)} fixture {fixture.fixture} {detail}")
            continue
        lines.append(f"      fixture {fixture.fixture}:")
        lines += [f"          {_diff_line(pen, line)}" for line in fixture.diff]
    return lines


def _triggers(pen: Pen, report: TriggerReport) -> list[str]:
    if not report.changes:
        return []
    lines = [pen("bold", triggers_heading(report))]
    for change in report.changes:
        lines += _trigger(pen, change, report.base)
    return ["\n".join(lines)]


def _timeline(pen: Pen, timeline: Timeline) -> list[str]:
    """The steps as aligned columns, the symbol right-aligned under the changes' symbols."""
    rows = timeline_rows(timeline)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        symbol = row[0].rjust(widths[0])
        cells = "  ".join(cell.ljust(w) for cell, w in zip(row[1:], widths[1:], strict=True))
        line = f"  {pen(row[0], symbol) if row[0] else symbol} {cells}".rstrip()
        lines.append(pen("dim", line) if number == 0 else line)
    return [*lines, ""]


def _note(pen: Pen, note: Note) -> str:
    return f"  {pen('!', '!')} {note.key}: {note.message}"


def render_text(plan: Plan, *, color: bool = False) -> str:
    """The plan as ``ctflow plan`` prints it; the last line is ``plan.summary()``."""
    pen = _pen(color)
    blocks = ["\n".join(filter(None, [header(plan), targets_line(plan)]))]
    for title, changes in groups(plan):
        lines = [pen("bold", title)]
        if timeline := timeline_of(plan, changes):
            lines += _timeline(pen, timeline)
        for change in changes:
            lines += _change(pen, change)
        blocks.append("\n".join(lines))
    if plan.triggers is not None:
        blocks += _triggers(pen, plan.triggers)
    if plan.notes:
        blocks.append("\n".join([pen("bold", "Warnings"), *(_note(pen, n) for n in plan.notes)]))
    if cost := cost_line(plan):
        blocks.append(cost)
    blocks.append(pen("bold", plan.summary()))
    return "\n\n".join(blocks) + "\n"
