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
            *(sys.executable, str(SCRIPT), "--events", "3000", "--latency-ms", "5"),
            *("--baseline-events", "1000", "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    for strategy in (
        "ctflow upload (15 in flight, checked)",
        "ctflow upload, file 10x smaller (300 rows)",
        "Node SDK: sequential batches of 100*",
        "Go uploader: 3 workers x batches of 1000*",
    ):
        assert f"\n{strategy} " in out, out
    for figure in (
        "2,970 accepted, 30 rejected by ctflow",
        "of the nominal ceiling 15 x 1000 /",
        "of the ceiling at the round trip ctflow measured",
        "peak RSS: ",
        "checking + encoding on one core, best pass: ",
        "3 passes over 300 rows: ",
    ):
        assert figure in out, out
