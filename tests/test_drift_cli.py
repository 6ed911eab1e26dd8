"""``ctflow drift`` end to end: events uploaded to the sandbox, a tmp project's EventSchemas,
the real CLI entry function (``cli.run``) and its exit codes.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from ctflow import cli
from ctflow.clevertap import CleverTap, Credentials
from ctflow.clevertap.retry import RetryPolicy
from ctflow.commands import drift as driftcmd
from ctflow.config import Environment, Target
from ctflow.connect import open_sandbox, sandbox_client
from ctflow.errors import CtflowError, ExitCode
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, LoopbackServer

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "journeys"


def run(capsys: pytest.CaptureFixture[str], *argv: str, **environ: str) -> tuple[int, str, str]:
    code = cli.run(list(argv), environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


PROJECT = "kind: Project\nproject: shop\n"
TRACKING = """\
kind: EventSchema
event: Order Placed
version: 2
strict: true
properties:
  Amount: {type: number, required: true}
  Items: integer
  Currency: string
  Placed At: date
---
kind: EventSchema
event: Signed Up
version: 1
properties:
  Method: string
  Plan: string
"""
TS = 1_763_600_000


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "ctflow.yaml").write_text(PROJECT)
    (tmp_path / "tracking.yaml").write_text(TRACKING)
    return tmp_path


def upload_with_ctflow(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    """Declared events as the tracking plan says, through ``ctflow upload events`` (checked)."""
    records = [
        {
            "identity": "u1",
            "ts": TS,
            "evtName": "Order Placed",
            "evtData": {"Amount": 12.5, "Items": 2, "Placed At": "2026-11-20"},
        },
        {"identity": "u2", "ts": TS, "evtName": "Signed Up", "evtData": {"Method": "google"}},
    ]
    path = project / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    code, _, err = run(capsys, "-C", str(project), "upload", "events", str(path))
    assert code == 0, err


def upload_with_the_client(project: Path, records: list[dict[str, Any]]) -> None:
    """Events straight to the sandbox's /1/upload, as an app or another tool would send them:
    nothing checks them against the tracking plan."""

    async def send() -> None:
        sandbox = open_sandbox(project / ".ctflow" / "sandbox.db")
        try:
            async with sandbox_client(sandbox) as client:
                result = await client.upload_events(records)
                assert result.unprocessed == ()
        finally:
            sandbox.close()

    asyncio.run(send())


DRIFTING = [
    {
        "identity": "u3",
        "ts": TS,
        "evtName": "Order Placed",
        "evtData": {"Amount": 3, "Currency": 978, "Coupon": "XMAS"},
    },
    {"identity": "u3", "ts": TS, "evtName": "Signed Up", "evtData": {"Referrer": "ad"}},
    {"identity": "u3", "ts": TS, "evtName": "Search", "evtData": {"q": "shoes"}},
    {"identity": "u3", "ts": TS, "evtName": "Charged", "evtData": {"Amount": 3}},
]

DRIFT_TEXT = """\
Drift against the sandbox: 3 findings (2 declared events, 4 live).

Events live but not declared (1)
  Search

Property types that differ (1)
  Order Placed
    Currency: declared string, live number

Undeclared properties of strict events (1)
  Order Placed
    Coupon: live string

Not drift:

Undeclared properties of events that allow extra ones (not strict) (1)
  Signed Up
    Referrer: live string

Declared properties never seen live (1)
  Signed Up
    Plan: string

CleverTap's own events, not declared (ignored) (1)
  Charged

To write an EventSchema for each event live but not declared (see it first without --write):
  ctflow import schemas --write
"""


def test_an_empty_sandbox_has_never_seen_the_declared_events(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    code, out, err = run(capsys, "-C", str(shop), "drift")
    assert (code, err) == (0, "")
    assert out == (
        "Drift against the sandbox: 2 findings (2 declared events, 0 live).\n\n"
        "Events declared but never seen live (2)\n"
        "  Order Placed\n"
        "  Signed Up\n"
    )
    assert run(capsys, "-C", str(shop), "drift", "--detailed-exitcode")[0] == 2


def test_events_uploaded_by_ctflow_match_the_plan_then_other_senders_drift(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    upload_with_ctflow(capsys, shop)
    code, out, err = run(capsys, "-C", str(shop), "drift", "--detailed-exitcode")
    assert (code, err) == (0, "")
    assert out == (
        "No drift against the sandbox (2 declared events, 2 live).\n\n"
        "Not drift:\n\n"
        "Declared properties never seen live (2)\n"
        "  Order Placed\n"
        "    Currency: string\n"
        "  Signed Up\n"
        "    Plan: string\n"
    )

    upload_with_the_client(shop, DRIFTING)
    code, out, err = run(capsys, "-C", str(shop), "drift", "--detailed-exitcode")
    assert (code, out, err) == (2, DRIFT_TEXT, "")
    code, out, err = run(capsys, "-C", str(shop), "drift")
    assert (code, out, err) == (0, DRIFT_TEXT, "")


DOCS = Path(__file__).resolve().parent.parent / "docs" / "drift.md"


def docs_block(language: str, starting: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOCS.read_text("utf-8"), flags=re.S)
    return next(block for block in blocks if block.startswith(starting))


def test_the_docs_example_is_what_the_command_prints(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    assert docs_block("yaml", "kind: EventSchema") == TRACKING
    upload_with_ctflow(capsys, shop)
    upload_with_the_client(shop, DRIFTING)
    session = docs_block("console", "$ ctflow drift --detailed-exitcode\n")
    assert session == f"$ ctflow drift --detailed-exitcode\n{DRIFT_TEXT}$ echo $?\n2\n"
    code, out, _ = run(capsys, "-C", str(shop), "drift", "--format", "json", "--detailed-exitcode")
    assert code == 2
    assert out == docs_block("json", "{")
    doc = json.loads(out)
    assert doc["findings"]["type_mismatches"] == [
        {
            "event": "Order Placed",
            "property": "Currency",
            "declared": "string",
            "live": "number",
            "reported": "number",
        }
    ]


def test_seeded_sandbox_system_events_and_whole_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The demo population (`ctflow sandbox seed`) raises App Launched, CleverTap's own event:
    never drift. Its Charged amounts are numbers, which a declared integer accepts."""
    (tmp_path / "ctflow.yaml").write_text(PROJECT)
    (tmp_path / "tracking.yaml").write_text(
        "kind: EventSchema\nevent: Charged\nversion: 1\nproperties:\n  Amount: integer\n"
        "---\nkind: EventSchema\nevent: Signed Up\nversion: 1\nproperties:\n  Method: string\n"
    )
    assert run(capsys, "-C", str(tmp_path), "sandbox", "seed", "--profiles", "50")[0] == 0
    code, out, _ = run(capsys, "-C", str(tmp_path), "drift", "--detailed-exitcode")
    assert code == 2
    assert out == (
        "Drift against the sandbox: 2 findings (2 declared events, 5 live).\n\n"
        "Events live but not declared (2)\n"
        "  Added To Cart\n"
        "  Product Viewed\n\n"
        "Not drift:\n\n"
        "Undeclared properties of events that allow extra ones (not strict) (3)\n"
        "  Charged\n"
        "    Charged ID: live string\n"
        "    Currency: live string\n"
        "    Payment Mode: live string\n\n"
        "CleverTap's own events, not declared (ignored) (1)\n"
        "  App Launched\n\n"
        "To write an EventSchema for each event live but not declared (see it first without "
        "--write):\n  ctflow import schemas --write\n"
    )


def test_a_seeded_sandbox_has_every_required_property_of_the_example(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Right after `ctflow sandbox seed`, the example's events that the demo population raises
    carry the properties the example requires (Charged ID, Product ID, …): no complaint."""
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=shutil.ignore_patterns(".ctflow"))
    assert run(capsys, "-C", str(shop), "sandbox", "seed", "--profiles", "200")[0] == 0
    code, out, _ = run(capsys, "-C", str(shop), "drift", "--format", "json")
    assert code == 0
    unseen = json.loads(out)["notes"]["unseen_properties"]
    assert [(p["event"], p["property"]) for p in unseen if p["required"]] == []
    assert ("Charged", "Coupon") in {(p["event"], p["property"]) for p in unseen}, (
        "the optional ones are still reported, as notes"
    )


def test_broken_declarations_exit_3_before_any_call(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    (shop / "tracking.yaml").write_text(
        "kind: EventSchema\nevent: Order Placed\nversion: 1\nproperties:\n  Amount: money\n"
    )
    code, out, err = run(capsys, "-C", str(shop), "drift", "--detailed-exitcode")
    assert (code, out) == (3, "")
    lines = err.splitlines()
    assert lines[0].startswith(f"{shop / 'tracking.yaml'}:5:11: properties.Amount")
    assert lines[-1] == "ctflow: 1 problem(s) in the declarations"
    assert not (shop / ".ctflow" / "sandbox.db").exists()


def test_no_project_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "-C", str(tmp_path), "drift")
    assert (code, out) == (3, "")
    assert "no ctflow.yaml" in err
    assert "ctflow init" in err


@pytest.mark.loopback
def test_a_refused_passcode_exits_4(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    sandbox = Sandbox(db=":memory:")
    with LoopbackServer(sandbox) as server:
        (shop / "ctflow.yaml").write_text(
            PROJECT + f"environments:\n  local:\n    base_url: {server.base_url}\n"
        )
        environ = {"CLEVERTAP_ACCOUNT_ID": CREDS.account_id, "CLEVERTAP_PASSCODE": "wrong-one"}
        code, out, err = run(capsys, "-C", str(shop), "drift", "--env", "local", **environ)
        assert (code, out) == (4, "")
        assert "Passcode Invalid" in err
        assert "wrong-one" not in err
        environ["CLEVERTAP_PASSCODE"] = CREDS.passcode
        code, out, err = run(
            capsys, "-C", str(shop), "drift", "--env", "local", "--detailed-exitcode", **environ
        )
        assert code == 2
        assert out.startswith("Drift against environment 'local': 2 findings")
    sandbox.close()


# --- driftcmd.run with a client of the test's own (httpx.MockTransport) ----------------------


def mocked(handler: Any) -> driftcmd.Connect:
    @asynccontextmanager
    async def connect() -> Any:
        transport = httpx.MockTransport(handler)
        creds = Credentials("TEST-ACC-ID", "secret-passcode")
        retry = RetryPolicy.instant(attempts=2)
        async with CleverTap(creds, transport=transport, retry=retry) as client:
            yield client

    return connect


PRODUCTION = Target(Environment("production", region="eu1"), account_id="A", passcode="p")


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (401, {"status": "fail", "error": "Passcode Invalid", "code": 401}, ExitCode.CREDENTIALS),
        (503, {"status": "fail", "error": "Service Unavailable"}, ExitCode.UNAVAILABLE),
        (429, {"status": "fail", "error": "Too many concurrent requests"}, ExitCode.UNAVAILABLE),
    ],
)
def test_the_clients_errors_carry_their_exit_codes(
    shop: Path, status: int, body: dict[str, Any], code: int
) -> None:
    connect = mocked(lambda request: httpx.Response(status, json=body))
    out = io.StringIO()
    with pytest.raises(CtflowError) as raised:
        driftcmd.run(PRODUCTION, shop, "text", True, out=out, connect=connect)
    assert raised.value.exit_code == code
    assert out.getvalue() == ""


def test_a_schema_answer_of_another_shape_is_read(shop: Path) -> None:
    answer = {
        "status": "success",
        "data": {
            "Order Placed": {
                "count": 1204,
                "properties": {
                    "Amount": "Float",
                    "Items": "Integer",
                    "Currency": "String",
                    "Placed At": "Date",
                },
            },
            "Signed Up": {"count": 80, "properties": {"Method": "String", "Plan": "String"}},
            "Search": {"count": 3, "properties": {}},
        },
    }
    connect = mocked(lambda request: httpx.Response(200, json=answer))
    out = io.StringIO()
    assert driftcmd.run(PRODUCTION, shop, "text", True, out=out, connect=connect) == 2
    assert out.getvalue() == (
        "Drift against environment 'production': 1 finding (2 declared events, 3 live).\n\n"
        "Events live but not declared (1)\n"
        "  Search (seen 3 times)\n\n"
        "To write an EventSchema for each event live but not declared (see it first without "
        "--write):\n  ctflow import schemas --env production --write\n"
    )


def test_an_unreadable_schema_answer_is_an_error_not_an_empty_account(shop: Path) -> None:
    connect = mocked(lambda request: httpx.Response(200, json={"status": "success", "x": []}))
    with pytest.raises(CtflowError) as raised:
        driftcmd.run(PRODUCTION, shop, "json", False, out=io.StringIO(), connect=connect)
    assert raised.value.exit_code == ExitCode.ERROR
    assert "without an events list (status, x)" in raised.value.message
