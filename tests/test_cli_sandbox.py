"""The sandbox commands and a read command driven end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, LoopbackServer


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
    assert 0 < buyers <= 200 and views > 0
    assert set(reach) == {"android", "ios"} and sum(reach.values()) > 0

    code, out, _ = run(capsys, "-C", str(tmp_path), "sandbox", "seed", "--profiles", "200")
    assert code == 0
    assert "200 profiles" in out and "POST /1/counts/profiles.json" in out


def test_reset_empties_the_sandbox(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "-C", str(tmp_path), "sandbox", "seed", "--profiles", "20")
    assert run(capsys, "-C", str(tmp_path), "sandbox", "reset")[0] == 0
    sandbox = Sandbox(db=tmp_path / ".ctflow" / "sandbox.db")
    try:
        assert sandbox.counts()["profiles"] == 0
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
    (tmp_path / "ctflow.yaml").write_text(PROJECT.format(url="http://127.0.0.1:9"))
    code, out, err = run(capsys, "-C", str(tmp_path), "now", "--env", "production", CI="true")
    assert code == 4 and out == ""
    assert "CLEVERTAP_ACCOUNT_ID and CLEVERTAP_PASSCODE" in err


def test_laptop_without_credentials_says_it_uses_the_sandbox(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ctflow.yaml").write_text(PROJECT.format(url="http://127.0.0.1:9"))
    code, out, err = run(capsys, "-C", str(tmp_path), "now", "--env", "production")
    assert code == 0
    assert "using the built-in sandbox instead" in err
    assert "(sandbox)" in out


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
        assert code == 4 and "Passcode Invalid" in err and "wrong-one" not in err
        environ["CLEVERTAP_PASSCODE"] = CREDS.passcode
        code, out, err = run(capsys, "-C", str(tmp_path), "now", "--env", "local", **environ)
    sandbox.close()
    assert code == 0, err
    assert "environment 'local'" in out
