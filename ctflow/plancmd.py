"""``ctflow plan``, ``ctflow apply`` and ``ctflow stop --all``: the commands around the planner
and the applier. Plain functions returning exit codes; ``cli.py`` gathers what they read from
the process (the clock, the user, the terminal) into an :class:`Invocation`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ctflow import __version__
from ctflow.clevertap import CleverTap
from ctflow.config import CONFIG_NAME, Project, Target, find_project
from ctflow.connect import open_client
from ctflow.errors import (
    ConfigError,
    ConflictError,
    CtflowError,
    ExitCode,
    GateError,
    InvalidInput,
    UsageError,
)
from ctflow.journal import JOURNAL_NAME, Holder, Journal
from ctflow.plan.apply import Applier, Outcome, reach
from ctflow.plan.desired import desired_state
from ctflow.plan.diff import is_sensitive
from ctflow.plan.live import LOOKBACK_DAYS, LiveState, read_live, scheduled_dates
from ctflow.plan.live import window as live_window
from ctflow.plan.marker import digest, display_name, mark
from ctflow.plan.model import Action, Change, Plan, PlanFormatError, Status
from ctflow.plan.planner import Context, make_plan, targeted
from ctflow.plan.render_json import load as load_plan
from ctflow.plan.render_json import render_json, save
from ctflow.plan.render_markdown import render_markdown
from ctflow.plan.render_text import render_text
from ctflow.spec.model import Declarations
from ctflow.spec.validate import load as load_declarations

Connect = Callable[[], AbstractAsyncContextManager[CleverTap]]
KILL_SWITCH_LOOKAHEAD_DAYS = 3660
"""The kill switch cannot read the declarations (they may be broken), so it looks ten years
ahead for what is pending."""
MARKDOWN_LIMIT = 65_000
"""GitHub refuses comments over 65,536 characters; the comment actions add a header."""


@dataclass(frozen=True)
class Invocation:
    """One run of a command: where, against what, when, by whom, and how to print."""

    directory: Path
    target: Target
    now: datetime
    user: str
    host: str
    command: str
    color: bool = False
    step_summary: Path | None = None
    secrets: Collection[str] = field(default=(), repr=False)
    connect: Connect | None = None
    """Tests hand in a client of their own sandbox; by default the target's."""


@dataclass(frozen=True)
class PlanOptions:
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    fmt: str = "text"
    out_file: Path | None = None
    estimate: bool = False
    detailed_exitcode: bool = False


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
    inv = _with_secret_variables(inv, project)
    _announce(inv, "planning against", err)

    async def run() -> Plan:
        async with _connect(inv, project) as client:
            made = await _plan(inv, declarations, options.targets, options.replace, client)
            if options.estimate:
                made = await _estimate(made, client)
            return made

    made = asyncio.run(run())
    text = _scrub(_render(made, options.fmt, inv.color), inv.secrets)
    out.write(text)
    if options.fmt == "markdown" and inv.step_summary is not None:
        with inv.step_summary.open("a", encoding="utf-8") as summary:
            summary.write(text)
    if options.out_file is not None:
        _write_plan(options.out_file, made)
        err.write(
            f"ctflow: saved the plan to {options.out_file}; `ctflow apply{_env_flag(inv)} "
            f"{options.out_file}` applies exactly this plan\n"
        )
    if options.detailed_exitcode and made.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


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
    today = _today(inv, project)
    desired = desired_state(declarations, env, today)
    span = live_window(today, scheduled_dates(d.payload for d in desired))
    live = await read_live(client, project.name, span)
    keys = {d.key for d in desired} | set(live.by_key)
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
    return make_plan(desired, live, ctx)


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
        project = _project(inv)
        _check_saved(saved, project, inv.target)
        declarations = None
    else:
        saved = None
        declarations = load_declarations(inv.directory)
        project = declarations.project
    inv = _with_secret_variables(inv, project)
    _announce(inv, "applying to", err)
    with _journal(project, inv, "apply", err) as (journal, run_id):

        async def run() -> int:
            async with _connect(inv, project) as client:
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
                            f"({saved.created_at}): run `ctflow plan{_env_flag(inv)} --out "
                            f"{options.plan_file}` again and review it"
                        )
                    made = saved
                else:
                    assert declarations is not None
                    made = await _plan(inv, declarations, options.targets, options.replace, client)
                    out.write(_scrub(render_text(made, color=inv.color), inv.secrets))
                    span = (date.fromisoformat(made.window[0]), date.fromisoformat(made.window[1]))
                if not made.has_changes:
                    journal.finish(run_id, "ok", {"changes": 0})
                    if saved is not None:
                        out.write("No changes in the saved plan.\n")
                    return ExitCode.OK
                _gate(made, options, journal, run_id)
                if saved is None and not options.auto_approve:
                    _confirm(made, inv, options, journal, run_id, out)
                applier = Applier(
                    client,
                    journal,
                    run_id,
                    project=project.name,
                    environment=inv.target.environment.name,
                    window=span,
                    say=lambda line: _line(err, line, inv.secrets),
                )
                try:
                    outcome = await applier.run(made)
                except (KeyboardInterrupt, asyncio.CancelledError):
                    done = applier.outcome
                    journal.finish(run_id, "interrupted", done.summary())
                    err.write(
                        f"ctflow: interrupted after {len(done.stopped)} stop(s) and "
                        f"{len(done.created) + len(done.adopted)} create(s); run `ctflow "
                        f"apply{_env_flag(inv)}` again to finish (it re-creates what a replace "
                        "stopped)\n"
                    )
                    raise
                journal.finish(run_id, "ok" if outcome.ok else "failed", outcome.summary())
                out.write(_finished(outcome, _env_flag(inv)) + "\n")
                return outcome.exit_code

        return asyncio.run(run())


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


def _finished(outcome: Outcome, env_flag: str) -> str:
    n = outcome.summary()
    head = "Apply complete" if outcome.ok else "Apply incomplete"
    text = (
        f"{head}: {n['created']} created, {n['adopted']} adopted, {n['stopped']} stopped"
        + (f", {n['failed']} failed" if n["failed"] else "")
        + (f", {n['skipped']} skipped" if n["skipped"] else "")
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


# --- stop --all -----------------------------------------------------------------------------


def stop_all(
    inv: Invocation,
    *,
    auto_approve: bool,
    confirm: Callable[[str], bool] | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """The kill switch: stop every pending or running campaign with this project's marker."""
    project = _project(inv)
    _announce(inv, "stopping campaigns in", err)
    with _journal(project, inv, "stop-all", err, exclusive=False) as (journal, run_id):

        async def run() -> int:
            async with _connect(inv, project) as client:
                today = _today(inv, project)
                span = (
                    today - timedelta(days=LOOKBACK_DAYS),
                    today + timedelta(days=KILL_SWITCH_LOOKAHEAD_DAYS),
                )
                live = await read_live(client, project.name, span)
                changes = _stop_everything(live)
                if not changes:
                    journal.finish(run_id, "ok", {"stopped": 0})
                    out.write(
                        f"Nothing to stop: no pending or running campaign carries the marker of "
                        f"project {project.name!r}.\n"
                    )
                    return ExitCode.OK
                ids = sum(len(c.stop) for c in changes)
                out.write(f"{ids} campaign(s) of project {project.name!r} will be stopped:\n")
                for change in changes:
                    for ref in change.stop:
                        out.write(f"  - {change.key}  {change.name}  ({ref.id} {ref.status})\n")
                if not auto_approve:
                    if confirm is None:
                        journal.finish(run_id, "gated", {"why": "no terminal to confirm on"})
                        raise GateError(
                            "not on a terminal, so ctflow cannot ask for confirmation: run "
                            "`ctflow stop --all --auto-approve`"
                        )
                    if not confirm(f"Stop these {ids} campaign(s)? Only 'yes' will be accepted"):
                        journal.finish(run_id, "cancelled")
                        out.write("Cancelled; nothing was stopped.\n")
                        return ExitCode.ERROR
                applier = Applier(
                    client,
                    journal,
                    run_id,
                    project=project.name,
                    environment=inv.target.environment.name,
                    window=span,
                    say=lambda line: _line(err, line, inv.secrets),
                )
                made = Plan(
                    project=project.name,
                    environment=inv.target.environment.name,
                    sandbox=inv.target.is_sandbox,
                    created_at=inv.now.isoformat(timespec="seconds"),
                    window=(span[0].isoformat(), span[1].isoformat()),
                    fingerprint=live.fingerprint,
                    changes=tuple(changes),
                )
                outcome = await applier.run(made)
                journal.finish(run_id, "ok" if outcome.ok else "failed", outcome.summary())
                out.write(
                    f"Stopped {len(outcome.stopped)} of {ids} campaign(s)"
                    + (f"; {len(outcome.failed)} failed." if outcome.failed else ".")
                    + "\n"
                )
                return outcome.exit_code

        return asyncio.run(run())


def _stop_everything(live: LiveState) -> list[Change]:
    changes = []
    for key in sorted(live.by_key):
        active = [r for r in live.by_key[key] if r.status in (Status.PENDING, Status.RUNNING)]
        if active:
            name = display_name(active[-1].name)
            changes.append(Change(Action.STOP, key, name, "stop --all", stop=tuple(active)))
    return changes


# --- shared ---------------------------------------------------------------------------------


def _project(inv: Invocation) -> Project:
    project = find_project(inv.directory)
    if not project.found:
        raise ConfigError(
            f"no {CONFIG_NAME} in {inv.directory.resolve()} or any directory above it: the "
            "project's name is what marks its campaigns"
        )
    return project


def _today(inv: Invocation, project: Project) -> date:
    return inv.now.astimezone(ZoneInfo(project.timezone_for(inv.target.environment))).date()


def _connect(inv: Invocation, project: Project) -> AbstractAsyncContextManager[CleverTap]:
    if inv.connect is not None:
        return inv.connect()
    return open_client(inv.target, timezone=project.timezone_for(inv.target.environment))


def _with_secret_variables(inv: Invocation, project: Project) -> Invocation:
    """Template variables named like secrets (``api_token``) are masked in everything printed,
    as the passcode is; the create bodies still carry them to CleverTap."""
    values = {
        str(value)
        for variables in (project.variables, *(e.variables for e in project.environments.values()))
        for name, value in variables.items()
        if is_sensitive(name) and isinstance(value, str | int) and len(str(value)) >= 4
    }
    return replace(inv, secrets={*inv.secrets, *values}) if values else inv


def _env_flag(inv: Invocation) -> str:
    """`` --env NAME`` for commands ctflow suggests, so they act on the same account."""
    return "" if inv.target.is_sandbox else f" --env {inv.target.environment.name}"


def _announce(inv: Invocation, doing: str, err: TextIO) -> None:
    if inv.target.is_sandbox:
        err.write(
            f"ctflow: {doing} the built-in sandbox ({inv.target.sandbox_db}); set credentials "
            "and --env to work on a real account\n"
        )


@contextmanager
def _journal(
    project: Project, inv: Invocation, kind: str, err: TextIO, *, exclusive: bool = True
) -> Iterator[tuple[Journal, int]]:
    """Open the journal, take its lock and begin a run; release everything on the way out.

    Not ``exclusive`` (the kill switch): a held lock is reported and the run goes ahead, since
    a runaway apply is exactly when campaigns must be stopped.
    """
    holder = Holder(
        pid=os.getpid(),
        user=inv.user,
        host=inv.host,
        command=inv.command,
        started_at=inv.now.isoformat(timespec="seconds"),
    )
    with Journal.open(project.state_dir / JOURNAL_NAME) as journal, ExitStack() as stack:
        try:
            stack.enter_context(journal.lock(holder))
            locked = True
        except ConflictError as exc:
            if exclusive:
                raise
            locked = False
            err.write(
                f"ctflow: warning: {exc.message.removesuffix('; wait for it to finish')}. "
                "Stopping anyway; it may create campaigns after this: interrupt it (Ctrl-C) "
                "and run this again\n"
            )
        if journal.created:
            err.write(
                f"ctflow: started a new journal at {journal.path}; the ownership markers keep "
                "campaigns from being duplicated, and from now on plans show per-field diffs\n"
            )
        env = inv.target.environment.name
        run_id = journal.begin(
            kind,
            project=project.name,
            environment=env,
            user=inv.user,
            host=inv.host,
            git_commit=_git_commit(project.root),
            command=inv.command,
        )
        if locked:
            _settle_abandoned(journal, env, run_id, err)
        try:
            yield journal, run_id
        except BaseException as exc:
            journal.finish_if_open(run_id, _outcome_of(exc), {"error": str(exc)[:500]})
            raise
        journal.finish_if_open(run_id, "ok")


def _settle_abandoned(journal: Journal, env: str, run_id: int, err: TextIO) -> None:
    """Steps a killed run left without an outcome: this run re-reads the account, so they are
    closed as ``abandoned``, pointing at it."""
    open_steps = [s for s in journal.unfinished_steps(env) if s["run_id"] != run_id]
    if not open_steps:
        return
    runs = sorted({s["run_id"] for s in open_steps})
    err.write(
        f"ctflow: run {', '.join(map(str, runs))} stopped without finishing "
        f"{len(open_steps)} step(s); this run reads the account afresh and completes the work\n"
    )
    for step in open_steps:
        journal.outcome(step["id"], "abandoned", detail={"settled_by_run": run_id})
    for run in runs:
        journal.finish_if_open(run, "killed", {"settled_by_run": run_id})


def _outcome_of(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
        return "interrupted"
    if isinstance(exc, GateError):
        return "gated"
    if isinstance(exc, ConflictError):
        return "stale"
    return "failed"


def _git_commit(root: Path) -> str | None:
    """The commit checked out at ``root``, with ``+dirty`` when files differ; ``None`` outside
    git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head or None


def _scrub(text: str, secrets: Collection[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _line(err: TextIO, line: str, secrets: Collection[str]) -> None:
    err.write(_scrub(line, secrets) + "\n")
    err.flush()
