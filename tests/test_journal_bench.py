"""benchmarks/journal_bench.py runs end to end at a tiny size and prints its three figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "journal_bench.py"


@pytest.mark.slow
@pytest.mark.loopback
def test_journal_bench_prints_the_ratios_and_the_race(tmp_path: Path, postgres_url: str) -> None:
    done = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), "--recipients", "40", "--rows", "3000"),
            *("--racers", "2", "--race-recipients", "30", "--repeat", "1"),
            *("--journal-url", postgres_url, "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert "\nsend: median " in out, out
    assert "PostgreSQL / SQLite = " in out, out
    assert "\nupload: median " in out, out
    assert (
        "race: 2 processes x 30 recipients, one PostgreSQL journal: "
        "calls per recipient {1: 30}, recipients never called 0" in out
    ), out
