"""What the commands share: the invocation (what ``ctflow.cli`` read from the process: where,
against what, when, by whom, how to print), connecting to the target, and a journaled, locked
run.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from ctflow.clevertap import CleverTap
from ctflow.commands.applyprogress import ApplyProgress
from ctflow.config import CONFIG_NAME, Project, Target, find_project, journal_location
from ctflow.connect import open_client
from ctflow.errors import ConfigError, ConflictError, GateError, JournalUnavailable
from ctflow.journal import Holder, Journal, open_journal
from ctflow.journal.location import mask_password
from ctflow.masking import mask
from ctflow.plan.apply import Applier, Uploads, no_uploads

Connect = Callable[[], AbstractAsyncContextManager[CleverTap]]


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


def find_declared_project(inv: Invocation) -> Project:
    project = find_project(inv.directory)
    if not project.found:
        raise ConfigError(
            f"no {CONFIG_NAME} in {inv.directory.resolve()} or any directory above it: the "
            "project's name is what marks its campaigns"
        )
    return project


def today_of(inv: Invocation, project: Project) -> date:
    return inv.now.astimezone(ZoneInfo(project.timezone_for(inv.target.environment))).date()


def connect(inv: Invocation, project: Project) -> AbstractAsyncContextManager[CleverTap]:
    if inv.connect is not None:
        return inv.connect()
    return open_client(inv.target, timezone=project.timezone_for(inv.target.environment))


def with_secret_variables(inv: Invocation, project: Project) -> Invocation:
    """Template variables named like secrets (``api_token``) are masked in everything printed,
    as the passcode is; the create bodies still carry them to CleverTap."""
    values = project.secret_values()
    return replace(inv, secrets={*inv.secrets, *values}) if values else inv


def env_flag(inv: Invocation) -> str:
    """`` --env NAME`` for commands ctflow suggests, so they act on the same account."""
    return "" if inv.target.is_sandbox else f" --env {inv.target.environment.name}"


def announce(inv: Invocation, doing: str, err: TextIO) -> None:
    if inv.target.is_sandbox:
        err.write(
            f"ctflow: {doing} the built-in sandbox ({inv.target.sandbox_db}); set credentials "
            "and --env to work on a real account\n"
        )


def run_holder(inv: Invocation) -> Holder:
    """Who holds a lock this invocation takes, as the journal names it to a second run (a URL
    on the command line, such as ``journal copy --to``, with its password masked)."""
    return Holder(
        pid=os.getpid(),
        user=inv.user,
        host=inv.host,
        command=shlex.join(mask_password(word) for word in shlex.split(inv.command)),
        started_at=inv.now.isoformat(timespec="seconds"),
    )


@contextmanager
def journal_run(
    project: Project,
    inv: Invocation,
    kind: str,
    err: TextIO,
    *,
    exclusive: bool = True,
    only: Sequence[str] = (),
) -> Iterator[tuple[Journal, int]]:
    """Open the journal, take its lock and begin a run; release everything on the way out.

    Not ``exclusive`` (the kill switch): a held lock is reported and the run goes ahead, since
    a runaway apply is exactly when campaigns must be stopped. ``only``: what the run writes
    (its uploads), locked alone, so runs writing other things go on beside it.
    """
    holder = run_holder(inv)
    env = inv.target.environment.name
    where = journal_location(project, inv.target)
    with open_journal(where, project=project.name) as journal, ExitStack() as stack:
        try:
            stack.enter_context(
                journal.lock(holder, project=project.name, environment=env, only=only)
            )
            locked = not only  # the environment is ours alone
        except ConflictError as exc:
            if exclusive:
                raise
            locked = False
            err.write(
                f"ctflow: warning: {exc.message.removesuffix('; wait for it to finish')}. "
                "Stopping anyway; it may create campaigns after this: interrupt it (Ctrl-C) "
                "and run this again\n"
            )
        # Before the uploads and sends it concerns; after an apply or a stop, which may refuse
        # to run (no terminal to confirm on, a gate, a stale plan) and then changed nothing.
        fresh = _fresh(journal)
        note_now = fresh and kind not in _NOTE_AFTER
        if note_now:
            _note_new_journal(journal, kind, err)
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
            with suppress(JournalUnavailable):  # a lost journal cannot be told how it ended
                journal.finish_if_open(run_id, _outcome_of(exc), {"error": str(exc)[:500]})
                if fresh and not note_now:
                    _note_unless_refused(journal, run_id, kind, err)
            raise
        with suppress(JournalUnavailable):
            journal.finish_if_open(run_id, "ok")
            if fresh and not note_now:
                _note_unless_refused(journal, run_id, kind, err)


def _fresh(journal: Journal) -> bool:
    """Created now, or holding only runs that refused to act (so nothing was ever noted)."""
    if journal.created:
        return True
    earlier = journal.runs(limit=20)
    return bool(earlier) and all(run.get("outcome") in _REFUSED for run in earlier)


def _note_new_journal(journal: Journal, kind: str, err: TextIO) -> None:
    why = _NEW_JOURNAL.get(kind, _NEW_JOURNAL_DEFAULT)
    err.write(f"ctflow: started a new journal at {journal.location}; {why}\n")


def _note_unless_refused(journal: Journal, run_id: int, kind: str, err: TextIO) -> None:
    ended = journal.run(run_id)
    if ended is None or ended.get("outcome") not in _REFUSED:
        _note_new_journal(journal, kind, err)


_NOTE_AFTER = frozenset({"apply", "stop-all"})
_REFUSED = frozenset({"gated", "cancelled", "stale"})


_NEW_JOURNAL = {
    "upload": (
        "it records each batch sent, so that a re-run sends only what did not arrive; keep it "
        "(a runner without it would send every file again)"
    ),
}
_NEW_JOURNAL_DEFAULT = (
    "the ownership markers keep campaigns from being duplicated, and from now on plans show "
    "per-field diffs"
)


def _settle_abandoned(journal: Journal, env: str, run_id: int, err: TextIO) -> None:
    """Steps a killed run left without an outcome: this run re-reads the account, so they are
    closed as ``abandoned``, pointing at it."""
    open_steps = [s for s in journal.unfinished_steps(env) if s["run_id"] != run_id]
    # The lock is ours, so no other apply or upload is running: one left open was killed.
    # (``stop --all`` runs without the lock and may be running now: it is left alone.)
    for run in journal.open_runs(env, kinds=("apply", "upload")):
        if run != run_id and run not in {s["run_id"] for s in open_steps}:
            journal.finish_if_open(run, "killed", {"settled_by_run": run_id})
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


def say_line(err: TextIO, line: str, secrets: Collection[str]) -> None:
    err.write(mask(line, secrets) + "\n")
    err.flush()


def approved(
    question: str,
    confirm: Callable[[str], bool] | None,
    journal: Journal,
    run_id: int,
    *,
    unattended: str,
) -> bool:
    """Whether the person at the terminal answered ``yes`` to ``question``; a refusal closes the
    run as ``cancelled``. Without a terminal nobody can answer: the run closes as ``gated`` and
    a :class:`GateError` says to run ``unattended`` instead."""
    if confirm is None:
        journal.finish(run_id, "gated", {"why": "no terminal to confirm on"})
        raise GateError(f"not on a terminal, so ctflow cannot ask for confirmation: {unattended}")
    if confirm(question):
        return True
    journal.finish(run_id, "cancelled")
    return False


def applier(
    inv: Invocation,
    project: Project,
    client: CleverTap,
    run: tuple[Journal, int],
    window: tuple[date, date],
    err: TextIO,
    uploads: Uploads = no_uploads,
    progress: ApplyProgress | None = None,
) -> Applier:
    """The plan's executor for this invocation, saying what it does on ``err`` (above the
    ``progress`` line, when there is one, which counts its calls)."""
    journal, run_id = run

    def say(line: str) -> None:
        if progress is None:
            say_line(err, line, inv.secrets)
        else:
            progress.say(mask(line, inv.secrets))

    return Applier(
        client,
        journal,
        run_id,
        project=project.name,
        environment=inv.target.environment.name,
        window=window,
        say=say,
        uploads=uploads,
        made=progress.made if progress is not None else lambda kind, n: None,
    )


def append_step_summary(path: Path, markdown: str, err: TextIO) -> None:
    """Add ``markdown`` to ``$GITHUB_STEP_SUMMARY`` (what a run's summary page shows); when
    that fails, say so on ``err`` and go on: the work itself is done."""
    try:
        with path.open("a", encoding="utf-8") as summary:
            summary.write(markdown)
    except OSError as exc:
        why = exc.strerror or exc
        err.write(f"ctflow: cannot append to $GITHUB_STEP_SUMMARY ({path}): {why}\n")
