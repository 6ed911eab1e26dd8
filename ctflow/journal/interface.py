"""What ctflow asks of a journal, as protocols its callers type against; the SQLite journal
(``ctflow.journal.sqlite``) is one implementation, and a shared one for many machines can be
another.

    RunLog         runs and their steps: the audit trail, each intent before its API call
    AppliedSpecs   the spec applied for each campaign version, for later per-field diffs
    ApplyLock      one apply (or upload) at a time per project and environment
    UploadRecords  the upload ledger: each batch's state, and which file contents went up whole
    SendKeys       send idempotency keys, each claimed before its call by exactly one process
    AudienceRecords each Audience's segment and the members last applied to it
    Journal        all of them, and the journal's own life (where it is, new or not, close)

Every write is durable when the call returns. Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self


@dataclass(frozen=True)
class Holder:
    """Who holds the lock; ``started_at`` is ISO 8601 UTC."""

    pid: int
    user: str
    host: str
    command: str
    started_at: str


@dataclass(frozen=True)
class BatchState:
    """One batch's state, as :meth:`UploadRecords.record_batch_states` keeps it."""

    batch_id: str
    state: str
    records: int
    detail: Mapping[str, Any] | None = None


class RunLog(Protocol):
    def begin(
        self,
        kind: str,
        *,
        project: str,
        environment: str,
        user: str,
        host: str,
        git_commit: str | None,
        command: str,
    ) -> int:
        """Start a run (``apply``, ``stop-all``, ``upload``, ``send``) and return its id."""
        ...

    def finish(self, run_id: int, outcome: str, summary: Mapping[str, Any] | None = None) -> None:
        """Close a run: ``ok``, ``failed``, ``interrupted``, ``gated``…, with a JSON summary."""
        ...

    def finish_if_open(
        self, run_id: int, outcome: str, summary: Mapping[str, Any] | None = None
    ) -> bool:
        """Close a run that nothing closed yet; ``True`` if it was open."""
        ...

    def intent(
        self,
        run_id: int,
        *,
        key: str,
        action: str,
        hash: str | None = None,
        campaign_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """Record what a step is about to do, before it does it; returns the step id."""
        ...

    def outcome(
        self,
        step_id: int,
        outcome: str,
        *,
        campaign_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Record how a step ended; ``detail`` is merged over the intent's detail."""
        ...

    def stopped_ids(self, environment: str, *, kind: str = "apply") -> set[int]:
        """Campaign ids that runs of ``kind`` stopped in ``environment``."""
        ...

    def runs(
        self,
        limit: int = 20,
        *,
        environment: str | None = None,
        kind: str | None = None,
        since: str | None = None,
    ) -> list[dict[str, Any]]:
        """The latest runs, newest first; only of ``environment``, of ``kind``, or started at
        ``since`` (ISO 8601) or later, when given."""
        ...

    def run(self, run_id: int) -> dict[str, Any] | None:
        """One run of this project, or ``None``."""
        ...

    def steps(self, run_id: int) -> list[dict[str, Any]]:
        """The steps of one run, in the order they were intended."""
        ...

    def open_runs(self, environment: str, *, kinds: tuple[str, ...]) -> list[int]:
        """Runs of these kinds never closed (their process was killed), oldest first."""
        ...

    def unfinished_steps(self, environment: str) -> list[dict[str, Any]]:
        """Steps intended but never given an outcome (their run was killed), newest first."""
        ...


class AppliedSpecs(Protocol):
    def record_spec(
        self,
        environment: str,
        key: str,
        hash: str,
        spec: Mapping[str, Any],
        *,
        campaign_id: int | None,
    ) -> None:
        """Remember the spec applied for one campaign version (replacing an earlier record)."""
        ...

    def spec(self, environment: str, key: str, hash: str) -> dict[str, Any] | None: ...

    def specs(self, environment: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Every spec ever applied in ``environment``, by (key, hash)."""
        ...


class ApplyLock(Protocol):
    def lock(
        self, holder: Holder, *, project: str, environment: str, only: Sequence[str] = ()
    ) -> AbstractContextManager[None]:
        """Exclusive use of ``project`` in ``environment`` while the context lasts; released
        when it ends or its process dies. With ``only`` (the uploads a run writes), exclusive
        use of just those, beside other such runs, none of them beside an exclusive one. Held
        elsewhere: :class:`~ctflow.errors.ConflictError` naming the holder. An implementation
        may lock more than asked (the SQLite journal, one file a project, locks every
        environment of it), never less."""
        ...


class UploadRecords(Protocol):
    def batch_states(self, environment: str, prefix: str) -> dict[str, str]:
        """The state of every batch whose id starts with ``prefix``."""
        ...

    def batch_records(self, environment: str, prefix: str) -> list[dict[str, Any]]:
        """Every batch whose id starts with ``prefix`` (``batch_id``, ``state``, ``records``,
        ``updated_at``, ``detail``), in batch order."""
        ...

    def sent_records(self, environment: str, prefix: str) -> int:
        """How many records the batches whose id starts with ``prefix`` carried to the account
        (every batch but a ``failed`` one: those records may have arrived)."""
        ...

    def batch_state(
        self,
        environment: str,
        batch_id: str,
        state: str,
        *,
        records: int,
        run_id: int | None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Record a batch's state (``sending`` before its call, then how it ended)."""
        ...

    def record_batch_states(
        self, environment: str, batches: Sequence[BatchState], *, run_id: int | None
    ) -> None:
        """Record several batches' states in one transaction: all of them, or (an error) none.
        A batch named twice ends in its last state."""
        ...

    def forget_batches(self, environment: str, prefix: str) -> int:
        """Forget every batch whose id starts with ``prefix`` (``upload --restart``)."""
        ...

    def record_upload(
        self,
        environment: str,
        upload_key: str,
        *,
        kind: str,
        source: str,
        dataset: str | None,
        state: str,
        summary: Mapping[str, Any],
        run_id: int | None,
    ) -> None:
        """How the upload of one file content ended: ``complete`` or ``partial``."""
        ...

    def uploads(self, environment: str) -> list[dict[str, Any]]:
        """Every upload recorded in ``environment``, newest first."""
        ...

    def forget_environment_uploads(self, environment: str) -> int:
        """Forget what was uploaded to ``environment`` (its account was emptied)."""
        ...

    def batches_of(self, run_id: int) -> list[dict[str, Any]]:
        """The batches a run sent last (``batch_id``, ``state``, ``records``, ``updated_at``,
        ``detail``), in batch order."""
        ...


class SendKeys(Protocol):
    def claim_sends(
        self,
        environment: str,
        sends: Sequence[tuple[str, str, str]],
        *,
        trigger: str,
        run_id: int | None,
        again: Collection[str] = ("failed",),
        stale_before: str | None = None,
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Claim sends, each ``(send_key, recipient, digest)``, as ``sending`` before their
        call, atomically: of several processes claiming one key, exactly one gets it. Returns
        the ones left alone, with their records, by ``(send_key, recipient)``."""
        ...

    def send_outcomes(
        self,
        environment: str,
        sends: Sequence[tuple[str, str]],
        state: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """How claimed sends ended: ``sent``, ``failed`` (provably not sent) or ``ambiguous``."""
        ...

    def sends_of(self, run_id: int) -> list[dict[str, Any]]:
        """The sends a run claimed last (``send_key``, ``recipient``, ``trigger_key``,
        ``state``, ``updated_at``, ``detail``)."""
        ...


class AudienceRecords(Protocol):
    def audience(self, environment: str, key: str) -> dict[str, Any] | None:
        """The segment of one Audience (``customer_segment_id``, ``ct_segment_id``,
        ``updated_at``), or ``None`` when none was created."""
        ...

    def audiences(self, environment: str) -> list[str]:
        """The keys of every Audience with a segment in ``environment``, sorted."""
        ...

    def record_audience(
        self, environment: str, key: str, *, customer_segment_id: str, ct_segment_id: int | None
    ) -> None:
        """Remember the segment an Audience's apply created (or found); a custom list has no
        ``ct_segment_id`` (CleverTap does not return one)."""
        ...

    def audience_members(self, environment: str, key: str) -> set[str]:
        """The members last applied to an Audience's segment."""
        ...

    def pending_members(
        self, environment: str, key: str, *, added: Sequence[str], removed: Sequence[str]
    ) -> None:
        """One batch's members marked pending before its call: CleverTap may take the batch
        and its answer be lost, so until :meth:`record_members` settles them an added member
        may be in the segment and a removed one may be out of it."""
        ...

    def audience_pending(self, environment: str, key: str) -> tuple[set[str], set[str]]:
        """The members still pending (added, removed): sent in a batch whose outcome is not
        known."""
        ...

    def record_members(
        self,
        environment: str,
        key: str,
        *,
        added: Sequence[str],
        removed: Sequence[str],
        settled: Sequence[str] = (),
    ) -> None:
        """One batch of members applied: all of it recorded, or (an error) none of it; its
        members (and ``settled``, sent but known not taken) are no longer pending."""
        ...

    def forget_environment_audiences(self, environment: str) -> int:
        """Forget every Audience's segment and members in ``environment`` (its account was
        emptied); how many audiences were forgotten."""
        ...


class Journal(RunLog, AppliedSpecs, ApplyLock, UploadRecords, SendKeys, AudienceRecords, Protocol):
    """ctflow's memory: everything above, open until :meth:`close`."""

    @property
    def location(self) -> str:
        """Where the journal is, for messages (never with a password in it)."""
        ...

    @property
    def created(self) -> bool:
        """Whether opening it made a new, empty journal."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
