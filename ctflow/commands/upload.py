"""``ctflow upload events|profiles|tokens FILE...``: stream files into the account.

Each file is checked against the declared schemas, sent in batches at the account's ceiling,
and recorded batch by batch in the journal's ledger under a journaled, locked run, so that a
re-run sends only what did not arrive; the batches an earlier run lost the answer of are listed
(``--ambiguous``) and settled all at once or one by one. A plain function returning an exit
code; ``ctflow.cli`` parses the flags.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from ctflow.commands.shared import Invocation, announce, connect, env_flag, journal_run, say_line
from ctflow.config import Project, find_project, journal_location
from ctflow.errors import ExitCode, UsageError
from ctflow.journal import existing_journal
from ctflow.upload import ambiguous
from ctflow.upload.ambiguous import ALL, Unsettled
from ctflow.upload.engine import GIVE_UP_AFTER, Options
from ctflow.upload.job import FileJob, file_job, load_tracking_plan, schemas_of
from ctflow.upload.report import OUTCOMES, FileResult, exit_code, text, to_json
from ctflow.upload.rules import Kind
from ctflow.upload.runner import RunSettings, run_jobs


@dataclass(frozen=True)
class UploadOptions:
    kind: Kind
    files: tuple[Path, ...]
    concurrency: int = 15
    restart: bool = False
    resend_ambiguous: tuple[str, ...] = ()
    """Batch ids or line ranges to send again; ``all`` for every ambiguous batch."""
    accept_ambiguous: tuple[str, ...] = ()
    """Batch ids or line ranges to count as arrived; ``all`` for every ambiguous batch."""
    list_ambiguous: bool = False
    """List the ambiguous batches of the files; send nothing."""
    give_up_after: float | None = None
    """Seconds a batch is retried while CleverTap is unreachable; None: the engine's default."""
    dead_letter: Path | None = None
    fmt: str = "text"
    terminal: bool = False


def upload(inv: Invocation, options: UploadOptions, *, out: TextIO, err: TextIO) -> int:
    project = find_project(inv.directory)
    decls = load_tracking_plan(project, err.write) if project.found else None
    jobs = [file_job(path, options.kind, decls) for path in options.files]
    if options.list_ambiguous:
        if options.accept_ambiguous or options.resend_ambiguous or options.restart:
            raise UsageError(
                "--ambiguous lists the batches and sends nothing: run it first, then settle "
                "them with --accept-ambiguous / --resend-ambiguous (--restart forgets them)"
            )
        return _list(inv, project, jobs, options.fmt, out)
    settings = RunSettings(
        options=_options(inv, project, jobs, options),
        schemas=schemas_of(decls),
        timezone=ZoneInfo(project.timezone_for(inv.target.environment)),
        state_dir=project.state_dir,
        restart=options.restart,
        dead_letter=options.dead_letter,
        terminal=options.terminal,
    )
    announce(inv, "uploading to", err)
    files = sorted({job.prefix for job in jobs})
    with journal_run(project, inv, "upload", err, only=files) as (journal, run_id):

        async def run() -> list[FileResult]:
            async with connect(inv, project) as client:
                return await run_jobs(
                    client,
                    journal,
                    run_id,
                    inv.target.environment.name,
                    jobs,
                    settings,
                    err=err,
                    say=lambda line: say_line(err, line, inv.secrets),
                )

        results = asyncio.run(run())
        summary = to_json(results)
        code = exit_code(summary)
        interrupted = any(r.tally.interrupted for r in results)
        outcome = "interrupted" if interrupted else OUTCOMES.get(code, "failed")
        if not any(r.tally.journal_lost for r in results):  # else it cannot be told
            journal.finish(run_id, outcome, summary["total"])
    if options.fmt == "json":
        out.write(json.dumps(summary, indent=2) + "\n")
    else:
        out.write(text(results, env_flag=env_flag(inv)))
    return ExitCode.INTERRUPTED if interrupted else code


def _options(
    inv: Invocation, project: Project, jobs: list[FileJob], options: UploadOptions
) -> Options:
    """The engine's options; the batches chosen by id or line range checked to be ambiguous
    batches of these files (usage error, before anything is sent, otherwise)."""
    accept_all, resend_all = ALL in options.accept_ambiguous, ALL in options.resend_ambiguous
    if accept_all and resend_all:
        raise UsageError("--resend-ambiguous and --accept-ambiguous contradict each other")
    accept: set[str] = set()
    resend: set[str] = set()
    if set(options.accept_ambiguous + options.resend_ambiguous) - {ALL}:
        files = _unsettled(inv, project, jobs)
        accept = ambiguous.chosen("--accept-ambiguous", options.accept_ambiguous, files)
        resend = ambiguous.chosen("--resend-ambiguous", options.resend_ambiguous, files)
        if both := sorted(accept & resend):
            raise UsageError(
                f"{', '.join(both)}: chosen both to accept and to send again; choose one"
            )
    return Options(
        concurrency=options.concurrency,
        resend_ambiguous=resend_all,
        accept_ambiguous=accept_all,
        resend_batches=frozenset(resend),
        accept_batches=frozenset(accept),
        give_up_after=options.give_up_after or GIVE_UP_AFTER,
    )


def _unsettled(
    inv: Invocation, project: Project, jobs: list[FileJob]
) -> dict[str, list[Unsettled]]:
    """Each file's ambiguous batches in the environment, as the journal has them."""
    env = inv.target.environment.name
    journal = existing_journal(journal_location(project, inv.target), project=project.name)
    if journal is None:
        return {job.shown: [] for job in jobs}
    with journal:
        return {job.shown: ambiguous.unsettled(journal, env, job.prefix) for job in jobs}


def _list(inv: Invocation, project: Project, jobs: list[FileJob], fmt: str, out: TextIO) -> int:
    files = _unsettled(inv, project, jobs)
    env = inv.target.environment.name
    if fmt == "json":
        body = {
            "environment": env,
            "files": [
                {"file": name, "ambiguous_batches": [b.to_json() for b in batches]}
                for name, batches in files.items()
            ],
        }
        out.write(json.dumps(body, indent=2) + "\n")
    else:
        out.write(ambiguous.text(files, env))
    return ExitCode.OK
