"""The account's 15 upload calls, shared by processes: 1, 2 and 4 `ctflow upload` processes at
once against one `ctflow sandbox serve --latency-ms L` (its limits on: a 16th call in flight is
answered 429), each with its own checkout and its share of one file.

Two ways, side by side for each count of processes:
- shared: every process has the same PostgreSQL journal (CTFLOW_JOURNAL_URL), so they take the
  account's slots from it and stay under 15 together;
- separate: each has its own SQLite journal, and each thinks the 15 are its own.
Printed per run: rows accepted per second in total (first start to last finish), the 429s the
processes saw, and the rate against one process alone. Target: 4 processes sharing see (almost)
no 429s and upload about as fast as one process at the ceiling.
Run: .venv/bin/python benchmarks/shared_budget_bench.py [--rows 150000] [--latency-ms 1000]
     [--processes 1,2,4] [--journal-url URL] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from journal_server import fresh_schema, journal_server
from upload_bench import ENV, data_file, fail, load_average, sandbox, write_project


@dataclass
class Run:
    processes: int
    journal: str
    accepted: int
    seconds: float
    rate_limited: int

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds


def parts(source: Path, count: int) -> list[Path]:
    """``source`` cut into ``count`` files of consecutive lines, one per process."""
    lines = source.read_bytes().splitlines(keepends=True)
    size = -(-len(lines) // count)
    paths = []
    for n in range(count):
        path = source.with_name(f"{source.stem}.{n + 1}-of-{count}.jsonl")
        if not path.exists():
            path.write_bytes(b"".join(lines[n * size : (n + 1) * size]))
        paths.append(path)
    return paths


def run(args: argparse.Namespace, source: Path, count: int, journal_url: str | None) -> Run:
    """``count`` processes uploading their parts at once; ``journal_url``: shared, else each
    its own SQLite journal."""
    label = "shared" if journal_url else "separate"
    base = args.workdir / f"{label}-{count}"
    logs = args.workdir / "logs"
    base.mkdir(parents=True, exist_ok=True)
    with sandbox(base, args.workdir / f"sandbox-{label}-{count}.db", args.latency_ms, logs) as srv:
        environ = {
            **os.environ,
            "CLEVERTAP_ACCOUNT_ID": srv.creds.account_id,
            "CLEVERTAP_PASSCODE": srv.creds.passcode,
        }
        environ.pop("CTFLOW_JOURNAL_URL", None)
        if journal_url:
            environ["CTFLOW_JOURNAL_URL"] = fresh_schema(journal_url, f"budget_{count}")
        procs = []
        started = time.perf_counter()
        for n, part in enumerate(parts(source, count), start=1):
            checkout = base / f"checkout-{n}"
            write_project(checkout, srv.url)
            command = [sys.executable, "-m", "ctflow", "-C", str(checkout), "upload", "events"]
            command += [str(part), "--env", ENV, "--format", "json"]
            out = (logs / f"{label}-{count}-{n}.out").open("wb")
            err = (logs / f"{label}-{count}-{n}.err").open("wb")
            procs.append((subprocess.Popen(command, stdout=out, stderr=err, env=environ), out))
        summaries = []
        for proc, out in procs:
            code = proc.wait()
            out.close()
            text = Path(out.name).read_text()
            if code not in (0, 3):  # 3: records rejected, as 1% of them are meant to be
                fail(f"ctflow upload exited {code}", Path(out.name).with_suffix(".err"))
            summaries.append(json.loads(text)["files"][0])
        seconds = time.perf_counter() - started
    return Run(
        count,
        label,
        sum(s["accepted"] for s in summaries),
        seconds,
        sum(s["rate_limited"] for s in summaries),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--latency-ms", type=int, default=1000)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--journal-url")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    with tempfile.TemporaryDirectory(prefix="ctflow-budget-") as scratch:
        args.workdir = args.workdir or Path(scratch)
        (args.workdir / "logs").mkdir(parents=True, exist_ok=True)
        print(f"shared_budget_bench: {args.rows:,} rows, sandbox latency {args.latency_ms} ms")
        print(f"  load average before: {load_average()}")
        source = data_file(args.workdir, args.rows)
        with journal_server(args.journal_url) as url:
            runs = [run(args, source, n, journal) for n in counts for journal in (url, None)]
        print(f"  load average after: {load_average()}")
    ceiling = 15 * 1000 / (args.latency_ms / 1000)
    alone = {r.journal: r.rate for r in runs if r.processes == 1}
    print(f"\nceiling: 15 calls x 1000 rows / {args.latency_ms} ms = {ceiling:,.0f} rows/s")
    print("processes  journal    rows/s total  429s seen  vs 1 process")
    for r in runs:
        ratio = r.rate / alone[r.journal] if r.journal in alone else float("nan")
        print(
            f"{r.processes:>9}  {r.journal:<9}  {r.rate:>12,.0f}  {r.rate_limited:>9,}"
            f"  {ratio:>12.2f}"
        )
    shared = [r for r in runs if r.journal == "shared" and r.processes > 1]
    if shared:
        most = max(shared, key=lambda r: r.processes)
        print(
            f"\n{most.processes} processes sharing: {most.rate_limited:,} 429s, "
            f"{most.rate / alone.get('shared', most.rate):.2f}x one process's rate"
        )


if __name__ == "__main__":
    main()
