"""benchmarks/row_cost_bench.py runs end to end at a tiny size: every row reaches the stub, and
the figures it prints add up."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "row_cost_bench.py"
LINE = re.compile(
    r"^  (?P<label>[\w ,/]+?) +(?P<rows>[\d,]+) rows +(?P<wall>[\d.]+) s +(?P<rate>[\d,]+) rows/s"
    r"  CPU +(?P<cpu>[\d.]+) s +(?P<us>[\d.]+) µs/row$",
    re.MULTILINE,
)


@pytest.mark.slow
@pytest.mark.loopback
def test_row_cost_bench_uploads_every_row_and_reports_cpu_per_row(
    tmp_path: Path, postgres_url: str
) -> None:
    done = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), "--rows", "3000", "--repeat", "2", "--postgres"),
            *("--journal-url", postgres_url, "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    runs = {m["label"]: m for m in LINE.finditer(out)}
    for journal in ("sqlite", "postgresql"):
        assert set(runs) >= {
            f"{journal}, fixed cost",
            f"{journal}, run 1/2",
            f"{journal}, run 2/2",
            f"{journal}, median",
        }, out
        assert runs[f"{journal}, fixed cost"]["rows"] == "1", out
        for label in (f"{journal}, run 1/2", f"{journal}, run 2/2", f"{journal}, median"):
            run = runs[label]
            rows, wall, cpu = (
                int(run["rows"].replace(",", "")),
                float(run["wall"]),
                float(run["cpu"]),
            )
            assert rows == 3000, out
            assert 0 < cpu < 60, out
            assert 0 < wall < 60, out
            # (seconds are printed to 0.01)
            assert float(run["us"]) == pytest.approx(cpu / rows * 1e6, abs=0.006 / rows * 1e6)
            assert int(run["rate"].replace(",", "")) == pytest.approx(rows / wall, rel=0.02), out
        assert re.search(
            rf"^{journal}: [\d.]+ µs of CPU per row end to end \([-\d.]+ µs without the fixed "
            r"[\d.]+ s\)  (PASS|FAIL) \(target 6 µs\)$",
            out,
            re.MULTILINE,
        ), out
