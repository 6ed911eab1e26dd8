"""``ctflow render`` and the rendered requests of the example project's triggers (golden files
under tests/send/golden/: regenerate with CTFLOW_UPDATE_GOLDEN=1 and review them like code,
they are the messages people receive)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

import ctflow
from ctflow import cli
from ctflow.errors import InvalidInput
from ctflow.send import message
from ctflow.send.text import as_text
from ctflow.spec.validate import load
from tests.send.support import SendBed

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "journeys"
GOLDEN = Path(__file__).parent / "golden"
DECLS = load(EXAMPLE)
FIXTURES = [
    (key, fixture["name"])
    for key, decl in sorted(DECLS.triggers.items())
    for fixture in decl.data.get("fixtures") or []
]


@pytest.mark.parametrize(("key", "fixture"), FIXTURES, ids=[f"{k}.{f}" for k, f in FIXTURES])
def test_example_trigger_renders_as_its_golden_request(key: str, fixture: str) -> None:
    decl = DECLS.triggers[key]
    data = message.fixture_data(decl, fixture)
    built = message.build(decl, DECLS.project, DECLS.project.environment("sandbox"), data)
    result = {"kind": "Trigger", "key": key, "environment": "sandbox"}
    request = built.request(["<recipient>"])
    got = as_text(
        {**result, "renders": [{"fixture": fixture, "endpoint": built.endpoint, "body": request}]}
    )
    path = GOLDEN / f"{key}.{fixture}.txt"
    if os.environ.get("CTFLOW_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(got + "\n", encoding="utf-8")
    assert got + "\n" == path.read_text(encoding="utf-8")


def test_render_shows_every_fixture_with_multi_line_text_as_lines(tmp_path: Path) -> None:
    ran = SendBed(tmp_path).render("order-shipped")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == (
        "== Trigger order-shipped, environment sandbox, fixture two-items: POST /1/send/email.json"
    )
    assert 'content.subject: "Order SO-1001 is on its way"' in lines
    assert "content.body:" in lines
    assert "  |   <li>2 x Mug &amp; Saucer</li>" in lines


def test_the_sandbox_never_shows_another_environments_campaign() -> None:
    """The example's SMS names a campaign for staging and for production, none for the sandbox."""
    decl = DECLS.triggers["payment-failed-sms"]
    data = message.fixture_data(decl, "first-attempt")
    ids = {}
    for env in ("sandbox", "staging", "production"):
        built = message.build(decl, DECLS.project, DECLS.project.environment(env), data)
        ids[env] = built.body["campaign_id"]
    assert ids == {"sandbox": 1, "staging": 1700000123, "production": 1700104562}
    several = {**decl.data, "campaign_ids": {"production": [7, 8, 9]}}
    del several["campaign_id"]
    sandbox = DECLS.project.environment("sandbox")
    assert message.campaign_ids(replace(decl, data=several), sandbox) == [1, 2, 3]


def test_render_json_and_a_campaign(tmp_path: Path) -> None:
    bed = SendBed(tmp_path)
    report = bed.render("payment-failed", fmt="json").json()
    assert report["kind"] == "Trigger"
    [first] = report["renders"]
    assert first["fixture"] == "first"
    assert first["body"]["ExternalTrigger"] == {"amount": "2499.5", "attempt": "1"}
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "hello.yaml").write_text(
        "kind: Campaign\nkey: hello\nname: Hello\nchannel: sms\naudience: everyone\n"
        'content: {body: "Hi from [[ vars.brand ]]"}\nschedule: now\n'
    )
    ran = bed.render("hello")
    assert ran.code == 0, ran.err
    assert 'content.body: "Hi from Shop"' in ran.out.splitlines()


def test_render_names_what_it_does_not_know(tmp_path: Path) -> None:
    ran = SendBed(tmp_path).render("order-shiped")
    assert ran.code == 3
    assert "no Trigger or Campaign 'order-shiped' (did you mean 'order-shipped'?)" in ran.err


def test_python_api_sends_once_and_checks_the_data(tmp_path: Path) -> None:
    bed = SendBed(tmp_path)  # the project; load_project talks to its file sandbox
    project = ctflow.load_project(tmp_path, environ={})
    data = {"order_id": "SO-5", "items": [{"name": "Mug", "qty": 1}]}
    first = project.send("order-shipped", to="C1", data=data)
    assert first.ok
    assert [d.state for d in first.deliveries] == ["sent"]
    second = project.send("order-shipped", to=["C1", "C2"], data=data)
    assert [d.state for d in second.deliveries] == ["already_sent", "sent"]
    with pytest.raises(InvalidInput) as caught:
        project.send("order-shipped", to="C1", data={"order_id": "SO-5", "items": []})
    assert caught.value.problems == ["data.items: [] should be non-empty"]
    assert project.render("payment-failed", {"amount": 5, "attempt": 2})["body"][
        "ExternalTrigger"
    ] == {"amount": "5", "attempt": "2"}
    assert bed.sent() == []  # the bed's in-memory sandbox saw nothing: the API used the file one


def test_python_api_refuses_to_fall_back_to_the_sandbox(tmp_path: Path) -> None:
    """The CLI falls back to the sandbox with a notice; an application must not send into it
    believing it reached production."""
    from ctflow.errors import CredentialsError
    from tests.send.support import PROJECT

    SendBed(tmp_path)
    (tmp_path / "ctflow.yaml").write_text(PROJECT + "default_environment: production\n")
    with pytest.raises(CredentialsError) as caught:
        ctflow.load_project(tmp_path, environ={})
    assert "default environment 'production' has no credentials" in caught.value.message
    assert ctflow.load_project(tmp_path, env="sandbox", environ={}).environment == "sandbox"


def test_python_api_sends_are_journaled_and_a_blank_key_is_refused(tmp_path: Path) -> None:
    from ctflow.journal import SqliteJournal

    SendBed(tmp_path)
    project = ctflow.load_project(tmp_path, environ={})
    data = {"order_id": "SO-5", "items": [{"name": "Mug", "qty": 1}]}
    assert project.send("order-shipped", to="C1", data=data).ok
    with SqliteJournal.open(tmp_path / ".ctflow" / "journal.db") as journal:
        [run] = journal.runs()
    assert (run["kind"], run["outcome"], run["summary"]["sent"]) == ("send", "ok", 1)
    with pytest.raises(InvalidInput, match="idempotency key must be non-empty"):
        project.send("order-shipped", to="C1", data=data, idempotency_key="  ")


@pytest.mark.parametrize(
    ("name", "said"),
    [
        (
            "welcome",
            "no Trigger or Campaign 'welcome' (did you mean 'onboarding-2027-01.welcome'?)",
        ),
        ("winback-2027-q1-emial", "(did you mean 'winback-2027-q1-email'?)"),
        (
            "onboarding-2027-01",
            "'onboarding-2027-01' is a journey: render one of its steps "
            "(onboarding-2027-01.day2-email, onboarding-2027-01.day7-sms, "
            "onboarding-2027-01.welcome)",
        ),
        ("zzz", "; triggers: order-shipped, otp-sms, payment-failed-email, payment-failed-sms; "),
    ],
)
def test_render_of_an_unknown_key_says_what_there_is(
    capsys: pytest.CaptureFixture[str], name: str, said: str
) -> None:
    code = cli.run(["-C", str(EXAMPLE), "render", name], {})
    err = capsys.readouterr().err
    assert code == 3
    assert said in err
