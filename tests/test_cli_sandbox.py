"""The sandbox commands and a read command driven end to end through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, LoopbackServer

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "journeys"


def run(capsys: pytest.CaptureFixture[str], *argv: str, **environ: str) -> tuple[int, str, str]:
    code = cli.run(list(argv), environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_seed_fills_the_sandbox_and_answers_through_the_client(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(
        capsys, "-C", str(tmp_path), "sandbox", "seed", "--profiles", "200", "--format", "json"
    )
    assert code == 0
    report = json.loads(out)
    assert report["seeded"]["profiles"] == 200
    assert (tmp_path / ".ctflow" / "sandbox.db").is_file()
    buyers, views, reach = (a["value"] for a in report["answers"])
    assert 0 < buyers <= 200
    assert views > 0
    assert set(reach) == {"android", "ios"}
    assert sum(reach.values()) > 0

    code, out, _ = run(capsys, "-C", str(tmp_path), "sandbox", "seed", "--profiles", "200")
    assert code == 0
    assert "200 profiles" in out
    assert "POST /1/counts/profiles.json" in out


def test_reset_empties_the_sandbox(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "-C", str(tmp_path), "sandbox", "seed", "--profiles", "20")
    assert run(capsys, "-C", str(tmp_path), "sandbox", "reset")[0] == 0
    sandbox = Sandbox(db=tmp_path / ".ctflow" / "sandbox.db")
    try:
        assert sandbox.counts()["profiles"] == 0
    finally:
        sandbox.close()


def test_seed_replaces_uploaded_data_so_plan_uploads_the_datasets_again(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=shutil.ignore_patterns(".ctflow"))
    assert run(capsys, "-C", str(shop), "apply", "--auto-approve")[0] == 0
    assert run(capsys, "-C", str(shop), "plan", "--detailed-exitcode")[0] == 0

    code, out, err = run(capsys, "-C", str(shop), "sandbox", "seed", "--profiles", "20")
    assert code == 0
    assert "in place of the profiles and events it held (campaigns and sends stay)" in out
    assert "Forgot 2 uploaded batch(es) recorded for the sandbox" in err
    assert "Forgot the members of 1 audience(s) recorded for the sandbox" in err
    code, out, _ = run(capsys, "-C", str(shop), "plan", "--detailed-exitcode")
    assert code == 2
    assert "Plan: 0 to create, 0 to replace, 0 to stop, 2 to upload, 1 audience to update." in out

    assert run(capsys, "-C", str(shop), "apply", "--auto-approve")[0] == 0
    sandbox = Sandbox(db=shop / ".ctflow" / "sandbox.db")
    try:
        assert sandbox.counts()["profiles"] == 20 + 10, "the seeded and the VIP customers"
        [segment] = sandbox.segments()
        assert segment["members"] == 6, "the seed kept the segment; apply filled it again"
    finally:
        sandbox.close()


def test_now_on_the_sandbox(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "-C", str(tmp_path), "now", "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["environment"] == "sandbox"


PROJECT = """\
kind: Project
project: shop
environments:
  production:
    region: in1
  local:
    base_url: {url}
"""


def test_ci_without_credentials_exits_4_naming_the_variables(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ctflow.yaml").write_text(
        PROJECT.format(url="http://127.0.0.1:9") + "default_environment: production\n"
    )
    code, out, err = run(capsys, "-C", str(tmp_path), "now", CI="true")
    assert code == 4
    assert out == ""
    assert "CLEVERTAP_ACCOUNT_ID and CLEVERTAP_PASSCODE" in err


def test_asking_for_an_environment_without_credentials_exits_4_anywhere(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ctflow.yaml").write_text(PROJECT.format(url="http://127.0.0.1:9"))
    code, out, err = run(capsys, "-C", str(tmp_path), "now", "--env", "production")
    assert code == 4
    assert out == ""
    assert "asked for by name" in err


def test_laptop_without_credentials_says_it_uses_the_sandbox(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ctflow.yaml").write_text(
        PROJECT.format(url="http://127.0.0.1:9") + "default_environment: production\n"
    )
    code, out, err = run(capsys, "-C", str(tmp_path), "now")
    assert code == 0
    assert "using the built-in sandbox instead" in err
    assert "(sandbox)" in out


def test_invalid_project_file_lists_every_problem_with_its_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ctflow.yaml").write_text(
        "kind: Project\nproject: shop\nenvironments:\n  prod:\n    region: mars\n    base_url: 5\n"
    )
    code, out, err = run(capsys, "-C", str(tmp_path), "now")
    assert code == 3
    assert out == ""
    where = tmp_path / "ctflow.yaml"
    assert err.splitlines() == [
        f"{where}:5:13: environments.prod.region: 'mars' is not one of "
        "in1, sg1, us1, aps3, mec1, eu1",
        f"{where}:6:15: environments.prod.base_url: expected text, found the number 5",
        f"ctflow: {where} is not a valid ctflow project file",
    ]


def test_unusable_sandbox_database_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "not-sqlite.db").write_text("hello, this is not a database " * 100)
    code, _, err = run(capsys, "sandbox", "reset", "--db", str(tmp_path / "not-sqlite.db"))
    assert code == 1
    assert err.startswith(f"ctflow: cannot open the sandbox database {tmp_path / 'not-sqlite.db'}")
    (tmp_path / "blocked").write_text("a file where a directory should be")
    code, _, err = run(capsys, "sandbox", "reset", "--db", str(tmp_path / "blocked" / "s.db"))
    assert code == 1
    assert "cannot open the sandbox database" in err


@pytest.mark.loopback
def test_now_against_a_served_sandbox_over_http(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sandbox = Sandbox(db=":memory:")
    sandbox.seed(profiles=50, seed=3)
    with LoopbackServer(sandbox) as server:
        (tmp_path / "ctflow.yaml").write_text(PROJECT.format(url=server.base_url))
        environ = {"CLEVERTAP_ACCOUNT_ID": CREDS.account_id, "CLEVERTAP_PASSCODE": "wrong-one"}
        code, out, err = run(capsys, "-C", str(tmp_path), "now", "--env", "local", **environ)
        assert code == 4
        assert "Passcode Invalid" in err
        assert "wrong-one" not in err
        environ["CLEVERTAP_PASSCODE"] = CREDS.passcode
        code, out, err = run(capsys, "-C", str(tmp_path), "now", "--env", "local", **environ)
    sandbox.close()
    assert code == 0, err
    assert "environment 'local'" in out


@pytest.mark.loopback
def test_serve_announces_a_working_url_and_reports_a_taken_port(tmp_path: Path) -> None:
    import re
    import socket
    import subprocess
    import sys

    import httpx

    command = [sys.executable, "-m", "ctflow", "sandbox", "serve", "--db", str(tmp_path / "s.db")]
    with subprocess.Popen(
        [*command, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as server:
        try:
            assert server.stdout is not None
            banner = server.stdout.readline()
            match = re.match(r"ctflow sandbox listening on (http://127\.0\.0\.1:(\d+)) ", banner)
            assert match, banner
            url, port = match.group(1), int(match.group(2))
            headers = {
                "X-CleverTap-Account-Id": CREDS.account_id,
                "X-CleverTap-Passcode": CREDS.passcode,
            }
            answer = httpx.post(f"{url}/1/now.json", headers=headers, json={}, timeout=10)
            assert answer.status_code == 200
            assert answer.json()["status"] == "success"

            taken = subprocess.run(
                [*command, "--port", str(port)],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert taken.returncode == 1
            assert taken.stdout == ""
            assert taken.stderr.startswith(f"ctflow: cannot listen on 127.0.0.1:{port}:")
        finally:
            server.terminate()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the port was released on exit


@pytest.mark.loopback
def test_serve_prints_the_token_it_takes_for_several_campaigns_a_call(tmp_path: Path) -> None:
    import subprocess
    import sys

    import httpx

    command = [sys.executable, "-m", "ctflow", "sandbox", "serve", "--db", str(tmp_path / "s.db")]
    with subprocess.Popen(
        [*command, "--port", "0", "--token", "tok-demo-1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            banner = [server.stdout.readline() for _ in range(4)]
            url = banner[0].split(" listening on ", 1)[1].split()[0]
            assert banner[3].startswith("  token:      tok-demo-1  (X-CleverTap-Token")
            headers = {
                "X-CleverTap-Account-Id": CREDS.account_id,
                "X-CleverTap-Passcode": CREDS.passcode,
            }
            body = {"to": {"identity": ["C1"]}, "campaign_id_list": [17, 18]}
            path = f"{url}/2/send/externaltrigger.json"
            assert httpx.post(path, headers=headers, json=body, timeout=10).status_code == 401
            headers["X-CleverTap-Token"] = "tok-demo-1"
            answer = httpx.post(path, headers=headers, json=body, timeout=10)
            assert answer.json() == {
                "status": "success",
                "message": "Added to queue for processing",
            }
        finally:
            server.terminate()
