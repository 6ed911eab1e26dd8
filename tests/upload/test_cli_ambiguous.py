"""Ambiguous upload batches settled one by one from the command line (``--ambiguous`` lists
them; ``--accept-ambiguous BATCH`` / ``--resend-ambiguous BATCH`` by id or line range), and
``--give-up-after`` against an account that cannot be reached. Through ``cli.run`` against a
sandbox served over loopback, which loses the answers the tests choose."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.sandbox import Sandbox
from ctflow.upload.engine import GIVE_UP_AFTER
from tests.upload.support import (
    CREDENTIALS,
    Calls,
    Ran,
    Served,
    batch_states,
    ctflow,
    events,
    once,
    write_jsonl,
    write_project,
)

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def remote(
    tmp_path: Path, served: tuple[Sandbox, Calls, Served], monkeypatch: pytest.MonkeyPatch
) -> Path:
    root = write_project(tmp_path / "shop", base_url=served[2].base_url)
    monkeypatch.chdir(root)  # files are shown relative to the working directory
    return root


def upload(capsys: Capsys, root: Path, *argv: str) -> Ran:
    return ctflow(capsys, root, "upload", *argv, "--env", "local", **CREDENTIALS)


def two_lost(capsys: Capsys, root: Path, sb: Sandbox, calls: Calls) -> tuple[str, Ran]:
    """4000 events, whose first batch never arrived (a 503 before CleverTap stored it) and
    whose second did (stored, then the answer lost): both ambiguous. The file's prefix."""
    write_jsonl(root / "events.jsonl", events(4000))
    sb.faults.fail_next = [503]  # answered before the batch is stored
    sb.faults.drop_next = 1  # the next one stored, then its answer lost
    ran = upload(capsys, root, "events", "events.jsonl", "--concurrency", "1")
    assert ran.code == 6, ran.out + ran.err
    assert len(calls.statuses) == 4
    prefix = next(iter(batch_states(root, "local"))).rsplit(":", 1)[0]
    return prefix, ran


@pytest.mark.loopback
def test_ambiguous_batches_are_listed_then_settled_one_by_one_each_row_once(
    capsys: Capsys, remote: Path, served: tuple[Sandbox, Calls, Served]
) -> None:
    sb, calls, _ = served
    prefix, first = two_lost(capsys, remote, sb, calls)
    assert "`ctflow upload events --env local events.jsonl --ambiguous` lists them" in first.out
    assert once(sb, range(1001, 4001)), "batch 0 never arrived, batch 1 did"

    listed = upload(capsys, remote, "events", "events.jsonl", "--ambiguous")
    assert listed.code == 0, listed.err
    rows = listed.out.splitlines()
    assert rows[0] == "events.jsonl: 2 ambiguous batch(es) in environment 'local'"
    assert rows[1].startswith(f"  {prefix}:0  lines 1-1000     1,000 records  since 20")
    assert rows[2].startswith(f"  {prefix}:1  lines 1001-2000  1,000 records  since 20")
    assert "HTTP 503" in rows[1]
    assert "--accept-ambiguous BATCH..." in rows[3]
    assert len(calls.statuses) == 4, "listing sends nothing"
    both = upload(capsys, remote, "events", "events.jsonl", "--ambiguous", "--accept-ambiguous")
    assert both.code == 64
    assert "--ambiguous lists the batches and sends nothing" in both.err

    doc = upload(capsys, remote, "events", "events.jsonl", "--ambiguous", "--format", "json")
    batches = doc.json()["files"][0]["ambiguous_batches"]
    assert [(b["batch"], b["first_line"], b["last_line"], b["records"]) for b in batches] == [
        (f"{prefix}:0", 1, 1000, 1000),
        (f"{prefix}:1", 1001, 2000, 1000),
    ]

    # batch 1 arrived: accept it by id; batch 0 did not: send it again, named by its lines
    settled = upload(
        capsys,
        remote,
        "events",
        "events.jsonl",
        "--accept-ambiguous",
        f"{prefix}:1",
        "--resend-ambiguous",
        "1-1000",
    )
    assert settled.code == 0, settled.out + settled.err
    assert len(calls.statuses) == 5, "only the chosen batch was sent again"
    assert once(sb, range(1, 4001)), "every row exactly once"
    assert set(batch_states(remote, "local").values()) == {"accepted", "settled"}

    later = upload(capsys, remote, "events", "events.jsonl")
    assert later.code == 0
    assert "already uploaded: 4,000 rows" in later.out
    assert upload(capsys, remote, "events", "events.jsonl", "--ambiguous").out == (
        "events.jsonl: no ambiguous batches in environment 'local'\n"
    )


@pytest.mark.loopback
def test_a_chosen_batch_overrides_the_all_at_once_form_of_the_other_flag(
    capsys: Capsys, remote: Path, served: tuple[Sandbox, Calls, Served]
) -> None:
    """`--resend-ambiguous 1-1000 --accept-ambiguous`: send that one again, accept the rest."""
    sb, calls, _ = served
    two_lost(capsys, remote, sb, calls)
    ran = upload(
        capsys, remote, "events", "events.jsonl", "--resend-ambiguous=1-1000", "--accept-ambiguous"
    )
    assert ran.code == 0, ran.out + ran.err
    assert len(calls.statuses) == 5
    assert once(sb, range(1, 4001))


@pytest.mark.loopback
@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (
            ["--accept-ambiguous", "events:0000000000000000:1"],
            "--accept-ambiguous events:0000000000000000:1: not an ambiguous batch of "
            "events.jsonl (its ambiguous batches: {p}:0, {p}:1; `--ambiguous` lists them)",
        ),
        (
            ["--resend-ambiguous", "500-1500"],
            "--resend-ambiguous 500-1500: covers only part of batch {p}:0 (lines 1-1000); a "
            "batch is accepted or sent again whole",
        ),
        (
            ["--resend-ambiguous", "2001-4000"],
            "--resend-ambiguous 2001-4000: no ambiguous batch of events.jsonl within those lines",
        ),
        (
            ["--resend-ambiguous", "{p}:0,{p}:1", "--accept-ambiguous", "1-2000"],
            "{p}:0, {p}:1: chosen both to accept and to send again; choose one",
        ),
        (
            ["--resend-ambiguous", "--accept-ambiguous"],
            "--resend-ambiguous and --accept-ambiguous contradict each other",
        ),
    ],
)
def test_a_choice_that_names_no_ambiguous_batch_is_a_usage_error_and_sends_nothing(
    capsys: Capsys,
    remote: Path,
    served: tuple[Sandbox, Calls, Served],
    choice: list[str],
    message: str,
) -> None:
    sb, calls, _ = served
    prefix, _ = two_lost(capsys, remote, sb, calls)
    argv = [part.replace("{p}", prefix) for part in choice]
    ran = upload(capsys, remote, "events", "events.jsonl", *argv)
    assert ran.code == 64, ran.out + ran.err
    assert message.replace("{p}", prefix) in ran.err
    assert len(calls.statuses) == 4, "nothing was sent"


def test_a_batch_choice_before_the_file_says_where_it_goes(capsys: Capsys, tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop")
    write_jsonl(root / "events.jsonl", events(3))
    ran = ctflow(capsys, root, "upload", "events", "--accept-ambiguous", "events.jsonl")
    assert ran.code == 64
    assert (
        "'events.jsonl' was read as a batch; put --resend-ambiguous or --accept-ambiguous "
        "after the files" in ran.err
    )


@pytest.mark.loopback
def test_give_up_after_ends_an_upload_to_an_unreachable_account_in_that_time(
    capsys: Capsys, tmp_path: Path
) -> None:
    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    root = write_project(tmp_path / "shop", base_url=f"http://127.0.0.1:{port}")
    write_jsonl(root / "events.jsonl", events(3000))
    started = time.monotonic()
    ran = upload(capsys, root, "events", "events.jsonl", "--give-up-after", "2")
    took = time.monotonic() - started
    assert ran.code == 5, ran.out + ran.err
    assert 2.0 <= took < 4.0, took
    assert "stopped: CleverTap stayed unavailable;" in ran.out


def test_the_default_patience_is_shown_in_the_help(capsys: Capsys) -> None:
    assert cli.run(["upload", "--help"], {}) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert f"before the upload stops (exit 5). [default: {GIVE_UP_AFTER:g}; x>0]" in shown


GUIDE = Path(__file__).resolve().parents[2] / "docs" / "uploads.md"
WHEN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def shown_as_in_the_guide(text: str, prefix: str) -> list[str]:
    """Output with what differs between runs (the content id, the time, an error's inner
    detail, the speed) as the guide writes it."""
    text = text.replace(prefix, "events:e83270effa14c135")
    text = WHEN.sub("2026-12-07T18:06:48+00:00", text)
    text = re.sub(r"was read \(.*\)$", "was read (…)", text, flags=re.M)
    return re.sub(r"in [0-9.]+s \([0-9,]+ records/s\)", "in …", text).splitlines()


@pytest.mark.loopback
def test_the_guide_lists_and_settles_batches_as_the_command_does(
    capsys: Capsys, remote: Path, served: tuple[Sandbox, Calls, Served]
) -> None:
    sb = served[0]
    section = GUIDE.read_text(encoding="utf-8").split("### One batch at a time", 1)[1]
    listing, settling = re.findall(r"```console\n\$ ctflow (.*?)```", section, flags=re.S)[:2]
    (remote / "exports").mkdir()
    write_jsonl(remote / "exports" / "points-2023.jsonl", events(4000))
    sb.faults.fail_next, sb.faults.drop_next = [503], 1
    first = upload(capsys, remote, "events", "exports/points-2023.jsonl", "--concurrency", "1")
    assert first.code == 6
    prefix = next(iter(batch_states(remote, "local"))).rsplit(":", 1)[0]

    for block in (listing, settling):
        command, *printed = block.splitlines()
        argv = command.replace("events:e83270effa14c135", prefix).split()
        ran = ctflow(capsys, remote, *argv, **CREDENTIALS)
        assert ran.code == 0, ran.out + ran.err
        expected = "\n".join(printed).replace(" in 0.1s (14,016 records/s)", " in …")
        assert shown_as_in_the_guide(ran.out, prefix) == expected.splitlines()
    assert once(sb, range(1, 4001))
