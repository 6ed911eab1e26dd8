"""Audiences planned and applied through ``cli.run``: the first apply creates the segment and
adds the members, an edited members file plans exactly the members added and removed, a
campaign on the audience is created on the segment and estimated from its members; a lost
answer to createSegment never makes a second segment; an apply killed half-way through the
membership batches is finished by the next one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.commands.applyprogress import ApplyProgress
from ctflow.journal import SqliteJournal
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox, SandboxConfig
from ctflow.sandbox.store import new_profile
from tests.contract.support import LoopbackServer
from tests.plan.support import cli_files, faults, real_future, write_project

CREDENTIALS = {"CLEVERTAP_ACCOUNT_ID": DEFAULT_ACCOUNT_ID, "CLEVERTAP_PASSCODE": DEFAULT_PASSCODE}
AUDIENCE = """\
kind: Audience
key: vip
name: VIP customers
members: ../data/vip.csv
"""


def offer(key: str = "vip-offer") -> str:
    return f"""\
kind: Campaign
key: {key}
name: VIP offer {key}
channel: email
audience: vip
content:
  subject: For you
  sender_name: Shop
  body: "<p>Hello</p>"
schedule: {real_future()}
"""


def members_csv(ids: list[str]) -> str:
    return "identity\n" + "".join(f"{i}\n" for i in ids)


def people(sb: Sandbox, n: int) -> None:
    """Profiles u-0 … u-(n-1), each with an email address."""
    profiles = [new_profile(i + 1, "identity", f"u-{i}", 1_700_000_000) for i in range(n)]
    for profile in profiles:
        profile.data = {"Email": f"{profile.identity}@example.com"}
    with sb.store.transaction():
        sb.store.insert_profiles(profiles)


def members_of(sb: Sandbox) -> set[str]:
    [segment] = sb.segments()
    return sb.segment_members(segment["ct_segment_id"])


def run(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.run(["-C", str(root), *argv], CREDENTIALS)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, Sandbox]]:
    """A project with an Audience of 150 and a campaign on it; 200 profiles in its sandbox."""
    root = write_project(
        tmp_path / "shop",
        {
            **cli_files(**{"vip-offer": offer()}),
            "campaigns/winback.yaml": None,
            "audiences/vip.yaml": AUDIENCE,
            "data/vip.csv": members_csv([f"u-{i}" for i in range(150)]),
        },
    )
    (root / ".ctflow").mkdir()
    sb = Sandbox(db=root / ".ctflow" / "sandbox.db")
    people(sb, 200)
    yield root, sb
    sb.close()


def test_plan_apply_edit_and_plan_again_shows_exactly_the_members_added_and_removed(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Sandbox]
) -> None:
    root, sb = project
    code, out, err = run(capsys, root, "plan")
    assert code == 0, err
    assert '+ audience vip  "VIP customers"  (new segment; +150 members, −0 members)' in out
    assert "Plan: 1 to create, 0 to replace, 0 to stop, 1 audience to update." in out

    code, out, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 0, err
    assert "1 audience(s) updated" in out
    assert members_of(sb) == {f"u-{i}" for i in range(150)}
    [segment] = sb.segments()
    [campaign] = sb.campaigns()
    assert campaign["payload"]["segment"] == segment["ct_segment_id"]
    assert campaign["estimates"] == {"web": 150}, "the campaign reaches the members only"
    messages = sb.messages(campaign["id"])
    assert {m["identity"] for m in messages} == {f"u-{i}" for i in range(150)}

    kept = [f"u-{i}" for i in range(10, 150)]
    joined = [f"u-{i}" for i in range(150, 162)]  # u-150 … u-161
    (root / "data" / "vip.csv").write_text(members_csv(kept + joined), encoding="utf-8")
    code, out, err = run(capsys, root, "plan", "--detailed-exitcode")
    assert code == 2, err
    assert '~ audience vip  "VIP customers"  (+12 members, −10 members)' in out
    assert "Plan: 0 to create, 0 to replace, 0 to stop, 1 audience to update." in out
    code, out, _ = run(capsys, root, "plan", "--format", "json")
    [change] = json.loads(out)["changes"]
    assert (change["action"], change["members"]) == (
        "audience",
        {"declared": 152, "add": 12, "remove": 10},
    )

    code, out, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 0, err
    assert members_of(sb) == set(kept + joined)
    assert len(sb.segments()) == 1
    code, out, err = run(capsys, root, "plan", "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes." in out


def test_a_campaign_on_an_applied_audience_is_estimated_from_its_members(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Sandbox]
) -> None:
    root, sb = project
    (root / "campaigns" / "vip-offer.yaml").unlink()
    code, _, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 0, err
    (root / "campaigns" / "vip-offer.yaml").write_text(offer(), encoding="utf-8")

    code, out, err = run(capsys, root, "plan", "--estimate", "--format", "json")
    assert code == 0, err
    [change] = json.loads(out)["changes"]
    assert change["estimate"] == {"email": 150}
    assert len(members_of(sb)) == 150


def test_unknown_members_are_reported_and_planned_again(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Sandbox]
) -> None:
    root, sb = project
    ids = [f"u-{i}" for i in range(5)] + ["ghost-1"]
    (root / "data" / "vip.csv").write_text(members_csv(ids), encoding="utf-8")
    code, _, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 0, err
    assert "1 not in the account (not added, planned again): ghost-1" in err
    assert members_of(sb) == set(ids[:5])
    code, out, _ = run(capsys, root, "plan")
    assert code == 0
    assert "(+1 member, −0 members)" in out


def test_a_campaign_on_an_audience_not_applied_is_not_created(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Sandbox]
) -> None:
    root, sb = project
    code, out, err = run(capsys, root, "apply", "--auto-approve", "--target", "vip-offer")
    assert code == 1, out + err
    assert "audience 'vip' has no segment in this environment yet" in err
    assert sb.campaigns() == []


def test_removing_an_audience_warns_that_its_segment_stays(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Sandbox]
) -> None:
    root, _ = project
    assert run(capsys, root, "apply", "--auto-approve")[0] == 0
    (root / "campaigns" / "vip-offer.yaml").unlink()
    (root / "audiences" / "vip.yaml").unlink()
    code, out, _ = run(capsys, root, "plan")
    assert code == 0
    assert "! vip: no longer declared; its segment" in out
    assert "CleverTap has no API to delete a segment" in out


# --- against a served sandbox ---------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, Sandbox, str]]:
    """A project whose ``served`` environment is a sandbox on loopback, 3000 people in it."""
    sb = Sandbox(db=":memory:", config=SandboxConfig(timezone="Europe/Berlin"))
    sb.config.create_per_second = 0
    people(sb, 3000)
    with LoopbackServer(sb) as server:
        root = write_project(
            tmp_path / "shop",
            {
                **cli_files(**{"vip-offer": offer()}),
                "campaigns/winback.yaml": None,
                "audiences/vip.yaml": AUDIENCE,
                "data/vip.csv": members_csv([f"u-{i}" for i in range(3000)]),
                "ctflow.yaml": (
                    "project: shop\ntimezone: Europe/Berlin\nenvironments:\n"
                    f"  served: {{base_url: {server.base_url}}}\n"
                ),
            },
        )
        yield root, sb, server.base_url
    sb.close()


@pytest.mark.parametrize(
    "fault",
    [{"drop_next": 1}, {"fail_next": [500], "commit_5xx": True}],
    ids=["lost-answer", "500-after-commit"],
)
def test_a_create_segment_whose_answer_was_lost_is_asked_again_never_twice_made(
    capsys: pytest.CaptureFixture[str], served: tuple[Path, Sandbox, str], fault: dict[str, object]
) -> None:
    root, sb, base_url = served
    faults(base_url, paths=["/api/createSegment"], **fault)

    code, out, err = run(capsys, root, "apply", "--env", "served", "--auto-approve")

    assert code == 0, out + err
    [segment] = sb.segments()  # the second create answered with the segment the first made
    assert segment["customer_segment_id"] == "ctflow.shop.vip"
    assert segment["members"] == 3000
    [campaign] = sb.campaigns()
    assert campaign["payload"]["segment"] == segment["ct_segment_id"]


def ctflow(root: Path, *argv: str) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLEVERTAP_")}
    return subprocess.Popen(
        [sys.executable, "-m", "ctflow", "-C", str(root), *argv],
        cwd=root,
        env={**environ, **CREDENTIALS},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_an_apply_killed_among_the_membership_batches_is_finished_by_the_next(
    served: tuple[Path, Sandbox, str],
) -> None:
    root, sb, base_url = served
    (root / "campaigns" / "vip-offer.yaml").unlink()
    faults(base_url, paths=["/api/updateSegment"], latency_ms=150)  # 30 batches: ~5 s

    killed = ctflow(root, "apply", "--env", "served", "--auto-approve")
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, "no member was added within 30 s"
        assert killed.poll() is None, "apply finished before it could be killed"
        found = sb.segments()
        if found and 300 <= found[0]["members"] <= 2400:
            killed.send_signal(signal.SIGKILL)
            killed.communicate(timeout=10)
            break
        time.sleep(0.05)
    time.sleep(0.5)  # a batch in flight when the process died is still answered
    at_kill = sb.segments()[0]["members"]
    assert killed.returncode == -signal.SIGKILL
    assert at_kill < 3000

    faults(base_url, paths=None, latency_ms=0)
    again = ctflow(root, "apply", "--env", "served", "--auto-approve")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, out + err

    assert members_of(sb) == {f"u-{i}" for i in range(3000)}
    assert len(sb.segments()) == 1
    with SqliteJournal.open(root / ".ctflow" / "journal.db") as journal:
        assert len(journal.audience_members("served", "vip")) == 3000
        last, killed_run = journal.runs()[:2]
        [step] = [s for s in journal.steps(last["id"]) if s["action"] == "audience"]
    assert killed_run["outcome"] == "killed"
    # the second run sent what the first had not recorded: at most one batch again
    remaining = 3000 - at_kill
    assert remaining <= step["detail"]["added"] <= remaining + 100
    check = ctflow(root, "plan", "--env", "served", "--detailed-exitcode")
    out, err = check.communicate(timeout=30)
    assert check.returncode == 0, out + err


def test_after_a_sandbox_reset_the_next_apply_makes_the_segment_again(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Sandbox]
) -> None:
    root, sb = project
    assert run(capsys, root, "apply", "--auto-approve")[0] == 0
    code, out, err = run(capsys, root, "sandbox", "reset")
    assert code == 0, err
    assert "Forgot the members of 1 audience(s)" in out
    people(sb, 200)

    code, out, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 0, out + err
    assert "+ audience vip" in out
    assert members_of(sb) == {f"u-{i}" for i in range(150)}


NEWSLETTER = """\
kind: Audience
key: news
name: Newsletter readers
source: custom_list
notify: crm@shop.example
members: ../data/news.csv
"""


def test_a_custom_list_is_uploaded_whole_and_replaced_when_its_members_change(
    capsys: pytest.CaptureFixture[str], project: tuple[Path, Sandbox]
) -> None:
    root, sb = project
    (root / "audiences" / "news.yaml").write_text(NEWSLETTER, encoding="utf-8")
    (root / "data" / "news.csv").write_text(members_csv(["u-1", "u-2", "u-3"]), encoding="utf-8")

    code, out, err = run(capsys, root, "plan")
    assert code == 0, err
    assert (
        '+ audience news  "Newsletter readers"  (custom list, new; +3 members, −0 members)' in out
    )
    assert run(capsys, root, "apply", "--auto-approve")[0] == 0
    [made] = sb.custom_lists()
    assert made["name"] == "Newsletter readers"
    assert sb.segment_members(made["id"]) == {"u-1", "u-2", "u-3"}

    (root / "data" / "news.csv").write_text(members_csv(["u-3", "u-4"]), encoding="utf-8")
    code, out, _ = run(capsys, root, "plan")
    assert '~ audience news  "Newsletter readers"  (custom list; +1 member, −2 members)' in out
    code, out, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 0, out + err
    [replaced] = sb.custom_lists()
    assert replaced["id"] == made["id"], "the same list, replaced"
    assert sb.segment_members(made["id"]) == {"u-3", "u-4"}
    code, out, err = run(capsys, root, "plan", "--detailed-exitcode")
    assert code == 0, out + err

    (root / "audiences" / "news.yaml").unlink()
    code, out, _ = run(capsys, root, "plan")
    assert "! news: no longer declared; the custom list 'Newsletter readers' stays" in out


def test_the_plan_counts_the_audience_calls_and_apply_reports_each_one(
    capsys: pytest.CaptureFixture[str],
    project: tuple[Path, Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, _sb = project
    code, out, err = run(capsys, root, "plan")
    assert code == 0, err
    assert "Applying it makes 4 calls (1 segment create, 2 membership batches, 1 create)" in out
    code, out, _ = run(capsys, root, "plan", "--format", "json")
    planned = {k["kind"]: k["calls"] for k in json.loads(out)["cost"]["by_kind"]}
    assert planned == {"upload": 0, "segment": 1, "members": 2, "stop": 0, "create": 1}

    reported: list[dict[str, int]] = []
    finish = ApplyProgress.finish

    def finished(progress: ApplyProgress) -> None:
        reported.append(dict(progress.done))
        finish(progress)

    monkeypatch.setattr(ApplyProgress, "finish", finished)
    code, out, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 0, err
    assert reported[-1] == {k: n for k, n in planned.items() if n}

    (root / "data" / "vip.csv").write_text(
        members_csv([f"u-{i}" for i in range(1, 151)]), encoding="utf-8"
    )
    code, out, err = run(capsys, root, "plan")
    assert code == 0, err
    assert "Applying it makes 1 call (1 membership batch)" in out
