"""The Plan: what ``ctflow plan`` found and ``ctflow apply`` will do, as plain data.

The planner builds it, the renderers (text, Markdown, JSON) print it and the applier executes
it; a saved plan is its JSON form (``render_json``). Pure: standard library, ``ctflow.errors``
and ``ctflow.plan.triggerdiff`` only, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from ctflow.errors import InvalidInput
from ctflow.plan.triggerdiff import TriggerReport

FORMAT_VERSION = 1
"""Bumped when a key of the JSON plan changes meaning or disappears (new keys do not bump it)."""


class Action(StrEnum):
    CREATE = "create"
    REPLACE = "replace"
    STOP = "stop"
    REPAIR = "repair"
    UPLOAD = "upload"
    AUDIENCE = "audience"


SYMBOLS = {
    Action.CREATE: "+",
    Action.REPLACE: "-/+",
    Action.STOP: "-",
    Action.REPAIR: "~",
    Action.UPLOAD: "+",
    Action.AUDIENCE: "~",
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


@dataclass(frozen=True, kw_only=True)
class Change:
    """One action on one key: what every kind of change has. The kinds are :class:`Create`,
    :class:`Replace`, :class:`Stop`, :class:`Repair`, :class:`Upload` and
    :class:`AudienceUpdate`, each with what it carries; ``action`` says which (and is what the
    JSON plan calls it).

    ``stop`` lists the live campaigns the change stops: the old version of a replace, the
    campaign of a stop, the extra copies of a repair; none for a create or an upload.
    """

    action: ClassVar[Action]
    key: str
    name: str
    reason: str
    journey: str | None = None
    stop: tuple[LiveRef, ...] = ()
    gated: bool = False

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.action]

    @property
    def creates(self) -> bool:
        return isinstance(self, Create)


@dataclass(frozen=True, kw_only=True)
class Create(Change):
    """A campaign version to create. ``hash`` is its version (what its marker carries);
    ``payload`` the exact create body (marker in its name) and ``spec`` the version the hash
    covers (relative audience windows, no marker), which the journal keeps for later diffs:
    both ``None`` only in a plan read from its printed JSON, which cannot be applied.
    ``fields`` is the per-field diff against the last applied version; ``before_known`` says
    whether that version's spec was in the journal (when not, ``fields`` lists the new values
    only). ``forces`` names the fields whose change forces a replace; ``estimate`` the reach per
    device, when asked for."""

    action: ClassVar[Action] = Action.CREATE
    hash: str
    payload: Mapping[str, Any] | None = None
    spec: Mapping[str, Any] | None = None
    fields: tuple[FieldChange, ...] = ()
    before_known: bool = False
    forces: tuple[str, ...] = ()
    estimate: Mapping[str, int] | None = None

    @property
    def body(self) -> Mapping[str, Any]:
        """The create body; a plan printed without its bodies cannot be applied."""
        if self.payload is None:
            raise InvalidInput(
                f"the plan holds no create body for {self.key!r}: it was printed, not saved; "
                "save plans to apply with `ctflow plan --out FILE`"
            )
        return self.payload


@dataclass(frozen=True, kw_only=True)
class Replace(Create):
    """Stop the live versions in ``stop``, then create this one."""

    action: ClassVar[Action] = Action.REPLACE


@dataclass(frozen=True, kw_only=True)
class Stop(Change):
    """Stop what is live of a key that is no longer declared, or is disabled."""

    action: ClassVar[Action] = Action.STOP


@dataclass(frozen=True, kw_only=True)
class Repair(Change):
    """Keep ``keep`` and stop the other live copies (a create whose answer was lost)."""

    action: ClassVar[Action] = Action.REPAIR
    keep: LiveRef


@dataclass(frozen=True)
class DatasetFile:
    """What an upload sends: the file (relative to the project), its kind, its rows (valid or
    not) and batches, and the batches an earlier, interrupted upload already delivered."""

    file: str
    kind: str
    rows: int
    batches: int
    accepted_batches: int = 0


@dataclass(frozen=True, kw_only=True)
class Upload(Change):
    """A declared Dataset to upload: ``name`` is its file, ``hash`` the id of its content (and
    mapping), the batch prefix of the upload."""

    action: ClassVar[Action] = Action.UPLOAD
    hash: str
    dataset: DatasetFile


@dataclass(frozen=True, kw_only=True)
class AudienceUpdate(Change):
    """A declared Audience's segment brought to its members: created first when ``new_segment``,
    then ``add`` and ``remove`` (members as ``identity:ID`` or ``guid:GUID``) sent in batches.
    ``segment`` is the ``customer_segment_id`` (from the project and key); ``members`` how many
    are declared; ``hash`` a digest of them."""

    action: ClassVar[Action] = Action.AUDIENCE
    hash: str
    segment: str
    new_segment: bool
    members: int
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    source: str = "api_segment"
    """``custom_list``: uploaded whole (``segment`` is then the list's name) to ``notify``."""
    notify: str | None = None

    @property
    def symbol(self) -> str:
        return "+" if self.new_segment else SYMBOLS[self.action]

    @property
    def custom_list(self) -> bool:
        return self.source == "custom_list"


class NoteKind(StrEnum):
    ALREADY_SENT = "already_sent"
    DRIFT = "drift"
    PAST_SCHEDULE = "past_schedule"
    AUDIENCE_LEFT = "audience_left"


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


class StepState(StrEnum):
    """Where a journey's step stands once the plan is applied (docs/plan-format.md)."""

    NEW = "new"
    CHANGED = "changed"
    STOPPED = "stopped"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    MISSED = "missed"
    DISABLED = "disabled"


@dataclass(frozen=True)
class TimelineStep:
    """One step of a journey's timeline: ``key`` the campaign's, ``step`` the step's own;
    ``after`` as declared and ``sends_at`` (ISO 8601, in the account's timezone) ``None`` for a
    step declared no more (then ``sends_at`` is its live schedule, when listed); ``action``
    the plan's change of it, if any."""

    key: str
    step: str
    after: str | None
    sends_at: str | None
    channel: str | None
    state: StepState
    action: Action | None = None


@dataclass(frozen=True)
class Timeline:
    """A changed journey's steps in the order they send (as declared), those declared no more
    after them; ``timezone`` is the account's, which ``sends_at`` is in."""

    journey: str
    timezone: str
    steps: tuple[TimelineStep, ...]


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
    journal: str = ""
    """The journal the plan read, when it is not the project's own file (its password masked):
    where its per-field diffs and uploads come from."""
    timelines: tuple[Timeline, ...] = ()
    """Each journey with a change, as its timeline (information: apply does the changes)."""

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
            counts[name] = counts.get(name, 0) + 1  # "audience" only when there is one
        return counts

    def summary(self) -> str:
        if not self.changes and self.notes:
            return f"No changes to make; {len(self.notes)} warning(s) above need a look."
        if not self.changes:
            return "No changes. The live campaigns match the declarations."
        n = self.counts()
        uploads = f", {n['upload']} to upload" if n["upload"] else ""
        audiences = n.get("audience", 0)
        members = f", {audiences} audience{'s' if audiences != 1 else ''} to update" * bool(
            audiences
        )
        return (
            f"Plan: {n['create']} to create, {n['replace']} to replace, {n['stop']} to stop"
            f"{uploads}{members}."
        )
