"""The GitHub Actions recipe (docs/workflows/ctflow.yml) does what docs/github-actions.md promises:
plan on pull requests without failing on "changes present", apply only from main, one apply at a
time, secrets only where ctflow runs, and every ctflow command line valid for today's CLI.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from ctflow.cli import cli
from ctflow.config import DEFAULT_ACCOUNT_VAR, DEFAULT_PASSCODE_VAR, JOURNAL_URL_VAR, STATE_DIR
from ctflow.journal import JOURNAL_NAME

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "docs" / "workflows" / "ctflow.yml"
GUIDE = ROOT / "docs" / "github-actions.md"
STOPS = {"|", "||", "&&", ";"}


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in loaded:
        loaded["on"] = loaded.pop(True)
    return loaded


def steps(workflow: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = workflow["jobs"][job]["steps"]
    return found


def step(workflow: dict[Any, Any], job: str, name: str) -> dict[str, Any]:
    [found] = [s for s in steps(workflow, job) if s.get("name") == name]
    return found


def runs(workflow: dict[Any, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for each in job["steps"]:
            if "run" in each:
                yield job_id, each


def ctflow_lines(workflow: dict[Any, Any]) -> list[tuple[str, list[str]]]:
    """Every ``ctflow …`` command in a run script, as (job, argv) without redirections."""
    found = []
    for job_id, each in runs(workflow):
        for line in each["run"].splitlines():
            words = shlex.split(line, comments=True)
            if not words or words[0] != "ctflow":
                continue
            argv: list[str] = []
            target = False
            for word in words:
                if word in STOPS:
                    break
                if re.match(r"^\d?(>>?|<)$", word):
                    target = True  # the next word is the file redirected to or from
                elif target or re.match(r"^\d?(>>?|<)", word):
                    target = False
                else:
                    argv.append(word)
            found.append((job_id, argv))
    return found


def evaluate(expression: str, **github: str) -> bool:
    """A GitHub Actions ``if:`` made of ``github.*`` comparisons, ``&&``, ``||`` and ``!``."""
    python = re.sub(r"\$\{\{|\}\}", "", expression)
    python = re.sub(r"github\.(\w+)", lambda m: repr(github[m[1]]), python)
    python = python.replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python)
    result: bool = eval(python, {"__builtins__": {}})
    return result


# --- triggers and jobs -----------------------------------------------------------------------


def test_it_runs_on_pull_requests_and_on_pushes_to_main(workflow: dict[Any, Any]) -> None:
    triggers = workflow["on"]
    assert "pull_request" in triggers
    assert triggers["push"]["branches"] == ["main"]


@pytest.mark.parametrize(
    ("event", "ref", "plans", "applies"),
    [
        ("pull_request", "refs/pull/7/merge", True, False),
        ("push", "refs/heads/main", False, True),
        ("push", "refs/heads/feature", False, False),
        ("workflow_dispatch", "refs/heads/main", False, True),
        ("workflow_dispatch", "refs/heads/feature", False, False),
    ],
)
def test_plan_runs_on_pull_requests_and_apply_only_from_main(
    workflow: dict[Any, Any], event: str, ref: str, plans: bool, applies: bool
) -> None:
    jobs = workflow["jobs"]
    assert evaluate(jobs["plan"]["if"], event_name=event, ref=ref) is plans
    assert evaluate(jobs["apply"]["if"], event_name=event, ref=ref) is applies


def test_applies_run_one_at_a_time_and_are_never_cancelled(workflow: dict[Any, Any]) -> None:
    concurrency = workflow["jobs"]["apply"]["concurrency"]
    assert concurrency == {"group": "ctflow-apply-production", "cancel-in-progress": False}


# --- the ctflow commands ---------------------------------------------------------------------


def test_every_ctflow_command_line_parses_with_the_real_cli(workflow: dict[Any, Any]) -> None:
    lines = ctflow_lines(workflow)
    assert len(lines) >= 4
    for _job, argv in lines:
        name, *args = argv[1:]
        assert isinstance(cli, click.Group)
        command = cli.commands.get(name)
        assert command is not None, f"no command {name!r}: {shlex.join(argv)}"
        try:
            command.make_context(f"ctflow {name}", list(args))
        except click.UsageError as exc:
            pytest.fail(f"{shlex.join(argv)}: {exc.format_message()}")


def test_plan_is_markdown_with_detailed_exit_codes_and_apply_never_asks(
    workflow: dict[Any, Any],
) -> None:
    commands = {(job, argv[1]): argv for job, argv in ctflow_lines(workflow)}
    plan = commands[("plan", "plan")]
    assert plan[plan.index("--format") + 1] == "markdown"
    assert "--detailed-exitcode" in plan
    assert plan[plan.index("--env") + 1] == "production"
    applies = [argv for job, argv in ctflow_lines(workflow) if argv[1] == "apply"]
    assert len(applies) == 2
    assert all(job == "apply" for job, argv in ctflow_lines(workflow) if argv[1] == "apply")
    for argv in applies:
        assert "--auto-approve" in argv
        assert argv[argv.index("--env") + 1] == "production"
    assert sum("--allow-stop" in argv for argv in applies) == 1


# --- the shell around ctflow, run for real with a stand-in ctflow ----------------------------


def run_script(
    script: str, tmp_path: Path, ctflow_exit: int = 0, **env: str
) -> subprocess.CompletedProcess[str]:
    """``script`` as GitHub runs a bash step (``bash -e``), with a ``ctflow`` that prints a
    Markdown plan and a stderr line, then exits ``ctflow_exit``."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "ctflow"
    fake.write_text(
        "#!/bin/sh\necho '### ctflow plan: shop → production'\n"
        f"echo 'ctflow: stand-in error' >&2\nexit {ctflow_exit}\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    (tmp_path / "script.sh").write_text(script, encoding="utf-8")
    return subprocess.run(
        [bash, "--noprofile", "--norc", "-e", "script.sh"],
        cwd=tmp_path,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(("code", "passes"), [(0, True), (2, True), (1, False), (3, False)])
def test_the_plan_step_passes_on_no_changes_and_on_changes_and_fails_otherwise(
    workflow: dict[Any, Any], tmp_path: Path, code: int, passes: bool
) -> None:
    output = tmp_path / "github_output"
    script = step(workflow, "plan", "Plan")["run"]
    ran = run_script(script, tmp_path, ctflow_exit=code, GITHUB_OUTPUT=str(output))
    assert (ran.returncode == 0) is passes, ran.stderr
    assert output.read_text(encoding="utf-8") == f"exitcode={code}\n"
    assert (tmp_path / "plan.md").read_text(encoding="utf-8").startswith("### ctflow plan")
    assert "ctflow: stand-in error" in ran.stderr, "ctflow's messages must reach the job log"


def test_the_comment_is_the_plan_or_says_why_there_is_none(
    workflow: dict[Any, Any], tmp_path: Path
) -> None:
    script = step(workflow, "plan", "Write the comment")["run"]
    url = "https://github.com/o/r/actions/runs/1"
    (tmp_path / "plan.md").write_text("### ctflow plan: shop → production\n", encoding="utf-8")
    (tmp_path / "plan.err").write_text("ctflow: CleverTap unavailable\n", encoding="utf-8")
    (tmp_path / "validate.txt").write_text("a.yaml:3:1: bad\n", encoding="utf-8")
    comment = tmp_path / "comment.md"

    assert run_script(script, tmp_path, PLAN_EXIT="2", RUN_URL=url).returncode == 0
    assert comment.read_text(encoding="utf-8") == "### ctflow plan: shop → production\n"

    assert run_script(script, tmp_path, PLAN_EXIT="1", RUN_URL=url).returncode == 0
    failed = comment.read_text(encoding="utf-8")
    assert "ctflow plan failed (exit 1)" in failed
    assert "CleverTap unavailable" in failed
    assert url in failed

    assert run_script(script, tmp_path, PLAN_EXIT="", RUN_URL=url).returncode == 0
    skipped = comment.read_text(encoding="utf-8")
    assert "did not run" in skipped
    assert "a.yaml:3:1: bad" in skipped


def test_the_comment_is_posted_even_when_the_plan_failed(workflow: dict[Any, Any]) -> None:
    names = [s.get("name") for s in steps(workflow, "plan")]
    assert names.index("Plan") < names.index("Write the comment")
    for name in ("Write the comment", "Comment on the pull request"):
        assert step(workflow, "plan", name)["if"] == "${{ !cancelled() }}"
    assert workflow["jobs"]["plan"]["permissions"]["pull-requests"] == "write"


# --- secrets and the journal -----------------------------------------------------------------


def test_secrets_reach_only_the_steps_that_run_ctflow_against_clevertap(
    workflow: dict[Any, Any],
) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert not re.search(r"echo[^\n]*\$\{\{\s*secrets", text)
    for job_id, job in workflow["jobs"].items():
        assert "secrets" not in str(job.get("env", "")), f"{job_id}: secrets in the job's env"
        for each in job["steps"]:
            assert "secrets" not in each.get("run", ""), f"{job_id}: a script reads a secret"
            assert "secrets" not in str(each.get("with", "")), f"{job_id}: an action gets one"
            env = each.get("env", {})
            if any("secrets" in str(v) for v in env.values()):
                assert re.search(r"^ctflow (plan|apply) ", each["run"], re.M), each["run"]
                assert env == {
                    DEFAULT_ACCOUNT_VAR: "${{ secrets.CLEVERTAP_ACCOUNT_ID }}",
                    DEFAULT_PASSCODE_VAR: "${{ secrets.CLEVERTAP_PASSCODE }}",
                    JOURNAL_URL_VAR: "${{ secrets.CTFLOW_JOURNAL_URL }}",
                }


def test_applies_save_the_journal_and_every_run_restores_the_latest(
    workflow: dict[Any, Any],
) -> None:
    journal = f"{STATE_DIR}/{JOURNAL_NAME}"
    caches = {
        (job, each["uses"].split("@")[0]): each["with"]
        for job, j in workflow["jobs"].items()
        for each in j["steps"]
        if each.get("uses", "").startswith("actions/cache")
    }
    assert set(caches) == {
        ("plan", "actions/cache/restore"),
        ("apply", "actions/cache/restore"),
        ("apply", "actions/cache/save"),
    }, "pull requests restore the journal but never save one"
    saved = caches[("apply", "actions/cache/save")]
    assert saved["path"] == journal
    assert "${{ github.run_id }}" in saved["key"], "cache keys are immutable: one per run"
    for job in ("plan", "apply"):
        restored = caches[(job, "actions/cache/restore")]
        assert restored["path"] == journal
        assert saved["key"].startswith(restored["restore-keys"])
    [save_step] = [s for s in steps(workflow, "apply") if "cache/save" in s.get("uses", "")]
    assert save_step["if"].startswith("${{ always()"), "a failed apply's journal is kept too"


def test_the_guide_shows_the_workflow_file_verbatim() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    # Four backticks: the workflow's own scripts print ``` lines.
    blocks = re.findall(r"^````yaml\n(.*?)^````$", guide, flags=re.S | re.M)
    assert WORKFLOW.read_text(encoding="utf-8") in blocks
    assert "(workflows/ctflow.yml)" in guide
