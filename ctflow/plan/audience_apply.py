"""Applying an AudienceUpdate: the segment created (or found: its ``customer_segment_id`` makes a
create safe to repeat), then the members added and removed in batches of at most 100, each batch
pending in the journal before its call and recorded once CleverTap took it, so a run cut short
is finished by the next one (a batch sent again changes nothing: ADD and REMOVE are set
operations). Also resolves a campaign's ``segment`` placeholder to the segment's id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ctflow.clevertap import AuthError, CleverTap, CleverTapError, InvalidRequest, ValidationError
from ctflow.journal import Journal
from ctflow.plan.audiences import LIST_PREFIX, member_token, segment_id, split_token
from ctflow.plan.cost import CUSTOM_LIST_CALLS, MEMBERS_A_CALL
from ctflow.plan.model import AudienceUpdate
from ctflow.spec.payload import placeholder_audience

BATCH = MEMBERS_A_CALL
"""Profiles per updateSegment call (clevertap-api.md §9)."""

REFUSED = (AuthError, ValidationError, InvalidRequest)
"""Errors that prove CleverTap did not take a call."""


@dataclass
class AudienceOutcome:
    """What one Audience's apply did; ``error`` (message, exit code) when it stopped short."""

    key: str
    ct_segment_id: int | None = None
    added: int = 0
    removed: int = 0
    unknown: list[str] = field(default_factory=list)
    error: tuple[str, int] | None = None


def batches(
    add: Sequence[str], remove: Sequence[str]
) -> Iterator[tuple[Literal["identity", "guid"], list[str], list[str]]]:
    """(key kind, values to add, values to remove), at most BATCH values a batch, one kind each."""
    for by in ("identity", "guid"):
        adding = [split_token(t)[1] for t in add if split_token(t)[0] == by]
        removing = [split_token(t)[1] for t in remove if split_token(t)[0] == by]
        work = [("add", v) for v in adding] + [("remove", v) for v in removing]
        for start in range(0, len(work), BATCH):
            chunk = work[start : start + BATCH]
            yield (
                "identity" if by == "identity" else "guid",
                [v for what, v in chunk if what == "add"],
                [v for what, v in chunk if what == "remove"],
            )


class AudienceApplier:
    def __init__(
        self,
        client: CleverTap,
        journal: Journal,
        run_id: int,
        *,
        project: str,
        environment: str,
        say: Callable[[str], None],
        made: Callable[[str, int], None] = lambda kind, n: None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.run_id = run_id
        self.project = project
        self.environment = environment
        self.say = say
        self.made = made
        """Told after each call to CleverTap, by kind of :mod:`ctflow.plan.cost`."""
        self.segments: dict[str, int] = {}
        """The segment id of each Audience this run created or found."""
        self.failed: set[str] = set()
        """The Audiences whose apply failed this run: their campaigns are left alone."""

    async def apply(self, change: AudienceUpdate) -> AudienceOutcome:
        done = AudienceOutcome(change.key)
        step = self.journal.intent(
            self.run_id,
            key=change.key,
            action="audience",
            hash=change.hash,
            detail={"add": len(change.add), "remove": len(change.remove)},
        )
        try:
            if change.custom_list:
                await self._custom_list(change, done)
                self.journal.outcome(step, "done", detail=_counts(done))
                self.say(_line(change, done))
                return done
            done.ct_segment_id = await self._segment(change)
            await self._members(change, done)
        except AuthError:
            self.journal.outcome(step, "failed", detail={"error": "credentials refused"})
            raise
        except CleverTapError as exc:
            self.failed.add(change.key)
            done.error = (exc.message, exc.exit_code)
            self.journal.outcome(step, "failed", detail={"error": exc.message, **_counts(done)})
            self.say(f"  ✗ audience {change.key}: {exc.message}")
            return done
        self.journal.outcome(step, "done", detail=_counts(done))
        self.say(_line(change, done))
        return done

    async def _members(self, change: AudienceUpdate, done: AudienceOutcome) -> None:
        """The members added and removed in batches, each marked pending in the journal before
        its call and recorded once CleverTap took it. What a batch whose answer was lost left
        pending is sent again (perhaps not taken) or removed (perhaps taken) by a later plan."""
        env, key = self.environment, change.key
        applied = self.journal.audience_members(env, key)
        pending_add, pending_remove = self.journal.audience_pending(env, key)
        add = [t for t in change.add if t not in applied - pending_remove]
        remove = [t for t in change.remove if t in applied | pending_add]
        for by, adding, removing in batches(add, remove):
            to_add = [member_token(by, v) for v in adding]
            to_remove = [member_token(by, v) for v in removing]
            self.journal.pending_members(env, key, added=to_add, removed=to_remove)
            try:
                result = await self.client.update_segment(
                    change.segment, add=adding, remove=removing, key=by
                )
            except REFUSED:  # not taken: nothing is pending any more
                self.journal.record_members(
                    env, key, added=[], removed=[], settled=[*to_add, *to_remove]
                )
                raise
            finally:
                self.made("members", 1)
            unknown = {str(u.get(by)) for u in result.unprocessed if u.get(by) is not None}
            self.journal.record_members(
                env,
                key,
                added=[member_token(by, v) for v in adding if v not in unknown],
                removed=to_remove,
                settled=[member_token(by, v) for v in adding if v in unknown],
            )
            done.added += len([v for v in adding if v not in unknown])
            done.removed += len(removing)
            done.unknown += sorted(v for v in adding if v in unknown)

    async def _custom_list(self, change: AudienceUpdate, done: AudienceOutcome) -> None:
        """The whole list uploaded, replacing the one of that name: the same upload again
        (its answer lost) changes nothing, and a list made in the dashboard under the name
        becomes the declared one."""
        # a new list (or one whose source was switched): the journal's members are not its own
        applied = (
            set()
            if change.new_segment
            else self.journal.audience_members(self.environment, change.key)
        )
        members = sorted((applied | set(change.add)) - set(change.remove))
        try:
            await self.client.upload_custom_list(
                change.segment,
                [_member(token) for token in members],
                creator=f"ctflow ({self.project})",
                email=change.notify or "",
                filename=f"{change.key}.csv",
                replace=True,
            )
        finally:
            self.made("custom_list", CUSTOM_LIST_CALLS)
        self.journal.record_audience(
            self.environment,
            change.key,
            customer_segment_id=LIST_PREFIX + change.segment,
            ct_segment_id=None,
        )
        self.journal.record_members(
            self.environment, change.key, added=change.add, removed=change.remove
        )
        done.added, done.removed = len(change.add), len(change.remove)

    async def _segment(self, change: AudienceUpdate) -> int:
        record = self.journal.audience(self.environment, change.key)
        if (
            record is not None
            and not change.new_segment
            and record["customer_segment_id"] == change.segment
            and record["ct_segment_id"] is not None
        ):
            ct_id = int(record["ct_segment_id"])
        else:
            try:
                segment = await self.client.create_segment(change.name, change.segment)
            finally:
                self.made("segment", 1)
            ct_id = segment.ct_id
            self.journal.record_audience(
                self.environment,
                change.key,
                customer_segment_id=change.segment,
                ct_segment_id=ct_id,
            )
        self.segments[change.key] = ct_id
        return ct_id

    def resolved(self, body: Mapping[str, Any]) -> Mapping[str, Any] | str:
        """The create body with its Audience's segment id, or why it cannot have one yet."""
        key = placeholder_audience(body)
        if key is None:
            return body
        ct_id = self.segments.get(key)
        if ct_id is None:
            record = self.journal.audience(self.environment, key)
            if (
                record is None
                or record["customer_segment_id"] != segment_id(self.project, key)
                or record["ct_segment_id"] is None
            ):
                return (
                    f"audience {key!r} has no segment in this environment yet: apply it too "
                    f"(`--target {key}`)"
                )
            ct_id = int(record["ct_segment_id"])
        return {**body, "segment": ct_id}


def _member(token: str) -> tuple[Literal["identity", "guid"], str]:
    by, value = split_token(token)
    return ("guid" if by == "guid" else "identity"), value


def _counts(done: AudienceOutcome) -> dict[str, Any]:
    return {
        "ct_segment_id": done.ct_segment_id,
        "added": done.added,
        "removed": done.removed,
        "unknown": len(done.unknown),
    }


def _line(change: AudienceUpdate, done: AudienceOutcome) -> str:
    if change.custom_list:
        return (
            f"  ~ audience {change.key}: uploaded custom list {change.segment!r}, "
            f"+{done.added} −{done.removed} (CleverTap e-mails the result to {change.notify})"
        )
    verb = "created segment" if change.new_segment else "segment"
    line = f"  ~ audience {change.key}: {verb} {done.ct_segment_id}, +{done.added} −{done.removed}"
    if done.unknown:
        shown = ", ".join(done.unknown[:5]) + (" …" if len(done.unknown) > 5 else "")
        line += f"; {len(done.unknown)} not in the account (not added, planned again): {shown}"
    return line
