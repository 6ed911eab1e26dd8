"""``ctflow send`` of a trigger with ``campaign_ids``: one call to
``/2/send/externaltrigger.json`` firing every campaign, with the account token from
``CLEVERTAP_TOKEN``, and still once per idempotency key. Through ``cli.run`` against a sandbox
served on loopback (environment ``local``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, DEFAULT_TOKEN, Sandbox
from tests.contract.support import LoopbackServer

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "sending.md"

PATH = "/2/send/externaltrigger.json"
ENVIRON = {
    "CLEVERTAP_ACCOUNT_ID": DEFAULT_ACCOUNT_ID,
    "CLEVERTAP_PASSCODE": DEFAULT_PASSCODE,
    "CLEVERTAP_TOKEN": DEFAULT_TOKEN,
}
LOYALTY = """\
kind: Trigger
key: points-earned
type: external
campaign_ids: [1700000201, 1700000202]   # the push and the email built in the dashboard
parameters:
  type: object
  required: [points]
  properties:
    points: {type: integer}
fixtures:
  - name: hundred
    data: {points: 100}
"""


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox(db=":memory:")
    try:
        with LoopbackServer(sb) as server:
            yield sb, server.base_url
    finally:
        sb.close()


@pytest.fixture
def root(tmp_path: Path, served: tuple[Sandbox, str]) -> Path:
    config = f"project: shop\nenvironments:\n  local:\n    base_url: {served[1]}\n"
    (tmp_path / "ctflow.yaml").write_text(config, encoding="utf-8")
    (tmp_path / "triggers").mkdir()
    (tmp_path / "triggers" / "points.yaml").write_text(LOYALTY, encoding="utf-8")
    return tmp_path


def send(
    capsys: pytest.CaptureFixture[str], root: Path, *argv: str, **environ: str
) -> tuple[int, str, str]:
    args = ["-C", str(root), "send", "points-earned", "--env", "local", *argv]
    code = cli.run(args, {**ENVIRON, **environ})
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.loopback
def test_one_call_fires_every_campaign_and_a_second_send_is_not_made(
    capsys: pytest.CaptureFixture[str], root: Path, served: tuple[Sandbox, str]
) -> None:
    sb, _ = served
    argv = ("--to", "C100234", "--to", "C100235", "--fixture", "hundred")
    code, out, err = send(capsys, root, *argv)
    assert (code, out) == (0, "C100234: sent\nC100235: sent\npoints-earned: 2 sent.\n"), err
    assert [(s["endpoint"], s["body"]) for s in sb.sends()] == [
        (
            PATH,
            {
                "to": {"identity": ["C100234", "C100235"]},
                "campaign_id_list": [1700000201, 1700000202],
                "ExternalTrigger": {"points": "100"},
            },
        )
    ]
    code, out, _ = send(capsys, root, *argv, "--format", "json")
    assert code == 0
    assert [s["state"] for s in json.loads(out)["sends"]] == ["already_sent", "already_sent"]
    assert len(sb.sends()) == 1, "each idempotency key is sent once"


@pytest.mark.loopback
def test_a_lost_answer_is_claimed_first_so_it_is_never_sent_again_on_its_own(
    capsys: pytest.CaptureFixture[str], root: Path, served: tuple[Sandbox, str]
) -> None:
    sb, _ = served
    sb.faults.drop_next = 1
    argv = ("--to", "C100234", "--fixture", "hundred")
    code, out, _ = send(capsys, root, *argv)
    assert code == 6
    assert out.startswith(
        "C100234: may have arrived, not sent again (POST /2/send/externaltrigger.json"
    )
    assert send(capsys, root, *argv)[0] == 6
    assert len(sb.sends()) == 1
    code, out, _ = send(capsys, root, *argv, "--resend-ambiguous")
    assert (code, out) == (0, "C100234: sent\npoints-earned: 1 sent.\n")
    assert len(sb.sends()) == 2


@pytest.mark.loopback
def test_without_the_token_ctflow_says_which_variable_and_the_refusal_is_exit_4(
    capsys: pytest.CaptureFixture[str], root: Path, served: tuple[Sandbox, str]
) -> None:
    sb, _ = served
    code, out, err = send(
        capsys, root, "--to", "C100234", "--fixture", "hundred", CLEVERTAP_TOKEN=""
    )
    assert code == 4
    assert (
        "ctflow: environment 'local' has no account token (CLEVERTAP_TOKEN is unset); CleverTap "
        "asks for one to trigger several campaigns in one call"
    ) in err
    assert "no account token was sent (X-CleverTap-Token)" in err
    assert sb.sends() == []
    code, out, err = send(capsys, root, "--to", "C100234", "--fixture", "hundred")
    assert (code, out) == (0, "C100234: sent\npoints-earned: 1 sent.\n"), err


@pytest.mark.loopback
def test_the_token_is_masked_like_the_passcode(
    capsys: pytest.CaptureFixture[str], root: Path, served: tuple[Sandbox, str]
) -> None:
    sb, _ = served
    secret = "tok-TOPSECRET-77"
    sb.config.tokens = {DEFAULT_ACCOUNT_ID: secret}
    code, out, err = send(capsys, root, "--to", "C1", "--fixture", "hundred", "--dry-run")
    assert code == 0
    assert out.startswith(f"POST {PATH}\n")
    code, out, err = send(
        capsys, root, "--to", "C1", "--fixture", "hundred", CLEVERTAP_TOKEN=secret
    )
    assert code == 0, err
    code, out, err = send(
        capsys, root, "--to", "C2", "--fixture", "hundred", CLEVERTAP_TOKEN=secret + "x"
    )
    assert code == 4
    assert "Token Invalid" in err
    assert secret not in out + err
    journal = b"".join(p.read_bytes() for p in (root / ".ctflow").rglob("*") if p.is_file())
    assert secret.encode() not in journal


def test_the_guides_trigger_and_dry_run_are_what_ctflow_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    section = GUIDE.read_text(encoding="utf-8").split("## Several campaigns in one call", 1)[1]
    declaration = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = section.split("```\n$ ctflow ", 1)[1].split("```", 1)[0]
    command, *expected = shown.splitlines()
    (tmp_path / "ctflow.yaml").write_text("project: shop\n", encoding="utf-8")
    (tmp_path / "triggers").mkdir()
    (tmp_path / "triggers" / "points.yaml").write_text(declaration, encoding="utf-8")
    assert cli.run(["-C", str(tmp_path), "validate"], {}) == 0
    capsys.readouterr()
    code = cli.run(["-C", str(tmp_path), *command.split()], {})
    out = capsys.readouterr().out
    assert (code, out.splitlines()) == (0, expected)
