"""``ctflow import schemas``: the live tracking plan written as YAML that validates at once, on a
seeded sandbox (the example project) and on answers of other shapes; never over a file."""

from __future__ import annotations

import io
import shutil
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from ctflow import cli
from ctflow.clevertap import CleverTap, Credentials
from ctflow.clevertap.retry import RetryPolicy
from ctflow.commands import importing
from ctflow.config import Environment, Target

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "journeys"
PRODUCTION = Target(Environment("production", region="eu1"), account_id="A", passcode="p")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.run(list(argv), {})
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def shop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The example project, its sandbox seeded: Signed Up, and profiles' Age and Gender, are
    live and not declared."""
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".ctflow"))
    assert run(capsys, "-C", str(project), "sandbox", "seed", "--profiles", "80")[0] == 0
    return project


def yaml_files(project: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in project.rglob("*.yaml") if ".ctflow" not in p.parts}


def test_without_write_it_shows_the_files_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    before = yaml_files(shop)
    code, out, err = run(capsys, "-C", str(shop), "import", "schemas")
    assert (code, err) == (0, "")
    assert yaml_files(shop) == before
    assert (
        f"--- {shop}/tracking/signed-up.yaml (not written): EventSchema Signed Up (1 property)\n"
    ) in out
    assert "# yaml-language-server: $schema=../schemas/ctflow.schema.json\n" in out, (
        "the modeline the project's files use"
    )
    assert "kind: EventSchema\nevent: Signed Up\nversion: 1\nproperties:\n  Method: string\n" in out
    assert (
        "kind: ProfileSchema\nkey: imported\nversion: 1\nproperties:\n  Age: number\n"
        "  Gender: string\n"
    ) in out
    assert out.endswith(
        "2 file(s) would be written; `ctflow import schemas --write` writes them.\n"
    )


def test_written_files_validate_and_leave_nothing_to_import_or_drift(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    code, out, _ = run(capsys, "-C", str(shop), "drift")
    assert "  Signed Up\n" in out
    assert out.endswith("\n  ctflow import schemas --write\n")

    code, out, err = run(capsys, "-C", str(shop), "import", "schemas", "--write")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"wrote {shop}/tracking/signed-up.yaml: EventSchema Signed Up (1 property)",
        f"wrote {shop}/tracking/profile-imported.yaml: ProfileSchema imported (2 properties)",
        "2 file(s) written; `ctflow validate` checks them.",
    ]
    written = (shop / "tracking" / "signed-up.yaml").read_text()
    assert written.startswith("# yaml-language-server: $schema=../schemas/ctflow.schema.json\n")

    code, out, err = run(capsys, "-C", str(shop), "validate")
    assert code == 0, err
    assert "valid: 10 events, 2 profile schemas" in err, "one event and one schema more"
    code, out, _ = run(capsys, "-C", str(shop), "import", "schemas")
    assert (
        out == "Nothing to import: every event and profile property of the sandbox is declared.\n"
    )
    code, out, _ = run(capsys, "-C", str(shop), "drift")
    assert "Events live but not declared" not in out
    assert "import schemas" not in out


def test_a_taken_name_gets_another_and_the_file_is_left_alone(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    taken = shop / "tracking" / "signed-up.yaml"
    mine = "kind: EventSchema\nevent: Sign Up Started\nversion: 1\nproperties: {}\n"
    taken.write_text(mine)
    code, out, _ = run(capsys, "-C", str(shop), "import", "schemas", "--write")
    assert code == 0
    assert f"wrote {shop}/tracking/signed-up-2.yaml: EventSchema Signed Up" in out
    assert taken.read_text() == mine
    assert run(capsys, "-C", str(shop), "validate")[0] == 0


def test_a_project_without_schemas_gets_an_events_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ctflow.yaml").write_text("kind: Project\nproject: shop\n")
    assert run(capsys, "-C", str(tmp_path), "sandbox", "seed", "--profiles", "40")[0] == 0
    assert run(capsys, "-C", str(tmp_path), "import", "schemas", "--write")[0] == 0
    names = sorted(p.name for p in (tmp_path / "events").iterdir())
    assert "signed-up.yaml" in names
    assert "charged.yaml" not in names, "CleverTap's own events are left out"
    assert "profile-imported.yaml" in names
    assert not (tmp_path / "events" / "signed-up.yaml").read_text().startswith("# yaml-language")
    code, _, err = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 0, err


def mocked(events: Any, profile: tuple[int, Any]) -> importing.Connect:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["type"] == "events":
            return httpx.Response(200, json=events)
        return httpx.Response(profile[0], json=profile[1])

    @asynccontextmanager
    async def connect() -> Any:
        transport = httpx.MockTransport(handler)
        creds = Credentials("TEST-ACC-ID", "secret-passcode")
        async with CleverTap(creds, transport=transport, retry=RetryPolicy.instant(2)) as client:
            yield client

    return connect


def test_names_that_need_quoting_and_unknown_types_still_validate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ctflow.yaml").write_text("kind: Project\nproject: shop\n")
    (tmp_path / "tracking").mkdir()
    (tmp_path / "tracking" / "order.yaml").write_text(
        "kind: EventSchema\nevent: Order Placed\nversion: 1\nproperties:\n  Amount: number\n"
    )
    answer = {
        "data": {
            "Order Placed": {"properties": {"Amount": "Float", "Coupon": "String"}},
            "yes": {"properties": {"#tag": "String", "Price: USD": "Double", "Where": "GeoPoint"}},
            "Ünïcode: évent": {"properties": []},
        }
    }
    refused = (400, {"status": "fail", "error": "Invalid type", "code": 400})
    out, err = io.StringIO(), io.StringIO()
    code = importing.run(
        PRODUCTION,
        tmp_path,
        True,
        today=date(2026, 12, 7),
        out=out,
        err=err,
        connect=mocked(answer, refused),
    )
    assert code == 0
    written = sorted(p.name for p in (tmp_path / "tracking").iterdir())
    assert written == ["order.yaml", "yes.yaml", "ünïcode-évent.yaml"]
    text = (tmp_path / "tracking" / "yes.yaml").read_text()
    assert 'event: "yes"\n' in text
    assert '  "#tag": string\n' in text
    assert '  "Price: USD": number\n' in text
    assert "  Where: string  # the account says 'GeoPoint', a type ctflow does not know\n" in text
    assert "environment 'production' on 2026-12-07" in text
    notes = err.getvalue()
    assert "did not answer /getSchema?type=profile" in notes
    assert (
        f"Order Placed: property 'Coupon' (string) is live but not declared in "
        f"{tmp_path}/tracking/order.yaml; ctflow does not rewrite your files, add it by hand"
    ) in notes
    code, _, problems = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 0, problems
