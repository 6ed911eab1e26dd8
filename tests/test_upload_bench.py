"""benchmarks/upload_bench.py runs end to end at a tiny size and prints every figure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "upload_bench.py"


@pytest.mark.slow
@pytest.mark.loopback
def test_upload_bench_prints_the_table_and_the_targets(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), "--events", "3000", "--latencies", "20,5"),
            *("--baseline-events", "1000", "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    for figure in (
        "--- sandbox latency 20 ms ---",
        "--- sandbox latency 5 ms ---",
        "ctflow upload (15 in flight, checked): 2,970 accepted, 30 rejected by ctflow",
        "3 workers x batches of 1000: 1,000-row sample",
        "ctflow upload, 10x smaller: 297 accepted",
        "Node SDK (sequential batches of 100*) at the lowest latency: ",
        "ctflow / 3x1000",
        "at 20 ms (no target): ctflow ",
        "peak RSS: ",
        "checking + encoding on one core, best pass: ",
        "3 passes over 300 rows: ",
    ):
        assert figure in out, out
    rows = [
        line.split() for line in out.splitlines() if line.lstrip().startswith(("20 ms", "5 ms"))
    ]
    assert [row[0] for row in rows] == ["20", "5"], out
    for row in rows:  # latency ms, round trip ms, ceiling, ctflow/s, share, 3x1000/s, share, ratio
        assert row[6].endswith("%"), row
        assert row[8].endswith("%"), row
        assert float(row[9]) > 0, row
