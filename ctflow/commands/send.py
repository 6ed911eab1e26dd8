"""``ctflow send TRIGGER``: a declared transactional message, rendered, checked and sent once.

The data comes from ``--data`` (JSON, or ``@file.json``), a fixture, or a batch file of one
recipient a line. Every send is recorded in the journal under its idempotency key before its
call and after it (not under the journal's lock: sends from many processes may run at once).
A plain function returning an exit code; ``ctflow.cli`` parses the flags.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import orjson

from ctflow.commands.shared import (
    Invocation,
    announce,
    connect,
    find_declared_project,
    with_secret_variables,
)
from ctflow.config import Project, journal_location
from ctflow.errors import InvalidInput, UsageError
from ctflow.journal import open_journal
from ctflow.masking import mask
from ctflow.send import message, report
from ctflow.send.batch import Composer, Refused
from ctflow.send.deliver import Outcome, Send
from ctflow.send.run import Audit, journaled
from ctflow.spec.validate import load
from ctflow.upload.job import shown_path


@dataclass(frozen=True)
class SendOptions:
    trigger: str
    to: tuple[str, ...] = ()
    data: str | None = None
    fixture: str | None = None
    batch: Path | None = None
    idempotency_key: str | None = None
    dry_run: bool = False
    resend_ambiguous: bool = False
    fmt: str = "text"


def send(inv: Invocation, options: SendOptions, *, out: TextIO, err: TextIO) -> int:
    _check_usage(options)
    project = find_declared_project(inv)
    inv = with_secret_variables(inv, project)
    decls = load(project.root)
    decl = message.trigger(decls, options.trigger)
    composer = Composer(decl, project, inv.target.environment)
    source: str | None = None
    if options.batch is not None:
        source = shown_path(options.batch)
        items: Sequence[Send | Refused] = list(composer.batch(options.batch))
    else:
        data = _data(options, decl, inv.directory)
        items = composer.sends(options.to, data, key=options.idempotency_key)
    sends = [item for item in items if isinstance(item, Send)]
    refused = [item for item in items if isinstance(item, Refused)]
    if options.dry_run:
        _print(out, _dry_run(sends, refused, source, options.fmt), inv)
        return report.exit_code(report.totals([], refused))
    _without_token(inv, sends, err)
    announce(inv, "sending through", err)
    progress = _Progress(len(sends), err) if options.batch is not None else None
    outcomes = _deliver(inv, project, sends, refused, options, progress)
    env = inv.target.environment.name
    if options.fmt == "json":
        body = report.to_json(decl.key, env, outcomes, refused)
        _print(out, json.dumps(body, indent=2, ensure_ascii=False), inv)
    else:
        _print(out, "\n".join(report.lines(decl.key, outcomes, refused, source)), inv)
    return report.exit_code(report.totals(outcomes, refused))


def _deliver(
    inv: Invocation,
    project: Project,
    sends: list[Send],
    refused: list[Refused],
    options: SendOptions,
    progress: _Progress | None,
) -> list[Outcome]:
    audit = Audit(
        project=project.name,
        environment=inv.target.environment.name,
        user=inv.user,
        host=inv.host,
        command=mask(_without_data(inv.command), inv.secrets),
    )
    where = journal_location(project, inv.target)
    with open_journal(where, project=project.name) as journal:
        return asyncio.run(
            journaled(
                journal,
                audit,
                sends,
                lambda: connect(inv, project),
                refused=refused,
                resend_ambiguous=options.resend_ambiguous,
                on_outcome=progress,
                scrub=lambda text: mask(text, inv.secrets),
            )
        )


def _without_token(inv: Invocation, sends: Sequence[Send], err: TextIO) -> None:
    """Say so when a trigger of several campaigns goes without the account token: it is sent
    anyway (whether CleverTap insists is unconfirmed), and a refusal then makes sense."""
    target = inv.target
    several = any(s.message.endpoint == message.TRIGGER_CAMPAIGNS for s in sends)
    if several and not target.is_sandbox and not target.token:
        env = target.environment
        err.write(
            f"ctflow: environment {env.name!r} has no account token ({env.token_var} is unset); "
            "CleverTap asks for one to trigger several campaigns in one call\n"
        )


def _without_data(command: str) -> str:
    """The command line as the journal keeps it: ``--data`` may hold codes or personal data."""
    words = shlex.split(command)
    kept = []
    for word, before in zip(words, ["", *words], strict=False):
        if before == "--data":
            kept.append("…")
        elif word.startswith("--data="):
            kept.append("--data=…")
        else:
            kept.append(word)
    return shlex.join(kept)


class _Progress:
    """A plain line on stderr every few seconds while a batch is sent."""

    EVERY = 5.0

    def __init__(self, total: int, err: TextIO) -> None:
        self.total = total
        self.err = err
        self.done = 0
        self.started = self.last = time.monotonic()

    def __call__(self, outcome: Outcome) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last >= self.EVERY:
            self.last = now
            rate = self.done / (now - self.started)
            self.err.write(
                f"ctflow: {self.done:,} of {self.total:,} recipients done ({rate:,.0f}/s)\n"
            )
            self.err.flush()


def _check_usage(options: SendOptions) -> None:
    given = [value for value in (options.data, options.fixture) if value is not None]
    if options.batch is not None:
        if options.to or given or options.idempotency_key:
            raise UsageError(
                "--batch takes each recipient, its data and its key from the file: do not "
                "combine it with --to, --data, --fixture or --idempotency-key"
            )
        return
    if not options.to:
        raise UsageError("say who receives it: --to RECIPIENT (repeatable), or --batch FILE")
    if len(given) != 1:
        raise UsageError("give the data once: --data JSON, --data @file.json or --fixture NAME")


def _data(options: SendOptions, decl: Any, directory: Path) -> Any:
    """The send's data: a fixture's, ``--data`` JSON, or ``--data @FILE`` (relative to the
    directory ctflow runs in, ``-C``)."""
    if options.fixture is not None:
        return message.fixture_data(decl, options.fixture)
    text = options.data or ""
    where = "--data"
    if text.startswith("@"):
        path = directory / Path(text[1:])  # an absolute path stays as it is
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise InvalidInput(f"cannot read {path}: {reason}") from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            f"{where}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}"
            if where != "--data"
            else f"--data is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


def _dry_run(sends: list[Send], refused: list[Refused], source: str | None, fmt: str) -> str:
    """The requests that would be made, recipients of identical messages together; nothing
    is sent and nothing recorded."""
    groups: dict[str, list[Send]] = {}
    for item in sends:
        groups.setdefault(item.message.fingerprint, []).append(item)
    requests = [
        {
            "method": "POST",
            "endpoint": group[0].message.endpoint,
            "body": group[0].message.request(list(dict.fromkeys(s.recipient for s in group))),
            "idempotency_keys": {s.recipient: s.key for s in group},
        }
        for group in groups.values()
    ]
    if fmt == "json":
        payload = {
            "dry_run": True,
            "requests": requests,
            "refused": [{"line": r.line, "to": r.recipient, "reason": r.reason} for r in refused],
        }
        return json.dumps(payload, indent=2, ensure_ascii=False)
    parts = [
        f"{r['method']} {r['endpoint']}\n{json.dumps(r['body'], indent=2, ensure_ascii=False)}"
        for r in requests
    ]
    parts += report.lines("dry run", [], refused, source)[:-1]
    parts.append(f"Dry run: {len(requests)} request(s) to {len(sends)} recipient(s); nothing sent.")
    return "\n".join(parts)


def _print(out: TextIO, text: str, inv: Invocation) -> None:
    out.write(mask(text, inv.secrets) + "\n")
