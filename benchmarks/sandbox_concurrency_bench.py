"""`ctflow sandbox serve` under concurrent calls: does a short call wait behind long ones, do the
documented limits hold, and how much CPU does the server spend per 1000-record upload?

Serves a fresh file-backed sandbox (seeded with 2,000 profiles) with `ctflow sandbox serve`, then:
- the server's CPU per 1000-event upload call (its /proc CPU time across 60 calls), one at a
  time and 15 in flight;
- a short call (`GET /1/profile.json` of one identity) alone, then beside 8 uploads of 1000
  events kept in flight, median and worst of 20;
- bursts: 24 uploads of 1000 events, 24 uploads of one event and 12 `POST /1/targets/list.json`
  at once, with the status codes they got (the limits: 15 uploads and 3 lists in flight).
Run once with no latency and once with --latency-ms (the default 200): with latency every burst
must show the limit; without it the calls are short enough to finish before the next arrives.
Run: .venv/bin/python benchmarks/sandbox_concurrency_bench.py [--latency-ms 200]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox

AUTH = {"X-CleverTap-Account-Id": DEFAULT_ACCOUNT_ID, "X-CleverTap-Passcode": DEFAULT_PASSCODE}
TS = 1_763_600_000
SEEDED = 2000
USERS = 200_000
LIST_BODY = b'{"from": 20251101, "to": 20251130}'
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Served:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def events_body(count: int, start: int) -> bytes:
    """`count` events in the shape of upload_bench's: 7 properties, identities drawn from 200,000
    (so, like the start of a large upload, most calls create most of their profiles)."""
    rng = random.Random(start)
    rows = [
        {
            "type": "event",
            "identity": f"user-{rng.randrange(USERS):06d}",
            "ts": TS + start + n,
            "evtName": "Product Viewed",
            "evtData": {
                "Product": f"Trail Runner {n % 97}",
                "Category": ("shoes", "bags", "hats")[n % 3],
                "Quantity": n % 20 + 1,
                "Price": round(n * 1.37 % 500, 2),
                "Delivery": "2026-12-24",
                "Channel": ("web", "android", "ios")[n % 3],
                "Session": f"s-{start + n:08x}",
            },
        }
        for n in range(count)
    ]
    return orjson.dumps({"d": rows})


@contextmanager
def served(workdir: Path, latency_ms: int) -> Iterator[Served]:
    db = workdir / "sandbox.db"
    for stale in workdir.glob("sandbox.db*"):
        stale.unlink()
    sb = Sandbox(db)
    sb.seed(profiles=SEEDED)
    sb.close()
    out = workdir / "serve.out"
    command = [
        *(sys.executable, "-m", "ctflow", "-C", str(workdir), "sandbox", "serve"),
        *("--port", "0", "--latency-ms", str(latency_ms), "--db", str(db)),
    ]
    (workdir / "ctflow.yaml").write_text("project: bench\ntimezone: UTC\n")
    with out.open("wb") as stdout:
        proc = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"listening on (\S+)", out.read_text())):
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the sandbox did not start:\n{out.read_text()}")
            time.sleep(0.05)
        yield Served(found.group(1), proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


async def cpu_per_upload(
    server: Served, client: httpx.AsyncClient, calls: int, in_flight: int, start: int
) -> float:
    """The server's CPU seconds per 1000-event call, `in_flight` calls kept going at once."""
    bodies = [events_body(1000, start + n * 1000) for n in range(calls)]
    await client.post("/1/upload", content=bodies.pop())  # warm up
    before = server.cpu_seconds()

    async def worker() -> None:
        while bodies:
            reply = await client.post("/1/upload", content=bodies.pop())
            assert reply.status_code == 200, reply.text

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return (server.cpu_seconds() - before) / (calls - 1)


async def short_call(client: httpx.AsyncClient) -> float:
    started = time.perf_counter()
    reply = await client.get("/1/profile.json", params={"identity": "user-00007"})
    assert reply.status_code == 200, reply.text
    return time.perf_counter() - started


async def short_calls(client: httpx.AsyncClient, samples: int) -> list[float]:
    took = []
    for _ in range(samples):
        took.append(await short_call(client))
        await asyncio.sleep(0.01)
    return took


async def beside_uploads(client: httpx.AsyncClient, uploads: int, samples: int) -> list[float]:
    """Short calls while `uploads` 1000-event uploads are kept in flight."""
    body = events_body(1000, 50_000)
    done = asyncio.Event()

    async def keep_uploading() -> None:
        while not done.is_set():
            await client.post("/1/upload", content=body)

    workers = [asyncio.create_task(keep_uploading()) for _ in range(uploads)]
    await asyncio.sleep(0.3)
    try:
        return await short_calls(client, samples)
    finally:
        done.set()
        await asyncio.gather(*workers)


async def burst(client: httpx.AsyncClient, path: str, body: bytes, count: int) -> dict[int, int]:
    replies = await asyncio.gather(*(client.post(path, content=body) for _ in range(count)))
    return dict(sorted(collections.Counter(r.status_code for r in replies).items()))


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.1f} ms, worst {max(values) * 1000:.1f} ms"


async def measure(server: Served, latency_ms: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=server.url, headers=AUTH, limits=limits, timeout=120
    ) as client:
        found: dict[str, Any] = {}
        if latency_ms == 0:
            found["cpu"] = await cpu_per_upload(server, client, 61, 1, 10_000)
            found["cpu15"] = await cpu_per_upload(server, client, 61, 15, 100_000)
        found["alone"] = await short_calls(client, 20)
        found["beside"] = await beside_uploads(client, 8, 20)
        found["uploads"] = await burst(client, "/1/upload", events_body(1000, 90_000), 24)
        found["singles"] = await burst(client, "/1/upload", events_body(1, 95_000), 24)
        found["lists"] = await burst(client, "/1/targets/list.json", LIST_BODY, 12)
        return found


def report(latency_ms: int, found: dict[str, Any]) -> None:
    print(f"--latency-ms {latency_ms}:")
    if "cpu" in found:
        print(
            f"  server CPU per 1000-event upload call: {found['cpu'] * 1000:.1f} ms one at a time, "
            f"{found['cpu15'] * 1000:.1f} ms with 15 in flight"
        )
    print(f"  short call alone:                   {ms(found['alone'])}")
    print(f"  short call beside 8 uploads of 1000: {ms(found['beside'])}")
    for label, key in (
        ("24 uploads of 1000 at once", "uploads"),
        ("24 uploads of 1 at once", "singles"),
        ("12 targets/list at once", "lists"),
    ):
        print(f"  {label + ':':<31} {found[key]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=200)
    args = parser.parse_args()
    one, five, _ = os.getloadavg()
    print(f"sandbox_concurrency_bench: {os.cpu_count()} CPUs, load average {one:.1f}, {five:.1f}")
    for latency in (0, args.latency_ms):
        with (
            tempfile.TemporaryDirectory(prefix="ctflow-scb-") as tmp,
            served(Path(tmp), latency) as server,
        ):
            report(latency, asyncio.run(measure(server, latency)))


if __name__ == "__main__":
    main()
