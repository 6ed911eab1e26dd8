"""The served sandbox under concurrent calls, over real loopback HTTP: the work of one call does
not hold up the others, and every API keeps its own limit on calls in flight (§1.4) while they
work, as CleverTap does."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ctflow.sandbox import Sandbox, SandboxConfig, upload

from .conftest import AUTH, campaign, serving

pytestmark = pytest.mark.loopback
SLOW_SECONDS = 0.6


@pytest.fixture
def file_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path / "sandbox.db", config=SandboxConfig(create_per_second=0))
    sandbox.seed(profiles=50)
    yield sandbox
    sandbox.close()


@pytest.fixture
def url(file_sandbox: Sandbox) -> Iterator[str]:
    with serving(file_sandbox) as served:
        yield served


@pytest.fixture
def slow_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """An event named "Slow" takes SLOW_SECONDS of blocking work to check, as a big call does."""
    check = upload.check_record

    def slow_check(record: object, discarded: set[str], most_props: int) -> tuple[str, str]:
        if isinstance(record, dict) and record.get("evtName") == "Slow":
            time.sleep(SLOW_SECONDS)
        return check(record, discarded, most_props)

    monkeypatch.setattr(upload, "check_record", slow_check)


def client(url: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    return httpx.AsyncClient(base_url=url, headers=AUTH, limits=limits, timeout=60)


def events(count: int, name: str = "Product Viewed", start: int = 0) -> bytes:
    return orjson.dumps(
        {
            "d": [
                {
                    "type": "event",
                    "identity": f"user-{start + n:06d}",
                    "ts": 1_763_600_000 + n,
                    "evtName": name,
                    "evtData": {"Product": f"p{n}", "Price": n % 500, "Channel": "web"},
                }
                for n in range(count)
            ]
        }
    )


async def timed(call: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await call
    return time.perf_counter() - started, response


async def test_a_short_call_is_answered_while_uploads_work(url: str, slow_records: None) -> None:
    async with client(url) as http:
        uploads = [
            asyncio.create_task(timed(http.post("/1/upload", content=events(1, "Slow"))))
            for _ in range(4)
        ]
        await asyncio.sleep(0.1)
        took, profile = await timed(http.get("/1/profile.json", params={"identity": "user-00007"}))
        done = await asyncio.gather(*uploads)
    assert profile.status_code == 200
    assert all(r.json()["status"] == "success" for _, r in done)
    assert min(seconds for seconds, _ in done) >= SLOW_SECONDS
    # Served one at a time, the read would have waited for at least one upload's work.
    assert took < SLOW_SECONDS / 2, f"the read took {took:.3f} s behind the uploads"


async def test_the_limits_count_calls_still_working_each_api_its_own(
    url: str, file_sandbox: Sandbox, slow_records: None
) -> None:
    """20 uploads that each work for a while, with 5 lists, 5 creates and 5 sends at once: 15
    uploads and 3 calls of each other API are let in, the rest get 429."""
    file_sandbox.faults.latency_ms = 400
    file_sandbox.faults.paths = {
        "/1/targets/list.json",
        "/1/targets/create.json",
        "/1/send/sms.json",
    }
    sms = {"to": {"Identity": ["user-00001"]}, "content": {"body": "Hi"}}
    async with client(url) as http:
        calls = {
            "upload": [http.post("/1/upload", content=events(1, "Slow")) for _ in range(20)],
            "list": [
                http.post("/1/targets/list.json", json={"from": 20261101, "to": 20261130})
                for _ in range(5)
            ],
            "create": [
                http.post("/1/targets/create.json", json=campaign(name=f"c{n}")) for n in range(5)
            ],
            "send": [http.post("/1/send/sms.json", json=sms) for _ in range(5)],
        }
        answers = {
            family: Counter(r.status_code for r in await asyncio.gather(*made))
            for family, made in calls.items()
        }
    assert answers == {
        "upload": {200: 15, 429: 5},
        "list": {200: 3, 429: 2},
        "create": {200: 3, 429: 2},
        "send": {200: 3, 429: 2},
    }
    assert file_sandbox.counts()["campaigns"] == 3
    assert len(file_sandbox.events("Slow")) == 15


@pytest.mark.slow
async def test_a_short_call_beside_real_uploads_is_answered_promptly(url: str) -> None:
    """8 uploads of 1000 events kept in flight; a profile read meanwhile takes a fraction of
    what an upload takes (served one at a time, it took as long)."""
    bodies = [events(1000, start=n * 1000) for n in range(8)]
    upload_times: list[float] = []
    stop = asyncio.Event()
    async with client(url) as http:

        async def keep_uploading(body: bytes) -> None:
            while not stop.is_set():
                took, response = await timed(http.post("/1/upload", content=body))
                assert response.status_code == 200
                upload_times.append(took)

        workers = [asyncio.create_task(keep_uploading(body)) for body in bodies]
        await asyncio.sleep(0.5)
        reads = []
        for _ in range(15):
            took, response = await timed(
                http.get("/1/profile.json", params={"identity": "user-00007"})
            )
            assert response.status_code == 200
            reads.append(took)
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.gather(*workers)
    read, uploading = statistics.median(reads), statistics.median(upload_times)
    assert read < uploading / 3, f"a read took {read:.3f} s, an upload {uploading:.3f} s"


async def test_uploads_at_once_create_each_new_profile_once(
    url: str, file_sandbox: Sandbox
) -> None:
    """Calls committed together see each other's profiles: 12 calls at once, each naming the
    same 300 new users, make 300 profiles and keep every event."""
    before = file_sandbox.counts()
    async with client(url) as http:
        replies = await asyncio.gather(
            *(http.post("/1/upload", content=events(300, start=20_000)) for _ in range(12))
        )
    assert [r.json()["processed"] for r in replies] == [300] * 12
    after = file_sandbox.counts()
    assert after["profiles"] == before["profiles"] + 300
    assert after["events"] == before["events"] + 12 * 300
