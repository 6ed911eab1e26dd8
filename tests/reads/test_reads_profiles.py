"""`ctflow profile get` and `ctflow profile delete`: the lookup keys, what is shown, and a
delete that is irreversible, so never done without a yes."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctflow.commands.profile import delete
from ctflow.commands.reading import Reader
from ctflow.config import SANDBOX, Environment, Target
from tests.reads.support import fill, local_sandbox, run, served_account

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "journeys"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory whose built-in sandbox holds the test population."""
    sandbox = local_sandbox(tmp_path)
    try:
        fill(sandbox)
    finally:
        sandbox.close()
    return tmp_path


def exists(directory: Path, identity: str) -> bool:
    sandbox = local_sandbox(directory)
    try:
        return sandbox.profile(identity) is not None
    finally:
        sandbox.close()


@pytest.mark.loopback
def test_get_shows_properties_events_in_the_project_timezone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        fill(account.sandbox)
        code, out, err = account.run("profile", "get", "--identity", "c-02")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    object_id = lines[3].removeprefix("  objectId: ")
    assert lines[:3] == [
        "Profile identity 'c-02' (environment 'local')",
        "  identity: c-02",
        "  email: c2@example.com",
    ]
    assert lines[4:] == [
        "",
        "PROPERTY       VALUE",
        "Customer Type  Platinum",
        "Email          c2@example.com",
        "Name           Customer 2",
        "",
        "EVENT           COUNT  FIRST SEEN        LAST SEEN",
        "Product Viewed      1  2026-11-18 14:30  2026-11-18 14:30",  # 09:00 UTC in Kolkata
        "Charged             1  2026-11-19 14:30  2026-11-19 14:30",
    ]
    assert len(object_id) >= 16


@pytest.mark.parametrize("key", ["--identity", "--email", "--object-id"])
def test_get_by_any_key_as_json(
    project: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    code, out, _ = run(capsys, project, "profile", "get", "--identity", "c-05", "--format", "json")
    assert code == 0
    first = json.loads(out)
    assert first["environment"] == "sandbox"
    record = first["profile"]
    assert record["identity"] == "c-05"
    assert record["profileData"]["Customer Type"] == "Silver"
    assert record["events"]["Product Viewed"]["count"] == 1
    value = {"--identity": "c-05", "--email": "c5@example.com", "--object-id": record["objectId"]}
    code, out, _ = run(capsys, project, "profile", "get", key, value[key], "--format", "json")
    assert (code, json.loads(out)) == (0, first)


def test_get_of_nobody_exits_1_saying_so(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, project, "profile", "get", "--email", "who@example.com")
    assert (code, out) == (1, "")
    assert err == "ctflow: no profile with email 'who@example.com' (sandbox)\n"


@pytest.mark.parametrize("argv", [(), ("--identity", "c-01", "--email", "c1@example.com")])
def test_get_needs_exactly_one_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, tmp_path, "profile", "get", *argv)
    assert (code, out) == (64, "")
    assert "give exactly one of --identity, --email, --object-id" in err


def test_delete_off_a_terminal_without_yes_is_refused_and_deletes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, project, "profile", "delete", "--identity", "c-01")
    assert (code, out) == (64, "")
    assert err == (
        "ctflow: refusing to delete identity c-01 (sandbox) without confirmation: there is no "
        "terminal to ask on. Deleting profiles is irreversible; add --yes to delete without "
        "asking\n"
    )
    assert exists(project, "c-01")


def test_delete_with_yes_deletes_every_named_profile_and_only_those(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, project, "profile", "delete", "--identity", "c-01", "--identity", "c-03", "--yes"
    )
    assert (code, err) == (0, "")
    assert out == "Deleted identity c-01, identity c-03 (sandbox).\n"
    assert not exists(project, "c-01")
    assert not exists(project, "c-03")
    assert exists(project, "c-02")
    code, _, err = run(capsys, project, "profile", "get", "--identity", "c-01")
    assert code == 1
    assert "no profile with identity 'c-01'" in err


def test_delete_without_a_name_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, tmp_path, "profile", "delete", "--yes")
    assert code == 64
    assert "--identity ID or --object-id ID" in err


@pytest.mark.parametrize(("answer", "code", "left"), [(False, 1, True), (True, 0, False)])
def test_delete_on_a_terminal_asks_and_only_yes_deletes(
    project: Path, answer: bool, code: int, left: bool
) -> None:
    questions: list[str] = []

    def confirm(question: str) -> bool:
        questions.append(question)
        return answer

    out = io.StringIO()
    target = Target(Environment(SANDBOX), sandbox_db=project / ".ctflow" / "sandbox.db")
    reader = Reader(target, "shop", "UTC", datetime.now(UTC), out, io.StringIO())
    assert delete(reader, ["c-04"], [], yes=False, confirm=confirm) == code
    assert questions == ["Delete them? Only 'yes' will be accepted"]
    assert out.getvalue().startswith(
        "Delete identity c-04 (sandbox)? Their data and event history are erased; this cannot "
        "be undone.\n"
    )
    assert exists(project, "c-04") is left


def test_get_shows_a_date_property_as_a_day_in_the_project_timezone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example's VIP file declares `Last Order Date` a date: uploaded as `$D_<epoch>`."""
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop, ignore=shutil.ignore_patterns(".ctflow"))
    assert run(capsys, shop, "upload", "profiles", "data/vip-customers.jsonl")[0] == 0

    code, out, _ = run(capsys, shop, "profile", "get", "--identity", "C101502")
    assert code == 0
    assert "Last Order Date       2026-11-18" in out.splitlines()
    code, out, _ = run(capsys, shop, "profile", "get", "--identity", "C101502", "--format", "json")
    shown = json.loads(out)["profile"]["profileData"]["Last Order Date"]
    assert shown == "$D_1794940200", "JSON keeps CleverTap's value"
