"""Declared Audiences in the plan: ``+ audience KEY`` (a new segment and its members) or
``~ audience KEY (+120 members, −8 members)`` against the members the journal says were last
applied; an Audience no longer declared is a warning (CleverTap cannot delete a segment).

:func:`audience_changes` is pure; :func:`audience_facts` gathers what it needs from the
declarations and the journal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ctflow.journal import AudienceRecords
from ctflow.plan.model import AudienceUpdate, Note, NoteKind
from ctflow.plan.planner import targeted
from ctflow.spec.audiences import CUSTOM_LIST, audience_source, read_members
from ctflow.spec.model import Declarations

LEFT_LIST = (
    "no longer declared; the custom list {name!r} stays in the account, as CleverTap has no API "
    "to delete it, and ctflow no longer manages it"
)
LEFT = (
    "no longer declared; its segment (ct_segment_id {id}) stays in the account with its "
    "members, as CleverTap has no API to delete a segment, and ctflow no longer manages it"
)


def segment_id(project: str, key: str) -> str:
    """The ``customer_segment_id`` of an Audience: the same for every run, so a create whose
    answer was lost is asked again and answered with the segment it made."""
    return f"ctflow.{project}.{key}"


LIST_PREFIX = "custom_list:"
"""How the journal records a custom list (CleverTap gives it no id back): this and its name."""


def member_token(by: str, value: str) -> str:
    return f"{by}:{value}"


def split_token(token: str) -> tuple[str, str]:
    """(``identity`` or ``guid``, the value) of a member token."""
    by, _, value = token.partition(":")
    return by, value


@dataclass(frozen=True)
class AudienceFacts:
    """One Audience in one environment: declared (``members`` is None when it is not any more)
    and as last applied."""

    key: str
    name: str
    segment: str
    members: frozenset[str] | None
    applied: frozenset[str] = frozenset()
    ct_segment_id: int | None = None
    recorded: bool = False
    """The journal knows of its segment (or list) in this environment."""
    source: str = "api_segment"
    notify: str | None = None
    pending_add: frozenset[str] = frozenset()
    """Sent to be added in a batch whose answer was lost: perhaps in the segment."""
    pending_remove: frozenset[str] = frozenset()
    """Sent to be removed in a batch whose answer was lost: perhaps still in it."""


def audience_changes(
    facts: Sequence[AudienceFacts], targets: Sequence[str] = ()
) -> tuple[list[AudienceUpdate], list[Note], list[str]]:
    """The audiences to create or bring up to date, the warnings, and those already as they
    are declared."""
    changes: list[AudienceUpdate] = []
    notes: list[Note] = []
    unchanged: list[str] = []
    for fact in sorted(facts, key=lambda f: f.key):
        if not targeted(fact.key, targets):
            continue
        if fact.members is None:
            message = (LEFT_LIST if fact.source == CUSTOM_LIST else LEFT).format(
                id=fact.ct_segment_id, name=fact.segment
            )
            notes.append(Note(NoteKind.AUDIENCE_LEFT, fact.key, fact.name, message))
            continue
        # a pending member may be either way: sent again (ADD and REMOVE are set operations)
        surely = fact.applied - fact.pending_remove
        perhaps = fact.applied | fact.pending_add
        add = tuple(sorted(fact.members - surely))
        remove = tuple(sorted(perhaps - fact.members))
        new = not fact.recorded
        if not (new or add or remove):
            unchanged.append(fact.key)
            continue
        changes.append(
            AudienceUpdate(
                key=fact.key,
                name=fact.name,
                reason=_reason(fact, new),
                hash=members_digest(fact.members),
                segment=fact.segment,
                new_segment=new,
                members=len(fact.members),
                add=add,
                remove=remove,
                source=fact.source,
                notify=fact.notify,
            )
        )
    return changes, notes, unchanged


def _reason(fact: AudienceFacts, new: bool) -> str:
    if fact.source == CUSTOM_LIST:
        if new:
            return "not uploaded to this environment yet: apply uploads the list"
        return "the members changed since the last upload: apply uploads the whole list again"
    if new:
        return "no segment in this environment yet: apply creates it, then adds the members"
    return "the members changed since the last apply"


def members_digest(members: Iterable[str]) -> str:
    text = "\n".join(sorted(members))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def audience_facts(
    declarations: Declarations, journal: AudienceRecords | None, environment: str
) -> list[AudienceFacts]:
    """Each declared Audience with its members, and each the journal knows of."""
    project = declarations.project.name
    facts = []
    known = set(journal.audiences(environment)) if journal is not None else set()
    for key, decl in sorted(declarations.audiences.items()):
        members = read_members(decl)
        source = audience_source(decl.data)
        name = str(decl.data["name"])
        segment = name if source == CUSTOM_LIST else segment_id(project, key)
        fact = _fact(
            key,
            name,
            segment,
            frozenset(member_token(members.by, v) for v in members.values),
            journal,
            environment,
            expected=LIST_PREFIX + segment if source == CUSTOM_LIST else segment,
        )
        notify = decl.data.get("notify")
        facts.append(replace(fact, source=source, notify=str(notify) if notify else None))
    for key in sorted(known - set(declarations.audiences)):
        fact = _fact(key, key, segment_id(project, key), None, journal, environment)
        record = journal.audience(environment, key) if journal is not None else None
        listed = str(record["customer_segment_id"]) if record else ""
        if listed.startswith(LIST_PREFIX):  # a custom list: its name is in the record
            fact = replace(fact, source=CUSTOM_LIST, segment=listed.removeprefix(LIST_PREFIX))
        facts.append(fact)
    return facts


def _fact(
    key: str,
    name: str,
    segment: str,
    members: frozenset[str] | None,
    journal: AudienceRecords | None,
    environment: str,
    *,
    expected: str | None = None,
) -> AudienceFacts:
    """``expected``: the ``customer_segment_id`` the journal's record must have; one of
    another (its ``source:`` switched) is of another segment or list: none applied yet."""
    if journal is None:
        return AudienceFacts(key, name, segment, members)
    record = journal.audience(environment, key)
    if record is None or (expected is not None and record["customer_segment_id"] != expected):
        return AudienceFacts(key, name, segment, members)
    ct_id = record["ct_segment_id"]
    pending_add, pending_remove = journal.audience_pending(environment, key)
    return AudienceFacts(
        key,
        name,
        segment,
        members,
        applied=frozenset(journal.audience_members(environment, key)),
        ct_segment_id=int(ct_id) if ct_id is not None else None,
        recorded=True,
        pending_add=frozenset(pending_add),
        pending_remove=frozenset(pending_remove),
    )
