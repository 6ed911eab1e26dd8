"""In the command-line process, what a pause built is frozen, not walked by the next
collection; a caller that lives on (tests, a library user) gets no frozen objects."""

from __future__ import annotations

import gc
import subprocess
import sys

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
