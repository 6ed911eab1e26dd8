"""The account's concurrency budget, shared through the PostgreSQL journal: CleverTap counts
calls in flight per account for every caller together, so processes that share a journal take
one of the account's slots before each call and give it back after; a process that dies gives
back what it held."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.clevertap import CleverTap, Credentials
from ctflow.journal.location import JournalLocation, parse_location
from ctflow.journal.postgres.slots import PgSlots
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox
from tests.contract.support import LoopbackServer
from tests.journal.support import child
from tests.upload.support import Calls, events, numbers, write_jsonl, write_project

UPLOAD_SLOTS = 15  # clevertap-api.md §1.4
HOLD_IN_CHILD = """
import asyncio
from ctflow.journal.location import parse_location
from ctflow.journal.postgres.slots import PgSlots

async def main():
    where = parse_location(sys.argv[1], Path.cwd(), source="test")
    async with await PgSlots.connect(where, account="acct") as slots:
        async with slots.hold("upload", 1):
            print("held", flush=True)
            await asyncio.sleep(3600)

asyncio.run(main())
"""


def _where(url: str) -> JournalLocation:
    return parse_location(url, Path.cwd(), source="test")


async def _taken_within(slots: PgSlots, seconds: float) -> bool:
    async def take() -> None:
        async with slots.hold("upload", 1):
            pass

    try:
        await asyncio.wait_for(take(), seconds)
    except TimeoutError:
        return False
    return True


async def test_a_slot_held_elsewhere_is_free_again_once_its_holder_is_gone(
    postgres_url: str,
) -> None:
    async with await PgSlots.connect(_where(postgres_url), account="acct") as slots:
        with child(HOLD_IN_CHILD, postgres_url) as holder:
            assert not await _taken_within(slots, 0.5), "the only slot is another process's"
            holder.kill()  # no goodbye: its connection goes, and its lock with it
            holder.wait()
            assert await _taken_within(slots, 10)
        assert await _taken_within(slots, 1), "this process gave its slot back"


async def test_one_process_takes_distinct_slots_for_its_calls_at_once(postgres_url: str) -> None:
    """A session's advisory locks nest: a process must not count one slot twice."""
    async with await PgSlots.connect(_where(postgres_url), account="acct") as slots:
        async with AsyncExitStack() as held:
            keys = [await held.enter_async_context(slots.hold("upload", 3)) for _ in range(3)]
            assert len(set(keys)) == 3
            assert not await _taken_within(slots, 0.3), "three of three in use"
        async with slots.hold("upload", 3), slots.hold("create", 3):
            pass  # another family, another budget


async def _uploads(url: str, first: int, calls: int, postgres_url: str | None) -> None:
    """One "process": its own client (15 uploads at a time) and, with the journal, its own
    connection for the account's slots."""
    creds = Credentials(DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE)
    async with AsyncExitStack() as stack:
        shared = None
        if postgres_url is not None:
            connecting = PgSlots.connect(_where(postgres_url), account=DEFAULT_ACCOUNT_ID)
            shared = await stack.enter_async_context(await connecting)
        client = await stack.enter_async_context(CleverTap(creds, base_url=url, shared=shared))
        await asyncio.gather(
            *(client.upload([{**e, "type": "event"}]) for e in events(calls, start=first))
        )


@pytest.mark.loopback
@pytest.mark.parametrize("share", [True, False], ids=["shared", "each-alone"])
async def test_three_processes_stay_within_the_accounts_15_calls_together(
    postgres_url: str, share: bool
) -> None:
    sb = Sandbox(db=":memory:")
    sb.faults.latency_ms = 150  # long enough that 15 overlap even when taking a slot is slow
    calls = Calls(sb.app)
    try:
        with LoopbackServer(calls) as server:
            journal = postgres_url if share else None
            await asyncio.gather(
                *(_uploads(server.base_url, 1 + 30 * n, 30, journal) for n in range(3))
            )
        stored = numbers(sb)
    finally:
        sb.close()

    if share:
        assert calls.most == UPLOAD_SLOTS, "the account's ceiling, used to the full"
        assert 429 not in calls.statuses
    else:
        assert 429 in calls.statuses, "alone, each process thinks all 15 are its own"
    assert stored == {n: 1 for n in range(1, 91)}, "every upload went through in the end"


@pytest.mark.loopback
async def test_ctflow_upload_with_a_shared_journal_waits_for_the_accounts_slots(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process holds 14 of the 15 upload slots: `ctflow upload` makes one call at a
    time, and every row arrives."""
    sb = Sandbox(db=":memory:")
    sb.faults.latency_ms = 20
    calls = Calls(sb.app)
    try:
        with LoopbackServer(calls) as server:
            root = write_project(tmp_path, base_url=server.base_url)
            write_jsonl(root / "events.jsonl", events(8000))
            environ = {
                "CTFLOW_JOURNAL_URL": postgres_url,
                "CLEVERTAP_ACCOUNT_ID": DEFAULT_ACCOUNT_ID,
                "CLEVERTAP_PASSCODE": DEFAULT_PASSCODE,
            }
            argv = ["-C", str(root), "upload", "events", "events.jsonl", "--env", "local"]
            slots = PgSlots.connect(_where(postgres_url), account=DEFAULT_ACCOUNT_ID)
            async with await slots as other, AsyncExitStack() as held:
                for _ in range(UPLOAD_SLOTS - 1):
                    await held.enter_async_context(other.hold("upload", UPLOAD_SLOTS))
                code = await asyncio.to_thread(cli.run, [*argv, "--format", "json"], environ)
        stored = numbers(sb)
    finally:
        sb.close()

    report = json.loads(capsys.readouterr().out)["files"][0]
    assert code == 0
    assert report["accepted"] == 8000
    assert calls.most == 1, "one slot of the account's 15 was free"
    assert stored == {n: 1 for n in range(1, 8001)}
