"""The yes/no question of `apply` on a terminal goes to stderr, so stdout holds only what the
command prints (`--format json` stays one document), and only `yes` applies."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "journeys"


def read_all(fd: int, deadline: float) -> bytes:
    """What the terminal shows until the process closes it (or the deadline passes)."""
    chunks: list[bytes] = []
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_apply_on_a_terminal_asks_on_stderr_and_applies_nothing_without_yes(
    tmp_path: Path,
) -> None:
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".ctflow"))
    master, slave = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CTFLOW_", "CLEVERTAP_"))}
    environ.update(CI="", PYTHONPATH=str(ROOT), NO_COLOR="1", COLUMNS="100")
    process = subprocess.Popen(
        [sys.executable, "-m", "ctflow", "-C", str(project), "apply", "--format", "json"],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=environ,
        close_fds=True,
    )
    os.close(slave)
    try:
        os.write(master, b"no\n")
        shown = read_all(master, time.monotonic() + 60)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
        os.close(master)
    assert process.returncode == 1, err.decode()
    assert b"Only 'yes' will be accepted" in err
    assert b"Only 'yes'" not in shown, "the question is not part of stdout"
    assert b"Apply complete" not in err
