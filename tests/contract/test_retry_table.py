"""The retry table of docs/client.md is the client's: parsed from the page, it equals
``retry.RETRIES``; and every row holds when the real client, over loopback HTTP, meets each
fault the served sandbox injects (set through ``/_sandbox/faults``) — a 429, a refused
connection, a 500/502/503/504 answered after the request was processed, a lost answer. A
call the table retries succeeds on its second attempt, the same request again; a call it calls
ambiguous is made exactly once and raises ``AmbiguousOutcomeError``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest

from ctflow.clevertap import AmbiguousOutcomeError, CleverTap, Limits
from ctflow.clevertap.limits import FAMILY_OF
from ctflow.clevertap.retry import RETRIES, Operation, Retries
from ctflow.sandbox import Sandbox, SandboxConfig
from ctflow.sandbox.config import DEFAULT_TOKEN
from tests.asgi import read_whole
from tests.contract.support import CREDS, FAST_RETRY, NOW, LoopbackServer

pytestmark = pytest.mark.loopback

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"
HEADING = "### Which calls are retried on what"
COLUMNS = ["call", "endpoint", "429", "failed connect", "500 502 503 504", "lost answer"]
VERDICTS = {"retried": True, "ambiguous": False}
OPERATIONS: tuple[Operation, ...] = get_args(Operation)
AUTH = {"X-CleverTap-Account-Id": CREDS.account_id, "X-CleverTap-Passcode": CREDS.passcode}
TODAY = int(NOW.strftime("%Y%m%d"))
TS = int(NOW.timestamp()) - 3600


@functools.cache
def doc_table() -> dict[str, Retries]:
    """Each operation named (in backticks) in the first column of the table, with its row."""
    lines = DOC.read_text(encoding="utf-8").split(HEADING, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    assert rows[0][: len(COLUMNS)] == COLUMNS
    table: dict[str, Retries] = {}
    for row in rows[2:]:
        named = [n for n in re.findall(r"`([^`]+)`", row[0]) if n in OPERATIONS]
        assert named, f"a row that names no call of the client: {row[0]}"
        cells = row[2:6]
        assert set(cells) <= set(VERDICTS), f"{row[0]}: cells are 'retried' or 'ambiguous'"
        retries = Retries(*(VERDICTS[cell] for cell in cells))
        for name in named:
            assert name not in table, f"{name} has two rows"
            table[name] = retries
    return table


def test_the_table_in_the_docs_is_the_one_in_the_code() -> None:
    assert doc_table() == dict(RETRIES)
    assert set(RETRIES) == set(OPERATIONS) == set(FAMILY_OF), "every call is classified once"


def test_the_calls_not_safe_to_repeat_are_creates_sends_triggers_and_event_uploads() -> None:
    once = {name for name, retries in doc_table().items() if not retries.server_error}
    assert once == {
        "create_campaign",
        "send",
        "external_trigger",
        "upload_events",
        "api_write",
        "custom_list_completed",
    }


# -- the table against the real client and the served sandbox --------------------------------


@dataclass
class Seen:
    """ASGI middleware before the sandbox: every API request (method, path, query, a digest of
    its body) and the status it was answered with; a dropped answer shows its 200."""

    app: Any
    requests: list[tuple[str, str, str, str, int]] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox/"):
            await self.app(scope, receive, send)
            return
        # Read whole here, so that a request refused unread is known too.
        body, replaying = await read_whole(receive)

        async def answering(message: Any) -> None:
            if message["type"] == "http.response.start":
                digest = hashlib.sha256(body).hexdigest()[:12]
                query = scope.get("query_string", b"").decode()
                line = (scope["method"], scope["path"], query, digest, message["status"])
                self.requests.append(line)
            await send(message)

        await self.app(scope, replaying, answering)


class Refusing(httpx.AsyncBaseTransport):
    """Real loopback HTTP, except that the next request to ``path`` finds its connection
    refused (so it provably never reached the server)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport(verify=False)  # plain http: no CA bundle to load
        self.path: str | None = None
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == self.path:
            self.path = None
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Account:
    sandbox: Sandbox
    seen: Seen
    control: httpx.Client
    """Speaks to the ``/_sandbox/`` routes."""

    def faults(self, **fields: Any) -> None:
        answer = self.control.post("/_sandbox/faults", json=fields)
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def account() -> Iterator[Account]:
    config = SandboxConfig(create_per_second=0, run_seconds=0)  # `when: now` completes at once
    sandbox = Sandbox(db=":memory:", config=config)
    sandbox.clock.set(NOW)
    seen = Seen(sandbox.app)
    try:
        with (
            LoopbackServer(seen) as server,
            httpx.Client(base_url=server.base_url, headers=AUTH) as control,
        ):
            yield Account(sandbox, seen, control)
    finally:
        sandbox.close()


@pytest.fixture
async def client(account: Account) -> AsyncIterator[tuple[CleverTap, Refusing]]:
    refusing = Refusing()
    limits = Limits(create_per_second=100)
    base_url = str(account.control.base_url)
    creds = dataclasses.replace(CREDS, token=DEFAULT_TOKEN)  # sent on the /2/ trigger only
    async with CleverTap(
        creds, base_url=base_url, transport=refusing, retry=FAST_RETRY, limits=limits
    ) as ct:
        yield ct, refusing
    account.faults(fail_next=[], drop_next=0, commit_5xx=False, paths=None)


Act = Callable[[], Awaitable[object]]
Prepare = Callable[[CleverTap], Awaitable[tuple[str, Act]]]


def event(identity: str) -> dict[str, Any]:
    return {"identity": identity, "ts": TS, "evtName": "Product Viewed", "evtData": {"n": 1}}


def campaign(when: str = "now") -> dict[str, Any]:
    return {
        "name": "Retry table",
        "target_mode": "email",
        "where": {"event_name": "Product Viewed", "from": TODAY - 1, "to": TODAY},
        "content": {"subject": "Hi", "body": "<p>Hi</p>", "sender_name": "Shop"},
        "when": when,
    }


async def uploaded(result: Awaitable[Any]) -> None:
    assert (await result).ok


async def every(records: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record async for record in records]


QUERY = {"event_name": "Product Viewed", "from": TODAY, "to": TODAY}
WINDOW = (date(2026, 11, 1), date(2026, 11, 30))


async def upload_events(ct: CleverTap) -> tuple[str, Act]:
    return "/1/upload", lambda: uploaded(ct.upload_events([event("e-1")]))


async def upload_profiles(ct: CleverTap) -> tuple[str, Act]:
    record = {"identity": "p-1", "ts": TS, "profileData": {"City": "Pune"}}
    return "/1/upload", lambda: uploaded(ct.upload_profiles([record]))


async def upload_tokens(ct: CleverTap) -> tuple[str, Act]:
    device = {"objectId": "device-1", "ts": TS, "evtName": "Product Viewed", "evtData": {}}
    await uploaded(ct.upload_events([device]))
    record = {"objectId": "device-1", "tokenData": {"id": "fcm-token-1", "type": "fcm"}}
    return "/1/upload", lambda: uploaded(ct.upload_tokens([record]))


async def delete_profiles(ct: CleverTap) -> tuple[str, Act]:
    await uploaded(ct.upload_events([event("d-1")]))
    return "/1/delete/profiles.json", lambda: ct.delete_profiles(identities=["d-1"])


async def create_campaign(ct: CleverTap) -> tuple[str, Act]:
    return "/1/targets/create.json", lambda: ct.create_campaign(campaign())


async def estimate_campaign(ct: CleverTap) -> tuple[str, Act]:
    return "/1/targets/create.json", lambda: ct.estimate_campaign(campaign())


async def list_campaigns(ct: CleverTap) -> tuple[str, Act]:
    return "/1/targets/list.json", lambda: ct.list_campaigns(*WINDOW)


async def stop_campaign(ct: CleverTap) -> tuple[str, Act]:
    created = await ct.create_campaign(campaign(when="20261201 10:00"))
    return "/1/targets/stop.json", lambda: ct.stop_campaign(created.id)


async def campaign_report(ct: CleverTap) -> tuple[str, Act]:
    created = await ct.create_campaign(campaign())
    return "/1/targets/result.json", lambda: ct.campaign_report(created.id)


async def message_report(ct: CleverTap) -> tuple[str, Act]:
    return "/1/message/report.json", lambda: ct.message_report(*WINDOW)


async def send(ct: CleverTap) -> tuple[str, Act]:
    return "/1/send/sms.json", lambda: ct.send("sms", {"Identity": ["s-1"]}, {"body": "Hi"})


async def external_trigger(ct: CleverTap) -> tuple[str, Act]:
    path = "/1/send/externaltrigger.json"
    return path, lambda: ct.external_trigger(1695721550, {"identity": ["s-1"]}, {"Order": "A-1"})


async def external_trigger_campaigns(ct: CleverTap) -> tuple[str, Act]:
    """The /2/ trigger is the `external_trigger` call too, on another endpoint."""
    return "/2/send/externaltrigger.json", lambda: ct.external_trigger_campaigns(
        [1695721550, 1695721551], {"identity": ["s-1"]}, {"Order": "A-1"}
    )


async def export_events(ct: CleverTap) -> tuple[str, Act]:
    await uploaded(ct.upload_events([event("x-1")]))
    return "/1/events.json", lambda: every(ct.export_events(QUERY, batch_size=10))


async def export_profiles(ct: CleverTap) -> tuple[str, Act]:
    await uploaded(ct.upload_events([event("x-1")]))
    return "/1/profiles.json", lambda: every(ct.export_profiles(QUERY, batch_size=10))


async def get_profile(ct: CleverTap) -> tuple[str, Act]:
    await uploaded(ct.upload_events([event("g-1")]))
    return "/1/profile.json", lambda: ct.get_profile(identity="g-1")


async def count_events(ct: CleverTap) -> tuple[str, Act]:
    return "/1/counts/events.json", lambda: ct.count_events(QUERY, poll_interval=0.0)


async def count_profiles(ct: CleverTap) -> tuple[str, Act]:
    return "/1/counts/profiles.json", lambda: ct.count_profiles(QUERY, poll_interval=0.0)


async def now(ct: CleverTap) -> tuple[str, Act]:
    return "/1/now.json", lambda: ct.now()


async def get_schema(ct: CleverTap) -> tuple[str, Act]:
    return "/getSchema", lambda: ct.get_schema()


UNKNOWN = "/1/not-wrapped.json"
"""A path the client does not know (``ctflow api``): the sandbox answers it 404."""


def unknown_path(method: str, ct: CleverTap) -> Act:
    async def act() -> None:
        answer = await ct.request(method, UNKNOWN, content=b"{}" if method != "GET" else None)
        if isinstance(answer.error, AmbiguousOutcomeError):
            raise answer.error

    return act


async def api_read(ct: CleverTap) -> tuple[str, Act]:
    return UNKNOWN, unknown_path("GET", ct)


async def api_write(ct: CleverTap) -> tuple[str, Act]:
    return UNKNOWN, unknown_path("POST", ct)


async def create_segment(ct: CleverTap) -> tuple[str, Act]:
    return "/api/createSegment", lambda: ct.create_segment("Retry table", "retry-table")


async def update_segment(ct: CleverTap) -> tuple[str, Act]:
    await uploaded(ct.upload_events([event("m-1")]))
    await ct.create_segment("Retry members", "retry-members")
    return "/api/updateSegment", lambda: ct.update_segment("retry-members", add=["m-1"])


async def custom_list_url(ct: CleverTap) -> tuple[str, Act]:
    """The URL call alone, through the method that makes it first."""
    path = "/get_custom_list_segment_url"
    return path, lambda: ct.upload_custom_list(
        "Retry list", [("identity", "m-1")], creator="ana", email="ana@example.com", replace=True
    )


async def custom_list_completed(ct: CleverTap) -> tuple[str, Act]:
    path = "/upload_custom_list_segment_completed"
    return path, lambda: ct.upload_custom_list(
        "Retry list", [("identity", "m-1")], creator="ana", email="ana@example.com", replace=True
    )


CALLS: dict[str, Prepare] = {
    prepare.__name__: prepare
    for prepare in (
        upload_events,
        upload_profiles,
        upload_tokens,
        delete_profiles,
        create_campaign,
        estimate_campaign,
        list_campaigns,
        stop_campaign,
        campaign_report,
        message_report,
        send,
        external_trigger,
        export_events,
        export_profiles,
        get_profile,
        count_events,
        count_profiles,
        now,
        get_schema,
        api_read,
        api_write,
        create_segment,
        update_segment,
        custom_list_url,
        custom_list_completed,
    )
}
# Client methods that make another method's call, on another endpoint.
SAME_CALL = {external_trigger_campaigns.__name__: ("external_trigger", external_trigger_campaigns)}
FAULTS = ["429", "connect", "500", "502", "503", "504", "lost"]


def test_every_call_is_driven_below() -> None:
    assert set(CALLS) == set(OPERATIONS)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("method", [*OPERATIONS, *SAME_CALL])
async def test_each_call_meets_each_fault_as_the_table_says(
    account: Account, client: tuple[CleverTap, Refusing], method: str, fault: str
) -> None:
    ct, refusing = client
    operation, prepare = SAME_CALL.get(method, (method, CALLS.get(method)))
    assert prepare is not None
    path, act = await prepare(ct)
    row = doc_table()[operation]
    retried = {
        "429": row.rate_limited,
        "connect": row.not_connected,
        "lost": row.lost_answer,
    }.get(fault, row.server_error)
    if fault == "connect":
        refusing.path = path
    elif fault == "lost":
        account.faults(drop_next=1, paths=[path])
    else:
        account.faults(fail_next=[int(fault)], commit_5xx=True, paths=[path])
    before = len(account.seen.requests)

    if retried:
        await act()
    else:
        with pytest.raises(AmbiguousOutcomeError) as raised:
            await act()
        assert raised.value.status == (None if fault == "lost" else int(fault))

    made = [r for r in account.seen.requests[before:] if r[1] == path]
    if fault == "connect":
        assert refusing.refused == 1
        assert made, "the request went out again, and reached the sandbox"
        return
    answered = 404 if path == UNKNOWN else 200
    first_status = answered if fault == "lost" else int(fault)
    if not retried:
        assert [r[4] for r in made] == [first_status], "made once, never again"
        return
    assert [r[4] for r in made[:2]] == [first_status, answered]
    assert made[0][:4] == made[1][:4], "the same request, asked again"
