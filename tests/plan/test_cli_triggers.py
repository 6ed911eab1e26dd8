"""``ctflow plan`` compares the triggers' rendered messages with a git revision, end to end
through ``cli.run``: a temporary git repository holding a small project in a subdirectory, the
default base (``HEAD``, or ``origin/$GITHUB_BASE_REF``), ``--base``, and the cases where no
comparison can be made (a note on stderr, never an error)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ctflow import cli
from tests.send.support import write_project

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "ctflow tests",
    "GIT_AUTHOR_EMAIL": "tests@ctflow.invalid",
    "GIT_COMMITTER_NAME": "ctflow tests",
    "GIT_COMMITTER_EMAIL": "tests@ctflow.invalid",
}
SUBJECT = 'subject: "Order [[ order_id ]] is on its way"'
NEW_SUBJECT = 'subject: "Order [[ order_id ]] has shipped"'
OTP = """\
kind: Trigger
key: otp
type: identity
channel: sms
parameters:
  type: object
  required: [code]
  properties:
    code: {type: string}
content:
  body: "Your code is [[ code ]]"
fixtures:
  - name: login
    data: {code: "482913"}
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        check=True,
        capture_output=True,
        timeout=60,
        env={**os.environ, **GIT_ENV},
    )


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with the project committed in ``shop/`` (and ``.ctflow/`` ignored)."""
    root = tmp_path / "repo"
    write_project(root / "shop")
    (root / ".gitignore").write_text(".ctflow/\n", encoding="utf-8")
    git(root, "init", "-q")
    commit(root, "the project")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def plan(
    capsys: pytest.CaptureFixture[str], project: Path, *argv: str, **environ: str
) -> tuple[int, str, str]:
    code = cli.run(["-C", str(project), "plan", *argv], environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_uncommitted_template_edit_shows_as_a_diff_of_what_users_read(
    capsys: pytest.CaptureFixture[str], repo: Path
) -> None:
    project = repo / "shop"
    edit(project / "triggers" / "shipped.yaml", SUBJECT, NEW_SUBJECT)
    code, out, err = plan(capsys, project)
    assert code == 0, err
    start = out.index("Triggers (")
    assert out[start:].splitlines()[:12] == [
        "Triggers (rendered with their fixtures; compared with HEAD)",
        "  ~ trigger order-shipped  (1 of 1 fixture renders differently)",
        "      fixture two-items:",
        "          --- order-shipped two-items (HEAD)",
        "          +++ order-shipped two-items (working tree)",
        "          @@ -1,5 +1,5 @@",
        "           POST /1/send/email.json",
        '           to.Identity: ["<recipient>"]',
        '          -content.subject: "Order SO-1001 is on its way"',
        '          +content.subject: "Order SO-1001 has shipped"',
        "           content.body:",
        "             | <p>Hello {{ Profile.Name }},</p>",
    ]
    assert "payment-failed" not in out, "an unchanged trigger is not listed"
    assert out.splitlines()[-1] == "No changes. The live campaigns match the declarations."
    assert "triggers not compared" not in err


def test_trigger_changes_never_make_detailed_exitcode_exit_2(
    capsys: pytest.CaptureFixture[str], repo: Path
) -> None:
    project = repo / "shop"
    edit(project / "triggers" / "shipped.yaml", SUBJECT, NEW_SUBJECT)
    code, out, _ = plan(capsys, project, "--detailed-exitcode")
    assert code == 0
    assert "~ trigger order-shipped" in out


def test_a_pull_request_compares_with_its_base_branch(
    capsys: pytest.CaptureFixture[str], repo: Path
) -> None:
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    project = repo / "shop"
    edit(project / "triggers" / "shipped.yaml", SUBJECT, NEW_SUBJECT)
    (project / "triggers" / "otp.yaml").write_text(OTP, encoding="utf-8")
    (project / "triggers" / "payment.yaml").unlink()
    commit(repo, "the pull request")

    code, out, err = plan(capsys, project, GITHUB_BASE_REF="main")
    assert code == 0, err
    lines = out.splitlines()
    assert "Triggers (rendered with their fixtures; compared with origin/main)" in lines
    assert "  + trigger otp  (new since origin/main)" in lines
    assert "  - trigger payment-failed  (removed since origin/main)" in lines
    assert "          +++ order-shipped two-items (working tree)" in lines
    assert '          +content.subject: "Order SO-1001 has shipped"' in lines

    code, out, err = plan(capsys, project, "--base", "HEAD", GITHUB_BASE_REF="main")
    assert code == 0, "--base wins"
    assert "Triggers" not in out, "--base wins"
    assert err.count("\n") == 1, "--base wins"
    code, out, _ = plan(capsys, project, "--base", "HEAD~1")
    assert "  + trigger otp  (new since HEAD~1)" in out.splitlines()


def test_json_and_markdown_carry_the_trigger_changes(
    capsys: pytest.CaptureFixture[str], repo: Path
) -> None:
    project = repo / "shop"
    edit(project / "triggers" / "shipped.yaml", SUBJECT, NEW_SUBJECT)
    code, out, _ = plan(capsys, project, "--format", "json")
    assert code == 0
    triggers = json.loads(out)["triggers"]
    assert triggers["base"] == "HEAD"
    assert triggers["unchanged"] == ["payment-failed"]
    [change] = triggers["changes"]
    assert (change["key"], change["status"], change["total"]) == ("order-shipped", "changed", 1)
    assert '+content.subject: "Order SO-1001 has shipped"' in change["fixtures"][0]["diff"]
    code, out, _ = plan(capsys, project, "--format", "markdown")
    assert code == 0
    assert (
        "<details><summary><code>~</code> trigger <code>order-shipped</code> "
        "(1 of 1 fixture renders differently)</summary>"
    ) in out
    assert '\n+content.subject: "Order SO-1001 has shipped"\n' in out


def test_a_project_variable_changes_every_trigger_that_uses_it(
    capsys: pytest.CaptureFixture[str], repo: Path
) -> None:
    project = repo / "shop"
    edit(project / "ctflow.yaml", "  brand: Shop", "  brand: Shop & Co")
    code, out, err = plan(capsys, project)
    assert code == 0, err
    assert '          -content.sender_name: "Shop"' in out.splitlines()
    assert '          +content.sender_name: "Shop & Co"' in out.splitlines()


def test_outside_git_there_is_no_section_and_a_note_only_when_a_base_was_asked_for(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = write_project(tmp_path / "shop")
    code, out, err = plan(capsys, project, "--detailed-exitcode")
    assert code == 0
    assert "Triggers" not in out
    assert "triggers" not in err  # the default, HEAD: a project outside git is no news
    code, out, err = plan(capsys, project, "--base", "HEAD")
    assert code == 0
    assert "Triggers" not in out
    [note] = [line for line in err.splitlines() if "triggers" in line]
    assert note.startswith(f"ctflow: triggers not compared with HEAD: {project} is not in a git")


@pytest.mark.parametrize(
    ("base", "why"),
    [
        ("no-such-branch", "git cannot read the revision 'no-such-branch'"),
        ("HEAD~5", "git cannot read the revision 'HEAD~5'"),
    ],
)
def test_an_unreadable_revision_is_a_note(
    capsys: pytest.CaptureFixture[str], repo: Path, base: str, why: str
) -> None:
    code, out, err = plan(capsys, repo / "shop", "--base", base)
    assert code == 0
    assert "Triggers" not in out
    assert f"ctflow: triggers not compared with {base}: {why}" in err


def test_a_base_without_the_project_or_with_broken_declarations_is_a_note(
    capsys: pytest.CaptureFixture[str], repo: Path
) -> None:
    git(repo, "mv", "shop", "store")
    commit(repo, "renamed")
    write_project(repo / "shop")
    code, out, err = plan(capsys, repo / "shop")
    assert code == 0
    assert "Triggers" not in out
    assert "ctflow: triggers not compared with HEAD: shop is not in HEAD" in err

    edit(repo / "store" / "triggers" / "shipped.yaml", "kind: Trigger", "kind: Trigger\nkind: x")
    commit(repo, "broken")
    write_project(repo / "store")
    code, out, err = plan(capsys, repo / "store")
    assert code == 0
    assert "Triggers" not in out
    assert "ctflow: triggers not compared with HEAD: the declarations at HEAD do not load" in err


def test_a_project_without_triggers_outside_git_says_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "empty"
    project.mkdir()
    (project / "ctflow.yaml").write_text("project: shop\ntimezone: UTC\n", encoding="utf-8")
    code, _, err = plan(capsys, project)
    assert code == 0
    assert "triggers" not in err
