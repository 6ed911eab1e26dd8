"""benchmarks/shared_budget_bench.py runs end to end at a tiny size and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "shared_budget_bench.py"


@pytest.mark.slow
@pytest.mark.loopback
def test_shared_budget_bench_prints_the_table(tmp_path: Path, postgres_url: str) -> None:
    done = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), "--rows", "3000", "--latency-ms", "20"),
            *("--processes", "1,2", "--journal-url", postgres_url, "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines() if line[:9].strip().isdigit()]
    assert [(r[0], r[1]) for r in rows] == [
        ("1", "shared"),
        ("1", "separate"),
        ("2", "shared"),
        ("2", "separate"),
    ], done.stdout
    assert all(r[3] == "0" for r in rows if r[1] == "shared"), "sharing, no 429"
    assert "2 processes sharing: 0 429s" in done.stdout
