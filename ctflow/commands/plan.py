"""``ctflow plan``: the declarations and the live account planned (:mod:`ctflow.plan`), printed
as text, Markdown or JSON, and saved for ``ctflow apply FILE``.

A plain function returning an exit code; ``ctflow.cli`` gathers what it reads from the process
(the clock, the user, the terminal) into a :class:`~ctflow.commands.shared.Invocation`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from ctflow import __version__
from ctflow.clevertap import CleverTap
from ctflow.commands.audiences import Segments, known_segments, with_audiences
from ctflow.commands.shared import (
    Invocation,
    announce,
    append_step_summary,
    connect,
    env_flag,
    today_of,
    with_secret_variables,
)
from ctflow.commands.show import render
from ctflow.config import JOURNAL_FILE, Project, Target, journal_location
from ctflow.errors import (
    CtflowError,
    ExitCode,
    UsageError,
)
from ctflow.journal import existing_journal
from ctflow.masking import mask
from ctflow.plan.apply import reach
from ctflow.plan.datasets import DatasetFacts, dataset_changes
from ctflow.plan.desired import desired_state
from ctflow.plan.gitbase import Unavailable
from ctflow.plan.live import read_live, scheduled_dates
from ctflow.plan.live import window as live_window
from ctflow.plan.model import Change, Create, Plan
from ctflow.plan.planner import Context, make_plan, targeted
from ctflow.plan.render_json import save
from ctflow.plan.render_markdown import render_markdown
from ctflow.plan.triggerdiff import TriggerReport
from ctflow.plan.triggers import report as trigger_report
from ctflow.spec.model import Declarations
from ctflow.spec.validate import load as load_declarations
from ctflow.upload.datasets import dataset_facts, dataset_jobs
from ctflow.upload.job import FileJob

STEP_SUMMARY_BYTES = 1_048_576
"""GitHub keeps a step's summary up to 1 MiB: room for the full plan the comment cannot hold."""


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


def plan(inv: Invocation, options: PlanOptions, *, out: TextIO, err: TextIO) -> int:
    declarations = load_declarations(inv.directory)
    project = declarations.project
    inv = with_secret_variables(inv, project)
    announce(inv, "planning against", err)

    async def run() -> Plan:
        async with connect(inv, project) as client:
            made = await build_plan(inv, declarations, options.targets, options.replace, client)
            if options.estimate:
                made = await _estimate(made, client, known_segments(project, inv.target))
            return made

    made = asyncio.run(run())
    if options.base is not None and not options.targets:
        found = _triggers(declarations, inv, options.base, err, quiet=not options.base_asked)
        made = replace(made, triggers=found)
    text = mask(render(made, options.fmt, color=inv.color), inv.secrets)
    out.write(text)
    if options.fmt == "markdown" and inv.step_summary is not None:
        append_step_summary(inv.step_summary, mask(_summary(made), inv.secrets), err)
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


def _summary(made: Plan) -> str:
    """The Markdown plan for the step summary: in full even when the comment's is too long
    for a comment, within GitHub's 1 MiB (in UTF-8) for a step's summary."""
    text = render_markdown(made, limit=STEP_SUMMARY_BYTES)
    if len(text.encode("utf-8")) <= STEP_SUMMARY_BYTES:
        return text
    return render_markdown(made, limit=STEP_SUMMARY_BYTES // 4)  # 4 bytes at most a character


async def build_plan(
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
    keys = {d.key for d in desired} | set(live.by_key) | set(jobs) | set(declarations.audiences)
    for name in (*targets, *replacing):
        if not any(targeted(key, (name,)) for key in keys):
            raise UsageError(
                f"{name!r} names no declared or live campaign of project {project.name!r}"
            )
    specs, stopped, killed = _journal_facts(project, inv.target)
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
        timezone=project.timezone_for(env),
    )
    made = replace(make_plan(desired, live, ctx), journal=_named_journal(project, inv.target))
    if jobs:
        uploads, unchanged = dataset_changes(_dataset_facts(project, jobs, inv.target), targets)
        made = replace(
            made,
            changes=(*made.changes, *uploads),
            unchanged=(*made.unchanged, *unchanged),
        )
    return with_audiences(made, declarations, inv.target, targets)


def _named_journal(project: Project, target: Target) -> str:
    """The journal, for the plan's header, when it is not the project's own file."""
    where = journal_location(project, target)
    own = where.kind == "sqlite" and where.path == project.state_dir / JOURNAL_FILE
    return "" if own else where.shown


def _dataset_facts(
    project: Project, jobs: dict[str, FileJob], target: Target
) -> list[DatasetFacts]:
    env = target.environment.name
    journal = existing_journal(journal_location(project, target), project=project.name)
    if journal is None:
        return dataset_facts(jobs, project.root, None, env)
    with journal:
        return dataset_facts(jobs, project.root, journal, env)


async def _estimate(made: Plan, client: CleverTap, segments: Segments) -> Plan:
    """Reach per device of every create and replace (``estimate_only``; creates nothing); none
    for a campaign on an Audience whose segment is not created yet."""

    async def one(change: Change) -> Change:
        if not isinstance(change, Create):
            return change
        body = segments(change.body)
        if body is None:
            return change
        estimates = await client.estimate_campaign(body)
        return replace(change, estimate=reach(body, estimates.by_device))

    changes = await asyncio.gather(*(one(c) for c in made.changes))
    return replace(made, changes=tuple(changes))


def _journal_facts(
    project: Project, target: Target
) -> tuple[dict[tuple[str, str], dict[str, Any]], set[int], set[int]]:
    """Specs applied before, ids applies stopped and ids the kill switch stopped; none when
    there is no journal yet."""
    env = target.environment.name
    journal = existing_journal(journal_location(project, target), project=project.name)
    if journal is None:
        return {}, set(), set()
    with journal:
        return (
            journal.specs(env),
            journal.stopped_ids(env),
            journal.stopped_ids(env, kind="stop-all"),
        )


def _write_plan(path: Path, made: Plan) -> None:
    try:
        path.write_text(save(made), encoding="utf-8")
    except OSError as exc:
        raise CtflowError(f"cannot write the plan to {path}: {exc.strerror or exc}") from None
