"""Recipients checked for the way a trigger addresses people (``recipient: email`` takes email
addresses, ``phone`` E.164 numbers): a bad one is refused before any call, in ``ctflow send
--to``, in ``--batch`` (with its line) and in ``load_project(...).send``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import ctflow
from ctflow import cli
from ctflow.connect import open_sandbox
from ctflow.errors import InvalidInput
from ctflow.send import recipients

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "journeys"

Capsys = pytest.CaptureFixture[str]

OTP_BY_PHONE = """\
kind: Trigger
key: otp-phone
type: identity
channel: sms
recipient: phone
parameters:
  type: object
  required: [code]
  properties:
    code: {type: string}
content:
  body: "[[ code ]] is your code"
  sender_id: SHOPOT
fixtures:
  - name: login
    data: {code: "048213"}
"""


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("ana@example.com", None),
        ("ana.rao+orders@mail.shop.example", None),
        ("not-an-email", "not an email address (no '@')"),
        ("C100234", "not an email address (no '@')"),
        ("a@b@example.com", "not an email address (more than one '@')"),
        ("@example.com", "not an email address (nothing before the '@')"),
        ("ana@", "not an email address (no domain after the '@')"),
        ("ana@localhost", "not an email address (the domain 'localhost' has no dot)"),
        ("ana@example..com", "not an email address (the domain 'example..com' has an empty part)"),
        ("ana @example.com", "not an email address (it has a space)"),
        ("ana@exa\tmple.com", "it has a control character or bytes that are not UTF-8"),
        ("q\udcff@example.com", "it has a control character or bytes that are not UTF-8"),
        ("  ", "a recipient must be non-empty text"),
    ],
)
def test_an_email_recipient_must_be_an_address(address: str, reason: str | None) -> None:
    assert recipients.problem("email", address) == reason


FORM = "'+', the country code and the number, digits only (e.g. +919876543210)"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("+919876543210", None),
        ("+14155550123", None),
        ("+91 98765 43210", f"write the phone number as +919876543210 ({FORM})"),
        ("919876543210", f"a phone number needs '+' and its country code: {FORM}"),
        ("+0919876543210", f"not a phone number in the form CleverTap takes: {FORM}"),
        ("+9198765432101234", f"not a phone number in the form CleverTap takes: {FORM}"),
        ("C100234", f"not a phone number in the form CleverTap takes: {FORM}"),
    ],
)
def test_a_phone_recipient_must_be_e164(number: str, reason: str | None) -> None:
    assert recipients.problem("phone", number) == reason


def test_identities_and_object_ids_are_any_printable_text() -> None:
    assert recipients.problem("identity", "C100234") is None
    assert recipients.problem("identity", "ana@example.com") is None
    assert recipients.problem("object_id", "__g5f0c1e2d3b4a59687") is None
    assert recipients.problem("identity", "C1\x00") is not None


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".ctflow"))
    (root / "triggers" / "otp-phone.yaml").write_text(OTP_BY_PHONE, encoding="utf-8")
    return root


def run(capsys: Capsys, root: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.run(["-C", str(root), *argv], {})
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sent(root: Path) -> list[dict[str, object]]:
    path = root / ".ctflow" / "sandbox.db"
    if not path.exists():
        return []
    sandbox = open_sandbox(path)
    try:
        return sandbox.sends()
    finally:
        sandbox.close()


def test_send_refuses_a_bad_email_address_before_any_call(capsys: Capsys, shop: Path) -> None:
    argv = ("send", "order-shipped", "--to", "ana@example.com", "--to", "not-an-email")
    code, out, err = run(capsys, shop, *argv, "--fixture", "one-item")
    assert code == 3, err
    assert out == ""
    assert err.splitlines() == [
        "'not-an-email': not an email address (no '@'); trigger 'order-shipped' addresses "
        "people by email",
        "ctflow: 1 recipient(s) cannot receive trigger 'order-shipped'; nothing was sent",
    ]
    assert sent(shop) == []
    code, out, _ = run(capsys, shop, *argv, "--fixture", "one-item", "--dry-run")
    assert (code, out) == (3, ""), "a dry run shows no request for a bad recipient either"

    good = ("send", "order-shipped", "--to", "ana@example.com", "--fixture", "one-item")
    code, out, err = run(capsys, shop, *good)
    assert code == 0, err
    assert [s["body"]["to"] for s in sent(shop)] == [{"Email": ["ana@example.com"]}]


def test_a_byte_that_is_not_utf8_in_a_recipient_is_refused_not_a_crash(
    capsys: Capsys, shop: Path
) -> None:
    """Refused with the other arguments, before the command runs (the Python API refuses it as a
    recipient: tests/test_cli_hostile.py)."""
    argv = ("send", "order-shipped", "--to", "q\udcff@example.com", "--fixture", "one-item")
    code, _, err = run(capsys, shop, *argv)
    assert code == 64
    assert "(b'q\\xff@example.com') is not UTF-8 text" in err
    assert "this is a bug" not in err


def test_a_batch_refuses_each_bad_recipient_on_its_line_and_sends_the_others(
    capsys: Capsys, shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shop)
    data = {
        "order_id": "SO-2026-004211",
        "customer_name": "Ananya",
        "carrier": "Delhivery",
        "tracking_url": "https://www.delhivery.com/track/package/1",
        "expected_delivery": "2026-11-25",
        "currency": "INR",
        "items": [{"name": "Mixer", "qty": 1, "price": 2499}],
    }
    lines = [
        {"to": "ana@example.com", "data": data},
        {"to": ["rohan@example.com", "C100235"], "data": data},
        {"to": "meera@example", "data": data},
    ]
    (shop / "recipients.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    code, out, err = run(capsys, shop, "send", "order-shipped", "--batch", "recipients.jsonl")
    assert code == 3, err
    by_email = "trigger 'order-shipped' addresses people by email"
    assert out.splitlines() == [
        f"recipients.jsonl:2: C100235: not sent: not an email address (no '@'); {by_email}",
        "recipients.jsonl:3: meera@example: not sent: not an email address (the domain "
        f"'example' has no dot); {by_email}",
        "order-shipped: 2 sent, 2 not sent.",
    ]
    emails = sorted(e for s in sent(shop) for e in s["body"]["to"]["Email"])  # type: ignore[index]
    assert emails == ["ana@example.com", "rohan@example.com"]


def test_a_phone_trigger_takes_e164_numbers_and_sends_them_as_the_identity(
    capsys: Capsys, shop: Path
) -> None:
    login = ("--fixture", "login")
    code, _, err = run(capsys, shop, "send", "otp-phone", "--to", "98765 43210", *login)
    assert code == 3
    assert "'98765 43210': a phone number needs '+' and its country code" in err
    code, _, err = run(capsys, shop, "send", "otp-phone", "--to", "+919876543210", *login)
    assert code == 0, err
    assert [s["body"]["to"] for s in sent(shop)] == [{"Identity": ["+919876543210"]}]


def test_the_python_api_refuses_a_bad_recipient_before_any_call(shop: Path) -> None:
    project = ctflow.load_project(shop, env="sandbox", environ={})
    data = {"code": "048213"}
    with pytest.raises(InvalidInput) as raised:
        project.send("otp-phone", to=["+919876543210", "+91-98765-4321O"], data=data)
    assert raised.value.problems == [
        f"'+91-98765-4321O': not a phone number in the form CleverTap takes: {FORM}; "
        "trigger 'otp-phone' addresses people by phone"
    ]
    assert sent(shop) == []
    assert project.send("otp-phone", to="+919876543210", data=data).ok


def test_validate_refuses_phone_recipients_for_an_email_trigger(capsys: Capsys, shop: Path) -> None:
    path = shop / "triggers" / "order-shipped.yaml"
    path.write_text(path.read_text().replace("recipient: email ", "recipient: phone "))
    code, out, err = run(capsys, shop, "validate")
    assert code == 3, out + err
    assert (
        "triggers/order-shipped.yaml:9:12: recipient: recipient: phone is for sms and whatsapp "
        "triggers (and external ones); a push or an email reaches a phone number's profile "
        "with recipient: identity"
    ) in out + err


def test_the_guide_shows_a_refused_recipient_as_it_is(capsys: Capsys, shop: Path) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "sending.md").read_text()
    section = guide.split("## Who receives it", 1)[1].split("\n## ", 1)[0]
    shown = section.split("```\n$ ctflow ", 1)[1].split("```", 1)[0].splitlines()
    command, *printed, echo, status = shown
    assert echo == "$ echo $?"
    code, out, err = run(capsys, shop, *command.split())
    assert (code, (out + err).splitlines()) == (int(status), printed)
