"""``ctflow send --test CAMPAIGN --to LIST|identity:ID`` on the example project: the declared
content reaches the test identities through the identity send, no campaign is created, each run
is journaled as ``test-send`` and sends again; who is not a test recipient is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.journal import JOURNAL_NAME, SqliteJournal
from ctflow.sandbox import Sandbox

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "journeys"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".ctflow"))
    return root


def ctflow(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.run(["-C", str(root), *argv], {})
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sandbox_of(root: Path) -> Sandbox:
    return Sandbox(db=root / ".ctflow" / "sandbox.db")


def test_sends_the_declared_content_to_the_list_and_creates_no_campaign(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = ctflow(capsys, shop, "send", "--test", "winback-2027-q1-push", "--to", "qa")
    assert code == 0, err
    assert out.splitlines() == [
        "Test send of 'winback-2027-q1-push' (push, environment 'sandbox') to 2 identities:",
        "  user-00001 (qa): sent",
        "  user-00002 (qa): sent",
        "2 sent. No campaign was created; test sends are never deduplicated: running this "
        "again sends again.",
    ]
    code, rendered, _ = ctflow(capsys, shop, "render", "winback-2027-q1-push", "--format", "json")
    assert code == 0
    declared = json.loads(rendered)["renders"][0]["body"]
    sandbox = sandbox_of(shop)
    try:
        [sent] = sandbox.sends()
        campaigns = sandbox.campaigns()
    finally:
        sandbox.close()
    assert sent["endpoint"] == "/1/send/push.json"
    assert sent["body"]["to"] == {"Identity": ["user-00001", "user-00002"]}
    assert sent["body"]["content"] == declared["content"]
    assert "COMEBACK15" in json.dumps(sent["body"]["content"])  # the sandbox's variables
    assert campaigns == []


def test_each_test_send_sends_again_and_is_journaled_as_test_send(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("send", "--test", "onboarding-2027-01.day2-email", "--to", "qa")
    assert ctflow(capsys, shop, *argv)[0] == 0
    code, out, _ = ctflow(capsys, shop, *argv, "--to", "identity:someone@shop.example")
    assert code == 0
    assert "  someone@shop.example (named explicitly): sent" in out.splitlines()
    sandbox = sandbox_of(shop)
    try:
        sends = sandbox.sends()
    finally:
        sandbox.close()
    assert [s["endpoint"] for s in sends] == ["/1/send/email.json"] * 2
    assert sends[1]["body"]["to"] == {
        "Identity": ["user-00001", "user-00002", "someone@shop.example"]
    }
    journal = SqliteJournal.open(shop / ".ctflow" / JOURNAL_NAME)
    try:
        runs = journal.runs(kind="test-send")
        steps = journal.steps(runs[0]["id"])
    finally:
        journal.close()
    assert [(r["kind"], r["outcome"], r["environment"]) for r in runs] == [
        ("test-send", "ok", "sandbox")
    ] * 2
    assert [s["key"] for s in steps] == ["onboarding-2027-01.day2-email"]
    code, out, _ = ctflow(capsys, shop, "history", "--kind", "test-send")
    assert code == 0
    assert out.count("test-send") == 2


def test_an_identity_in_a_list_may_be_named_alone(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = ctflow(
        capsys, shop, "send", "--test", "winback-2027-q1-email", "--to", "user-00002"
    )
    assert code == 0
    assert "  user-00002 (qa): sent" in out.splitlines()


def test_a_word_that_is_no_list_and_no_listed_identity_is_refused(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = ctflow(
        capsys, shop, "send", "--test", "winback-2027-q1-push", "--to", "qa", "--to", "qa2"
    )
    assert (code, out) == (3, "")
    assert err == (
        "'qa2': not a test list of environment 'sandbox' nor an identity in one (did you mean "
        "'qa'?); lists: qa. To send to an identity outside the lists, write identity:qa2\n"
        "ctflow: 1 recipient(s) cannot be sent a test in environment 'sandbox'; nothing was "
        "sent\n"
    )
    assert not (shop / ".ctflow" / "sandbox.db").exists()  # nothing was even asked


def test_an_environment_without_lists_says_where_to_declare_them(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shop / "ctflow.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            "    test_recipients:\n      qa: [user-00001, user-00002]\n",
            "    db: .ctflow/sandbox.db\n",
        ),
        encoding="utf-8",
    )
    code, _, err = ctflow(capsys, shop, "send", "--test", "winback-2027-q1-push", "--to", "qa")
    assert code == 3
    assert (
        "lists: none (declare them under environments.sandbox.test_recipients in ctflow.yaml)"
        in err
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--test", "winback-2027-q1-push"), "say who receives the test: --to LIST"),
        (
            ("otp-sms", "--test", "winback-2027-q1-push", "--to", "qa"),
            "--test sends a campaign's own content: drop 'otp-sms'",
        ),
        (
            ("--test", "winback-2027-q1-push", "--to", "qa", "--fixture", "login"),
            "drop --fixture",
        ),
        (("--to", "qa"), "name the TRIGGER to send, or --test CAMPAIGN"),
    ],
)
def test_usage_mistakes_exit_64(
    shop: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = ctflow(capsys, shop, "send", *argv)
    assert (code, out) == (64, "")
    assert message in err


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "day7-sms",
            "no Campaign or journey step 'day7-sms' (did you mean 'onboarding-2027-01.day7-sms'?)",
        ),
        ("otp-sms", "'otp-sms' is a Trigger, not a campaign"),
    ],
)
def test_what_is_not_a_campaign_is_named(
    shop: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    code, _, err = ctflow(capsys, shop, "send", "--test", name, "--to", "qa")
    assert code == 3
    assert message in err


def test_a_channel_the_identity_send_cannot_reach_is_refused(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shop / "campaigns" / "hook.yaml").write_text(
        """\
kind: Campaign
key: crm-sync
name: CRM sync
channel: webhook
audience:
  did:
    - {event: Charged, in_last: 30d}
content: {endpoint: crm}
schedule: {at: "2027-03-01 10:00"}
""",
        encoding="utf-8",
    )
    code, _, err = ctflow(capsys, shop, "send", "--test", "crm-sync", "--to", "qa")
    assert code == 3
    assert "'crm-sync' is a webhook campaign: CleverTap's identity send" in err


def test_a_dry_run_prints_the_request_and_sends_nothing(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = ctflow(
        capsys,
        shop,
        "send",
        "--test",
        "onboarding-2027-01.day7-sms",
        "--to",
        "qa",
        "--dry-run",
        "--format",
        "json",
    )
    assert code == 0
    [request] = json.loads(out)["requests"]
    assert request["endpoint"] == "/1/send/sms.json"
    assert request["body"]["to"] == {"Identity": ["user-00001", "user-00002"]}
    assert not (shop / ".ctflow" / "sandbox.db").exists()


@pytest.mark.parametrize(
    ("lists", "problem"),
    [
        (
            "{qa: []}",
            "ctflow.yaml:4:27: environments.sandbox.test_recipients.qa: [] should be non-empty",
        ),
        (
            "{'q a': [x]}",
            "ctflow.yaml:4:22: environments.sandbox.test_recipients: 'q a' is not a list name: "
            "letters, digits, '-' and '_'",
        ),
        (
            "{qa: [x, x]}",
            "ctflow.yaml:4:27: environments.sandbox.test_recipients.qa: ['x', 'x'] has non-unique "
            "elements",
        ),
    ],
)
def test_test_lists_are_checked_where_they_are_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lists: str, problem: str
) -> None:
    (tmp_path / "ctflow.yaml").write_text(
        f"project: shop\nenvironments:\n  sandbox:\n    test_recipients: {lists}\n",
        encoding="utf-8",
    )
    code, _, err = ctflow(capsys, tmp_path, "send", "--test", "x", "--to", "qa")
    assert code == 3
    assert problem in err


def test_a_lost_answer_is_ambiguous_exit_6_and_the_journal_says_partial(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE
    from tests.contract.support import LoopbackServer

    sandbox = Sandbox(db=":memory:")
    sandbox.faults.fail_next = [500]
    config = shop / "ctflow.yaml"
    environ = {
        "STAGING_CLEVERTAP_ACCOUNT_ID": DEFAULT_ACCOUNT_ID,
        "STAGING_CLEVERTAP_PASSCODE": DEFAULT_PASSCODE,
    }
    try:
        with LoopbackServer(sandbox) as server:  # staging, served by a sandbox that fails once
            text = config.read_text(encoding="utf-8")
            staging = "  staging:\n    region: in1\n"
            assert staging in text
            config.write_text(
                text.replace(staging, f"  staging:\n    base_url: {server.base_url}\n"),
                encoding="utf-8",
            )
            argv = ["-C", str(shop), "send", "--test", "winback-2027-q1-push", "--to", "design"]
            code = cli.run([*argv, "--env", "staging"], environ)
            out = capsys.readouterr().out
    finally:
        sandbox.close()
    assert code == 6
    assert "  design-pixel-7 (design): ambiguous (" in out
    journal = SqliteJournal.open(shop / ".ctflow" / JOURNAL_NAME)
    try:
        [run] = journal.runs(kind="test-send")
    finally:
        journal.close()
    assert (run["environment"], run["outcome"]) == ("staging", "partial")


def test_only_the_campaign_sent_is_rendered(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another campaign's template (which may fail in this environment) is not rendered: a test
    send stands or falls with its own campaign."""
    from ctflow.plan import desired

    rendered: list[str] = []
    real = desired._rendered
    monkeypatch.setattr(
        desired, "_rendered", lambda decl, *a: rendered.append(decl.key) or real(decl, *a)
    )
    code, _, err = ctflow(capsys, shop, "send", "--test", "winback-2027-q1-push", "--to", "qa")
    assert code == 0, err
    assert rendered == ["winback-2027-q1-push"]
