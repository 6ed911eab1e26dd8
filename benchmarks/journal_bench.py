"""What a PostgreSQL journal costs beside the SQLite file, and what it guarantees, against
`ctflow sandbox serve` on loopback, by default with no added latency: the journal's share of
the time is then as large as it gets (CleverTap itself answers in tens of milliseconds; try
`--latency-ms 20`).

- send: `ctflow send order-shipped --batch FILE` of N recipients, each with its own data (so
  N calls), with the SQLite journal and with the PostgreSQL one, alternately, `--repeat` times
  each; medians and their ratio. Target: PostgreSQL costs at most 10% more wall time.
- upload: `ctflow upload events FILE` of M rows, the same way; rows accepted per second.
- race: P processes at once send the same batch of R recipients through one PostgreSQL
  journal; the calls the sandbox recorded per recipient. Target: exactly 1 each.
Each run starts with an empty journal (a new file, a new schema) and a fresh sandbox.
Run: .venv/bin/python benchmarks/journal_bench.py [--recipients 10000] [--rows 1000000]
     [--racers 4] [--race-recipients 2000] [--repeat 3] [--latency-ms 0]
     [--only send,upload,race]
     [--journal-url URL] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from journal_server import fresh_schema, journal_server
from upload_bench import (
    ENV,
    PROJECT,
    SCHEMA,
    Server,
    data_file,
    fail,
    load_average,
    sandbox,
)

TRIGGER = """\
kind: Trigger
key: order-shipped
type: identity
channel: email
parameters:
  type: object
  required: [order_id]
  properties:
    order_id: {type: string}
content:
  subject: "Order [[ order_id ]] is on its way"
  sender_name: Shop
  body: "<p>Order [[ order_id ]] shipped.</p>"
"""


def write_project(root: Path, base_url: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ctflow.yaml").write_text(PROJECT.format(env=ENV, base_url=base_url))
    (root / "triggers").mkdir(exist_ok=True)
    (root / "triggers" / "shipped.yaml").write_text(TRIGGER)
    (root / "tracking.yaml").write_text(SCHEMA)  # 1% of the upload's rows break it


def batch_file(workdir: Path, count: int) -> Path:
    path = workdir / f"batch-{count}.jsonl"
    lines = (json.dumps({"to": f"C{n}", "data": {"order_id": f"SO-{n}"}}) for n in range(count))
    path.write_text("".join(line + "\n" for line in lines))
    return path


def ctflow(
    root: Path, args: Sequence[str], server: Server, journal_url: str | None, log: Path
) -> subprocess.Popen[bytes]:
    environ = {
        **os.environ,
        "CLEVERTAP_ACCOUNT_ID": server.creds.account_id,
        "CLEVERTAP_PASSCODE": server.creds.passcode,
    }
    environ.pop("CTFLOW_JOURNAL_URL", None)
    if journal_url:
        environ["CTFLOW_JOURNAL_URL"] = journal_url
    command = [sys.executable, "-m", "ctflow", "-C", str(root), *args, "--format", "json"]
    out = log.with_suffix(".out").open("wb")
    err = log.with_suffix(".err").open("wb")
    return subprocess.Popen(command, stdout=out, stderr=err, env=environ)


def finished(proc: subprocess.Popen[bytes], log: Path, codes: tuple[int, ...] = (0,)) -> Any:
    code = proc.wait()
    if code not in codes:
        fail(f"ctflow exited {code}", log.with_suffix(".err"), log.with_suffix(".out"))
    return json.loads(log.with_suffix(".out").read_text())


def timed(
    args: argparse.Namespace, label: str, ctflow_args: list[str], journal: str | None
) -> tuple[float, Any]:
    """One run on a fresh sandbox and an empty journal: wall seconds and the JSON it printed."""
    root = args.workdir / label
    logs = args.workdir / "logs"
    shutil.rmtree(root / ".ctflow", ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    with sandbox(root, args.workdir / f"sandbox-{label}.db", args.latency_ms, logs) as server:
        write_project(root, server.url)
        started = time.perf_counter()
        proc = ctflow(root, ctflow_args, server, journal, logs / label)
        report = finished(proc, logs / label, codes=(0, 3))
        return time.perf_counter() - started, report


def side_by_side(
    args: argparse.Namespace, what: str, ctflow_args: list[str], url: str
) -> tuple[dict[str, list[float]], int]:
    """``ctflow_args`` with each journal, alternately, ``--repeat`` times: wall seconds, and
    what one run delivered (sends, or rows accepted)."""
    seconds: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    delivered = 0
    for n in range(args.repeat):
        for kind in ("sqlite", "postgresql"):
            journal = fresh_schema(url, f"bench_{what}_{n}") if kind == "postgresql" else None
            wall, report = timed(args, f"{what}-{kind}-{n}", ctflow_args, journal)
            delivered = check(what, report)
            seconds[kind].append(wall)
            print(f"  {what} {n + 1}/{args.repeat} {kind:<10} {wall:7.2f} s")
    return seconds, delivered


def check(what: str, report: Any) -> int:
    """What the run delivered; it must have delivered everything it could."""
    if what == "send":
        states = Counter(line["state"] for line in report["sends"])
        if set(states) != {"sent"}:
            raise SystemExit(f"journal_bench: a send did not go out: {dict(states)}")
        return states["sent"]
    summary = report["files"][0]
    if summary["ambiguous_batches"] or summary["failed_batches"] or summary["unavailable"]:
        raise SystemExit(f"journal_bench: the upload did not complete: {summary}")
    return int(summary["accepted"])


def race(args: argparse.Namespace, url: str) -> Counter[str]:
    """``--racers`` processes send one batch at once through one PostgreSQL journal."""
    batch = batch_file(args.workdir, args.race_recipients)
    logs = args.workdir / "logs"
    journal = fresh_schema(url, "bench_race")
    base = args.workdir / "race"
    base.mkdir(parents=True, exist_ok=True)
    with sandbox(base, args.workdir / "sandbox-race.db", args.latency_ms, logs) as server:
        procs = []
        for n in range(args.racers):
            root = base / f"host-{n + 1}"
            write_project(root, server.url)
            send = ["send", "order-shipped", "--batch", str(batch), "--env", ENV]
            procs.append((ctflow(root, send, server, journal, logs / f"race-{n}"), n))
        reports = [finished(proc, logs / f"race-{n}", codes=(0, 6)) for proc, n in procs]
        headers = {
            "X-CleverTap-Account-Id": server.creds.account_id,
            "X-CleverTap-Passcode": server.creds.passcode,
        }
        sends = httpx.get(f"{server.url}/_sandbox/sends", headers=headers, timeout=60).json()
    calls = Counter(to for s in sends["sends"] for to in s["body"]["to"]["Identity"])
    said = Counter(line["state"] for report in reports for line in report["sends"])
    print(f"  {args.racers} x {args.race_recipients} recipients: states reported {dict(said)}")
    return calls


def report(what: str, unit: str, measured: tuple[dict[str, list[float]], int]) -> None:
    seconds, amount = measured
    sqlite, pg = statistics.median(seconds["sqlite"]), statistics.median(seconds["postgresql"])
    print(
        f"{what}: median {sqlite:.2f} s SQLite ({amount / sqlite:,.0f} {unit}/s), "
        f"{pg:.2f} s PostgreSQL ({amount / pg:,.0f} {unit}/s); "
        f"PostgreSQL / SQLite = {pg / sqlite:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--racers", type=int, default=4)
    parser.add_argument("--race-recipients", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--only", default="send,upload,race")
    parser.add_argument("--journal-url")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    only = set(args.only.split(","))
    results = []
    with tempfile.TemporaryDirectory(prefix="ctflow-journal-bench-") as scratch:
        args.workdir = args.workdir or Path(scratch)
        (args.workdir / "logs").mkdir(parents=True, exist_ok=True)
        print(f"journal_bench: sandbox latency {args.latency_ms} ms; {load_average()} before")
        with journal_server(args.journal_url) as url:
            if "send" in only:
                batch = batch_file(args.workdir, args.recipients)
                send = ["send", "order-shipped", "--batch", str(batch), "--env", ENV]
                results.append(("send", "sends", side_by_side(args, "send", send, url)))
            if "upload" in only:
                events = data_file(args.workdir, args.rows)
                upload = ["upload", "events", str(events), "--env", ENV]
                results.append(("upload", "rows", side_by_side(args, "upload", upload, url)))
            calls = race(args, url) if "race" in only else None
        print(f"journal_bench: load average after: {load_average()}\n")
    for what, unit, measured in results:
        report(what, unit, measured)
    if calls is not None:
        per = Counter(calls.values())
        missing = args.race_recipients - len(calls)
        print(
            f"race: {args.racers} processes x {args.race_recipients} recipients, one PostgreSQL "
            f"journal: calls per recipient {dict(sorted(per.items()))}, recipients never called "
            f"{missing}"
        )


if __name__ == "__main__":
    main()
