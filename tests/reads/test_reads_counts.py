"""`ctflow count`: counts that CleverTap answers `partial` first, `--where` files, the waiting
line on a terminal, and the errors a user can make."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctflow.commands.count import count
from ctflow.commands.reading import Reader
from ctflow.config import SANDBOX, Environment, Target
from tests.reads.support import (
    BUYERS,
    CUSTOMERS,
    PLATINUM,
    fill,
    local_sandbox,
    run,
    served_account,
)

WINDOW = ("--from", "2026-11-13", "--to", "2026-11-20")


@pytest.mark.slow
@pytest.mark.loopback
def test_a_count_polled_through_several_partial_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys, count_polls=3) as account:
        fill(account.sandbox)
        code, out, err = account.run("count", "events", "--event", "Charged", *WINDOW)
        polls = account.recorder.count("GET /1/counts/events.json?req_id=")
    assert (code, err) == (0, "")
    assert out == f"{BUYERS} events 'Charged' from 2026-11-13 to 2026-11-20 (environment 'local')\n"
    assert polls == 3  # two more `partial` answers after the first, then the count


@pytest.mark.loopback
def test_count_json_shape_and_a_where_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "platinum.yaml").write_text(
        "# Platinum customers\n"
        "common_profile_properties:\n"
        "  profile_fields:\n"
        "    - {name: Customer Type, operator: equals, value: Platinum}\n"
    )
    with served_account(tmp_path, capsys, count_polls=0) as account:
        fill(account.sandbox)
        code, out, err = account.run(
            "count", "profiles", "--where", "platinum.yaml", "--format", "json"
        )
        assert (code, err) == (0, "")
        assert json.loads(out) == {
            "environment": "local",
            "kind": "profiles",
            "count": PLATINUM,
            "query": {
                "common_profile_properties": {
                    "profile_fields": [
                        {"name": "Customer Type", "operator": "equals", "value": "Platinum"}
                    ]
                }
            },
        }
        code, out, _ = account.run(
            "count", "profiles", "--where", "platinum.yaml", "--event", "Charged", *WINDOW
        )
        assert code == 0
        buyers_among_platinum = len([n for n in range(PLATINUM) if n % 2 == 0])
        assert out == (
            f"{buyers_among_platinum} profiles who did 'Charged' from 2026-11-13 to 2026-11-20 "
            f"matching {tmp_path / 'platinum.yaml'} (environment 'local')\n"
        )
        code, out, _ = account.run("count", "profiles", "--format", "json")
        assert (code, json.loads(out)["count"]) == (0, CUSTOMERS)


def test_flags_override_the_where_files_keys_and_json_files_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "where.json").write_text(
        json.dumps({"event_name": "Product Viewed", "from": 20200101, "to": "2020-01-31"})
    )
    code, out, err = run(
        capsys,
        tmp_path,
        "count",
        "events",
        "--where",
        "where.json",
        "--to",
        "2020-02-15",
        "--format",
        "json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["query"] == {
        "event_name": "Product Viewed",
        "from": 20200101,
        "to": 20200215,
    }


BAD_WHERE = [
    (
        "where.yaml",
        "event_name: Charged\nfrom: 20261101\n  to: 20261120\n",
        ["where.yaml:3:5: mapping values are not allowed here"],
    ),
    (
        "where.yaml",
        "evnt_name: Charged\nfrom: 2026-13-01\nevent_properties: {name: Amount}\n",
        [
            "where.yaml:1:1: unknown key 'evnt_name'; a where query has event_name, from, to, "
            "event_properties, session_properties, common_profile_properties, advanced_query",
            "where.yaml:2:7: from: '2026-13-01' is not a date (YYYYMMDD or YYYY-MM-DD)",
            "where.yaml:3:19: event_properties: expected a list, found a mapping",
        ],
    ),
    (
        "where.json",
        '{\n  "event_name": "Charged",\n  "from": 20261101\n  "to": 20261120\n}\n',
        ["where.json:4:7: expected ',' or '}', but got ':'"],
    ),
    (
        "where.yaml",
        "- event_name: Charged\n",
        ["where.yaml:1:1: a where query is a mapping (§4.2), found a list"],
    ),
]


@pytest.mark.parametrize(("name", "text", "problems"), BAD_WHERE)
def test_a_bad_where_file_exits_3_saying_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, problems: list[str]
) -> None:
    (tmp_path / name).write_text(text)
    code, out, err = run(capsys, tmp_path, "count", "events", "--where", name, *WINDOW)
    assert (code, out) == (3, "")
    where = tmp_path / name
    assert err.splitlines()[:-1] == [f"{tmp_path}/{p}" for p in problems]
    assert err.splitlines()[-1].startswith(f"ctflow: {where} is not a")


def test_a_missing_where_file_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, tmp_path, "count", "events", "--where", "nope.yaml", *WINDOW)
    assert code == 3
    assert f"{tmp_path}/nope.yaml:1:1: No such file or directory" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("events", *WINDOW), "events need --event NAME"),
        (("events", "--event", "Charged", "--from", "2026-11-01"), "give --to (YYYY-MM-DD)"),
        (("profiles", "--event", "Charged"), "give --from and --to"),
        (
            ("events", "--event", "Charged", "--from", "2026-11-20", "--to", "2026-11-01"),
            "--from 20261120 is after --to 20261101",
        ),
        (("visits", "--event", "Charged", *WINDOW), "'visits' is not one of 'events', 'profiles'"),
    ],
)
def test_an_incomplete_query_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, tmp_path, "count", *argv)
    assert (code, out) == (64, "")
    assert message in err


def test_clevertaps_refusal_of_a_query_exits_3_with_its_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        tmp_path,
        "count",
        "events",
        "--event",
        "Charged",
        "--from",
        "2026-11-01",
        "--to",
        "2099-01-01",
    )
    assert (code, out) == (3, "")
    assert "The to date cannot be in the future" in err


def _reader(directory: Path, *, live: bool) -> tuple[Reader, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    target = Target(Environment(SANDBOX), sandbox_db=directory / ".ctflow" / "sandbox.db")
    reader = Reader(target, "shop", "UTC", datetime.now(UTC), out, err, live=live)
    return reader, out, err


@pytest.mark.parametrize("live", [True, False])
def test_the_waiting_line_shows_only_on_a_terminal_and_is_erased(
    tmp_path: Path, live: bool
) -> None:
    sandbox = local_sandbox(tmp_path)  # the built-in sandbox answers `partial` once
    try:
        fill(sandbox)
        today = sandbox.clock.now().date().isoformat()
    finally:
        sandbox.close()
    reader, out, err = _reader(tmp_path, live=live)
    code = count(
        reader,
        "events",
        event="Charged",
        start=datetime(2020, 1, 1).date(),
        end=datetime.fromisoformat(today).date(),
        where_file=None,
        fmt="text",
    )
    assert code == 0
    assert out.getvalue().startswith(f"{BUYERS} events 'Charged'")
    if live:
        assert "counting events (sandbox)… " in err.getvalue()
        assert "\r\x1b[2K" in err.getvalue()
        assert err.getvalue().endswith("\x1b[1A\x1b[2K")  # drawn by rich, erased when done
    else:
        assert err.getvalue() == ""  # a plain line only every few seconds
