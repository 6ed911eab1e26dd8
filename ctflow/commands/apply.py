"""``ctflow apply [FILE]``: the plan made now (or a saved one) executed against the account,
after its safety gates, in a journaled, locked run.

A plain function returning an exit code; ``ctflow.cli`` gathers what it reads from the process
(the clock, the user, the terminal) into a :class:`~ctflow.commands.shared.Invocation`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from ctflow.clevertap import CleverTap
from ctflow.commands.applyprogress import ApplyProgress
from ctflow.commands.outcome import Ended, render_json, render_markdown
from ctflow.commands.plan import build_plan
from ctflow.commands.shared import (
    Invocation,
    announce,
    append_step_summary,
    applier,
    approved,
    connect,
    env_flag,
    find_declared_project,
    journal_run,
    say_line,
    with_secret_variables,
)
from ctflow.commands.show import read_plan
from ctflow.commands.statusline import StatusLine
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
from ctflow.plan.apply import Outcome
from ctflow.plan.cost import plan_cost
from ctflow.plan.live import read_live
from ctflow.plan.marker import digest, mark
from ctflow.plan.model import Create, Plan, Status
from ctflow.plan.render_text import render_text
from ctflow.spec.model import Declarations
from ctflow.spec.validate import load as load_declarations
from ctflow.upload.report import FileResult
from ctflow.upload.report import text as upload_text
from ctflow.upload.runner import DatasetUploads


@dataclass(frozen=True)
class ApplyOptions:
    plan_file: Path | None = None
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    auto_approve: bool = False
    allow_stop: bool = False
    confirm: Callable[[str], bool] | None = None
    """Asks on the terminal; ``None`` when there is none (then ``--auto-approve`` is needed)."""
    fmt: str = "text"
    """``json``: stdout holds only the outcome document; what text prints goes to stderr."""
    live: bool = False
    """stderr is a terminal that can redraw: progress is a status line there, else plain lines."""
    progress_every: float | None = None
    """Seconds between two progress lines (``None``: the status line's own pace)."""


def apply(inv: Invocation, options: ApplyOptions, *, out: TextIO, err: TextIO) -> int:
    """Apply the saved plan ``options.plan_file``, or a plan made now from the declarations.
    The outcome goes to ``inv.step_summary`` (Markdown) and, in JSON, to ``out``."""
    source: Plan | Declarations
    if options.plan_file is not None:
        source = read_plan(options.plan_file)
        project = find_declared_project(inv)
        _check_saved(source, project, inv.target)
    else:
        source = load_declarations(inv.directory)
        project = source.project
    inv = with_secret_variables(inv, project)
    announce(inv, "applying to", err)
    human = err if options.fmt == "json" else out
    with journal_run(project, inv, "apply", err) as run:

        async def go() -> int:
            async with connect(inv, project) as client:
                if isinstance(source, Plan):
                    made = await _still_current(source, options, inv, project, client, run)
                else:
                    made = await build_plan(inv, source, options.targets, options.replace, client)
                    human.write(mask(render_text(made, color=inv.color), inv.secrets))
                ended = await _execute(made, source, options, inv, project, client, run, human, err)
                _tell(ended, options, inv, out, err)
                return ended.exit_code

        return asyncio.run(go())


async def _still_current(
    saved: Plan,
    options: ApplyOptions,
    inv: Invocation,
    project: Project,
    client: CleverTap,
    run: tuple[Journal, int],
) -> Plan:
    """The saved plan, if the live campaigns are still what it was made against."""
    live = await read_live(client, project.name, _window(saved))
    if live.fingerprint != saved.fingerprint:
        journal, run_id = run
        journal.finish(run_id, "stale")
        raise ConflictError(
            f"the live campaigns changed since {options.plan_file} was saved "
            f"({saved.created_at}): run `ctflow plan{env_flag(inv)} --out "
            f"{options.plan_file}` again and review it"
        )
    return saved


async def _execute(
    made: Plan,
    source: Plan | Declarations,
    options: ApplyOptions,
    inv: Invocation,
    project: Project,
    client: CleverTap,
    run: tuple[Journal, int],
    out: TextIO,
    err: TextIO,
) -> Ended:
    """Past the gates, the plan executed (uploads, stops, creates), then the report."""
    journal, run_id = run
    if not made.has_changes:
        journal.finish(run_id, "ok", {"changes": 0})
        if isinstance(source, Plan):
            out.write("No changes in the saved plan.\n")
        return Ended("apply", made, Outcome(uploads_done=True), (), ExitCode.OK, "No changes.")
    _gate(made, options, journal, run_id)
    _ask(source, options, inv, run)
    uploads = DatasetUploads(
        client,
        journal,
        run_id,
        inv.target.environment.name,
        # a saved plan's files must still be what was planned: read them again
        declarations=lambda: (
            source if isinstance(source, Declarations) else load_declarations(inv.directory)
        ),
        timezone=ZoneInfo(project.timezone_for(inv.target.environment)),
        state_dir=project.state_dir,
        replan=f"ctflow plan{env_flag(inv)} --out FILE",
        err=err,
        say=lambda line: say_line(err, line, inv.secrets),
        report=lambda results: _uploaded(results, inv, out),
    )
    status = StatusLine(err, live=options.live, every=options.progress_every)
    progress = ApplyProgress(plan_cost(made.changes), status)
    executor = applier(inv, project, client, run, _window(made), err, uploads, progress)
    try:
        outcome = await executor.run(made)
    except (KeyboardInterrupt, asyncio.CancelledError):
        progress.finish()  # before the lines below: they go where the status line was
        done = executor.outcome
        if not done.uploads_done:
            raise
        # interrupted among the campaigns: say what was done, and report it as a run's end
        done.interrupted = True
        journal.finish(run_id, "interrupted", done.summary())
        audiences = len(done.audiences) + len(done.audience_failures)
        planned = made.counts().get("audience", 0)
        text = (
            f"interrupted after {audiences} of {planned} audience(s), "
            f"{len(done.stopped)} stop(s) and {len(done.created) + len(done.adopted)} create(s)"
        )
        err.write(
            f"ctflow: {text}; run `ctflow apply{env_flag(inv)}` again to finish (it sends the "
            "members not recorded and re-creates what a replace stopped)\n"
        )
        return Ended("apply", made, done, uploads.results, ExitCode.INTERRUPTED, f"Apply {text}.")
    finally:  # any error too (credentials refused, the journal): the terminal gets its cursor back
        progress.finish()
    return _report(made, outcome, uploads.results, inv, run, out, err)


def _ask(
    source: Plan | Declarations, options: ApplyOptions, inv: Invocation, run: tuple[Journal, int]
) -> None:
    """Asks on the terminal before a plan made now is applied; a saved plan was reviewed when
    it was made, and ``--auto-approve`` says yes in advance."""
    if isinstance(source, Plan) or options.auto_approve:
        return
    question = (
        f"Apply these changes to environment {inv.target.environment.name!r}? "
        "Only 'yes' will be accepted"
    )
    unattended = (
        "review `ctflow plan`, then run `ctflow apply --auto-approve` (or apply a saved plan file)"
    )
    if not approved(question, options.confirm, *run, unattended=unattended):
        raise CtflowError("apply cancelled; nothing was changed")


def _report(
    made: Plan,
    outcome: Outcome,
    uploaded: Sequence[FileResult],
    inv: Invocation,
    run: tuple[Journal, int],
    out: TextIO,
    err: TextIO,
) -> Ended:
    """The campaigns' line (the uploads reported as they ended); the run closed with how it
    ended."""
    journal, run_id = run
    if not outcome.uploads_done:  # Ctrl-C among the uploads: nothing more was done
        journal.finish(run_id, "interrupted", outcome.summary())
        err.write(
            "ctflow: interrupted while uploading the datasets; no campaign was stopped or "
            f"created: run `ctflow apply{env_flag(inv)}` again to finish\n"
        )
        text = "Apply interrupted while uploading the datasets; no campaign was touched."
        return Ended("apply", made, outcome, uploaded, ExitCode.INTERRUPTED, text)
    ended = "ok" if outcome.exit_code == ExitCode.OK else "failed"
    journal.finish(run_id, ended, outcome.summary())
    finished = _finished(outcome, env_flag(inv), uploaded=len(uploaded))
    out.write(finished + "\n")
    return Ended("apply", made, outcome, uploaded, outcome.exit_code, finished.splitlines()[0])


def _tell(ended: Ended, options: ApplyOptions, inv: Invocation, out: TextIO, err: TextIO) -> None:
    """The outcome: appended to the step summary in Markdown, printed in JSON when asked."""
    if inv.step_summary is not None:
        append_step_summary(inv.step_summary, mask(render_markdown(ended), inv.secrets), err)
    if options.fmt == "json":
        out.write(mask(render_json(ended), inv.secrets))


def _uploaded(results: Sequence[FileResult], inv: Invocation, out: TextIO) -> None:
    out.write(upload_text(results, env_flag=env_flag(inv)))
    out.flush()


def _window(made: Plan) -> tuple[date, date]:
    return date.fromisoformat(made.window[0]), date.fromisoformat(made.window[1])


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


def _finished(outcome: Outcome, env_flag: str, *, uploaded: int = 0) -> str:
    n = outcome.summary()
    head = "Apply complete" if outcome.ok else "Apply incomplete"
    text = (
        f"{head}: {n['created']} created, {n['adopted']} adopted, {n['stopped']} stopped"
        + (f", {n['failed']} failed" if n["failed"] else "")
        + (f", {n['skipped']} skipped" if n["skipped"] else "")
        + (f", {uploaded} dataset(s) uploaded" if uploaded else "")
        + (f", {len(outcome.audiences)} audience(s) updated" if outcome.audiences else "")
        + "."
    )
    for key, message, _code in outcome.audience_failures:
        text += f"\n  ✗ audience {key}: {message}"
    for key, message, _code in outcome.failed:
        text += f"\n  ✗ {key}: {message}"
    for key, why in outcome.skipped.items():
        text += f"\n  ! {key}: {why}"
    if not outcome.ok:
        text += (
            f"\nRe-run `ctflow apply{env_flag}`: it adopts what was created and finishes the rest."
        )
    return text


def _check_saved(saved: Plan, project: Project, target: Target) -> None:
    """The plan is for this project and environment, and each create body is the version its
    hash names (a hand-edited body would otherwise go live under a marker that hides it)."""
    for change in saved.changes:
        if isinstance(change, Create) and not _consistent(change, saved.project):
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


def _consistent(change: Create, project: str) -> bool:
    spec, payload = change.spec, change.payload
    if spec is None or payload is None:
        return False
    if digest(spec) != change.hash:
        return False
    if payload.get("name") != mark(str(spec.get("name")), project, change.key, change.hash):
        return False
    dated = ("name", "where")  # the payload fixes the spec's relative windows to dates
    return {k: v for k, v in payload.items() if k not in dated} == {
        k: v for k, v in spec.items() if k not in dated
    }
