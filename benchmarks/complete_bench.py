"""What one TAB of shell completion costs: a fresh `ctflow` process completing `--target` (every
campaign, journey and dataset key of the project), beside `ctflow --version` in the same run.

Projects: the journeys example, and generated ones of N campaigns in one file (as
benchmarks/plan_bench.py writes them). Each figure is the median of --runs fresh processes, in
wall seconds and in CPU seconds (user + system of the child); the ratio column is the TAB's CPU
over `--version`'s, what the completion itself adds.
Run: .venv/bin/python benchmarks/complete_bench.py [--sizes 100 1000 5000] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plan_bench import write

ROOT = Path(__file__).resolve().parent.parent


def timed(environ: dict[str, str], argv: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, stdout) of one fresh `python -m ctflow ARGV`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ctflow", *argv],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def median(
    environ: dict[str, str], argv: list[str], cwd: Path, runs: int
) -> tuple[float, float, int]:
    samples = [timed(environ, argv, cwd) for _ in range(runs)]
    names = len([line for line in samples[0][2].splitlines() if line.strip()])
    return (
        statistics.median(s[0] for s in samples),
        statistics.median(s[1] for s in samples),
        names,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 5000])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    base = {**os.environ, "PYTHONPATH": str(ROOT)}
    tab = {
        **base,
        "_CTFLOW_COMPLETE": "bash_complete",
        "COMP_WORDS": "ctflow plan --target ",
        "COMP_CWORD": "3",
    }
    with tempfile.TemporaryDirectory() as scratch:
        projects = [("examples/journeys", ROOT / "examples" / "journeys")]
        for size in args.sizes:
            root = Path(scratch) / f"p{size}"
            root.mkdir()
            write(root, size)
            projects.append((f"{size} campaigns", root))
        print(
            f"{'project':<18} {'names':>6} {'TAB wall s':>11} {'TAB cpu s':>10} "
            f"{'--version cpu s':>16} {'ratio':>6}"
        )
        for label, root in projects:
            _, version_cpu, _ = median(base, ["--version"], root, args.runs)
            wall, cpu, names = median(tab, [], root, args.runs)
            print(
                f"{label:<18} {names:>6} {wall:>11.3f} {cpu:>10.3f} {version_cpu:>16.3f} "
                f"{cpu / version_cpu:>6.2f}"
            )


if __name__ == "__main__":
    main()
