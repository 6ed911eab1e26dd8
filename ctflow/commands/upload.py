"""``ctflow upload events|profiles|tokens FILE...``: stream files into the account.

Each file is checked against the declared schemas, sent in batches at the account's ceiling,
and recorded batch by batch in the journal's ledger under a journaled, locked run, so that a
re-run sends only what did not arrive. A plain function returning an exit code; ``ctflow.cli``
parses the flags.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from ctflow.commands.shared import Invocation, announce, connect, env_flag, journal_run, say_line
from ctflow.config import find_project
from ctflow.errors import ExitCode
from ctflow.upload.engine import Options
from ctflow.upload.job import file_job, load_tracking_plan, schemas_of
from ctflow.upload.report import OUTCOMES, FileResult, exit_code, text, to_json
from ctflow.upload.rules import Kind
from ctflow.upload.runner import RunSettings, run_jobs


@dataclass(frozen=True)
class UploadOptions:
    kind: Kind
    files: tuple[Path, ...]
    concurrency: int = 15
    restart: bool = False
    resend_ambiguous: bool = False
    accept_ambiguous: bool = False
    dead_letter: Path | None = None
    fmt: str = "text"
    terminal: bool = False


def upload(inv: Invocation, options: UploadOptions, *, out: TextIO, err: TextIO) -> int:
    project = find_project(inv.directory)
    decls = load_tracking_plan(project, err.write) if project.found else None
    jobs = [file_job(path, options.kind, decls) for path in options.files]
    settings = RunSettings(
        options=Options(
            concurrency=options.concurrency,
            resend_ambiguous=options.resend_ambiguous,
            accept_ambiguous=options.accept_ambiguous,
        ),
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
