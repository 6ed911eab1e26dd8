"""``ctflow plan`` and ``ctflow apply`` through ``cli.run``: exit codes (``--detailed-exitcode``,
usage, gates), the Markdown step summary and the JSON format. These run against the project's
file sandbox, ``.ctflow/sandbox.db``, on the real clock, as a user's first commands would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plan.support import cli_files, live, run, write_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, cli_files())


def test_detailed_exitcode_says_whether_there_are_changes(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, out, _ = run(capsys, project, "plan", "--detailed-exitcode")
    assert code == 2
    assert "+ create winback" in out
    assert run(capsys, project, "apply", "--auto-approve")[0] == 0
    code, out, _ = run(capsys, project, "plan", "--detailed-exitcode")
    assert code == 0
    assert "No changes." in out

    (project / "campaigns" / "broken.yaml").write_text("kind: Campaign\nkey: broken\n")
    code, out, err = run(capsys, project, "plan", "--detailed-exitcode")
    assert code == 1, "an error is 1 with --detailed-exitcode, never 2"
    assert "broken.yaml" in err
    assert out == ""
    assert run(capsys, project, "plan")[0] == 3


def test_an_unknown_target_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, out, err = run(capsys, project, "plan", "--target", "nosuch")
    assert code == 64
    assert "'nosuch' names no declared or live campaign of project 'shop'" in err
    assert out == ""


def test_markdown_is_printed_and_appended_to_the_step_summary(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("## Earlier step\n", encoding="utf-8")
    code, out, _ = run(
        capsys, project, "plan", "--format", "markdown", GITHUB_STEP_SUMMARY=str(summary)
    )
    assert code == 0
    assert "winback" in out
    assert "```" in out
    assert summary.read_text(encoding="utf-8") == "## Earlier step\n" + out


def test_json_format_parses_and_lists_the_changes(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, out, _ = run(capsys, project, "plan", "--format", "json")
    assert code == 0
    plan = json.loads(out)
    assert plan["format_version"] == 1
    assert [(c["action"], c["key"]) for c in plan["changes"]] == [("create", "winback")]
    assert "payload" not in plan["changes"][0], "the printed plan leaves the create bodies out"


def test_apply_off_a_terminal_needs_auto_approve(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, _, err = run(capsys, project, "apply")
    assert code == 6
    assert "ctflow apply --auto-approve" in err
    assert live(project) == {}
    assert "started a new journal" not in err, "nothing was applied: no note about it"

    code, _, err = run(capsys, project, "apply", "--auto-approve")
    assert code == 0
    assert err.count("ctflow: started a new journal at ") == 1, "the first apply that acts"
    assert "started a new journal" not in run(capsys, project, "apply", "--auto-approve")[2]


def test_a_saved_plan_with_target_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    assert run(capsys, project, "plan", "--out", str(saved))[0] == 0
    code, _, err = run(capsys, project, "apply", str(saved), "--target", "winback")
    assert code == 64
    assert "a saved plan is fixed" in err
    assert run(capsys, project, "apply", str(saved))[0] == 0
    assert list(live(project)) == ["winback"]


@pytest.mark.parametrize(
    "command",
    [
        ("plan", "--out", "{where}/plan.json"),
        ("export", "profiles", "-o", "{where}/profiles.jsonl"),
        ("upload", "events", "events.jsonl", "--dead-letter", "{where}/rejects.jsonl"),
    ],
    ids=lambda argv: argv[0],
)
def test_an_output_file_that_cannot_be_written_is_exit_1_for_every_command(
    capsys: pytest.CaptureFixture[str], project: Path, command: tuple[str, ...]
) -> None:
    """Not invalid input (3): the declarations and data are fine, the place is not."""
    (project / "afile").write_text("")
    (project / "events.jsonl").write_text('{"identity": "u1"}\n')
    where = project / "afile"
    code, _, err = run(capsys, project, *(a.format(where=where) for a in command))
    assert code == 1, err
    assert "cannot write " in err
    assert "this is a bug" not in err
