"""benchmarks/fuzz_validate.py runs end to end at a tiny size and prints crashes/total."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz_validate.py"


@pytest.mark.slow
def test_fuzz_validate_prints_crashes_over_total(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), "--projects", "24", "--cli-sample", "2"),
            *("--jobs", "1", "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"^fuzz_validate: 26 mutated projects, \d+ commands$", done.stdout, re.M)
    assert "\ncrashes/total = 0/26\n" in done.stdout, done.stdout
    assert list(tmp_path.iterdir()) == []  # projects that did not crash are not kept
