"""The Plan: what ``ctflow plan`` found and ``ctflow apply`` will do, as plain data.

The planner builds it, the renderers (text, Markdown, JSON) print it and the applier executes
it; a saved plan is its JSON form (:func:`to_dict` / :func:`from_dict`). Pure: standard library
and ``ctflow.plan.triggerdiff`` only, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ctflow.plan import triggerdiff
from ctflow.plan.triggerdiff import TriggerReport

FORMAT_VERSION = 1
"""Bumped when a key of the JSON plan changes meaning or disappears (new keys do not bump it)."""


class Action(StrEnum):
    CREATE = "create"
    REPLACE = "replace"
    STOP = "stop"
    REPAIR = "repair"
    UPLOAD = "upload"


SYMBOLS = {
    Action.CREATE: "+",
    Action.REPLACE: "-/+",
    Action.STOP: "-",
    Action.REPAIR: "~",
    Action.UPLOAD: "+",
}


class Status(StrEnum):
    """A live campaign's state, normalised from CleverTap's words (see ``live.normalise``)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"


ACTIVE = (Status.PENDING, Status.RUNNING)
"""The statuses of a campaign that has yet to send, or is sending: what a stop acts on."""


@dataclass(frozen=True)
class LiveRef:
    """One live campaign of ours, as listed."""

    id: int
    name: str
    status: Status
    hash: str
    scheduled_on: str | None = None


@dataclass(frozen=True)
class FieldChange:
    """One field of the create body: ``before`` is ``None`` when added (or unknown), ``after``
    is ``None`` when removed. ``path`` is dotted (``content.title``, ``labels``)."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """One action on one key.

    ``stop`` lists the live campaigns this change stops (the old version of a replace, the
    campaign of a stop, the extra copies of a repair); ``keep`` is the copy a repair keeps.
    ``payload`` is the exact create body (marker in its name) for create and replace; ``spec``
    is the version the hash covers (relative audience windows, no marker), which the journal
    keeps for later diffs. ``fields``
    is the per-field diff against the last applied version; ``before_known`` says whether that
    version's spec was in the journal (when not, ``fields`` lists the new values only).
    ``forces`` names the fields whose change forces a replace.

    An ``upload`` (a declared Dataset) has its file as ``name``, the id of its content as
    ``hash`` and, in ``payload``, ``file``, ``kind``, ``rows``, ``batches`` and
    ``accepted_batches`` (already accepted by an earlier, interrupted upload).
    """

    action: Action
    key: str
    name: str
    reason: str
    journey: str | None = None
    hash: str | None = None
    stop: tuple[LiveRef, ...] = ()
    keep: LiveRef | None = None
    payload: Mapping[str, Any] | None = None
    spec: Mapping[str, Any] | None = None
    fields: tuple[FieldChange, ...] = ()
    before_known: bool = False
    forces: tuple[str, ...] = ()
    gated: bool = False
    estimate: Mapping[str, int] | None = None

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.action]

    @property
    def creates(self) -> bool:
        return self.action in (Action.CREATE, Action.REPLACE)


class NoteKind(StrEnum):
    ALREADY_SENT = "already_sent"
    DRIFT = "drift"
    PAST_SCHEDULE = "past_schedule"


@dataclass(frozen=True)
class Note:
    """A warning that takes no action: a version already sent, a campaign stopped outside
    ctflow."""

    kind: NoteKind
    key: str
    name: str
    message: str
    journey: str | None = None
    live: tuple[LiveRef, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Everything one ``ctflow plan`` decided, in key order (journeys' steps together)."""

    project: str
    environment: str
    sandbox: bool
    created_at: str
    window: tuple[str, str]
    fingerprint: str
    changes: tuple[Change, ...] = ()
    notes: tuple[Note, ...] = ()
    unchanged: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    format_version: int = FORMAT_VERSION
    ctflow_version: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    triggers: TriggerReport | None = None
    """The triggers' rendered messages compared with a base revision (information, never an
    action: not in ``changes``, the counts or ``has_changes``); ``None`` when not compared."""

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def gated(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.gated)

    def counts(self) -> dict[str, int]:
        """For the summary line: repairs stop campaigns, so they count as stops."""
        counts = {"create": 0, "replace": 0, "stop": 0, "upload": 0}
        for change in self.changes:
            name = "stop" if change.action is Action.REPAIR else change.action.value
            counts[name] += 1
        return counts

    def summary(self) -> str:
        if not self.changes and self.notes:
            return f"No changes to make; {len(self.notes)} warning(s) above need a look."
        if not self.changes:
            return "No changes. The live campaigns match the declarations."
        n = self.counts()
        uploads = f", {n['upload']} to upload" if n["upload"] else ""
        return (
            f"Plan: {n['create']} to create, {n['replace']} to replace, {n['stop']} to stop"
            f"{uploads}."
        )


# --- JSON ------------------------------------------------------------------------------------


def _live(ref: LiveRef) -> dict[str, Any]:
    return {
        "id": ref.id,
        "name": ref.name,
        "status": ref.status.value,
        "hash": ref.hash,
        "scheduled_on": ref.scheduled_on,
    }


def _change(change: Change, *, payloads: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": change.action.value,
        "key": change.key,
        "journey": change.journey,
        "name": change.name,
        "reason": change.reason,
        "gated": change.gated,
        "hash": change.hash,
        "stop": [_live(r) for r in change.stop],
        "keep": _live(change.keep) if change.keep else None,
        "forces": list(change.forces),
        "before_known": change.before_known,
        "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in change.fields],
        "estimate": dict(change.estimate) if change.estimate is not None else None,
    }
    if payloads or change.action is Action.UPLOAD:  # an upload's payload is small: always
        out["payload"] = dict(change.payload) if change.payload is not None else None
    if payloads:
        out["spec"] = dict(change.spec) if change.spec is not None else None
    return out


def _note(note: Note) -> dict[str, Any]:
    return {
        "kind": note.kind.value,
        "key": note.key,
        "journey": note.journey,
        "name": note.name,
        "message": note.message,
        "live": [_live(r) for r in note.live],
    }


def to_dict(plan: Plan, *, payloads: bool = False) -> dict[str, Any]:
    """The JSON plan (docs/plan-format.md), keys in a fixed order. ``payloads`` adds each
    create body: a saved plan needs them, the printed plan leaves them out."""
    return {
        "format_version": plan.format_version,
        "ctflow_version": plan.ctflow_version,
        "project": plan.project,
        "environment": plan.environment,
        "sandbox": plan.sandbox,
        "created_at": plan.created_at,
        "window": {"from": plan.window[0], "to": plan.window[1]},
        "fingerprint": plan.fingerprint,
        "targets": list(plan.targets),
        "summary": {**plan.counts(), "text": plan.summary()},
        "changes": [_change(c, payloads=payloads) for c in plan.changes],
        "notes": [_note(n) for n in plan.notes],
        "unchanged": list(plan.unchanged),
        "triggers": triggerdiff.to_dict(plan.triggers) if plan.triggers is not None else None,
        **({"extra": dict(plan.extra)} if plan.extra else {}),
    }


class PlanFormatError(ValueError):
    """A JSON plan this version of ctflow cannot read."""


def _ref(raw: Mapping[str, Any]) -> LiveRef:
    return LiveRef(
        id=int(raw["id"]),
        name=str(raw["name"]),
        status=Status(raw["status"]),
        hash=str(raw["hash"]),
        scheduled_on=raw.get("scheduled_on"),
    )


def from_dict(raw: Mapping[str, Any]) -> Plan:
    """The inverse of :func:`to_dict`; :class:`PlanFormatError` when it is not a plan."""
    if not isinstance(raw, Mapping):
        raise PlanFormatError("not a ctflow plan (expected a JSON object)")
    version = raw.get("format_version")
    if version is None:
        raise PlanFormatError("not a ctflow plan (no format_version): save one with --out FILE")
    if version != FORMAT_VERSION:
        raise PlanFormatError(
            f"plan format_version {version!r}; this ctflow reads format_version {FORMAT_VERSION}"
        )
    try:
        changes = tuple(
            Change(
                action=Action(c["action"]),
                key=c["key"],
                journey=c.get("journey"),
                name=c["name"],
                reason=c["reason"],
                gated=bool(c.get("gated")),
                hash=c.get("hash"),
                stop=tuple(_ref(r) for r in c.get("stop") or ()),
                keep=_ref(c["keep"]) if c.get("keep") else None,
                forces=tuple(c.get("forces") or ()),
                before_known=bool(c.get("before_known")),
                fields=tuple(
                    FieldChange(f["path"], f.get("before"), f.get("after"))
                    for f in c.get("fields") or ()
                ),
                estimate=c.get("estimate"),
                payload=c.get("payload"),
                spec=c.get("spec"),
            )
            for c in raw["changes"]
        )
        notes = tuple(
            Note(
                kind=NoteKind(n["kind"]),
                key=n["key"],
                journey=n.get("journey"),
                name=n["name"],
                message=n["message"],
                live=tuple(_ref(r) for r in n.get("live") or ()),
            )
            for n in raw.get("notes") or ()
        )
        window = raw["window"]
        return Plan(
            project=raw["project"],
            environment=raw["environment"],
            sandbox=bool(raw["sandbox"]),
            created_at=raw["created_at"],
            window=(window["from"], window["to"]),
            fingerprint=raw["fingerprint"],
            changes=changes,
            notes=notes,
            unchanged=tuple(raw.get("unchanged") or ()),
            targets=tuple(raw.get("targets") or ()),
            format_version=version,
            ctflow_version=raw.get("ctflow_version", ""),
            extra=raw.get("extra") or {},
            triggers=triggerdiff.from_dict(raw["triggers"]) if raw.get("triggers") else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFormatError(f"not a ctflow plan: {type(exc).__name__}: {exc}") from None
