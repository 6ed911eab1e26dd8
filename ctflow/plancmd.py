"""``ctflow plan`` and ``ctflow apply``: the commands around the planner and the applier.

Plain functions returning exit codes; ``cli.py`` gathers what they read from the process (the
clock, the user, the terminal) into a :class:`~ctflow.runs.Invocation`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ctflow import __version__
from ctflow.clevertap import CleverTap
from ctflow.config import Project, Target
from ctflow.errors import (
    ConfigError,
    ConflictError,
    CtflowError,
    ExitCode,
    GateError,
    InvalidInput,
    UsageError,
)
from ctflow.journal import JOURNAL_NAME, Journal
from ctflow.masking import mask
from ctflow.plan.apply import Applier, Outcome, reach
from ctflow.plan.datasets import DatasetFacts, dataset_changes
from ctflow.plan.desired import desired_state
from ctflow.plan.gitbase import Unavailable
from ctflow.plan.live import read_live, scheduled_dates
from ctflow.plan.live import window as live_window
from ctflow.plan.marker import digest, mark
from ctflow.plan.model import Action, Change, Plan, PlanFormatError, Status
from ctflow.plan.planner import Context, make_plan, targeted
from ctflow.plan.render_json import load as load_plan
from ctflow.plan.render_json import render_json, save
from ctflow.plan.render_markdown import render_markdown
from ctflow.plan.render_text import render_text
from ctflow.plan.triggerdiff import TriggerReport
from ctflow.plan.triggers import report as trigger_report
from ctflow.runs import (
    Invocation,
    announce,
    connect,
    env_flag,
    find_declared_project,
    journal_run,
    say_line,
    today_of,
    with_secret_variables,
)
from ctflow.spec.model import Declarations
from ctflow.spec.validate import load as load_declarations
from ctflow.upload.datasets import dataset_facts, dataset_jobs
from ctflow.upload.engine import Options as UploadEngineOptions
from ctflow.upload.job import FileJob, schemas_of
from ctflow.upload.report import FileResult, to_json
from ctflow.upload.report import exit_code as upload_exit_code
from ctflow.upload.report import text as upload_text
from ctflow.upload.runner import RunSettings, run_jobs

MARKDOWN_LIMIT = 65_000
"""GitHub refuses comments over 65,536 characters; the comment actions add a header."""


@dataclass(frozen=True)
class PlanOptions:
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    fmt: str = "text"
    out_file: Path | None = None
    estimate: bool = False
    detailed_exitcode: bool = False
    base: str | None = None
    base_asked: bool = True
    """``base`` was asked for (``--base``, a pull request): say why when it cannot be read.
    The default, HEAD, is skipped silently outside a git repository."""
    """The git revision the triggers' renders are compared with; ``None``: not compared."""


@dataclass(frozen=True)
class ApplyOptions:
    plan_file: Path | None = None
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    auto_approve: bool = False
    allow_stop: bool = False
    confirm: Callable[[str], bool] | None = None
    """Asks on the terminal; ``None`` when there is none (then ``--auto-approve`` is needed)."""


# --- plan -----------------------------------------------------------------------------------


def plan(inv: Invocation, options: PlanOptions, *, out: TextIO, err: TextIO) -> int:
    declarations = load_declarations(inv.directory)
    project = declarations.project
    inv = with_secret_variables(inv, project)
    announce(inv, "planning against", err)

    async def run() -> Plan:
        async with connect(inv, project) as client:
            made = await _plan(inv, declarations, options.targets, options.replace, client)
            if options.estimate:
                made = await _estimate(made, client)
            return made

    made = asyncio.run(run())
    if options.base is not None and not options.targets:
        found = _triggers(declarations, inv, options.base, err, quiet=not options.base_asked)
        made = replace(made, triggers=found)
    text = mask(_render(made, options.fmt, inv.color), inv.secrets)
    out.write(text)
    if options.fmt == "markdown" and inv.step_summary is not None:
        with inv.step_summary.open("a", encoding="utf-8") as summary:
            summary.write(text)
    if options.out_file is not None:
        _write_plan(options.out_file, made)
        err.write(
            f"ctflow: saved the plan to {options.out_file}; `ctflow apply{env_flag(inv)} "
            f"{options.out_file}` applies exactly this plan\n"
        )
    if options.detailed_exitcode and made.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


def _triggers(
    declarations: Declarations, inv: Invocation, base: str, err: TextIO, *, quiet: bool
) -> TriggerReport | None:
    """The triggers compared with ``base``; ``None``, with a note saying why, when they cannot
    be (silently when no trigger is declared, nothing to miss, or when ``quiet`` and the
    project is not in a git repository)."""
    try:
        return trigger_report(declarations, inv.target.environment.name, base, inv.secrets)
    except Unavailable as exc:
        outside_git = "not in a git repository" in str(exc) or "not installed" in str(exc)
        if declarations.triggers and not (quiet and outside_git):
            err.write(mask(f"ctflow: triggers not compared with {base}: {exc}\n", inv.secrets))
        return None


def _render(made: Plan, fmt: str, color: bool) -> str:
    if fmt == "json":
        return render_json(made)
    if fmt == "markdown":
        return render_markdown(made, limit=MARKDOWN_LIMIT)
    return render_text(made, color=color)


async def _plan(
    inv: Invocation,
    declarations: Declarations,
    targets: tuple[str, ...],
    replacing: tuple[str, ...],
    client: CleverTap,
) -> Plan:
    project = declarations.project
    env = inv.target.environment
    today = today_of(inv, project)
    desired = desired_state(declarations, env, today)
    span = live_window(today, scheduled_dates(d.payload for d in desired))
    live = await read_live(client, project.name, span)
    jobs = dataset_jobs(declarations)
    keys = {d.key for d in desired} | set(live.by_key) | set(jobs)
    for name in (*targets, *replacing):
        if not any(targeted(key, (name,)) for key in keys):
            raise UsageError(
                f"{name!r} names no declared or live campaign of project {project.name!r}"
            )
    specs, stopped, killed = _journal_facts(project, env.name)
    ctx = Context(
        project=project.name,
        environment=env.name,
        sandbox=inv.target.is_sandbox,
        created_at=inv.now.isoformat(timespec="seconds"),
        specs=specs,
        stopped_by_us=stopped,
        killed=killed,
        targets=targets,
        replace=frozenset(replacing),
        ctflow_version=__version__,
    )
    made = make_plan(desired, live, ctx)
    if not jobs:
        return made
    uploads, unchanged = dataset_changes(_dataset_facts(project, jobs, env.name), targets)
    return replace(
        made,
        changes=(*made.changes, *uploads),
        unchanged=(*made.unchanged, *unchanged),
    )


def _dataset_facts(project: Project, jobs: dict[str, FileJob], env: str) -> list[DatasetFacts]:
    path = project.state_dir / JOURNAL_NAME
    if not path.exists():
        return dataset_facts(jobs, project.root, None, env)
    with Journal.open(path) as journal:
        return dataset_facts(jobs, project.root, journal, env)


async def _estimate(made: Plan, client: CleverTap) -> Plan:
    """Reach per device of every create and replace (``estimate_only``; creates nothing)."""

    async def one(change: Change) -> Change:
        if not change.creates or change.payload is None:
            return change
        estimates = await client.estimate_campaign(change.payload)
        return replace(change, estimate=reach(change.payload, estimates.by_device))

    changes = await asyncio.gather(*(one(c) for c in made.changes))
    return replace(made, changes=tuple(changes))


def _journal_facts(
    project: Project, env: str
) -> tuple[dict[tuple[str, str], dict[str, Any]], set[int], set[int]]:
    """Specs applied before, ids applies stopped and ids the kill switch stopped; none when
    there is no journal yet."""
    path = project.state_dir / JOURNAL_NAME
    if not path.exists():
        return {}, set(), set()
    with Journal.open(path) as journal:
        return (
            journal.specs(env),
            journal.stopped_ids(env),
            journal.stopped_ids(env, kind="stop-all"),
        )


def _write_plan(path: Path, made: Plan) -> None:
    try:
        path.write_text(save(made), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the plan to {path}: {exc.strerror or exc}") from None


# --- apply ----------------------------------------------------------------------------------


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
                    made = await _plan(inv, declarations, options.targets, options.replace, client)
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
