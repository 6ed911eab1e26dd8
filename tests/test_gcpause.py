"""In the command-line process, what a pause built is frozen, not walked by the next
collection; a caller that lives on (tests, a library user) gets no frozen objects."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from ctflow import gcpause


def test_a_lasting_caller_freezes_nothing() -> None:
    before = gc.get_freeze_count()
    with gcpause.paused():
        kept = [{"n": n} for n in range(1000)]
    assert gc.get_freeze_count() == before
    assert gc.isenabled()
    assert len(kept) == 1000


def test_the_command_line_freezes_what_the_pause_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpause, "keep_for_the_process", True)
    before = gc.get_freeze_count()
    try:
        with gcpause.paused():
            kept = [{"n": n} for n in range(1000)]
        assert gc.get_freeze_count() >= before + 1000
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    assert len(kept) == 1000


def test_main_sets_it_and_run_does_not() -> None:
    code = (
        "import sys\n"
        "from ctflow import cli, gcpause\n"
        "assert cli.run(['--version'], {}) == 0 and not gcpause.keep_for_the_process\n"
        "sys.argv = ['ctflow', '--version']\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    print('kept' if gcpause.keep_for_the_process else 'not kept')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "kept"


def test_validate_leaves_without_freeing_and_its_output_is_whole(tmp_path: Path) -> None:
    """`ctflow validate` ends without freeing what it read (the process ends anyway); every
    problem line still arrives through a pipe, well past a pipe's buffer, with the exit code."""
    (tmp_path / "ctflow.yaml").write_text("project: t\ntimezone: UTC\n")
    documents = (
        f"kind: Campaign\nkey: c{n}\nname: C {n}\nchannel: pidgeon\naudience: everyone\n"
        f'content: {{title: hi, body: there}}\nschedule: {{at: "2027-03-01 10:00"}}\n'
        for n in range(2000)
    )
    (tmp_path / "campaigns.yaml").write_text("---\n".join(documents))
    marker = "import atexit, sys; atexit.register(lambda: print('freed', file=sys.stderr))\n"
    code = marker + "from ctflow.cli import main\nmain()\n"
    done = subprocess.run(
        [sys.executable, "-c", code, "-C", str(tmp_path), "validate"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3
    lines = done.stdout.splitlines()
    assert len(lines) == 2000
    assert all("channel: 'pidgeon' is not one of" in line for line in lines)
    assert done.stderr.splitlines() == ["ctflow: 2000 problems in 1 file"]  # no 'freed'


def test_other_commands_exit_as_usual() -> None:
    code = (
        "import atexit, sys; atexit.register(lambda: print('exited', file=sys.stderr))\n"
        "from ctflow.cli import main\nmain()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.startswith("ctflow")
    assert done.stderr.splitlines() == ["exited"]


def test_validate_started_with_stdout_closed_ends_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "ctflow.yaml").write_text("project: t\ntimezone: UTC\n")
    (tmp_path / "c.yaml").write_text("kind: Campaign\nkey: c\n")
    command = f"'{sys.executable}' -m ctflow -C '{tmp_path}' validate >&-"
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
