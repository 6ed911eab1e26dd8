"""The planner: (desired, live, the journal's applied specs) → Plan, and the kill switch's plan
(:func:`stop_everything`). Pure; implements every row of DESIGN.md's plan-semantics table.

Per key, looking only at campaigns that carry this project's marker:

- nothing live → create;
- the same version pending or running → no change (extra copies: repair, keep the oldest);
- another version pending or running → replace (stop, then create), gated when running;
- declared no more, or ``enabled: false`` → stop what is pending or running, gated when running;
- only sent (completed) versions → no change when it is this version, else a warning;
- only stopped versions → a drift warning, unless ctflow stopped it (a replace or disable cut
  short, a re-enable): then create. ``--replace KEY`` re-creates in every case.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal

from ctflow.plan.desired import Desired
from ctflow.plan.diff import field_changes
from ctflow.plan.live import LiveState
from ctflow.plan.marker import display_name
from ctflow.plan.model import (
    ACTIVE,
    Change,
    Create,
    LiveRef,
    Note,
    NoteKind,
    Plan,
    Repair,
    Replace,
    Status,
    Stop,
)
from ctflow.plan.timeline import timelines

UNCHANGED: Final = "unchanged"
"""A key whose live campaign is the declared version (or that version was sent)."""
Outcome = Change | Note | Literal["unchanged"] | None
"""``None``: nothing to do and nothing to report (removed, and nothing live)."""
Specs = Mapping[tuple[str, str], Mapping[str, Any]]


@dataclass(frozen=True)
class Context:
    """What the planner reads besides desired and live: the journal and the command line."""

    project: str
    environment: str
    sandbox: bool
    created_at: str
    specs: Specs
    stopped_by_us: Collection[int] = ()
    killed: Collection[int] = ()
    """Ids stopped by ``ctflow stop --all``: they stay stopped, but the warning says who."""
    targets: tuple[str, ...] = ()
    replace: Collection[str] = ()
    ctflow_version: str = ""
    timezone: str = "UTC"
    """The account's: what a journey's timeline gives its send times in."""


def targeted(key: str, targets: Sequence[str]) -> bool:
    """Whether ``--target`` picks ``key``: itself, or a journey's key picks all its steps."""
    return not targets or any(key == t or key.startswith(t + ".") for t in targets)


def make_plan(desired: Sequence[Desired], live: LiveState, ctx: Context) -> Plan:
    wanted = {d.key: d for d in desired}
    changes: list[Change] = []
    notes: list[Note] = []
    unchanged: list[str] = []
    planned: list[str] = []
    for key in sorted(set(wanted) | set(live.by_key), key=lambda k: _order(k, wanted.get(k))):
        if not targeted(key, ctx.targets):
            continue
        planned.append(key)
        refs = live.by_key.get(key, ())
        outcome = _plan_key(key, wanted.get(key), refs, ctx)
        if outcome == UNCHANGED:
            unchanged.append(key)
        elif isinstance(outcome, Note):
            notes.append(outcome)
        elif isinstance(outcome, Change):
            changes.append(outcome)
    journeys = timelines(desired, live, changes, notes, set(planned), ctx.timezone)
    return replace(_plan(live, ctx, changes, notes, unchanged), timelines=journeys)


def stop_everything(live: LiveState, ctx: Context) -> Plan:
    """The kill switch's plan: stop every pending or running campaign that carries the
    project's marker, whatever the declarations say (they may be broken)."""
    changes: list[Change] = []
    for key in sorted(live.by_key):
        active = [r for r in live.by_key[key] if r.status in ACTIVE]
        if active:
            name = display_name(active[-1].name)
            changes.append(Stop(key=key, name=name, reason="stop --all", stop=tuple(active)))
    return _plan(live, ctx, changes)


def _plan(
    live: LiveState,
    ctx: Context,
    changes: Sequence[Change],
    notes: Sequence[Note] = (),
    unchanged: Sequence[str] = (),
) -> Plan:
    return Plan(
        project=ctx.project,
        environment=ctx.environment,
        sandbox=ctx.sandbox,
        created_at=ctx.created_at,
        window=(live.window[0].isoformat(), live.window[1].isoformat()),
        fingerprint=live.fingerprint,
        changes=tuple(changes),
        notes=tuple(notes),
        unchanged=tuple(unchanged),
        targets=tuple(ctx.targets),
        ctflow_version=ctx.ctflow_version,
    )


def _order(key: str, want: Desired | None = None) -> tuple[str, int, str]:
    """Journeys' steps together, in the order declared (steps declared no more last), after
    the campaigns outside journeys."""
    journey, _, step = key.rpartition(".")
    place = want.step if want is not None and want.step is not None else 1 << 30
    return (journey, place, step)


def _journey(key: str, want: Desired | None) -> str | None:
    if want is not None:
        return want.journey
    journey, dot, _ = key.rpartition(".")
    return journey if dot else None


def _plan_key(key: str, want: Desired | None, refs: Sequence[LiveRef], ctx: Context) -> Outcome:
    """One key: which row of the table its declaration and its live campaigns fall in."""
    active = [r for r in refs if r.status in ACTIVE]
    if want is None or not want.enabled:
        return _retire(key, want, active)
    starts = _passed(want, ctx)
    current = any(r.hash == want.hash and r.status is not Status.STOPPED for r in refs)
    if starts is not None and not current:
        return _past_schedule(want, refs, starts)
    if ctx.replace and refs and targeted(key, tuple(ctx.replace)):
        return _forced(want, refs, active, ctx)
    if any(r.hash == want.hash for r in active):
        return _repair(want, active)
    if active:
        old = active[-1]
        reason = f"changed since the live version ({old.hash} → {want.hash})"
        return _create(want, ctx, reason, before=old, stop=active)
    return _no_active(key, want, refs, ctx)


def _retire(key: str, want: Desired | None, active: Sequence[LiveRef]) -> Stop | None:
    """Declared no more, or disabled: stop what is pending or running."""
    if not active:
        return None
    reason = "removed from the declarations" if want is None else "disabled (enabled: false)"
    name = want.name if want is not None else display_name(active[-1].name)
    return Stop(
        key=key,
        name=name,
        reason=reason,
        journey=_journey(key, want),
        stop=tuple(active),
        gated=_running(active),
    )


def _past_schedule(want: Desired, refs: Sequence[LiveRef], starts: datetime) -> Note:
    return Note(
        NoteKind.PAST_SCHEDULE,
        want.key,
        want.name,
        f"scheduled for {starts:%Y-%m-%d %H:%M %Z}, which has passed: CleverTap refuses to "
        "create it, so nothing live is touched; give it a future time, or remove it if it was "
        "sent",
        journey=want.journey,
        live=tuple(refs),
    )


def _forced(
    want: Desired, refs: Sequence[LiveRef], active: Sequence[LiveRef], ctx: Context
) -> Create:
    """``--replace KEY``: create it again, stopping what is live first."""
    if active:
        reason = f"--replace {want.key}: stops what is live and creates it again"
        return _create(want, ctx, reason, before=active[-1], stop=active)
    return _create(want, ctx, f"--replace {want.key}: creates it again", before=refs[-1])


def _repair(want: Desired, active: Sequence[LiveRef]) -> Repair | Literal["unchanged"]:
    """The declared version is live: keep one copy of it, stop the rest (or nothing to do)."""
    same = [r for r in active if r.hash == want.hash]
    # Keep the copy already sending, if one is: stopping it would cut a send in half.
    keep = next((r for r in same if r.status is Status.RUNNING), same[0])
    extras = [r for r in active if r is not keep]
    if not extras:
        return UNCHANGED
    copies = "copies of this version" if all(r.hash == want.hash for r in extras) else "versions"
    return Repair(
        key=want.key,
        name=want.name,
        reason=f"{len(active)} live {copies} under one key (a create whose answer was lost); "
        "keeps the running or else the oldest copy of this version",
        journey=want.journey,
        keep=keep,
        stop=tuple(extras),
        gated=any(r.status is Status.RUNNING and r.hash != want.hash for r in extras),
    )


def _no_active(key: str, want: Desired, refs: Sequence[LiveRef], ctx: Context) -> Outcome:
    completed = [r for r in refs if r.status is Status.COMPLETED]
    stopped = [r for r in refs if r.status is Status.STOPPED]
    if any(r.hash == want.hash for r in completed):
        return UNCHANGED
    ours = bool(stopped) and stopped[-1].id in ctx.stopped_by_us
    if ours and (not completed or stopped[-1].id > completed[-1].id):
        last = stopped[-1]
        reason = f"ctflow stopped the live version ({last.id}) earlier; creating it again"
        return _create(want, ctx, reason, before=last)
    if completed:
        last = completed[-1]
        return Note(
            NoteKind.ALREADY_SENT,
            key,
            want.name,
            f"already sent (campaign {last.id}, version {last.hash}, completed); give it a new "
            f"key to send again, or `--replace {key}`",
            journey=want.journey,
            live=tuple(completed),
        )
    if stopped:
        last = stopped[-1]
        who = "by `ctflow stop --all`" if last.id in ctx.killed else "outside ctflow"
        return Note(
            NoteKind.DRIFT,
            key,
            want.name,
            f"stopped {who} (campaign {last.id}); `--replace {key}` creates it again",
            journey=want.journey,
            live=tuple(stopped),
        )
    return _create(want, ctx, "not live yet", before=None)


def _create(
    want: Desired,
    ctx: Context,
    reason: str,
    *,
    before: LiveRef | None,
    stop: Sequence[LiveRef] = (),
) -> Create:
    """A create; a replace when it ``stop``s live versions first."""
    previous = ctx.specs.get((want.key, before.hash)) if before is not None else None
    fields = field_changes(previous, want.spec)
    if stop and want.payload.get("when") == "now":
        reason += "; the new version sends right away, to its whole audience again"
    kind = Replace if stop else Create
    return kind(
        key=want.key,
        name=want.name,
        reason=reason,
        journey=want.journey,
        hash=want.hash,
        stop=tuple(stop),
        payload=want.payload,
        spec=want.spec,
        fields=fields,
        before_known=previous is not None,
        forces=tuple(f.path for f in fields) if previous is not None and stop else (),
        gated=_running(stop),
    )


def _passed(want: Desired, ctx: Context) -> datetime | None:
    """The declared start, when it is before the plan was made (creating it would fail; for a
    version live already it does not matter: a sent campaign keeps its past date quietly)."""
    if want.starts_at is None or want.starts_at >= datetime.fromisoformat(ctx.created_at):
        return None
    return want.starts_at


def _running(refs: Sequence[LiveRef]) -> bool:
    return any(r.status is Status.RUNNING for r in refs)
