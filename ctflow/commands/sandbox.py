"""The ``ctflow sandbox`` commands: serve the emulator over HTTP, reset it, seed it.

Plain functions returning exit codes; ``ctflow.cli`` parses the flags and hands over the
streams.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from ctflow.connect import open_sandbox, sandbox_client
from ctflow.errors import CtflowError, ExitCode, UsageError
from ctflow.journal import JournalLocation, existing_journal
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, DEFAULT_TOKEN, Sandbox


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    latency_ms: int = 0
    fail_429: float = 0.0
    fail_5xx: float = 0.0
    drop_response: float = 0.0
    account_id: str | None = None
    passcode: str | None = None
    timezone: str | None = None
    token: str | None = None


def serve(db: Path, options: ServeOptions, *, out: TextIO, err: TextIO) -> int:
    from ctflow.sandbox.server import serve as run_server

    if (options.account_id is None) != (options.passcode is None):
        raise UsageError("--account-id and --passcode go together")
    account_id = options.account_id or DEFAULT_ACCOUNT_ID
    passcode = options.passcode or DEFAULT_PASSCODE
    token = options.token or DEFAULT_TOKEN
    sock = _listen(options.host, options.port)
    port = sock.getsockname()[1]
    sandbox = open_sandbox(db, options.timezone)
    sandbox.config.accounts = {account_id: passcode}
    sandbox.config.tokens = {account_id: token}
    sandbox.faults.latency_ms = options.latency_ms
    sandbox.faults.rate_429 = options.fail_429
    sandbox.faults.rate_5xx = options.fail_5xx
    sandbox.faults.drop_response = options.drop_response
    host = f"[{options.host}]" if ":" in options.host else options.host
    url = f"http://{host}:{port}"
    if not _is_loopback(options.host):
        err.write(
            f"ctflow: warning: listening on {options.host}, beyond this machine; anyone who can "
            "reach it can use these credentials\n"
        )
    # The sandbox's credentials are not secrets: printing them is the point of this command.
    out.write(
        f"ctflow sandbox listening on {url}  (database {db})\n"
        f"  account id: {account_id}\n"
        f"  passcode:   {passcode}\n"
        f"  token:      {token}  (X-CleverTap-Token, for /2/send/externaltrigger.json)\n"
        f"Try it:\n"
        f"  curl -s -X POST {url}/1/now.json -H 'X-CleverTap-Account-Id: {account_id}' "
        f"-H 'X-CleverTap-Passcode: {passcode}' -H 'Content-Type: application/json' -d '{{}}'\n"
        f"Point ctflow at it with an environment whose base_url is {url} and\n"
        f"CLEVERTAP_ACCOUNT_ID / CLEVERTAP_PASSCODE (and CLEVERTAP_TOKEN) set as above.\n"
        f"Ctrl+C stops it.\n"
    )
    out.flush()
    try:
        run_server(sandbox, options.host, port, sock=sock)
    finally:
        sandbox.close()
        sock.close()
    return ExitCode.OK


def _listen(host: str, port: int) -> socket.socket:
    """Bind first, so a taken port or a bad address is reported before anything is announced."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Created with IPPROTO_TCP (create_server leaves the protocol 0): asyncio turns Nagle's
    # algorithm off only on TCP sockets, and with it on every answer written as headers then
    # body waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
        return sock
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CtflowError(f"cannot listen on {host}:{port}: {reason}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reset(
    db: Path,
    *,
    out: TextIO,
    journal: JournalLocation | None = None,
    project: str | None = None,
) -> int:
    """Empty the sandbox; with ``project``'s ``journal``, forget what was uploaded to the
    sandbox too, so that the next upload or apply sends the data again."""
    sandbox = open_sandbox(db)
    try:
        sandbox.reset()
    finally:
        sandbox.close()
    out.write(f"Sandbox {db} is empty.\n")
    _forget_uploads(journal, project, out)
    return ExitCode.OK


def _forget_uploads(journal: JournalLocation | None, project: str | None, out: TextIO) -> None:
    """The sandbox's profiles and events are gone: forget that the journal saw them uploaded,
    and the audiences' members applied, so that the next upload or apply sends them again."""
    opened = existing_journal(journal, project=project) if journal is not None else None
    if opened is None:
        return
    with opened:
        batches = opened.forget_environment_uploads("sandbox")
        audiences = opened.forget_environment_audiences("sandbox")
    if batches:
        out.write(
            f"Forgot {batches} uploaded batch(es) recorded for the sandbox in "
            f"{opened.location}; uploads and datasets will be sent again.\n"
        )
    if audiences:
        out.write(
            f"Forgot the members of {audiences} audience(s) recorded for the sandbox in "
            f"{opened.location}; the next apply sends them again.\n"
        )


def seed(
    db: Path,
    profiles: int,
    seed_value: int,
    fmt: str,
    *,
    today: date,
    out: TextIO,
    err: TextIO,
    journal: JournalLocation | None = None,
    project: str | None = None,
) -> int:
    """Replace the sandbox's profiles and events with a demo population (campaigns and sends
    stay); with ``project``'s ``journal``, forget what was uploaded to the sandbox, as reset
    does."""
    sandbox = open_sandbox(db)
    try:
        summary = sandbox.seed(profiles=profiles, seed=seed_value)
        answers = asyncio.run(_ask(sandbox, today))
    finally:
        sandbox.close()
    _forget_uploads(journal, project, err)
    if fmt == "json":
        payload = {"db": str(db), "seeded": summary, "answers": answers}
        out.write(json.dumps(payload, indent=2) + "\n")
        return ExitCode.OK
    out.write(
        f"Seeded the sandbox ({db}): {summary['profiles']:,} profiles and "
        f"{summary['events']:,} events (seed {seed_value}), in place of the profiles and events "
        "it held (campaigns and sends stay).\n"
        "Asked through the CleverTap client, in-process, no credentials needed:\n"
    )
    rows = [(a["question"], _value(a["value"]), a["endpoint"]) for a in answers]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for question, value, endpoint in rows:
        out.write(f"  {question:<{widths[0]}}  {value:>{widths[1]}}   {endpoint}\n")
    out.write("Serve it over HTTP for curl or other tools: ctflow sandbox serve\n")
    return ExitCode.OK


def _value(value: int | dict[str, int]) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return " · ".join(f"{key} {n:,}" for key, n in sorted(value.items())) or "0"


async def _ask(sandbox: Sandbox, today: date) -> list[dict[str, Any]]:
    """A few real questions, asked the way plan, count and estimate will ask them."""
    start = int((today - timedelta(days=30)).strftime("%Y%m%d"))
    end = int(today.strftime("%Y%m%d"))
    async with sandbox_client(sandbox) as client:
        buyers = await client.count_profiles(
            {"event_name": "Charged", "from": start, "to": end}, poll_interval=0.05
        )
        views = await client.count_events(
            {"event_name": "Product Viewed", "from": start, "to": end}, poll_interval=0.05
        )
        estimate = await client.estimate_campaign(_gold_push(start, end))
    return [
        {
            "question": 'profiles who did "Charged" in the last 30 days',
            "value": buyers,
            "endpoint": "POST /1/counts/profiles.json",
        },
        {
            "question": '"Product Viewed" events in the last 30 days',
            "value": views,
            "endpoint": "POST /1/counts/events.json",
        },
        {
            "question": "push reach of an offer to Gold customers",
            "value": dict(estimate.by_device),
            "endpoint": "POST /1/targets/create.json (estimate_only)",
        },
    ]


def _gold_push(start: int, end: int) -> dict[str, Any]:
    return {
        "name": "Gold offer (estimate)",
        "target_mode": "push",
        "where": {
            "event_name": "App Launched",
            "from": start,
            "to": end,
            "common_profile_properties": {
                "profile_fields": [{"name": "Customer Type", "operator": "equals", "value": "Gold"}]
            },
        },
        "content": {
            "title": "A little thank-you",
            "body": "20% off for our Gold members this week",
            "platform_specific": {"android": {"wzrk_cid": "offers"}},
        },
        "devices": ["android", "ios"],
        "when": "now",
        "estimate_only": True,
    }
