"""Running the uploads of one command (``ctflow upload``, or the Datasets of ``ctflow apply``
through :class:`DatasetUploads`, the plan executor's handler of uploads): file after file
through the engine, with progress, dead letters, a graceful Ctrl-C, and the journal told how
each file's upload ended.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ctflow.clevertap import CleverTap
from ctflow.errors import ConflictError, ExitCode
from ctflow.journal import UploadRecords
from ctflow.plan.model import Upload
from ctflow.spec.model import Declarations
from ctflow.upload.datasets import dataset_jobs
from ctflow.upload.engine import Engine, Options
from ctflow.upload.job import DeadLetterFile, FileJob, schemas_of
from ctflow.upload.ledger import JournalLedger
from ctflow.upload.report import FileResult, Progress, exit_code, to_json
from ctflow.upload.rules import Schemas


@dataclass(frozen=True)
class RunSettings:
    options: Options
    schemas: Schemas
    timezone: ZoneInfo
    state_dir: Path
    restart: bool = False
    dead_letter: Path | None = None
    terminal: bool = False


async def run_jobs(
    client: CleverTap,
    journal: UploadRecords,
    run_id: int,
    environment: str,
    jobs: Sequence[FileJob],
    settings: RunSettings,
    *,
    err: TextIO,
    say: Callable[[str], None],
) -> list[FileResult]:
    """Upload each job in turn; stop after one that found CleverTap unavailable."""
    ledger = JournalLedger(journal, environment, run_id)
    results: list[FileResult] = []
    for job in jobs:
        _warn_if_changed(journal, environment, job, say)
        result = await _run_job(client, ledger, job, settings, err, say)
        tally = result.tally
        if tally.journal_lost:  # nothing more can be recorded, so nothing more is sent
            results.append(result)
            break
        complete = not (tally.ambiguous or tally.failed or tally.interrupted)
        journal.record_upload(
            environment,
            job.prefix,
            kind=job.kind,
            source=str(job.path),
            dataset=job.dataset,
            state="complete" if complete else "partial",
            summary=to_json([result])["total"],
            run_id=run_id,
        )
        results.append(result)
        if result.tally.unavailable or result.tally.interrupted:
            break
    return results


@dataclass
class DatasetUploads:
    """The plan executor's handler of uploads: the declared files of the plan's Upload changes,
    checked to hold the content planned, uploaded in turn (:func:`run_jobs`) before any
    campaign is created; ``results`` holds what each file's upload did, for the report."""

    client: CleverTap
    journal: UploadRecords
    run_id: int
    environment: str
    declarations: Callable[[], Declarations]
    """Read only when the plan uploads: a saved plan's other changes do not need them."""
    timezone: ZoneInfo
    state_dir: Path
    replan: str
    """The command that makes a new plan, for when a file changed since the plan was made."""
    err: TextIO
    say: Callable[[str], None]
    report: Callable[[Sequence[FileResult]], None] = lambda results: None
    """Shows what the uploads did, as soon as they are done: before any campaign is touched."""
    results: list[FileResult] = field(default_factory=list)

    async def __call__(self, changes: Sequence[Upload]) -> int:
        """Upload the files; the exit code their upload comes to, ``ctflow upload``'s (130 when
        Ctrl-C stopped it)."""
        declarations = self.declarations()
        jobs = dataset_jobs(declarations)
        for change in changes:
            job = jobs.get(change.key)
            if job is None or job.prefix != change.hash:
                raise ConflictError(
                    f"dataset {change.key!r} changed since the plan was saved: run "
                    f"`{self.replan}` again and review it"
                )
        settings = RunSettings(
            options=Options(),
            schemas=schemas_of(declarations),
            timezone=self.timezone,
            state_dir=self.state_dir,
        )
        self.results = await run_jobs(
            self.client,
            self.journal,
            self.run_id,
            self.environment,
            [jobs[c.key] for c in changes],
            settings,
            err=self.err,
            say=self.say,
        )
        if self.results:
            self.report(self.results)
        if any(result.tally.interrupted for result in self.results):
            return ExitCode.INTERRUPTED
        return exit_code(to_json(self.results)) if self.results else ExitCode.OK


async def _run_job(
    client: CleverTap,
    ledger: JournalLedger,
    job: FileJob,
    settings: RunSettings,
    err: TextIO,
    say: Callable[[str], None],
) -> FileResult:
    prefix = job.prefix + ":"
    path = settings.dead_letter or dead_letter_path(settings.state_dir, job, ledger.environment)
    dead = DeadLetterFile(path, truncate=settings.restart and settings.dead_letter is None)
    if settings.dead_letter is not None:  # the default lives beside the journal, written already
        dead.check()
    if settings.restart:
        forgotten = ledger.forget(prefix)
        if forgotten:
            say(
                f"ctflow: {job.path}: --restart: sending every batch again "
                f"({forgotten} recorded batch(es) forgotten)"
            )
    states = ledger.states(prefix)
    progress = Progress(err, terminal=settings.terminal)
    engine = Engine(
        client,
        ledger,
        settings.options,
        dead_letter=dead,
        prior=states,
        on_progress=progress.update,
    )
    progress.start(job.dataset or job.path.name, job.estimated_rows)
    read_to_the_end = False
    try:
        with _GracefulStop(engine, err):
            tally = await engine.run(job.batches(settings.schemas, settings.timezone, states))
        read_to_the_end = not (tally.interrupted or tally.unavailable or tally.journal_lost)
    finally:
        progress.finish(engine.tally, complete=read_to_the_end)
        dead.close()
    return FileResult(
        job.shown,
        job.kind,
        job.dataset,
        job.prefix,
        str(dead.path) if dead.written else None,
        tally,
    )


def _warn_if_changed(
    journal: UploadRecords, environment: str, job: FileJob, say: Callable[[str], None]
) -> None:
    """Events of this file (or dataset) went up before with other content: all of it goes up
    again, and CleverTap does not deduplicate events."""
    if job.kind != "events":
        return
    for upload in journal.uploads(environment):
        same = upload["source"] == str(job.path) or (
            job.dataset is not None and upload["dataset"] == job.dataset
        )
        if (
            same
            and upload["upload_key"] != job.prefix
            and _sent_events(journal, environment, upload)
        ):
            say(
                f"ctflow: warning: {job.shown} was uploaded on {upload['updated_at']} with other "
                "content; the whole file is sent now, so its rows that were in that version "
                "arrive twice (CleverTap does not deduplicate events). Upload only the new rows "
                "in a file of their own to avoid that"
            )
            return


def _sent_events(journal: UploadRecords, environment: str, upload: dict[str, Any]) -> bool:
    """Whether that earlier upload carried events to the account (sent as profiles, or every
    row rejected, it put none there)."""
    return upload["kind"] == "events" and (
        journal.sent_records(environment, upload["upload_key"] + ":") > 0
    )


def dead_letter_path(state_dir: Path, job: FileJob, environment: str) -> Path:
    """``.ctflow/rejected/<file stem>.<content id>.<environment>.jsonl``: one file per content
    and environment, so a resumed upload appends to the file its first run started, and a
    ``--restart`` in one environment leaves another's rejects alone."""
    name = job.path.name
    for suffix in (".gz", ".jsonl", ".ndjson", ".json", ".csv"):
        name = name.removesuffix(suffix)
    content = job.prefix.split(":")[1][:8]
    return state_dir / "rejected" / f"{name}.{content}.{environment}.jsonl"


_LOOP_OWNED = getattr(getattr(asyncio, "unix_events", None), "_sighandler_noop", None)
"""What the signal module holds while a loop owns the signal (``add_signal_handler``): not a
handler to put back (the loop's own is gone once removed)."""


class _GracefulStop:
    """The first Ctrl-C (or SIGTERM) stops sending and lets the calls in flight finish, so that
    every batch is recorded; a second one interrupts at once."""

    def __init__(self, engine: Engine, err: TextIO) -> None:
        self.engine = engine
        self.err = err
        self._installed: list[tuple[signal.Signals, Any]] = []

    def __enter__(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            before = signal.getsignal(sig)
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._stop)
                self._installed.append((sig, before))

    def __exit__(self, *exc_info: object) -> None:
        """The handlers as they were: asyncio's own for Ctrl-C (which cancels the command, so
        ``apply`` still reports what its campaigns did), not Python's default."""
        loop = asyncio.get_running_loop()
        for sig, before in self._installed:
            loop.remove_signal_handler(sig)
            if before is not None and before is not _LOOP_OWNED:
                signal.signal(sig, before)

    def _stop(self) -> None:
        if self.engine.stopping:
            raise KeyboardInterrupt
        self.engine.stop()
        self.err.write(
            "\nctflow: stopping: waiting for the calls in flight to be answered (Ctrl-C again "
            "to stop at once; those batches are then reported as ambiguous next time)\n"
        )
        self.err.flush()
