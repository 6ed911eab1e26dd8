"""The JSON plan (docs/plan-format.md): printed by ``ctflow plan --format json``, and the saved
plan file of ``--out FILE`` that ``ctflow apply`` reads back (:func:`to_dict` and its inverse
:func:`from_dict`). Pure: standard library and ``ctflow.plan`` only."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from ctflow.plan import triggerdiff
from ctflow.plan.cost import plan_cost
from ctflow.plan.model import (
    FORMAT_VERSION,
    Action,
    AudienceUpdate,
    Change,
    Create,
    DatasetFile,
    FieldChange,
    LiveRef,
    Note,
    NoteKind,
    Plan,
    Repair,
    Replace,
    Status,
    StepState,
    Stop,
    Timeline,
    TimelineStep,
    Upload,
)


def render_json(plan: Plan) -> str:
    """The printed plan: no create bodies; sensitive field values are already masked."""
    return json.dumps(to_dict(plan, payloads=False), indent=2, ensure_ascii=False) + "\n"


def save(plan: Plan) -> str:
    """The saved plan file: the printed plan plus each change's exact create body."""
    return json.dumps(to_dict(plan, payloads=True), indent=2, ensure_ascii=False) + "\n"


def load(text: str) -> Plan:
    """A saved plan; :class:`PlanFormatError` when the text is not one this ctflow reads."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFormatError(
            f"not a ctflow plan: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return from_dict(raw)


def _live(ref: LiveRef) -> dict[str, Any]:
    return {
        "id": ref.id,
        "name": ref.name,
        "status": ref.status.value,
        "hash": ref.hash,
        "scheduled_on": ref.scheduled_on,
    }


def _change(change: Change, *, payloads: bool) -> dict[str, Any]:
    """Every kind has every key, in one order; what a kind does not carry is empty."""
    out: dict[str, Any] = {
        "action": change.action.value,
        "key": change.key,
        "journey": change.journey,
        "name": change.name,
        "reason": change.reason,
        "gated": change.gated,
        "hash": None,
        "stop": [_live(r) for r in change.stop],
        "keep": None,
        "forces": [],
        "before_known": False,
        "fields": [],
        "estimate": None,
    }
    if payloads:
        out |= {"payload": None, "spec": None}
    out |= _CARRIED[type(change)](change, payloads)
    return out


def _create(change: Create, payloads: bool) -> dict[str, Any]:
    carried: dict[str, Any] = {
        "hash": change.hash,
        "forces": list(change.forces),
        "before_known": change.before_known,
        "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in change.fields],
        "estimate": dict(change.estimate) if change.estimate is not None else None,
    }
    if payloads:
        carried["payload"] = dict(change.payload) if change.payload is not None else None
        carried["spec"] = dict(change.spec) if change.spec is not None else None
    return carried


def _repair(change: Repair, payloads: bool) -> dict[str, Any]:
    return {"keep": _live(change.keep)}


def _upload(change: Upload, payloads: bool) -> dict[str, Any]:
    """An upload's payload is small: always there."""
    return {"hash": change.hash, "payload": asdict(change.dataset)}


def _audience(change: AudienceUpdate, payloads: bool) -> dict[str, Any]:
    """Counts always; the members added and removed in a saved plan (apply sends those)."""
    carried: dict[str, Any] = {
        "hash": change.hash,
        "segment": change.segment,
        "new_segment": change.new_segment,
        "members": {
            "declared": change.members,
            "add": len(change.add),
            "remove": len(change.remove),
        },
        "source": change.source,
        "notify": change.notify,
    }
    if payloads:
        carried["payload"] = {"add": list(change.add), "remove": list(change.remove)}
    return carried


_CARRIED: dict[type[Change], Callable[[Any, bool], dict[str, Any]]] = {
    Create: _create,
    Replace: _create,
    Stop: lambda change, payloads: {},
    Repair: _repair,
    Upload: _upload,
    AudienceUpdate: _audience,
}
"""What each kind of change adds to the keys every change has."""


def _note(note: Note) -> dict[str, Any]:
    return {
        "kind": note.kind.value,
        "key": note.key,
        "journey": note.journey,
        "name": note.name,
        "message": note.message,
        "live": [_live(r) for r in note.live],
    }


def _timeline(timeline: Timeline) -> dict[str, Any]:
    return {
        "journey": timeline.journey,
        "timezone": timeline.timezone,
        "steps": [
            {
                "key": step.key,
                "step": step.step,
                "after": step.after,
                "sends_at": step.sends_at,
                "channel": step.channel,
                "state": step.state.value,
                "action": step.action.value if step.action is not None else None,
            }
            for step in timeline.steps
        ],
    }


def _timeline_from(raw: Mapping[str, Any]) -> Timeline:
    steps = tuple(
        TimelineStep(
            key=s["key"],
            step=s["step"],
            after=s.get("after"),
            sends_at=s.get("sends_at"),
            channel=s.get("channel"),
            state=StepState(s["state"]),
            action=Action(s["action"]) if s.get("action") else None,
        )
        for s in raw["steps"]
    )
    return Timeline(journey=raw["journey"], timezone=raw["timezone"], steps=steps)


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
        "cost": plan_cost(plan.changes).to_json(),
        "changes": [_change(c, payloads=payloads) for c in plan.changes],
        "notes": [_note(n) for n in plan.notes],
        "unchanged": list(plan.unchanged),
        "timelines": [_timeline(t) for t in plan.timelines],
        "triggers": triggerdiff.to_dict(plan.triggers) if plan.triggers is not None else None,
        **({"extra": dict(plan.extra)} if plan.extra else {}),
        **({"journal": plan.journal} if plan.journal else {}),
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


def _change_from(raw: Mapping[str, Any]) -> Change:
    action = Action(raw["action"])
    common: dict[str, Any] = {
        "key": raw["key"],
        "journey": raw.get("journey"),
        "name": raw["name"],
        "reason": raw["reason"],
        "gated": bool(raw.get("gated")),
        "stop": tuple(_ref(r) for r in raw.get("stop") or ()),
    }
    if action is Action.STOP:
        return Stop(**common)
    if action is Action.REPAIR:
        return Repair(**common, keep=_ref(raw["keep"]))
    if action is Action.AUDIENCE:
        members, payload = raw["members"], raw.get("payload") or {}
        return AudienceUpdate(
            **common,
            hash=str(raw.get("hash") or ""),
            segment=str(raw["segment"]),
            new_segment=bool(raw["new_segment"]),
            members=int(members["declared"]),
            add=tuple(payload.get("add") or ()),
            remove=tuple(payload.get("remove") or ()),
            source=str(raw.get("source") or "api_segment"),
            notify=raw.get("notify"),
        )
    if action is Action.UPLOAD:
        return Upload(
            **common, hash=str(raw.get("hash") or ""), dataset=DatasetFile(**raw["payload"])
        )
    kind = Replace if action is Action.REPLACE else Create
    return kind(
        **common,
        hash=str(raw.get("hash") or ""),  # a plan edited without one is refused at apply
        forces=tuple(raw.get("forces") or ()),
        before_known=bool(raw.get("before_known")),
        fields=tuple(
            FieldChange(f["path"], f.get("before"), f.get("after")) for f in raw.get("fields") or ()
        ),
        estimate=raw.get("estimate"),
        payload=raw.get("payload"),
        spec=raw.get("spec"),
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
        changes = tuple(_change_from(c) for c in raw["changes"])
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
            journal=str(raw.get("journal") or ""),
            triggers=triggerdiff.from_dict(raw["triggers"]) if raw.get("triggers") else None,
            timelines=tuple(_timeline_from(t) for t in raw.get("timelines") or ()),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFormatError(f"not a ctflow plan: {type(exc).__name__}: {exc}") from None
