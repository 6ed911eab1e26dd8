"""``ctflow.load_project(path, env=...).send(...)``: transactional sends from application code.

Synchronous (it also works inside a running event loop, in a thread). Each call checks the data
against the trigger's parameters, renders, records the idempotency key in the project's journal
before the call and the outcome after it, exactly as ``ctflow send`` does.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctflow.config import Project, Target, find_project, journal_location, resolve_target
from ctflow.connect import open_client
from ctflow.errors import CredentialsError, CtflowError, ExitCode, InvalidInput
from ctflow.journal import open_journal
from ctflow.send import message, report
from ctflow.send.batch import Composer
from ctflow.send.deliver import Outcome
from ctflow.send.run import Audit, journaled
from ctflow.spec.model import Declarations
from ctflow.spec.validate import load
from ctflow.sync import run_sync


@dataclass(frozen=True)
class Delivery:
    """What became of one recipient: ``sent``, ``already_sent``, ``ambiguous`` (the answer was
    lost: it may have arrived; not sent again), ``failed`` (CleverTap refused it),
    ``conflict`` (the idempotency key was used for other data; not sent), ``duplicate`` (the
    same send twice in one call; sent once) or ``unavailable`` (not sent; try again later)."""

    recipient: str
    idempotency_key: str
    state: str
    detail: str | None = None


@dataclass(frozen=True)
class SendResult:
    trigger: str
    environment: str
    deliveries: tuple[Delivery, ...]

    @property
    def exit_code(self) -> int:
        """The code ``ctflow send`` would exit with: 5, 6, 3 or 0."""
        counts = {state: 0 for state in report.ORDER}
        for delivery in self.deliveries:
            counts[delivery.state] = counts.get(delivery.state, 0) + 1
        return report.exit_code(counts)

    @property
    def ok(self) -> bool:
        """Every recipient has the message (sent now, or before under the same key)."""
        return self.exit_code == ExitCode.OK

    def raise_for_status(self) -> None:
        if not self.ok:
            raise SendFailed(self)


class SendFailed(CtflowError):
    def __init__(self, result: SendResult) -> None:
        bad = [d for d in result.deliveries if d.state not in ("sent", "already_sent")]
        listed = "; ".join(f"{d.recipient}: {d.state} ({d.detail})" for d in bad[:5])
        super().__init__(f"send of {result.trigger!r} incomplete: {listed}")
        self.result = result
        self.exit_code = ExitCode(result.exit_code)


def load_project(
    path: str | Path = ".", *, env: str | None = None, environ: Mapping[str, str] | None = None
) -> LoadedProject:
    """The project whose ``ctflow.yaml`` is at ``path`` or above, checked (exit-3 problems raise
    :class:`~ctflow.errors.InvalidInput`), bound to ``env`` (credentials from ``environ``,
    default ``os.environ``; default environment: the project's)."""
    project = find_project(Path(path))
    if not project.found:
        raise InvalidInput(f"no ctflow.yaml in {Path(path).resolve()} or above it")
    target = resolve_target(project, env, environ if environ is not None else os.environ)
    if target.notice:  # the CLI falls back to the sandbox with a notice; code must not
        raise CredentialsError(
            f"{target.notice.split(': using')[0]}; name the environment to use "
            "(env='sandbox' for the built-in sandbox)"
        )
    return LoadedProject(project, load(project.root), target)


class LoadedProject:
    def __init__(self, project: Project, declarations: Declarations, target: Target) -> None:
        self.project = project
        self.declarations = declarations
        self.target = target

    @property
    def environment(self) -> str:
        return self.target.environment.name

    def render(self, trigger: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """The request ``send`` would make (``endpoint`` and ``body``, without recipients)."""
        decl = message.trigger(self.declarations, trigger)
        message.check_data(decl, data)
        built = message.build(decl, self.project, self.target.environment, data)
        return {"endpoint": built.endpoint, "body": dict(built.body)}

    def send(
        self,
        trigger: str,
        *,
        to: str | Sequence[str],
        data: Mapping[str, Any],
        idempotency_key: str | None = None,
        resend_ambiguous: bool = False,
    ) -> SendResult:
        """Send ``trigger`` with ``data`` to ``to`` (one recipient or several), once per
        idempotency key (given, or derived from trigger, recipient and data)."""
        decl = message.trigger(self.declarations, trigger)
        recipients = [to] if isinstance(to, str) else list(to)
        composer = Composer(decl, self.project, self.target.environment)
        sends = composer.sends(recipients, data, key=idempotency_key)
        timezone = self.project.timezone_for(self.target.environment)

        audit = Audit(
            project=self.project.name,
            environment=self.environment,
            user=_user(),
            host=socket.gethostname(),
            command=f"ctflow.load_project(...).send({trigger!r})",
        )

        async def run() -> list[Outcome]:
            where = journal_location(self.project, self.target)
            with open_journal(where, project=self.project.name) as journal:
                return await journaled(
                    journal,
                    audit,
                    sends,
                    lambda: open_client(self.target, timezone=timezone),
                    resend_ambiguous=resend_ambiguous,
                )

        outcomes: list[Outcome] = run_sync(run())
        return SendResult(
            trigger,
            self.environment,
            tuple(Delivery(o.send.recipient, o.send.key, o.state, o.detail) for o in outcomes),
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "unknown"
