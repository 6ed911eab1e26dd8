"""How `ctflow plan` scales with the number of declared campaigns (it runs on every pull request).

For each N: writes a project with N push campaigns scheduled next year, applies it once to a
sandbox database so all N are live (setup, not measured), then, in a fresh interpreter that only
measures, runs `ctflow plan` in-process against that sandbox: the declarations loading alone,
the whole plan with nothing to change, and the whole plan after every title changed (N replaces,
each with its field diff). Counts the API calls the plan makes and the time spent inside the
sandbox, and reads the peak memory (tracemalloc for the plan alone; the measuring process's max
RSS, interpreter and imports included). Also times the real command (`python -m ctflow plan`).
Target: API calls constant in N, 1000 campaigns planned in under 1 s.
Columns: plan s = load s (reading and checking the files) + api s (inside the sandbox) + other s
(desired state, planner, journal, rendering), best of 5 (of 2 above 1000 campaigns); changed s =
the plan of N replaces.
Run: .venv/bin/python benchmarks/plan_bench.py [--sizes 10 100 1000 5000]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ctflow.clevertap import CleverTap, Credentials, Limits
from ctflow.commands import apply as applycmd
from ctflow.commands import plan as plancmd
from ctflow.commands.shared import Invocation
from ctflow.config import find_project, resolve_target
from ctflow.connect import open_sandbox
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE
from ctflow.spec.validate import load

CREDS = Credentials(DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE)
FAST = Limits(create_per_second=10_000)
"""Setup only: the client's 3 creates/s pacing lifted (the sandbox's is switched off too)."""
TARGET_N = 1000
TARGET_SECONDS = 1.0

PROJECT = "project: bench\ntimezone: UTC\n"
TRACKING = """\
kind: EventSchema
event: App Launched
version: 1
"""
CAMPAIGN = """\
kind: Campaign
key: c{n}
name: Campaign {n}
channel: push
audience:
  did: [{{event: App Launched, in_last: 30d}}]
content:
  title: "{title} {n}"
  body: "Hello {{{{ Profile.Name | default: 'friend' }}}}, deal number {n}"
  android: {{channel_id: deals}}
schedule: {{at: "{day} 10:00"}}
---
"""


def write(root: Path, campaigns: int, title: str = "Deal") -> None:
    """The project; schedules spread over next year, so they stay in the future."""
    first = date(datetime.now(UTC).year + 1, 1, 1)
    (root / "ctflow.yaml").write_text(PROJECT)
    (root / "tracking.yaml").write_text(TRACKING)
    text = "".join(
        CAMPAIGN.format(n=n, title=title, day=(first + timedelta(days=n % 360)).isoformat())
        for n in range(campaigns)
    )
    (root / "campaigns.yaml").write_text(text)


class Counted:
    """ASGI middleware in front of the sandbox: how many requests, and the time spent in it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0
        self.seconds = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.calls += 1
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.seconds += time.perf_counter() - started


def invocation(root: Path, app: Any, limits: Limits | None = None) -> Invocation:
    def connect() -> CleverTap:
        return CleverTap.in_process(app, CREDS, limits=limits or Limits())

    return Invocation(
        directory=root,
        target=resolve_target(find_project(root), None, {}),
        now=datetime.now(UTC),
        user="bench",
        host="bench",
        command="ctflow plan",
        connect=connect,
    )


def setup(root: Path, campaigns: int) -> float:
    """Write the project and apply it, so every campaign is live; returns the seconds taken."""
    write(root, campaigns)
    started = time.perf_counter()
    sb = open_sandbox(root / ".ctflow" / "sandbox.db", "UTC")
    sb.config.create_per_second = 0
    try:
        out, err = io.StringIO(), io.StringIO()
        options = applycmd.ApplyOptions(auto_approve=True)
        code = applycmd.apply(invocation(root, sb.app, FAST), options, out=out, err=err)
        assert code == 0, err.getvalue()[-2000:]
        assert f"Apply complete: {campaigns} created" in out.getvalue(), out.getvalue()[-500:]
    finally:
        sb.close()
    return time.perf_counter() - started


def plan_once(root: Path) -> tuple[float, Counted, str]:
    sb = open_sandbox(root / ".ctflow" / "sandbox.db", "UTC")
    counted = Counted(sb.app)
    out, err = io.StringIO(), io.StringIO()
    try:
        started = time.perf_counter()
        code = plancmd.plan(invocation(root, counted), plancmd.PlanOptions(), out=out, err=err)
        seconds = time.perf_counter() - started
    finally:
        sb.close()
    assert code == 0, err.getvalue()
    return seconds, counted, out.getvalue()


def measure(root: Path, campaigns: int) -> dict[str, Any]:
    """Runs in its own interpreter, after setup: only the plan's cost is in its max RSS."""
    loads, runs = [], []
    for _ in range(5 if campaigns <= TARGET_N else 2):  # alternated, so both see the same noise
        started = time.perf_counter()
        load(root)
        loads.append(time.perf_counter() - started)
        runs.append(plan_once(root))
    seconds, counted, text = min(runs, key=lambda run: run[0])
    assert "No changes." in text, text[-500:]
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before tracemalloc's own
    tracemalloc.start()
    plan_once(root)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    write(root, campaigns, title="Better deal")
    changed, _, text = plan_once(root)
    assert f"0 to create, {campaigns} to replace" in text, text[-500:]
    return {
        "load": min(loads),
        "plan": seconds,
        "calls": counted.calls,
        "api": counted.seconds,
        "changed": changed,
        "traced_mb": peak / 2**20,
        "maxrss_mb": maxrss_kb / 1024,
    }


def cli_seconds(root: Path) -> float:
    """The real command in a fresh interpreter: what a CI step pays, imports included."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ctflow", "-C", str(root), "plan", "--detailed-exitcode"],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout[-500:] + done.stderr[-500:]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 5000])
    parser.add_argument("--measure", nargs=2, metavar=("DIR", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), int(args.measure[1]))))
        return

    print(
        f"{'campaigns':>9} {'setup s':>8} {'plan s':>7} {'load s':>7} {'api s':>6} "
        f"{'other s':>7} {'calls':>5} {'changed s':>9} {'cli s':>6} {'traced MB':>9} "
        f"{'rss MB':>7}"
    )
    results: dict[int, dict[str, Any]] = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            setup_s = setup(root, size)
            cli = cli_seconds(root)
            done = subprocess.run(
                [sys.executable, __file__, "--measure", str(root), str(size)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = results[size] = json.loads(done.stdout)
        other = r["plan"] - r["load"] - r["api"]
        print(
            f"{size:>9} {setup_s:>8.2f} {r['plan']:>7.3f} {r['load']:>7.3f} {r['api']:>6.3f} "
            f"{other:>7.3f} {r['calls']:>5} {r['changed']:>9.3f} {cli:>6.2f} "
            f"{r['traced_mb']:>9.1f} {r['maxrss_mb']:>7.1f}"
        )

    calls = {r["calls"] for r in results.values()}
    print(f"API calls constant in N: {'yes' if len(calls) == 1 else 'no'} ({sorted(calls)})")
    if TARGET_N in results:
        took, loading = results[TARGET_N]["plan"], results[TARGET_N]["load"]
        met = "yes" if took < TARGET_SECONDS else "no"
        print(
            f"{TARGET_N} campaigns planned in under {TARGET_SECONDS:.0f} s: {met} ({took:.3f} s, "
            f"of which loading the declarations {loading:.3f} s)"
        )


if __name__ == "__main__":
    main()
