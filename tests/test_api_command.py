"""``ctflow api METHOD PATH``: one call to any endpoint, against the in-process sandbox and a
served one over loopback HTTP, driven through the real CLI entry function."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ctflow import cli
from ctflow.clevertap import CleverTap, Credentials
from ctflow.clevertap.generic import changes_the_account, operation_of
from ctflow.commands import api as command
from ctflow.commands.reading import Reader
from ctflow.config import Environment, Target
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, LoopbackServer

PROJECT = """\
kind: Project
project: shop
environments:
  local:
    base_url: {url}
"""
ENVIRON = {"CLEVERTAP_ACCOUNT_ID": CREDS.account_id, "CLEVERTAP_PASSCODE": CREDS.passcode}
PROFILE = {
    "type": "profile",
    "identity": "api-1",
    "ts": 1_763_600_000,
    "profileData": {"Tier": "Gold"},
}


def run(capsys: pytest.CaptureFixture[str], *argv: str, **environ: str) -> tuple[int, str, str]:
    code = cli.run(list(argv), environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    """A project whose environment ``local`` is a seeded sandbox served on loopback."""
    sandbox = Sandbox(db=":memory:")
    sandbox.seed(profiles=40, seed=5)
    with LoopbackServer(sandbox) as server:
        (tmp_path / "ctflow.yaml").write_text(PROJECT.format(url=server.base_url))
        yield tmp_path
    sandbox.close()


def test_now_in_process_prints_what_the_now_command_counts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "-C", str(tmp_path), "sandbox", "seed", "--profiles", "60")[0] == 0
    code, out, err = run(capsys, "-C", str(tmp_path), "api", "POST", "/1/now.json")
    assert (code, err) == (0, "")
    answer = json.loads(out)
    assert answer["status"] == "success"
    assert out.startswith('{\n  "status"'), "printed indented"
    _, now, _ = run(capsys, "-C", str(tmp_path), "now", "--format", "json")
    assert answer["count"] == json.loads(now)["count"]


@pytest.mark.loopback
def test_a_post_with_data_from_a_file_changes_the_served_account(
    capsys: pytest.CaptureFixture[str], served: Path
) -> None:
    (served / "upload.json").write_text(json.dumps({"d": [PROFILE]}))
    local = ("-C", str(served), "api", "--env", "local")
    code, out, err = run(
        capsys, *local, "POST", "/1/upload", "--data", "@upload.json", "--yes", **ENVIRON
    )
    assert code == 0, err
    assert json.loads(out) == {"status": "success", "processed": 1, "unprocessed": []}

    code, out, err = run(
        capsys,
        *local,
        "GET",
        "/1/profile.json",
        "--query",
        "identity=api-1",
        "--format",
        "raw",
        **ENVIRON,
    )
    assert code == 0, err
    assert "\n" not in out.strip(), "raw: as received, on one line"
    assert json.loads(out)["record"]["profileData"]["Tier"] == "Gold"
    assert CREDS.passcode not in out + err


@pytest.mark.loopback
def test_an_unknown_path_prints_the_404_answer_and_exits_1(
    capsys: pytest.CaptureFixture[str], served: Path
) -> None:
    code, out, err = run(
        capsys, "-C", str(served), "api", "GET", "/1/catalogs.json", "--env", "local", **ENVIRON
    )
    assert code == 1
    assert json.loads(out) == {"status": "fail", "error": "Not Found", "code": 404}
    assert err == "ctflow: GET /1/catalogs.json: not found: Not Found (HTTP 404)\n"


def test_the_wrong_method_says_which_one_to_try(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``/1/now.json`` takes POST (the docs' reference); a GET is told how to ask instead."""
    code, out, err = run(capsys, "-C", str(tmp_path), "api", "GET", "/1/now.json")
    assert code == 1
    assert json.loads(out)["code"] == 405
    assert err.endswith("(HTTP 405); /1/now.json may take POST: ctflow api POST /1/now.json\n")


def test_an_unknown_path_in_process_answers_the_same_envelope(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "-C", str(tmp_path), "api", "DELETE", "/api/nothing")
    assert code == 1
    assert json.loads(out) == {"status": "fail", "error": "Not Found", "code": 404}


@pytest.mark.loopback
def test_a_write_to_a_real_environment_needs_yes_off_a_terminal(
    capsys: pytest.CaptureFixture[str], served: Path
) -> None:
    (served / "upload.json").write_text(json.dumps({"d": [PROFILE]}))
    local = ("-C", str(served), "api", "--env", "local")
    code, out, err = run(capsys, *local, "POST", "/1/upload", "--data", "@upload.json", **ENVIRON)
    assert (code, out) == (64, "")
    assert "refusing to send POST /1/upload to environment 'local' without confirmation" in err
    assert "add --yes" in err
    code, out, _ = run(
        capsys, *local, "GET", "/1/profile.json", "--query", "identity=api-1", **ENVIRON
    )
    assert "api-1" not in out, "nothing was uploaded"

    # A known read made with POST asks nothing.
    code, out, err = run(
        capsys, *local, "POST", "/1/now.json", "--data", '{"device": true}', **ENVIRON
    )
    assert code == 0, err
    assert set(json.loads(out)["device"]) >= {"mobile", "desktop"}


@pytest.mark.loopback
def test_credentials_refused_exit_4_and_the_passcode_is_never_shown(
    capsys: pytest.CaptureFixture[str], served: Path
) -> None:
    environ = {**ENVIRON, "CLEVERTAP_PASSCODE": "not-the-passcode"}
    code, out, err = run(
        capsys,
        "-C",
        str(served),
        "--debug",
        "api",
        "POST",
        "/1/now.json",
        "--env",
        "local",
        **environ,
    )
    assert code == 4
    assert json.loads(out)["code"] == 401
    assert "not-the-passcode" not in out + err


def test_bad_input_is_refused_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = ("-C", str(tmp_path), "api")
    code, out, err = run(capsys, *base, "POST", "/1/now.json", "--data", '{"device": tru')
    assert (code, out) == (3, "")
    assert err == "ctflow: --data: not JSON (Expecting value, line 1 column 12)\n"
    (tmp_path / "body.json").write_text('{\n  "a": 1,\n}\n')
    code, _, err = run(capsys, *base, "POST", "/1/now.json", "--data", "@body.json")
    assert code == 3
    assert err.startswith(f"ctflow: {tmp_path / 'body.json'}:3:1: not JSON")
    code, _, err = run(capsys, *base, "GET", "https://elsewhere.example/1/now.json")
    assert code == 3
    assert "give a path on the account's host" in err
    code, _, err = run(capsys, *base, "GET", "/1/now.json", "--query", "no-equals")
    assert code == 64
    assert "'no-equals' is not KEY=VALUE" in err
    path = "/1/profile.json?identity=a"
    code, _, err = run(capsys, *base, "GET", path, "--query", "identity=b")
    assert (code, err) == (
        3,
        f"ctflow: GET {path}: identity is given in the path and with --query; give it once\n",
    )


def test_the_answer_is_scrubbed_of_the_passcode_before_it_is_printed() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        passcode = request.headers["X-CleverTap-Passcode"]
        return httpx.Response(200, json={"status": "success", "echo": passcode})

    async def call() -> bytes:
        creds = Credentials("123456789012", "s3cret-passcode")
        async with CleverTap(creds, transport=httpx.MockTransport(echo)) as client:
            return (await client.request("GET", "/1/whatever.json")).body

    assert asyncio.run(call()) == b'{"status":"success","echo":"***"}'


@pytest.mark.parametrize(
    ("method", "path", "operation", "writes"),
    [
        ("GET", "/1/catalogs.json", "api_read", False),
        ("POST", "/1/createVars", "api_write", True),
        ("POST", "/1/now.json", "now", False),
        ("POST", "/1/targets/list.json", "list_campaigns", False),
        ("POST", "/1/targets/create.json", "create_campaign", True),
        ("POST", "/1/send/sms.json", "send", True),
        ("POST", "/1/upload", "upload_events", True),
        ("POST", "/1/targets/stop.json", "stop_campaign", True),
        ("POST", "/api/createSegment", "create_segment", True),
        ("POST", "/api/updateSegment", "update_segment", True),
        ("POST", "/get_custom_list_segment_url", "custom_list_url", False),
        ("POST", "/upload_custom_list_segment_completed", "custom_list_completed", True),
    ],
)
def test_each_path_takes_its_operations_retry_row(
    method: str, path: str, operation: str, writes: bool
) -> None:
    assert operation_of(method, path) == operation
    assert changes_the_account(method, path) is writes


def test_on_a_terminal_anything_but_yes_sends_nothing(tmp_path: Path) -> None:
    production = Target(Environment("production", region="eu1"), account_id="A", passcode="p")
    out = io.StringIO()
    reader = Reader(production, "shop", "UTC", datetime.now(UTC), out, io.StringIO())
    asked: list[str] = []

    def no(question: str) -> bool:
        asked.append(question)
        return False

    call = command.Call("POST", "/1/createVars", '{"vars": []}')
    code = command.api(reader, call, directory=tmp_path, yes=False, confirm=no)
    assert code == 1
    assert asked == ["Send it? Only 'yes' will be accepted"]
    assert out.getvalue() == (
        "POST /1/createVars may change the account (environment 'production').\n"
        "Cancelled; nothing was sent.\n"
    )
