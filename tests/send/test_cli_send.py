"""``ctflow send`` and ``ctflow render`` through the real entry point (``cli.run``, the file
sandbox), and docs/sending.md against the commands it documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.connect import open_sandbox
from tests.send.support import write_project

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "sending.md"
FLAG = re.compile(r"--[a-z][a-z-]*")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.run(list(argv), {})
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_send_then_send_again_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path)
    argv = ("-C", str(root), "send", "order-shipped", "--to", "C1", "--fixture", "two-items")
    code, out, err = run(capsys, *argv)
    assert (code, out) == (0, "C1: sent\norder-shipped: 1 sent.\n"), err
    assert "sending through the built-in sandbox" in err
    code, out, _ = run(capsys, *argv, "--format", "json")
    assert code == 0
    assert json.loads(out)["sends"][0]["state"] == "already_sent"
    sandbox = open_sandbox(root / ".ctflow" / "sandbox.db")
    try:
        assert [s["endpoint"] for s in sandbox.sends()] == ["/1/send/email.json"]
    finally:
        sandbox.close()


def test_send_without_data_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path)
    code, _, err = run(capsys, "-C", str(root), "send", "order-shipped", "--to", "C1")
    assert code == 64
    assert "give the data once" in err


def test_render_needs_no_credentials_for_a_real_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path)
    code, out, err = run(capsys, "-C", str(root), "render", "payment-failed", "--env", "production")
    assert code == 0, err
    assert "campaign_id: 1700104562" in out.splitlines()


def guide_flags(command: str) -> set[str]:
    found: set[str] = set()
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        for part in line.split(f"ctflow {command} ")[1:]:
            found.update(FLAG.findall(part.split("`")[0]))
        if line.startswith("Other options:") and command == "send":
            found.update(FLAG.findall(line))
    return found


@pytest.mark.parametrize("command", ["send", "render"])
def test_the_guide_shows_real_flags_and_documents_every_option(command: str) -> None:
    real = {
        opt
        for param in cli.cli.commands[command].params
        for opt in param.opts
        if opt.startswith("--")
    } - {"--help"}
    shown = guide_flags(command)
    assert shown - real == set(), f"flags in docs/sending.md that {command} lacks"
    assert real - shown == set(), f"options of {command} docs/sending.md does not show"


def test_a_dry_run_needs_no_credentials(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_project(tmp_path)
    argv = ("-C", str(root), "send", "payment-failed", "--to", "C1", "--fixture", "first")
    code, out, err = run(capsys, *argv, "--env", "production", "--dry-run")
    assert code == 0, err
    assert out.startswith("POST /1/send/externaltrigger.json\n")
    assert '"campaign_id": 1700104562' in out
    code, _, err = run(capsys, *argv, "--env", "production")
    assert code == 4
    assert "CLEVERTAP_ACCOUNT_ID" in err


def test_batch_and_data_files_are_read_relative_to_dash_c(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path / "repo")
    line = {"to": "C1", "data": {"order_id": "SO-1", "items": [{"name": "A", "qty": 1}]}}
    (root / "b.jsonl").write_text(json.dumps(line) + "\n")
    (root / "d.json").write_text(json.dumps({**line["data"], "order_id": "SO-2"}))
    code, out, err = run(capsys, "-C", str(root), "send", "order-shipped", "--batch", "b.jsonl")
    assert (code, out) == (0, "order-shipped: 1 sent.\n"), err
    argv = ("-C", str(root), "send", "order-shipped", "--to", "C1", "--data", "@d.json")
    code, out, err = run(capsys, *argv)
    assert (code, out) == (0, "C1: sent\norder-shipped: 1 sent.\n"), err


def test_the_journal_keeps_the_command_without_the_data() -> None:
    """The run's command line is journaled; a send's data (codes, addresses) is not."""
    from ctflow.commands.send import _without_data

    command = """ctflow send otp --to C1 --data '{"code": "048213"}' --env production"""
    assert _without_data(command) == "ctflow send otp --to C1 --data '…' --env production"
    assert (
        _without_data("ctflow send otp --data={} --to C1") == "ctflow send otp '--data=…' --to C1"
    )
