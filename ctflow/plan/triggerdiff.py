"""How each trigger's rendered messages changed since a base revision, as plan data: the
dataclasses, their JSON, and the pure comparison of two sets of renders. Information only: apply
never acts on them. Pure: standard library only."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

WORKING_TREE = "working tree"

Renders = Mapping[str, Mapping[str, Sequence[str]]]
"""Trigger key → fixture name (in declaration order) → the lines of its rendered request."""


class Status(StrEnum):
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"


SYMBOLS = {Status.CHANGED: "~", Status.ADDED: "+", Status.REMOVED: "-"}


@dataclass(frozen=True)
class FixtureDiff:
    """One fixture whose render differs: ``diff`` is a unified diff (for ``changed``; empty for a
    fixture that exists on one side only)."""

    fixture: str
    status: Status
    diff: tuple[str, ...] = ()


@dataclass(frozen=True)
class TriggerChange:
    """A trigger added or removed since the base, or one whose renders differ there.
    ``fixtures`` are the fixtures that differ, of ``total`` fixtures on either side."""

    key: str
    status: Status
    fixtures: tuple[FixtureDiff, ...] = ()
    total: int = 0

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.status]


@dataclass(frozen=True)
class TriggerReport:
    """Every trigger compared with revision ``base``: what changed, and the keys that did not."""

    base: str
    changes: tuple[TriggerChange, ...] = ()
    unchanged: tuple[str, ...] = ()


def compare(old: Renders, new: Renders, base: str) -> TriggerReport:
    """The triggers of ``new`` (the working tree) against those of ``old`` (at ``base``), by
    key; fixtures of a changed trigger in ``new``'s order, then those only ``old`` has."""
    changes: list[TriggerChange] = []
    unchanged: list[str] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in old:
            changes.append(TriggerChange(key, Status.ADDED, total=len(new[key])))
        elif key not in new:
            changes.append(TriggerChange(key, Status.REMOVED, total=len(old[key])))
        elif differing := _fixtures(key, old[key], new[key], base):
            total = len(old[key].keys() | new[key].keys())
            changes.append(TriggerChange(key, Status.CHANGED, differing, total))
        else:
            unchanged.append(key)
    return TriggerReport(base, tuple(changes), tuple(unchanged))


def _fixtures(
    key: str, old: Mapping[str, Sequence[str]], new: Mapping[str, Sequence[str]], base: str
) -> tuple[FixtureDiff, ...]:
    found: list[FixtureDiff] = []
    for name, lines in new.items():
        if name not in old:
            found.append(FixtureDiff(name, Status.ADDED))
        elif list(old[name]) != list(lines):
            diff = difflib.unified_diff(
                list(old[name]),
                list(lines),
                fromfile=f"{key} {name} ({base})",
                tofile=f"{key} {name} ({WORKING_TREE})",
                n=2,
                lineterm="",
            )
            found.append(FixtureDiff(name, Status.CHANGED, tuple(diff)))
    found += [FixtureDiff(name, Status.REMOVED) for name in old if name not in new]
    return tuple(found)


# --- JSON ------------------------------------------------------------------------------------


def to_dict(report: TriggerReport) -> dict[str, Any]:
    return {
        "base": report.base,
        "changes": [
            {
                "key": change.key,
                "status": change.status.value,
                "total": change.total,
                "fixtures": [
                    {"fixture": f.fixture, "status": f.status.value, "diff": list(f.diff)}
                    for f in change.fixtures
                ],
            }
            for change in report.changes
        ],
        "unchanged": list(report.unchanged),
    }


def from_dict(raw: Mapping[str, Any]) -> TriggerReport:
    """The inverse of :func:`to_dict`; ``KeyError``/``TypeError``/``ValueError`` when malformed."""
    return TriggerReport(
        base=str(raw["base"]),
        changes=tuple(
            TriggerChange(
                key=c["key"],
                status=Status(c["status"]),
                total=int(c.get("total") or 0),
                fixtures=tuple(
                    FixtureDiff(f["fixture"], Status(f["status"]), tuple(f.get("diff") or ()))
                    for f in c.get("fixtures") or ()
                ),
            )
            for c in raw["changes"]
        ),
        unchanged=tuple(raw.get("unchanged") or ()),
    )
