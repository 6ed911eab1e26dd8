"""The Markdown of a Plan for a pull-request comment or ``$GITHUB_STEP_SUMMARY``: full field
diffs when they fit in ``limit`` characters, else a table of the changes. Pure: standard
library and ``ctflow.plan`` only."""

from __future__ import annotations

import html
import re

from ctflow.plan.diff import is_long, text_diff
from ctflow.plan.model import Action, Change, FieldChange, Plan, Timeline
from ctflow.plan.render_text import (
    FORCES,
    change_notes,
    cost_line,
    field_diff,
    first_lines,
    fixture_detail,
    groups,
    live_detail,
    show,
    targets_line,
    timeline_of,
    timeline_rows,
    trigger_detail,
    triggers_heading,
)
from ctflow.plan.triggerdiff import Status, TriggerChange, TriggerReport

MORE_CHANGES = "… and {n} more changes (run `ctflow plan` locally for the details)"
TOO_LONG = "The full plan is too long to show here; the changes:"
TABLE_HEAD = "| action | key | reason |\n|---|---|---|"
_STOPS = (Action.STOP, Action.REPLACE, Action.REPAIR)


def escape(text: str) -> str:
    """Free text safe in Markdown paragraphs and table cells (no HTML, no column breaks)."""
    text = " ".join(text.splitlines())
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _fence(lines: list[str]) -> str:
    """A ``diff`` code block whose fence is longer than any run of backticks inside it."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([f"{fence}diff", *lines, fence])


def _field(field: FieldChange, forced: bool) -> list[str]:
    """Diff lines of one field: ``-``/``+`` prefixed so GitHub colours them."""
    path, old, new = field.path, field.before, field.after
    mark = FORCES if forced else ""
    if isinstance(old, str) and isinstance(new, str) and (is_long(old) or is_long(new)):
        return [f"~ {path}:{mark}", *text_diff(old, new, path=path)]
    if old is not None and new is not None:
        return [f"- {path}: {show(path, old)}", f"+ {path}: {show(path, new)}{mark}"]
    symbol, value = ("+", new) if old is None else ("-", old)
    if not is_long(value):
        return [f"{symbol} {path}: {show(path, value)}{mark}"]
    shown, more = first_lines(value)
    lines = [f"{symbol} {path}:{mark}", *(f"{symbol}     {line}" for line in shown)]
    return lines + ([f"      … ({more} more lines)"] if more else [])


def _change(change: Change) -> str:
    title = f"**`{change.symbol}` {change.action.value} `{change.key}`** {escape(change.name)}"
    if detail := live_detail(change):
        title += f" {escape(detail)}"
    if change.gated:
        title += " · **gated: needs `--allow-stop`**"
    text = "<br>".join([title, escape(change.reason), *map(escape, change_notes(change))])
    fields, forces = field_diff(change)
    lines = [line for f in fields for line in _field(f, f.path in forces)]
    return f"{text}\n\n{_fence(lines)}" if lines else text


def _timeline(timeline: Timeline | None) -> list[str]:
    """A journey's steps as a table (the first column: the change's symbol)."""
    if timeline is None:
        return []
    head, *rows = timeline_rows(timeline)
    lines = ["| " + " | ".join(escape(cell) for cell in head) + " |", "|---" * len(head) + "|"]
    for row in rows:
        symbol = f"`{row[0]}`" if row[0] else ""
        lines.append("| " + " | ".join([symbol, *(escape(cell) for cell in row[1:])]) + " |")
    return ["\n".join(lines)]


def _group(title: str, changes: list[Change], timeline: Timeline | None = None) -> str:
    count = f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
    summary = f"<details><summary>{html.escape(title)} ({count})</summary>"
    parts = [*_timeline(timeline), *map(_change, changes)]
    return "\n\n".join([summary, *parts, "</details>"])


def _trigger(change: TriggerChange, base: str, *, diffs: bool) -> str:
    """A trigger whose renders changed: a ``<details>`` with a diff per fixture (with
    ``diffs``); an added or removed one, or any without ``diffs``: one line."""
    title = f"<code>{change.symbol}</code> trigger <code>{html.escape(change.key)}</code> "
    title += html.escape(trigger_detail(change, base))
    if change.status is not Status.CHANGED or not diffs:
        return title
    parts = [f"<details><summary>{title}</summary>"]
    for fixture in change.fixtures:
        name = f"fixture `{escape(fixture.fixture)}`"
        if fixture.status is Status.CHANGED:
            parts += [f"{name}:", _fence(list(fixture.diff))]
        else:
            parts.append(
                f"`{'+' if fixture.status is Status.ADDED else '-'}` {name} "
                + escape(fixture_detail(fixture, base))
            )
    return "\n\n".join([*parts, "</details>"])


def _triggers(report: TriggerReport | None, *, diffs: bool = True) -> str:
    """The triggers section; empty when nothing renders differently."""
    if report is None or not report.changes:
        return ""
    heading = f"#### {escape(triggers_heading(report))}"
    items = [_trigger(c, report.base, diffs=diffs) for c in report.changes]
    return "\n\n".join([heading, *items])


def _banner(plan: Plan) -> str | None:
    if not any(c.action in _STOPS for c in plan.changes):
        return None
    stops = sum(len(c.stop) for c in plan.changes)
    gated = sum(len(c.stop) for c in plan.gated)
    campaigns = "campaign" if stops == 1 else "campaigns"
    gate = (
        f"{gated} of these stops {'is' if gated == 1 else 'are'} gated: "
        "`ctflow apply` needs `--allow-stop`."
        if gated
        else "No stop is gated."
    )
    return f"> [!WARNING]\n> This plan stops {stops} live {campaigns}. {gate}"


def _head(plan: Plan) -> list[str]:
    """Heading, summary, what was targeted and the stop banner: kept in every form."""
    blocks = [
        f"### ctflow plan: {escape(plan.project)} → {escape(plan.environment)}",
        f"**{escape(plan.summary())}**",
    ]
    if cost := cost_line(plan):
        blocks.append(escape(cost))
    if line := targets_line(plan):
        blocks.append(escape(line))
    if plan.journal:
        blocks.append(f"Journal: `{escape(plan.journal)}`")
    if banner := _banner(plan):
        blocks.append(banner)
    return blocks


def _warnings(plan: Plan) -> list[str]:
    return [f"- `{n.key}`: {escape(n.message)}" for n in plan.notes]


def _join(blocks: list[str]) -> str:
    return "\n\n".join(b for b in blocks if b) + "\n"


def _fit(rows: list[str], budget: int, more: str) -> tuple[list[str], str | None]:
    """The rows that fit in ``budget`` characters (each costs its length + 1) and, when some
    are left out, ``more`` saying how many (it costs its length + 2)."""
    if not rows or sum(len(row) + 1 for row in rows) <= budget:
        return rows, None
    budget -= len(more.format(n=len(rows))) + 2
    kept: list[str] = []
    for row in rows:
        budget -= len(row) + 1
        if budget < 0:
            break
        kept.append(row)
    return kept, more.format(n=len(rows) - len(kept))


def _row(change: Change) -> str:
    action = f"`{change.symbol}` {change.action.value}{' (gated)' if change.gated else ''}"
    return f"| {action} | `{change.key}` | {escape(change.reason)} |"


def _degraded(plan: Plan, limit: int) -> str:
    """Heading, summary, banner and warnings, then a table of as many changes as fit."""
    head = _head(plan)
    rows = [_row(c) for c in plan.changes]
    spare = limit - len(_join([*head, *([TOO_LONG, TABLE_HEAD] if rows else [])]))
    room = len(MORE_CHANGES.format(n=len(rows))) + 2 if rows else 0
    notes, more_notes = _fit(_warnings(plan), spare - room - 1, "- … and {n} more warnings")
    warnings = "\n".join([*notes, *([more_notes] if more_notes else [])])
    spare -= len(warnings) + 2 if warnings else 0
    shown, more_changes = _fit(rows, spare, MORE_CHANGES)
    table = [TOO_LONG, "\n".join([TABLE_HEAD, *shown]), more_changes or ""] if rows else []
    return _join([*head, warnings, *table])[:limit]


def render_markdown(plan: Plan, *, limit: int = 65_536) -> str:
    """The plan as Markdown, never longer than ``limit`` characters: in full; else with the
    triggers' titles but not their diffs; else as :func:`_degraded`."""
    body = [
        *_head(plan),
        "\n".join(_warnings(plan)),
        *(_group(title, changes, timeline_of(plan, changes)) for title, changes in groups(plan)),
    ]
    for diffs in (True, False):
        text = _join([*body, _triggers(plan.triggers, diffs=diffs)])
        if len(text) <= limit:
            return text
    return _degraded(plan, limit)
