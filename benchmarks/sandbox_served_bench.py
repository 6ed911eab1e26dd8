"""The served sandbox's CPU per 1000-record event upload, over a database that already holds many
events, beside the same measurement of another checkout of ctflow (an A/B in one run).

For each checkout (--code DIR, this one first; --against DIR for the other): a database is filled
with --stored events of 200,000 users by the checkout's own upload path, in calls of 1000; then,
--runs times, alternating the checkouts, a copy of it is served by that checkout's `ctflow
sandbox serve` (no latency) and takes --calls uploads of 1000 events of the same users, 15 in
flight as ctflow sends them; the sandbox process's CPU time (user + system, /proc) over those
calls, divided by their number, is one figure. Prints each checkout's median and spread, and the
ratio of the medians. Events are upload_bench's shape (7 properties). CPU time, not wall time,
so other work on the machine moves the figures little.
Run: .venv/bin/python benchmarks/sandbox_served_bench.py [--stored 1000000] [--calls 200]
     [--runs 3] [--against DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

ACCOUNT, PASSCODE = "SBX-000-0001", "sandbox-passcode"
AUTH = {"X-CleverTap-Account-Id": ACCOUNT, "X-CleverTap-Passcode": PASSCODE}
USERS = 200_000
BATCH = 1000
IN_FLIGHT = 15
TS = 1_763_000_000
TICKS = os.sysconf("SC_CLK_TCK")

FILL = """
import sys
import orjson
from ctflow.sandbox import Sandbox, upload
sb = Sandbox(sys.argv[1])
for line in sys.stdin.buffer:
    reply = upload.upload(sb.store, orjson.loads(line), 1763600000, False, set())
    assert reply["status"] == "success", reply
sb.close()
"""


def bodies(count: int, seed: int, start_ts: int) -> list[bytes]:
    """`count` calls of BATCH events, each call's JSON body."""
    rng = random.Random(seed)
    out = []
    for call in range(count):
        records = [
            {
                "type": "event",
                "identity": f"user-{rng.randrange(USERS):06d}",
                "ts": start_ts + call * BATCH + n,
                "evtName": "Product Viewed",
                "evtData": {
                    "Product": f"Trail Runner {rng.randrange(2000):04d}",
                    "Category": rng.choice(("shoes", "bags", "shirts")),
                    "Quantity": 1 + rng.randrange(5),
                    "Price": round(5 + rng.random() * 395, 2),
                    "Delivery": "2026-01-15",
                    "Channel": rng.choice(("web", "android", "ios")),
                    "Session": f"{rng.getrandbits(48):012x}",
                },
            }
            for n in range(BATCH)
        ]
        out.append(orjson.dumps({"d": records}))
    return out


def fill(code: Path, db: Path, stored: int) -> None:
    calls = stored // BATCH
    env = {**os.environ, "PYTHONPATH": str(code)}
    with subprocess.Popen(
        [sys.executable, "-c", FILL, str(db)], stdin=subprocess.PIPE, env=env
    ) as proc:
        assert proc.stdin is not None
        for at in range(0, calls, 50):
            for body in bodies(min(50, calls - at), at, TS + at * BATCH):
                proc.stdin.write(body + b"\n")
        proc.stdin.close()
    if proc.returncode:
        raise SystemExit(f"filling {db} with {code} failed")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def send_all(base_url: str, calls: list[bytes]) -> None:
    queue = list(reversed(calls))

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            body = queue.pop()
            response = await client.post("/1/upload", content=body)
            assert response.json()["status"] == "success", response.text[:300]

    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(
        base_url=base_url, headers=AUTH, timeout=120, limits=limits
    ) as client:
        await asyncio.gather(*(worker(client) for _ in range(IN_FLIGHT)))


def measure(code: Path, filled: Path, calls: list[bytes], workdir: Path) -> float:
    """CPU milliseconds per call of the served sandbox of `code`, on a copy of `filled`."""
    db = workdir / "served.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(filled, db)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [sys.executable, "-m", "ctflow", "sandbox", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--db", str(db)], cwd=workdir, env=env, stdout=subprocess.DEVNULL
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(base_url + "/1/now.json", headers=AUTH, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        asyncio.run(send_all(base_url, calls[:IN_FLIGHT]))  # warm: threads, caches
        before = cpu_seconds(server.pid)
        asyncio.run(send_all(base_url, calls[IN_FLIGHT:]))
        return (cpu_seconds(server.pid) - before) * 1000 / (len(calls) - IN_FLIGHT)
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--against", type=Path, help="another checkout of ctflow to compare")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    codes = [args.code.resolve()] + ([args.against.resolve()] if args.against else [])
    calls = bodies(args.calls + IN_FLIGHT, 7, TS + args.stored)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        filled = {}
        for n, code in enumerate(codes):
            filled[code] = workdir / f"filled-{n}.db"
            started = time.perf_counter()
            fill(code, filled[code], args.stored)
            print(f"{code}: {args.stored:,} events stored ({time.perf_counter() - started:.0f} s)")
        figures: dict[Path, list[float]] = {code: [] for code in codes}
        for _ in range(args.runs):
            for code in codes:
                figures[code].append(measure(code, filled[code], calls, workdir))
                print(f"  {code}: {figures[code][-1]:.1f} ms of CPU a call", flush=True)
        stored = f"{args.stored:,} stored, {IN_FLIGHT} in flight"
        print(f"{args.calls} calls of {BATCH} events over {stored}:")
        medians = {}
        for code, values in figures.items():
            medians[code] = statistics.median(values)
            low, high = min(values), max(values)
            print(f"  {code}: {medians[code]:.1f} ms median ({low:.1f} to {high:.1f})")
        if args.against:
            print(f"  ratio {medians[codes[0]] / medians[codes[1]]:.2f} (this / --against)")


if __name__ == "__main__":
    main()
