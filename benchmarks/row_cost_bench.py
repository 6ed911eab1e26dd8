"""ctflow's own CPU per uploaded row, end to end: `ctflow upload events FILE` against a stub.

Writes upload_bench's project (an EventSchema of 7 properties, one of them a date) and a JSONL
file of N events that are all valid. A stub CleverTap runs in a process of its own (its CPU is
not counted): it answers every `POST /1/upload` with success, counts the records it was sent and
keeps nothing else, so what is left is ctflow's cost. Then `ctflow upload events FILE` runs as a
user runs it, in its own process, with the real journal (the default SQLite file; with
`--postgres`, a PostgreSQL one too), `--repeat` times per journal, each time on an empty journal.
For each run: rows, wall seconds, rows/s, the CPU seconds of the ctflow process (user + sys,
os.wait4) and µs of CPU per row; then the medians. The fixed cost (a one-row upload: start-up,
reading the project, the journal's run and lock) is measured too, and the per-row cost without it.
Target: at most 6 µs of CPU per row.
Run: .venv/bin/python benchmarks/row_cost_bench.py [--rows 1000000] [--repeat 3] [--postgres]
     [--journal-url URL] [--workdir DIR]
(ctflow runs as `python -m ctflow`, so a ctflow in the working directory comes first.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import orjson
from journal_bench import ctflow
from journal_server import fresh_schema, journal_server
from upload_bench import ENV, Server, generate, load_average, write_project

from ctflow.clevertap import Credentials

TARGET_US = 6.0
ACCOUNT, PASSCODE = "STUB-000-0000", "stub-passcode"
RECORD_KEY = b'"evtName":'  # once per event record in a body ctflow encodes (orjson)


# --- the rows ---------------------------------------------------------------------------------


def data_file(workdir: Path, count: int) -> Path:
    path = workdir / f"valid-events-{count}.jsonl"
    if not (path.is_file() and path.stat().st_size > 0):
        generate(path, count, spoiled=False)  # upload_bench's events, every one valid
    return path


# --- the stub, in a process of its own --------------------------------------------------------


class _Stub(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, just enough for httpx: a body by Content-Length."""

    received: ClassVar[dict[str, int]] = {"calls": 0, "records": 0}

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end])
            found = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            total = end + 4 + (int(found.group(1)) if found else 0)
            if len(self.buffer) < total:
                return
            body = bytes(self.buffer[end + 4 : total])
            del self.buffer[:total]
            self.transport.write(self._answer(head.split(b" ", 2)[:2], body))

    def _answer(self, request: list[bytes], body: bytes) -> bytes:
        method, path = [*request, b"", b""][:2]
        if method == b"POST" and path.split(b"?")[0] == b"/1/upload":
            records = body.count(RECORD_KEY)
            self.received["calls"] += 1
            self.received["records"] += records
            doc: dict[str, Any] = {"status": "success", "processed": records, "unprocessed": []}
            status = b"200 OK"
        elif path == b"/_stub/received":
            doc, status = self.received, b"200 OK"
        else:
            doc, status = {"status": "fail", "error": "not here", "code": 404}, b"404 Not Found"
        payload = orjson.dumps(doc)
        return (
            b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
        )


def serve_stub() -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Stub, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        print(f"listening on http://127.0.0.1:{port}", flush=True)
        await server.serve_forever()

    asyncio.run(main())


@contextmanager
def stub() -> Iterator[Server]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-stub"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"listening on (\S+)", line)
        if not found:
            raise SystemExit(f"row_cost_bench: the stub did not start: {line!r}")
        yield Server(found.group(1), Credentials(ACCOUNT, PASSCODE))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def received(server: Server) -> dict[str, int]:
    answer: dict[str, int] = httpx.get(f"{server.url}/_stub/received", timeout=10).json()
    return answer


def fail(message: str, *logs: Path) -> Any:
    for log in logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        if text.strip():
            print(f"--- {log.name} (last 3000 characters) ---\n{text[-3000:]}", file=sys.stderr)
    raise SystemExit(f"row_cost_bench: {message}")


# --- one upload -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    journal: str
    rows: int
    wall: float
    cpu: float

    @property
    def us_per_row(self) -> float:
        return self.cpu / self.rows * 1e6


def upload(args: argparse.Namespace, path: Path, journal: str, label: str) -> Run:
    """`ctflow upload events FILE` on an empty journal and a fresh stub; every row must have
    reached the stub."""
    root = args.workdir / "project"
    logs = args.workdir / "logs"
    shutil.rmtree(root / ".ctflow", ignore_errors=True)
    url = (
        fresh_schema(args.pg_url, "rowcost_" + label.replace("-", "_"))
        if journal == "postgresql"
        else None
    )
    with stub() as server:
        write_project(root, server.url)
        before = received(server)
        started = time.perf_counter()
        proc = ctflow(
            root, ["upload", "events", str(path), "--env", ENV], server, url, logs / label
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        after = received(server)
    out, err = (logs / label).with_suffix(".out"), (logs / label).with_suffix(".err")
    if code != 0:
        fail(f"ctflow upload exited {code}", err, out)
    summary = json.loads(out.read_text())["files"][0]
    rows = summary["rows"]
    sent = after["records"] - before["records"]
    if summary["accepted"] != rows or sent != rows:
        fail(f"{rows:,} rows, {summary['accepted']:,} accepted, {sent:,} reached the stub", err)
    return Run(journal, rows, wall, usage.ru_utime + usage.ru_stime)


# --- the report -------------------------------------------------------------------------------


def line(run: Run, label: str) -> str:
    return (
        f"  {label:<24} {run.rows:>9,} rows {run.wall:>7.2f} s {run.rows / run.wall:>9,.0f} rows/s"
        f"  CPU {run.cpu:>6.2f} s  {run.us_per_row:>6.2f} µs/row"
    )


def measure(args: argparse.Namespace, journal: str, big: Path, one: Path) -> None:
    fixed = upload(args, one, journal, f"{journal}-fixed")
    print(line(fixed, f"{journal}, fixed cost"))
    runs = []
    for n in range(args.repeat):
        runs.append(upload(args, big, journal, f"{journal}-{n}"))
        print(line(runs[-1], f"{journal}, run {n + 1}/{args.repeat}"))
    median_cpu = statistics.median(r.cpu for r in runs)
    median = Run(journal, runs[0].rows, statistics.median(r.wall for r in runs), median_cpu)
    print(line(median, f"{journal}, median"))
    marginal = (median_cpu - fixed.cpu) / median.rows * 1e6
    verdict = "PASS" if median.us_per_row <= TARGET_US else "FAIL"
    print(
        f"{journal}: {median.us_per_row:.2f} µs of CPU per row end to end "
        f"({marginal:.2f} µs without the fixed {fixed.cpu:.2f} s)  {verdict} "
        f"(target {TARGET_US:g} µs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="a PostgreSQL journal too")
    parser.add_argument("--journal-url", help="a PostgreSQL server to use (default: a new one)")
    parser.add_argument("--workdir", type=Path, help="keep the project and the file here")
    parser.add_argument("--serve-stub", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.pg_url = None
    if args.serve_stub:
        serve_stub()
        return
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat: at least 1")
    with ExitStack() as stack:
        if args.workdir is None:
            args.workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rowcost")))
        args.workdir = args.workdir.resolve()
        (args.workdir / "logs").mkdir(parents=True, exist_ok=True)
        print(
            f"row_cost_bench: {args.rows:,} valid events, {os.cpu_count()} CPUs, "
            f"{load_average()} before, Python {sys.version.split()[0]}"
        )
        big, one = data_file(args.workdir, args.rows), data_file(args.workdir, 1)
        measure(args, "sqlite", big, one)
        if args.postgres:
            args.pg_url = stack.enter_context(journal_server(args.journal_url))
            measure(args, "postgresql", big, one)
        print(f"row_cost_bench: {load_average()} after")


if __name__ == "__main__":
    main()
