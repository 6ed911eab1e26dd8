"""``ctflow apply [FILE]``: the plan made now (or a saved one) executed against the account,
after its safety gates, in a journaled, locked run.

A plain function returning an exit code; ``ctflow.cli`` gathers what it reads from the process
(the clock, the user, the terminal) into a :class:`~ctflow.commands.shared.Invocation`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from ctflow.clevertap import CleverTap
from ctflow.commands.plan import build_plan
from ctflow.commands.shared import (
    Invocation,
    announce,
    connect,
    env_flag,
    find_declared_project,
    journal_run,
    say_line,
    with_secret_variables,
)
from ctflow.config import Project, Target
from ctflow.errors import (
    ConflictError,
    CtflowError,
    ExitCode,
    GateError,
    InvalidInput,
    UsageError,
)
from ctflow.journal import Journal
from ctflow.masking import mask
from ctflow.plan.apply import Applier, Outcome
from ctflow.plan.live import read_live
from ctflow.plan.marker import digest, mark
from ctflow.plan.model import Action, Change, Plan, PlanFormatError, Status
from ctflow.plan.render_json import load as load_plan
from ctflow.plan.render_text import render_text
from ctflow.spec.model import Declarations
from ctflow.spec.validate import load as load_declarations
from ctflow.upload.datasets import dataset_jobs
from ctflow.upload.engine import Options as UploadEngineOptions
from ctflow.upload.job import schemas_of
from ctflow.upload.report import FileResult, to_json
from ctflow.upload.report import exit_code as upload_exit_code
from ctflow.upload.report import text as upload_text
from ctflow.upload.runner import RunSettings, run_jobs


@dataclass(frozen=True)
class ApplyOptions:
    plan_file: Path | None = None
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    auto_approve: bool = False
    allow_stop: bool = False
    confirm: Callable[[str], bool] | None = None
    """Asks on the terminal; ``None`` when there is none (then ``--auto-approve`` is needed)."""


def apply(inv: Invocation, options: ApplyOptions, *, out: TextIO, err: TextIO) -> int:
    if options.plan_file is not None:
        saved = _read_plan(options.plan_file)
        project = find_declared_project(inv)
        _check_saved(saved, project, inv.target)
        declarations = None
    else:
        saved = None
        declarations = load_declarations(inv.directory)
        project = declarations.project
    inv = with_secret_variables(inv, project)
    announce(inv, "applying to", err)
    with journal_run(project, inv, "apply", err) as (journal, run_id):

        async def run() -> int:
            async with connect(inv, project) as client:
                if saved is not None:
                    span = (
                        date.fromisoformat(saved.window[0]),
                        date.fromisoformat(saved.window[1]),
                    )
                    live = await read_live(client, project.name, span)
                    if live.fingerprint != saved.fingerprint:
                        journal.finish(run_id, "stale")
                        raise ConflictError(
                            f"the live campaigns changed since {options.plan_file} was saved "
                            f"({saved.created_at}): run `ctflow plan{env_flag(inv)} --out "
                            f"{options.plan_file}` again and review it"
                        )
                    made = saved
                else:
                    assert declarations is not None
                    made = await build_plan(
                        inv, declarations, options.targets, options.replace, client
                    )
                    out.write(mask(render_text(made, color=inv.color), inv.secrets))
                    span = (date.fromisoformat(made.window[0]), date.fromisoformat(made.window[1]))
                if not made.has_changes:
                    journal.finish(run_id, "ok", {"changes": 0})
                    if saved is not None:
                        out.write("No changes in the saved plan.\n")
                    return ExitCode.OK
                _gate(made, options, journal, run_id)
                if saved is None and not options.auto_approve:
                    _confirm(made, inv, options, journal, run_id, out)
                uploads = await _upload_datasets(
                    client, journal, run_id, inv, project, declarations, made, err
                )
                applier = Applier(
                    client,
                    journal,
                    run_id,
                    project=project.name,
                    environment=inv.target.environment.name,
                    window=span,
                    say=lambda line: say_line(err, line, inv.secrets),
                )
                try:
                    outcome = await applier.run(made)
                except (KeyboardInterrupt, asyncio.CancelledError):
                    done = applier.outcome
                    journal.finish(run_id, "interrupted", done.summary())
                    err.write(
                        f"ctflow: interrupted after {len(done.stopped)} stop(s) and "
                        f"{len(done.created) + len(done.adopted)} create(s); run `ctflow "
                        f"apply{env_flag(inv)}` again to finish (it re-creates what a replace "
                        "stopped)\n"
                    )
                    raise
                upload_code = upload_exit_code(to_json(uploads)) if uploads else ExitCode.OK
                ok = outcome.ok and upload_code == ExitCode.OK
                journal.finish(run_id, "ok" if ok else "failed", outcome.summary())
                if uploads:
                    out.write(upload_text(uploads, env_flag=env_flag(inv)))
                out.write(_finished(outcome, env_flag(inv), uploaded=len(uploads)) + "\n")
                return outcome.exit_code if outcome.exit_code != ExitCode.OK else upload_code

        return asyncio.run(run())


async def _upload_datasets(
    client: CleverTap,
    journal: Journal,
    run_id: int,
    inv: Invocation,
    project: Project,
    declarations: Declarations | None,
    made: Plan,
    err: TextIO,
) -> list[FileResult]:
    """Upload the plan's datasets (before any campaign is created, so the data is there)."""
    changes = [c for c in made.changes if c.action is Action.UPLOAD]
    if not changes:
        return []
    if declarations is None:  # a saved plan: the files must still be what was planned
        declarations = load_declarations(inv.directory)
    jobs = dataset_jobs(declarations)
    for change in changes:
        job = jobs.get(change.key)
        if job is None or job.prefix != change.hash:
            raise ConflictError(
                f"dataset {change.key!r} changed since the plan was saved: run `ctflow "
                f"plan{env_flag(inv)} --out FILE` again and review it"
            )
    settings = RunSettings(
        options=UploadEngineOptions(),
        schemas=schemas_of(declarations),
        timezone=ZoneInfo(project.timezone_for(inv.target.environment)),
        state_dir=project.state_dir,
    )
    return await run_jobs(
        client,
        journal,
        run_id,
        inv.target.environment.name,
        [jobs[c.key] for c in changes],
        settings,
        err=err,
        say=lambda line: say_line(err, line, inv.secrets),
    )


def _gate(made: Plan, options: ApplyOptions, journal: Journal, run_id: int) -> None:
    gated = made.gated
    if not gated or options.allow_stop:
        return
    journal.finish(run_id, "gated", {"gated": len(gated)})
    listed = "; ".join(
        f"{c.key} ({', '.join(str(r.id) for r in c.stop if r.status is Status.RUNNING)} running)"
        for c in gated
    )
    raise GateError(
        f"{len(gated)} change(s) stop a running campaign: {listed}. Nothing was applied; "
        "re-run with --allow-stop to stop them"
    )


def _confirm(
    made: Plan,
    inv: Invocation,
    options: ApplyOptions,
    journal: Journal,
    run_id: int,
    out: TextIO,
) -> None:
    if options.confirm is None:
        journal.finish(run_id, "gated", {"why": "no terminal to confirm on"})
        raise GateError(
            "not on a terminal, so ctflow cannot ask for confirmation: review `ctflow plan`, "
            "then run `ctflow apply --auto-approve` (or apply a saved plan file)"
        )
    question = (
        f"Apply these changes to environment {inv.target.environment.name!r}? "
        "Only 'yes' will be accepted"
    )
    if not options.confirm(question):
        journal.finish(run_id, "cancelled")
        raise CtflowError("apply cancelled; nothing was changed")


def _finished(outcome: Outcome, env_flag: str, *, uploaded: int = 0) -> str:
    n = outcome.summary()
    head = "Apply complete" if outcome.ok else "Apply incomplete"
    text = (
        f"{head}: {n['created']} created, {n['adopted']} adopted, {n['stopped']} stopped"
        + (f", {n['failed']} failed" if n["failed"] else "")
        + (f", {n['skipped']} skipped" if n["skipped"] else "")
        + (f", {uploaded} dataset(s) uploaded" if uploaded else "")
        + "."
    )
    for key, message, _code in outcome.failed:
        text += f"\n  ✗ {key}: {message}"
    if not outcome.ok:
        text += (
            f"\nRe-run `ctflow apply{env_flag}`: it adopts what was created and finishes the rest."
        )
    return text


def _read_plan(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the plan {path}: {exc.strerror or exc}") from None
    try:
        return load_plan(text)
    except PlanFormatError as exc:
        raise UsageError(f"{path}: {exc}") from None


def _check_saved(saved: Plan, project: Project, target: Target) -> None:
    """The plan is for this project and environment, and each create body is the version its
    hash names (a hand-edited body would otherwise go live under a marker that hides it)."""
    for change in saved.changes:
        if change.creates and not _consistent(change, saved.project):
            raise InvalidInput(
                f"the saved plan's create body for {change.key!r} does not match its version "
                f"hash {change.hash}: the file was edited; make a new plan with `ctflow plan "
                "--out FILE`"
            )
    if saved.project != project.name:
        raise UsageError(f"the plan is for project {saved.project!r}, this is {project.name!r}")
    env = target.environment.name
    if saved.environment != env:
        raise UsageError(
            f"the plan is for environment {saved.environment!r}, not {env!r}: add "
            f"--env {saved.environment}"
        )


def _consistent(change: Change, project: str) -> bool:
    spec, payload = change.spec, change.payload
    if spec is None or payload is None or change.hash is None:
        return False
    if digest(spec) != change.hash:
        return False
    if payload.get("name") != mark(str(spec.get("name")), project, change.key, change.hash):
        return False
    dated = ("name", "where")  # the payload fixes the spec's relative windows to dates
    return {k: v for k, v in payload.items() if k not in dated} == {
        k: v for k, v in spec.items() if k not in dated
    }
