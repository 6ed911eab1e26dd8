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
(desired state, planner, journal, rendering), median of 5 (of 2 above 1000 campaigns); changed s =
the plan of N replaces.
With --ratios, only the scaling targets, through the real command in fresh interpreters, runs
interleaved, medians of --runs (wall and CPU time): plan of 1000 live campaigns <= 1.6x plan of 10
(all in one file, and one file per campaign), validate of 5000 campaigns (validate_bench's
project) <= 4x validate of 10; prints a PASS or FAIL line for each and exits 1 on a FAIL. The
command measured is the ctflow `python -m ctflow` finds from the current directory (which comes
first on its path): run it from the checkout to measure.
Run: .venv/bin/python benchmarks/plan_bench.py [--sizes 10 100 1000 5000] [--ratios [--runs 5]]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import validate_bench  # the validate benchmark's project, for the ratio

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
RATIO_PLAN_N, RATIO_PLAN_TARGET = 1000, 1.6
RATIO_VALIDATE_N, RATIO_VALIDATE_TARGET = 5000, 4.0

PROJECT = "project: bench\ntimezone: UTC\n"
TRACKING = """\
kind: EventSchema
event: App Launched
version: 1
---
kind: ProfileSchema
key: customers
properties:
  Name: {type: string}
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


def write(root: Path, campaigns: int, title: str = "Deal", *, spread: bool = False) -> None:
    """The project; schedules spread over next year, so they stay in the future. All campaigns
    in one file, or with ``spread`` one file per campaign."""
    first = date(datetime.now(UTC).year + 1, 1, 1)
    (root / "ctflow.yaml").write_text(PROJECT)
    (root / "tracking.yaml").write_text(TRACKING)
    texts = [
        CAMPAIGN.format(n=n, title=title, day=(first + timedelta(days=n % 360)).isoformat())
        for n in range(campaigns)
    ]
    if not spread:
        (root / "campaigns.yaml").write_text("".join(texts))
        return
    (root / "campaigns").mkdir(exist_ok=True)
    for n, text in enumerate(texts):
        (root / "campaigns" / f"c{n}.yaml").write_text(text)


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


def setup(root: Path, campaigns: int, *, spread: bool = False) -> float:
    """Write the project and apply it, so every campaign is live; returns the seconds taken."""
    write(root, campaigns, spread=spread)
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
    seconds, counted, text = sorted(runs, key=lambda run: run[0])[len(runs) // 2]  # the median
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
        "load": statistics.median(loads),
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


def timed_cli(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of the real command, fresh interpreter,
    with the bytecode cache an installed package has (written by a first, unmeasured run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "ctflow", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    error = child.stderr.read() if child.stderr else b""
    assert child.returncode == 0, (args, error[-500:])
    return wall, usage.ru_utime + usage.ru_stime


def ratios(runs: int) -> bool:
    """The scaling targets: each command's median over ``runs`` at the big size divided by its
    median at 10 campaigns, runs interleaved so that every project sees the same load."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        commands: dict[str, list[str]] = {}
        for spread in (False, True):
            for size in (10, RATIO_PLAN_N):
                root = base / f"plan-{size}-{'spread' if spread else 'one'}"
                root.mkdir()
                setup(root, size, spread=spread)
                commands[root.name] = ["-C", str(root), "plan", "--detailed-exitcode"]
        for size in (10, RATIO_VALIDATE_N):
            root = base / f"validate-{size}"
            root.mkdir()
            validate_bench.write(root, size)
            commands[root.name] = ["-C", str(root), "validate"]
        measured: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for args in commands.values():
            timed_cli(args)  # writes the bytecode cache, warms the file system's
        for _ in range(runs):
            for name, args in commands.items():
                measured[name].append(timed_cli(args))
    wall = {name: statistics.median(w for w, _ in got) for name, got in measured.items()}
    cpu = {name: statistics.median(c for _, c in got) for name, got in measured.items()}
    print(f"CLI, median of {runs} runs each:")
    print(f"{'project':>22} {'wall s':>7} {'cpu s':>7}")
    for name in commands:
        print(f"{name:>22} {wall[name]:>7.3f} {cpu[name]:>7.3f}")
    passed = True
    for big, small, target in (
        (f"plan-{RATIO_PLAN_N}-one", "plan-10-one", RATIO_PLAN_TARGET),
        (f"plan-{RATIO_PLAN_N}-spread", "plan-10-spread", RATIO_PLAN_TARGET),
        (f"validate-{RATIO_VALIDATE_N}", "validate-10", RATIO_VALIDATE_TARGET),
    ):
        ratio, cpu_ratio = wall[big] / wall[small], cpu[big] / cpu[small]
        verdict = "PASS" if ratio <= target else "FAIL"
        passed = passed and ratio <= target
        print(
            f"{verdict}: {big} / {small} = {ratio:.2f}x wall ({cpu_ratio:.2f}x cpu), "
            f"target <= {target}x"
        )
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 5000])
    parser.add_argument("--ratios", action="store_true", help="only the scaling targets' ratios")
    parser.add_argument("--runs", type=int, default=5, help="runs per project for --ratios")
    parser.add_argument("--measure", nargs=2, metavar=("DIR", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), int(args.measure[1]))))
        return
    if args.ratios:
        sys.exit(0 if ratios(args.runs) else 1)

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
