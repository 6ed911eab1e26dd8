"""How fast the sandbox ingests `POST /1/upload`, so an upload benchmark measures the client.

A file-backed sandbox seeded with 10,000 profiles takes batches of events, then of profile updates
(5 changes each, two of them `$incr`/`$add`), whose identities are drawn from a pool of 20,000:
the seeded ones and 10,000 not yet stored (so the first record for each creates it). Prints
records per second, median and best of --runs, each run from the same seeded file: calling the
upload handler directly, and through the ASGI app (body parse, routing, limits and the JSON reply
included; the client's JSON encoding is not). The machine's other load shows in the spread.
Run: .venv/bin/python benchmarks/sandbox_upload_bench.py [--records 50000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox, upload

TS = 1_763_600_000
SEEDED = 10_000
AUTH = {"X-CleverTap-Account-Id": DEFAULT_ACCOUNT_ID, "X-CleverTap-Passcode": DEFAULT_PASSCODE}


def identities(count: int, rng: random.Random) -> list[str]:
    """Drawn from a pool of 2 x SEEDED identities: half are seeded profiles, half not yet stored."""
    pool = [f"user-{n:05d}" for n in range(1, SEEDED + 1)] + [f"new-{n}" for n in range(SEEDED)]
    return [rng.choice(pool) for _ in range(count)]


def events(count: int) -> list[dict[str, Any]]:
    rng = random.Random(1)
    return [
        {
            "type": "event",
            "identity": identity,
            "ts": TS + n,
            "evtName": "Product Viewed",
            "evtData": {"Category": rng.choice(("Shoes", "Bags")), "Price": n % 5000, "Qty": 1},
        }
        for n, identity in enumerate(identities(count, rng))
    ]


def profiles(count: int) -> list[dict[str, Any]]:
    rng = random.Random(2)
    return [
        {
            "type": "profile",
            "identity": identity,
            "ts": TS + n,
            "profileData": {
                "Name": f"Person {n}",
                "Email": f"person{n}@example.com",
                "City": rng.choice(("Pune", "Goa", "Delhi")),
                "Visits": {"$incr": 1},
                "Tags": {"$add": [rng.choice("abcdef")]},
            },
        }
        for n, identity in enumerate(identities(count, rng))
    ]


def direct(sb: Sandbox, batches: list[list[dict[str, Any]]]) -> float:
    started = time.perf_counter()
    for batch in batches:
        reply = upload.upload(sb.store, {"d": batch}, TS, False, set())
        assert reply["status"] == "success", reply
    return time.perf_counter() - started


def through_app(sb: Sandbox, batches: list[list[dict[str, Any]]]) -> float:
    bodies = [json.dumps({"d": batch}).encode() for batch in batches]

    async def run() -> float:
        transport = httpx.ASGITransport(app=sb.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://s", headers=AUTH) as c:
            started = time.perf_counter()
            for body in bodies:
                response = await c.post("/1/upload", content=body)
                assert response.json()["status"] == "success", response.text
            return time.perf_counter() - started

    return asyncio.run(run())


Runner = Callable[[Sandbox, list[list[dict[str, Any]]]], float]


def measure(seeded: Path, records: list[dict[str, Any]], size: int, runner: Runner) -> float:
    """Records per second for one run on a fresh copy of the seeded file."""
    # A server drops each body after its call; keep the collector off the 50,000 held here.
    gc.collect()
    gc.freeze()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sandbox.db"
        shutil.copy(seeded, db)
        sb = Sandbox(db)
        try:
            batches = [records[at : at + size] for at in range(0, len(records), size)]
            return len(records) / runner(sb, batches)
        finally:
            sb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seeded = Path(tmp) / "seeded.db"
        sb = Sandbox(seeded)
        sb.seed(profiles=SEEDED)
        sb.close()
        print(f"{args.records:,} records per kind, batches of {args.batch}, {args.runs} runs")
        for kind, records in (
            ("events", events(args.records)),
            ("profiles", profiles(args.records)),
        ):
            created = len({r["identity"] for r in records if r["identity"].startswith("new-")})
            print(f"{kind} ({created:,} of them create their profile):")
            for how, runner in (("upload()", direct), ("ASGI app", through_app)):
                rates = [measure(seeded, records, args.batch, runner) for _ in range(args.runs)]
                median, best = statistics.median(rates), max(rates)
                print(f"  {how:<9} {median:>9,.0f} {kind}/s median, {best:>9,.0f} best")


if __name__ == "__main__":
    main()
