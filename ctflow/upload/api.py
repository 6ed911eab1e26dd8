"""``ctflow.upload_records``: the upload engine for code, one call per partition of a dataset.

Synchronous, so it can be called from a Spark ``foreachPartition``, a Dask ``map_partitions``, a
Ray ``map_batches`` or an Airflow task; deterministic batch ids from ``batch_id_prefix`` and the
records' order, so a retried partition skips what its first attempt delivered; a pluggable
ledger, so the workers of one job can share it. docs/upload-python.md has the worked examples.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.config import (
    JOURNAL_URL_VAR,
    Environment,
    Project,
    Target,
    find_project,
    journal_location,
    resolve_target,
)
from ctflow.connect import open_client
from ctflow.errors import CtflowError, ExitCode, InvalidInput
from ctflow.journal import Journal, open_journal
from ctflow.journal.location import parse_location
from ctflow.spec.model import Declarations
from ctflow.sync import run_sync
from ctflow.upload.batches import Preparer, Reject, make_batches
from ctflow.upload.engine import MAX_CONCURRENCY, BatchRef, Engine, Options, Tally
from ctflow.upload.job import (
    DeadLetterFile,
    DeadLetterList,
    batch_size,
    load_tracking_plan,
    schemas_of,
)
from ctflow.upload.ledger import JournalLedger, Ledger, MemoryLedger
from ctflow.upload.rules import KINDS, Kind, Rules
from ctflow.upload.shape import Shaper
from ctflow.upload.sources import chunked


@dataclass(frozen=True)
class Account:
    """A CleverTap account given directly (where no ctflow.yaml is at hand, as on a worker)."""

    account_id: str
    passcode: str = field(repr=False)
    region: str | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class UploadSummary:
    """What one call did. ``ok``: every valid record was accepted and none was rejected."""

    accepted: int
    rejected_locally: int
    rejected_by_clevertap: int
    already_uploaded: int
    retried: int
    ambiguous_batches: tuple[BatchRef, ...]
    failed_batches: tuple[BatchRef, ...]
    unavailable: str | None
    elapsed_seconds: float
    rejects: tuple[Reject, ...] = ()
    """The rejected records, when no ``dead_letter`` file was given."""

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK

    @property
    def exit_code(self) -> int:
        """The code ``ctflow upload`` would exit with: 5, 6, 3 or 0."""
        if self.unavailable:
            return ExitCode.UNAVAILABLE
        if self.ambiguous_batches:
            return ExitCode.GATED
        if self.rejected_locally or self.rejected_by_clevertap:
            return ExitCode.INVALID
        return ExitCode.OK

    def raise_for_status(self) -> None:
        """Raise :class:`UploadIncomplete` when CleverTap stayed unavailable or batches are
        ambiguous: what a task retry can fix. Rejected records do not raise (they are in the
        dead-letter file or ``rejects``, and a retry would not change them)."""
        if self.unavailable or self.ambiguous_batches:
            raise UploadIncomplete(self)


class UploadIncomplete(CtflowError):
    def __init__(self, summary: UploadSummary) -> None:
        why = summary.unavailable or f"{len(summary.ambiguous_batches)} ambiguous batch(es)"
        super().__init__(f"upload incomplete: {why}")
        self.summary = summary
        self.exit_code = ExitCode(summary.exit_code)


def upload_records(
    records: Iterable[Mapping[str, Any]],
    *,
    env: str | Account = "sandbox",
    kind: Kind = "events",
    concurrency: int = 15,
    ledger: Ledger | None = None,
    batch_id_prefix: str,
    project: str | Path | None = None,
    dead_letter: str | Path | None = None,
    resend_ambiguous: bool = False,
    environ: Mapping[str, str] | None = None,
    journal: str | None = None,
) -> UploadSummary:
    """Upload ``records`` (CleverTap's shape: ``identity``, ``ts``, ``evtName``/``evtData``,
    ``profileData`` or ``tokenData``) and return what happened.

    ``env``: an environment of the project's ctflow.yaml (credentials from ``environ``, default
    ``os.environ``), or an :class:`Account`. ``project``: the directory whose EventSchema and
    ProfileSchema the records are checked against (default: the one around the working
    directory, if any). ``concurrency``: this caller's share of the account's 15 calls.
    ``ledger``: default the journal (``journal``, a URL such as ``postgresql://…``, else
    ``CTFLOW_JOURNAL_URL``, else the project's), or none kept when there is no project; batch ids
    are ``<batch_id_prefix>:<n>`` where n counts batches of 1000 records (100 tokens) in the
    order given, so give each partition its own prefix and keep its order stable between
    attempts. With a PostgreSQL journal, every caller's batches are in one ledger.
    """
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidInput(f"concurrency must be 1 to {MAX_CONCURRENCY}, not {concurrency}")
    if not batch_id_prefix or ":" in batch_id_prefix:
        raise InvalidInput("batch_id_prefix must be a non-empty name without ':'")
    options = Options(concurrency=concurrency, resend_ambiguous=resend_ambiguous)
    found = find_project(Path(project) if project is not None else Path.cwd())
    if project is not None and not found.found:
        raise InvalidInput(f"no ctflow.yaml in {project} or above it")
    decls = load_tracking_plan(found, _warn) if found.found else None
    environ = environ if environ is not None else os.environ
    target = _target(env, found, environ)
    if journal is None and isinstance(env, Account):
        journal = environ.get(JOURNAL_URL_VAR) or None
    if journal is not None:
        where = parse_location(journal, found.root, source="journal")
        target = replace(target, journal=where)
    job = _Job(records, kind, target, found, decls, options, batch_id_prefix, dead_letter)
    shared = target.journal is not None and target.journal.is_shared
    summary: UploadSummary = run_sync(job.run(ledger, named=journal is not None or shared))
    return summary


@dataclass
class _Job:
    records: Iterable[Mapping[str, Any]]
    kind: Kind
    target: Target
    project: Project
    decls: Declarations | None
    options: Options
    prefix: str
    dead_letter: str | Path | None

    async def run(self, ledger: Ledger | None, *, named: bool = False) -> UploadSummary:
        """``named``: the journal was given (or is the environment's): used with no project."""
        owned: Journal | None = None
        if ledger is None:
            if self.project.found or named:
                where = journal_location(self.project, self.target)
                name = self.project.name if self.project.found else ""  # one name, every worker
                owned = open_journal(where, project=name)
                ledger = JournalLedger(owned, self.target.environment.name)
            else:
                ledger = MemoryLedger()
        dead: DeadLetterFile | DeadLetterList = (
            DeadLetterFile(Path(self.dead_letter)) if self.dead_letter else DeadLetterList()
        )
        try:
            tally = await self._send(ledger, dead)
        finally:
            if isinstance(dead, DeadLetterFile):
                dead.close()
            if owned is not None:
                owned.close()
        return _summary(tally, dead)

    async def _send(self, ledger: Ledger, dead: DeadLetterFile | DeadLetterList) -> Tally:
        schemas = schemas_of(self.decls)
        tz = ZoneInfo(self.project.timezone_for(self.target.environment))
        prepare = Preparer(Shaper(self.kind, schemas, tz, None), Rules(self.kind, schemas))
        states = dict(ledger.states(self.prefix + ":"))
        # Preparing changes a row in place (its type, its dates); the caller's records stay theirs.
        rows = ((number, _own(record)) for number, record in enumerate(self.records, start=1))
        batches = make_batches(
            chunked(rows, batch_size(self.kind)),
            prefix=self.prefix,
            prepare=prepare,
            states=states,
            source=None,
        )
        async with open_client(self.target, timezone=tz.key) as client:
            engine = Engine(client, ledger, self.options, dead_letter=dead, prior=states)
            return await engine.run(batches)


def _own(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` and of the properties in it, which preparing may change."""
    own = dict(record)
    for key in ("evtData", "profileData"):
        if isinstance(own.get(key), Mapping):  # a dict subclass too: it is the caller's
            own[key] = dict(own[key])
    return own


def _warn(text: str) -> None:
    warnings.warn(text.removeprefix("ctflow: warning: ").strip(), stacklevel=3)


def _target(env: str | Account, project: Project, environ: Mapping[str, str]) -> Target:
    if isinstance(env, Account):
        environment = Environment(name="api", region=env.region, base_url=env.base_url)
        return Target(environment, account_id=env.account_id, passcode=env.passcode)
    return resolve_target(project, env, environ)


def _summary(tally: Tally, dead: DeadLetterFile | DeadLetterList) -> UploadSummary:
    return UploadSummary(
        accepted=tally.accepted,
        rejected_locally=tally.rejected_local,
        rejected_by_clevertap=tally.rejected_remote,
        already_uploaded=tally.skipped_rows,
        retried=tally.retries,
        ambiguous_batches=tuple(tally.ambiguous),
        failed_batches=tuple(tally.failed),
        unavailable=tally.unavailable,
        elapsed_seconds=round(tally.elapsed, 3),
        rejects=tuple(dead.rejects) if isinstance(dead, DeadLetterList) else (),
    )
