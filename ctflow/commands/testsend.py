"""``ctflow send --test CAMPAIGN --to LIST|identity:ID``: a declared campaign's (or journey
step's) content for the environment, sent to its test recipients through the identity send,
with no campaign created (:mod:`ctflow.send.testsend`). Journaled as a run of kind
``test-send``; never deduplicated against anything. A plain function returning an exit code.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TextIO

from ctflow.commands.shared import (
    Invocation,
    announce,
    connect,
    find_declared_project,
    today_of,
    with_secret_variables,
)
from ctflow.config import Project, journal_location
from ctflow.errors import ExitCode, InvalidInput, JournalUnavailable, UsageError
from ctflow.journal import open_journal
from ctflow.masking import mask
from ctflow.plan.desired import desired_state
from ctflow.problems import suggest
from ctflow.send import testsend
from ctflow.send.message import Message
from ctflow.spec.model import Declarations
from ctflow.spec.validate import load

KIND = "test-send"
STATES = ("sent", "ambiguous", "failed", "unavailable")


@dataclass(frozen=True)
class TestSendOptions:
    key: str
    to: tuple[str, ...] = ()
    dry_run: bool = False
    fmt: str = "text"


def test_send(inv: Invocation, options: TestSendOptions, *, out: TextIO, err: TextIO) -> int:
    if not options.to:
        raise UsageError(
            "say who receives the test: --to LIST (a test_recipients list of the environment in "
            "ctflow.yaml), or --to identity:ID; repeatable"
        )
    project = find_declared_project(inv)
    inv = with_secret_variables(inv, project)
    env = inv.target.environment
    decls = load(project.root)
    payload = _payload(decls, inv, options.key)
    built = testsend.message(options.key, payload)
    to = testsend.resolve(options.to, env)
    if options.dry_run:
        request = {"method": "POST", "endpoint": built.endpoint, "body": _request(built, to)}
        if options.fmt == "json":
            text = json.dumps({"dry_run": True, "requests": [request]}, indent=2)
        else:
            body = json.dumps(request["body"], indent=2, ensure_ascii=False)
            text = (
                f"POST {built.endpoint}\n{body}\nDry run: a test send of {options.key!r} to "
                f"{len(to)} identit{'y' if len(to) == 1 else 'ies'}; nothing sent."
            )
        out.write(mask(text, inv.secrets) + "\n")
        return ExitCode.OK
    announce(inv, "test-sending through", err)
    outcomes = _journaled(inv, project, built, to)
    counts = Counter(o.state for o in outcomes for _ in o.recipients)
    code = _exit_code(counts)
    if options.fmt == "json":
        text = json.dumps(_as_json(inv, built, outcomes, counts, code), indent=2)
    else:
        text = "\n".join(_lines(inv, built, outcomes, counts))
    out.write(mask(text, inv.secrets) + "\n")
    return code


def _payload(decls: Declarations, inv: Invocation, key: str) -> dict[str, Any]:
    """The create body of campaign ``key`` as ``apply`` would send it in this environment."""
    if key not in decls.campaigns:
        raise InvalidInput(_unknown(decls, key))
    today = today_of(inv, decls.project)
    # this campaign's alone: another's template failing in this environment is not this one's
    (desired,) = desired_state(decls, inv.target.environment, today, only=key)
    return dict(desired.payload)


def _unknown(decls: Declarations, key: str) -> str:
    campaigns = sorted(decls.campaigns)
    if key in decls.triggers:
        return (
            f"{key!r} is a Trigger, not a campaign: send it to anyone with "
            f"`ctflow send {key} --to RECIPIENT --fixture NAME`"
        )
    steps = [name for name in campaigns if name.startswith(f"{key}.")]
    if steps:
        return f"{key!r} is a journey: test one of its steps ({', '.join(steps)})"
    by_step = [name for name in campaigns if name.rsplit(".", 1)[-1] == key]
    hint = f" (did you mean {by_step[0]!r}?)" if len(by_step) == 1 else suggest(key, campaigns)
    return f"no Campaign or journey step {key!r}{hint}; declared: {', '.join(campaigns) or 'none'}"


def _request(built: Message, to: Sequence[testsend.Recipient]) -> dict[str, Any]:
    return built.request([r.identity for r in to])


def _journaled(
    inv: Invocation, project: Project, built: Message, to: Sequence[testsend.Recipient]
) -> list[testsend.Outcome]:
    """Begin a run of kind ``test-send``, record the send before and after its calls."""
    where = journal_location(project, inv.target)
    env = inv.target.environment.name
    with open_journal(where, project=project.name) as journal:
        run_id = journal.begin(
            KIND,
            project=project.name,
            environment=env,
            user=inv.user,
            host=inv.host,
            git_commit=None,
            command=mask(inv.command, inv.secrets),
        )
        step = journal.intent(
            run_id,
            key=built.trigger,
            action=KIND,
            detail={"endpoint": built.endpoint, "to": [r.identity for r in to]},
        )
        try:
            outcomes = asyncio.run(_deliver(inv, project, built, to))
        except BaseException as exc:
            journal.finish_if_open(run_id, "failed", {"error": mask(str(exc), inv.secrets)[:500]})
            raise
        counts = Counter(o.state for o in outcomes for _ in o.recipients)
        with suppress(JournalUnavailable):  # sent all the same: the output says what became of it
            journal.outcome(step, "sent" if counts.keys() == {"sent"} else "partial", detail=counts)
            journal.finish(run_id, "ok" if counts.keys() == {"sent"} else "partial", counts)
    return outcomes


async def _deliver(
    inv: Invocation, project: Project, built: Message, to: Sequence[testsend.Recipient]
) -> list[testsend.Outcome]:
    async with connect(inv, project) as client:
        return await testsend.deliver(client, built, to)


def _exit_code(counts: Counter[str]) -> int:
    if counts["unavailable"]:
        return ExitCode.UNAVAILABLE
    if counts["ambiguous"]:
        return ExitCode.GATED
    if counts["failed"]:
        return ExitCode.INVALID
    return ExitCode.OK


def _lines(
    inv: Invocation, built: Message, outcomes: Sequence[testsend.Outcome], counts: Counter[str]
) -> list[str]:
    channel = built.endpoint.removeprefix("/1/send/").removesuffix(".json")
    total = sum(counts.values())
    lines = [
        f"Test send of {built.trigger!r} ({channel}, environment "
        f"{inv.target.environment.name!r}) to {total} identit{'y' if total == 1 else 'ies'}:"
    ]
    for outcome in outcomes:
        for recipient in outcome.recipients:
            via = "named explicitly" if recipient.via == testsend.EXPLICIT else recipient.via
            text = f"  {recipient.identity} ({via}): {outcome.state}"
            if outcome.detail:
                text += f" ({outcome.detail})"
            lines.append(text)
    summary = ", ".join(f"{counts[s]} {s}" for s in STATES if counts[s])
    lines.append(f"{summary}. No campaign was created; {testsend.SENT_AGAIN}.")
    return lines


def _as_json(
    inv: Invocation,
    built: Message,
    outcomes: Sequence[testsend.Outcome],
    counts: Counter[str],
    code: int,
) -> dict[str, Any]:
    return {
        "test_send": built.trigger,
        "environment": inv.target.environment.name,
        "endpoint": built.endpoint,
        "recipients": [
            {"identity": r.identity, "list": None if r.via == testsend.EXPLICIT else r.via}
            | {"state": o.state, "detail": o.detail}
            for o in outcomes
            for r in o.recipients
        ],
        "totals": {state: counts[state] for state in STATES},
        "deduplicated": False,
        "exit_code": code,
    }
