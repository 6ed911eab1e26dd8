"""``ctflow now`` against a sandbox served on loopback: the breakdowns in CleverTap's words, the
new users' breakdowns under them, and ``new`` nested in the JSON as the API nests it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.contract.support import active_people
from tests.reads.support import local_sandbox, on, run, served_account


@pytest.mark.loopback
def test_now_shows_each_breakdown_and_the_new_users_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        for records in active_people(int(account.sandbox.clock.timestamp())):
            assert on(account.sandbox, lambda client, r=records: client.upload(r)).ok
        code, out, err = account.run("now", "--by", "device", "--by", "os", "--by", "new")
        assert (code, err) == (0, "")
        assert out.splitlines() == [
            "3 users active in the last 5 minutes (environment 'local')",
            "  device: mobile 2, desktop 1, tablet 0",
            "  os: android 1, ios 1, others 1, linux 0, mac 0, windows 0",
            "  of them new:",
            "    browser: chrome 1, mobileapp 1, firefox 0, ie 0, others 0",
            "    device: desktop 1, mobile 1, tablet 0",
            "    os: ios 1, others 1, android 0, linux 0, mac 0, windows 0",
            "    session_source: unavailable 2, direct 0, email 0, others 0, search 0, social 0",
        ]
        code, out, _ = account.run("now", "--by", "device", "--by", "new", "--format", "json")
    assert code == 0
    breakdowns = json.loads(out)["breakdowns"]
    assert breakdowns["device"] == {"desktop": 1, "mobile": 2, "tablet": 0}
    assert set(breakdowns) == {"device", "new"}
    assert breakdowns["new"]["device"] == {"desktop": 1, "mobile": 1, "tablet": 0}


def test_the_guides_example_is_what_the_command_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "reads.md").read_text("utf-8")
    block = guide.split("```console\n$ ctflow now ", 1)[1].split("```", 1)[0]
    argv, *expected = block.splitlines()
    sandbox = local_sandbox(tmp_path)
    try:
        for records in active_people(int(time.time())):
            assert on(sandbox, lambda client, r=records: client.upload(r)).ok
    finally:
        sandbox.close()
    code, out, err = run(capsys, tmp_path, "now", *argv.split())
    assert (code, err) == (0, "")
    assert out.splitlines() == expected
