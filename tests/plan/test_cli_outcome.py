"""``ctflow apply --format json``, ``ctflow stop --all --format json``, the apply outcome in
``$GITHUB_STEP_SUMMARY`` and ``ctflow show`` of a saved plan, all through ``cli.run``: against the
project's file sandbox, or a sandbox served on loopback whose faults the test sets over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctflow.plan.render_markdown import TOO_LONG
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox, SandboxConfig
from tests.contract.support import LoopbackServer
from tests.plan.support import (
    DATASET,
    FILES,
    charges,
    cli_files,
    faults,
    live,
    live_by_key,
    push,
    real_future,
    run,
    write_project,
)

ROWS = 1500


def by_key(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {change["key"]: change for change in document["changes"]}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {
        **cli_files(
            winback=push("winback", name="We miss you", schedule=real_future()),
            promo=push("promo", name="Promo", schedule=real_future("01-06 10:00")),
        ),
        "datasets/charges.yaml": DATASET,
        "data/charges.jsonl": charges(ROWS),
    }
    return write_project(tmp_path / "shop", files)


def test_apply_json_is_one_document_of_what_became_of_each_change(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, out, err = run(capsys, project, "apply", "--auto-approve", "--format", "json")

    assert code == 0, err
    outcome = json.loads(out)  # the whole of stdout, nothing else on it
    assert outcome["format_version"] == 1
    assert (outcome["command"], outcome["project"], outcome["environment"]) == (
        "apply",
        "shop",
        "sandbox",
    )
    assert (outcome["ok"], outcome["exit_code"]) == (True, 0)
    changes = by_key(outcome)
    assert sorted(changes) == ["charges-2026", "promo", "winback"]
    campaigns = live(project)
    for key in ("winback", "promo"):
        assert changes[key]["outcome"] == "done"
        assert changes[key]["created"] == [campaigns[key][0]["id"]], "the id that went live"
    upload = changes["charges-2026"]
    assert (upload["action"], upload["outcome"]) == ("upload", "done")
    assert upload["upload"]["accepted"] == ROWS
    assert upload["upload"]["batches_sent"] == 2, "1,500 rows go up in 2 batches of 1,000"
    summary = outcome["summary"]
    assert {k: summary[k] for k in ("done", "failed", "created", "uploaded")} == {
        "done": 3,
        "failed": 0,
        "created": 2,
        "uploaded": 1,
    }
    assert "Plan: 2 to create" in err, "the text plan went to stderr"
    assert "Apply complete: 2 created" in err

    code, out, _ = run(capsys, project, "apply", "--auto-approve", "--format", "json")
    assert code == 0
    again = json.loads(out)
    assert (again["changes"], again["summary"]["text"]) == ([], "No changes.")


def test_apply_appends_its_outcome_to_the_step_summary(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("## Earlier step\n", encoding="utf-8")

    code, out, err = run(
        capsys, project, "apply", "--auto-approve", GITHUB_STEP_SUMMARY=str(summary)
    )

    assert code == 0, err
    assert "Apply complete" in out, "text output is unchanged"
    ids = {key: copies[0]["id"] for key, copies in live(project).items()}
    assert summary.read_text(encoding="utf-8") == (
        "## Earlier step\n"
        "### ctflow apply: shop → sandbox\n\n"
        "**Apply complete: 2 created, 0 adopted, 0 stopped, 1 dataset(s) uploaded.**\n\n"
        "| outcome | action | key | detail |\n"
        "|---|---|---|---|\n"
        f"| ✓ done | create | `promo` | created {ids['promo']} |\n"
        f"| ✓ done | create | `winback` | created {ids['winback']} |\n"
        "| ✓ done | upload | `charges-2026` | sent 1,500 of 1,500 rows |\n"
    )


def test_stop_all_json_lists_the_ids_it_stopped(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    assert run(capsys, project, "apply", "--auto-approve")[0] == 0
    ids = {key: copies[0]["id"] for key, copies in live(project).items()}

    code, out, err = run(capsys, project, "stop", "--all", "--auto-approve", "--format", "json")

    assert code == 0, err
    outcome = json.loads(out)
    assert outcome["command"] == "stop --all"
    assert {key: c["stopped"] for key, c in by_key(outcome).items()} == {
        key: [campaign] for key, campaign in ids.items()
    }
    assert {c["outcome"] for c in outcome["changes"]} == {"done"}
    assert outcome["summary"]["stopped"] == 2
    assert "Stopped 2 of 2 campaign(s)." in err
    assert live(project) == {}, "nothing of the project is pending or running"

    code, out, _ = run(capsys, project, "stop", "--all", "--auto-approve", "--format", "json")
    assert code == 0
    assert json.loads(out)["changes"] == []


# --- against a served sandbox, with faults ------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, Sandbox, str]]:
    """A project whose ``served`` environment is a sandbox on loopback (real clock)."""
    # the account's timezone is the project's: in another one "today" differs near midnight
    sb = Sandbox(db=":memory:", config=SandboxConfig(timezone="Europe/Berlin"))
    sb.config.create_per_second = 0
    with LoopbackServer(sb) as server:
        root = write_project(
            tmp_path / "shop",
            {
                **cli_files(
                    winback=push("winback", name="We miss you", schedule=real_future()),
                    promo=push("promo", name="Promo", schedule=real_future("01-06 10:00")),
                ),
                "ctflow.yaml": (
                    "project: shop\ntimezone: Europe/Berlin\nenvironments:\n"
                    f"  served: {{base_url: {server.base_url}}}\n"
                ),
            },
        )
        yield root, sb, server.base_url
    sb.close()


CREDENTIALS = {"CLEVERTAP_ACCOUNT_ID": DEFAULT_ACCOUNT_ID, "CLEVERTAP_PASSCODE": DEFAULT_PASSCODE}


def test_a_create_whose_answer_was_lost_is_reported_adopted(
    capsys: pytest.CaptureFixture[str], served: tuple[Path, Sandbox, str]
) -> None:
    root, sb, base_url = served
    # the first create is processed, then answered 500: ctflow lists and finds it
    faults(base_url, paths=["/1/targets/create.json"], fail_next=[500], commit_5xx=True)

    code, out, err = run(
        capsys,
        root,
        "apply",
        "--env",
        "served",
        "--auto-approve",
        "--format",
        "json",
        **CREDENTIALS,
    )

    assert code == 0, err
    changes = by_key(json.loads(out))
    [adopted] = [c for c in changes.values() if c["adopted"]]
    [created] = [c for c in changes.values() if c["created"]]
    assert (adopted["outcome"], adopted["created"]) == ("done", [])
    assert created["outcome"] == "done"
    live = live_by_key(sb.campaigns())
    assert adopted["adopted"] == [live[adopted["key"]][0]["id"]]
    assert len(sb.campaigns()) == 2, "nothing was created twice"


def test_a_failed_create_is_reported_with_its_error_and_exit_code(
    capsys: pytest.CaptureFixture[str], served: tuple[Path, Sandbox, str], tmp_path: Path
) -> None:
    root, sb, base_url = served
    (root / "campaigns" / "promo.yaml").unlink()
    # three unanswered creates in a row, none processed: ctflow gives winback up
    faults(base_url, paths=["/1/targets/create.json"], fail_next=[503, 503, 503])
    summary = tmp_path / "step-summary.md"

    code, out, err = run(
        capsys,
        root,
        "apply",
        "--env",
        "served",
        "--auto-approve",
        "--format",
        "json",
        GITHUB_STEP_SUMMARY=str(summary),
        **CREDENTIALS,
    )

    outcome = json.loads(out)
    assert code == 5, err
    assert (outcome["ok"], outcome["exit_code"]) == (False, 5)
    [failed] = outcome["changes"]
    assert (failed["key"], failed["outcome"], failed["created"]) == ("winback", "failed", [])
    assert failed["errors"] == [
        {
            "message": "3 creates went unanswered and none was found by listing",
            "exit_code": 5,
        }
    ]
    assert outcome["summary"]["failed"] == 1
    assert sb.campaigns() == []
    assert outcome["summary"]["text"].startswith("Apply incomplete")
    shown = summary.read_text(encoding="utf-8")
    assert f"| ✗ failed | create | `{failed['key']}` |" in shown
    assert "none was found by listing" in shown
    assert DEFAULT_PASSCODE not in out + err + shown


def test_a_gated_apply_prints_no_document_and_exits_6(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    """An error before any change is the documented exit code and a message on stderr, as
    with `plan --format json`: stdout stays empty."""
    code, out, err = run(capsys, project, "apply", "--format", "json")
    assert (code, out) == (6, "")
    assert "ctflow apply --auto-approve" in err


# --- show ---------------------------------------------------------------------------------------


def test_show_renders_a_saved_plan_in_each_format_without_contacting_anything(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    printed = {}
    for fmt in ("text", "markdown", "json"):
        code, printed[fmt], err = run(capsys, project, "plan", "--format", fmt, "--out", str(saved))
        assert code == 0, err
    # elsewhere: no ctflow.yaml, no sandbox, no journal, no credentials, and a production
    # environment in CI (which would refuse to run without credentials)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for fmt in ("text", "markdown", "json"):
        code, out, err = run(
            capsys, elsewhere, "show", str(saved), "--format", fmt, CI="true", CTFLOW_ENV="prod"
        )
        assert code == 0, err
        assert out == printed[fmt]
    assert sorted(p.name for p in elsewhere.iterdir()) == [], "it made no sandbox or journal"
    keys = [c["key"] for c in json.loads(printed["json"])["changes"]]
    assert sorted(keys) == ["charges-2026", "promo", "winback"]


def test_show_masks_the_projects_secret_variables_as_plan_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    secret = "sk_live_SECRET999"
    files = {
        **cli_files(),
        "ctflow.yaml": f"{FILES['ctflow.yaml']}variables:\n  api_token: {secret}\n",
    }
    promo = push("promo", name="Promo", title="Token [[ vars.api_token ]]", schedule=real_future())
    root = write_project(tmp_path / "shop", {**files, "campaigns/promo.yaml": promo})
    saved = tmp_path / "plan.json"
    code, planned, err = run(capsys, root, "plan", "--out", str(saved))
    assert code == 0, err
    assert secret in saved.read_text("utf-8"), "the saved plan carries the body apply sends"
    assert secret not in planned
    for fmt in ("text", "markdown", "json"):
        code, out, err = run(capsys, root, "show", str(saved), "--format", fmt)
        assert code == 0, err
        assert secret not in out
        assert "***" in out


def test_show_of_a_file_that_is_not_a_plan_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text('{"changes": []}', encoding="utf-8")
    code, out, err = run(capsys, tmp_path, "show", str(bad))
    assert (code, out) == (64, "")
    assert f"{bad}: not a ctflow plan (no format_version)" in err
    code, _, err = run(capsys, tmp_path, "show", str(tmp_path / "missing.json"))
    assert code == 64
    assert "cannot read the plan" in err


# --- the plan's step summary --------------------------------------------------------------------


def test_the_step_summary_gets_the_full_plan_when_the_comment_gets_the_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    many = "---\n".join(
        push(f"promo-{i:03}", name=f"Promo {i}", title=f"Offer {i}", schedule=real_future())
        for i in range(150)
    )
    root = write_project(tmp_path / "shop", {**cli_files(), "campaigns/many.yaml": many})
    summary = tmp_path / "step-summary.md"

    code, out, err = run(
        capsys, root, "plan", "--format", "markdown", GITHUB_STEP_SUMMARY=str(summary)
    )

    assert code == 0, err
    assert len(out) <= 65_000, "the printed plan still fits in a comment"
    assert TOO_LONG in out, "the comment gets the table"
    full = summary.read_text(encoding="utf-8")
    assert TOO_LONG not in full
    assert len(full) > 65_000
    for i in range(150):
        assert f'+ content.title: "Offer {i}"' in full, "every field diff is in the summary"


def test_ctrl_c_among_the_campaigns_still_prints_the_document_of_what_was_done(
    capsys: pytest.CaptureFixture[str],
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CI reads the JSON even when the run was stopped: the create made before Ctrl-C is done,
    the one after is not attempted, and the step summary says so too (exit 130)."""
    from ctflow.clevertap import client as clientmod

    real = clientmod.CleverTap.create_campaign
    made = {"n": 0}
    first_answered = asyncio.Event()

    async def second_is_interrupted(self: clientmod.CleverTap, payload: Any) -> Any:
        made["n"] += 1
        if made["n"] == 2:  # once the first is made, Ctrl-C as a terminal sends it
            await first_answered.wait()
            signal.raise_signal(signal.SIGINT)
            await asyncio.sleep(30)
        created = await real(self, payload)
        first_answered.set()
        return created

    monkeypatch.setattr(clientmod.CleverTap, "create_campaign", second_is_interrupted)
    summary = tmp_path / "step-summary.md"
    code, out, err = run(
        capsys,
        project,
        "apply",
        "--auto-approve",
        "--format",
        "json",
        GITHUB_STEP_SUMMARY=str(summary),
    )

    assert code == 130, err
    assert "interrupted after 0 of 0 audience(s), 0 stop(s) and 1 create(s)" in err
    outcome = json.loads(out)
    assert (outcome["ok"], outcome["exit_code"]) == (False, 130)
    changes = by_key(outcome)
    done = [key for key in ("promo", "winback") if changes[key]["outcome"] == "done"]
    assert len(done) == 1, changes
    (left,) = {"promo", "winback"} - set(done)
    assert changes[done[0]]["created"] == [live(project)[done[0]][0]["id"]]
    assert changes[left]["outcome"] == "not_attempted"
    assert changes[left]["why"].startswith("interrupted before it was recorded")
    assert changes["charges-2026"]["outcome"] == "done", "the datasets went up first"
    assert outcome["summary"]["text"] == (
        "Apply interrupted after 0 of 0 audience(s), 0 stop(s) and 1 create(s)."
    )
    assert left not in live(project)
    markdown = summary.read_text(encoding="utf-8")
    assert "**Apply interrupted after 0 of 0 audience(s)" in markdown
    assert f"| · not attempted | create | `{left}` |" in markdown
