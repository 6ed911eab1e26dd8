"""Upload throughput of the client against the sandbox served over loopback.

The sandbox runs as `ctflow sandbox serve` in its own process (as a user would run it), so the
client and the emulator do not share one interpreter.

Prints records/s for several client concurrencies and each as a fraction of the account ceiling
(15 requests x 1000 records per round trip). Run: .venv/bin/python benchmarks/client_throughput.py
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ctflow.clevertap import CleverTap, Credentials, Limits
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE

CREDS = Credentials(DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE)


def batch(start: int, size: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "event",
            "identity": f"user-{i % 5000}",
            "ts": 1_763_600_000 + i,
            "evtName": "Product Viewed",
            "evtData": {"Category": "shoes", "Price": i % 200},
        }
        for i in range(start, start + size)
    ]


async def upload_all(base_url: str, batches: int, size: int, concurrency: int) -> float:
    limits = Limits(upload=concurrency)
    async with CleverTap(CREDS, base_url=base_url, limits=limits) as ct:
        started = time.perf_counter()
        queue = iter(range(batches))

        async def worker() -> None:
            for index in queue:
                result = await ct.upload(batch(index * size, size))
                assert result.ok, result.unprocessed[:1]

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


async def round_trip(base_url: str) -> float:
    async with CleverTap(CREDS, base_url=base_url) as ct:
        await ct.now()
        started = time.perf_counter()
        for _ in range(5):
            await ct.now()
        return (time.perf_counter() - started) / 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = Path(tempfile.mkdtemp(prefix="ctflow-bench-"))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctflow",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--db",
            str(workdir / "sandbox.db"),
            "--latency-ms",
            str(args.latency_ms),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("the sandbox did not start")
        time.sleep(0.05)
    base_url = f"http://127.0.0.1:{port}"
    try:
        rtt = asyncio.run(round_trip(base_url))
        ceiling = 15 * args.batch_size / rtt
        records = args.batches * args.batch_size
        print(
            f"round trip {rtt * 1000:.0f} ms; ceiling 15 x {args.batch_size} / rtt = "
            f"{ceiling:,.0f} records/s; {records:,} records per run"
        )
        for concurrency in (1, 3, 15):
            elapsed = asyncio.run(upload_all(base_url, args.batches, args.batch_size, concurrency))
            rate = records / elapsed
            print(
                f"  {concurrency:>2} in flight: {rate:>9,.0f} records/s  "
                f"({rate / ceiling:.0%} of ceiling, {elapsed:.1f} s)"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
