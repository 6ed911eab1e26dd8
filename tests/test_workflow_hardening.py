"""The GitHub Actions workflows ctflow ships (the users' recipe in docs/workflows/ and its own
release workflow) pin every action by commit SHA, keep no credentials in a checkout and give
each job only the permissions it needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted(
    [*(ROOT / "docs" / "workflows").glob("*.yml"), *(ROOT / ".github" / "workflows").glob("*.yml")]
)
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<rest>.*)$")
PINNED = re.compile(
    r"(?P<action>[\w.-]+/[\w.-]+(?:/[\w.-]+)*)@(?P<sha>[0-9a-f]{40}) # (?P<v>v\d+\.\d+\.\d+)"
)


def load(path: Path) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def action_steps(path: Path) -> list[tuple[str, dict[str, Any]]]:
    return [
        (job_id, step)
        for job_id, job in load(path)["jobs"].items()
        for step in job.get("steps", [])
        if "uses" in step
    ]


def pins(path: Path) -> list[re.Match[str]]:
    """Each ``uses:`` line of the file as written (the version comment is not YAML's)."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        uses = USES.match(line)
        if uses is None:
            continue
        pinned = PINNED.fullmatch(uses["rest"].strip())
        assert pinned, f"{path.name}:{number}: not pinned as OWNER/REPO@<40-hex SHA> # vX.Y.Z"
        found.append(pinned)
    return found


def test_both_workflows_are_checked() -> None:
    assert {p.relative_to(ROOT).as_posix() for p in WORKFLOWS} >= {
        "docs/workflows/ctflow.yml",
        ".github/workflows/release.yml",
    }


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha_with_its_version(path: Path) -> None:
    written = pins(path)
    used = [step["uses"] for _job, step in action_steps(path)]
    assert [m[0].split(" #")[0] for m in written] == used, "a uses: the line check did not see"
    assert used


def test_one_version_of_an_action_is_one_commit_everywhere() -> None:
    by_version: dict[tuple[str, str], set[str]] = {}
    by_sha: dict[tuple[str, str], set[str]] = {}
    for path in WORKFLOWS:
        for pinned in pins(path):
            repo = "/".join(pinned["action"].split("/")[:2])
            by_version.setdefault((repo, pinned["v"]), set()).add(pinned["sha"])
            by_sha.setdefault((repo, pinned["sha"]), set()).add(pinned["v"])
    assert all(len(shas) == 1 for shas in by_version.values()), by_version
    assert all(len(versions) == 1 for versions in by_sha.values()), by_sha


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_checkout_keeps_no_credentials(path: Path) -> None:
    checkouts = [s for _job, s in action_steps(path) if s["uses"].startswith("actions/checkout@")]
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, step


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_nothing_is_granted_by_default_and_every_job_says_what_it_needs(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}
    for job_id, job in workflow["jobs"].items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{path.name}: job {job_id} declares no permissions"
        assert set(granted.values()) <= {"read", "write"}, granted
        assert granted.get("contents") != "write", f"{job_id} may not push"


def test_only_the_publish_job_gets_an_identity_token_and_only_in_the_pypi_environment() -> None:
    holders = {
        (path.name, job_id)
        for path in WORKFLOWS
        for job_id, job in load(path)["jobs"].items()
        if job["permissions"].get("id-token") == "write"
    }
    assert holders == {("release.yml", "publish")}
    publish = load(ROOT / ".github" / "workflows" / "release.yml")["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [step["uses"].split("@")[0] for step in publish["steps"]]
    assert uses == ["actions/download-artifact", "pypa/gh-action-pypi-publish"], (
        "the job holding the token runs no code of the repository"
    )


def test_dependabot_proposes_updates_of_the_pinned_actions_as_the_guide_says() -> None:
    config = load(ROOT / ".github" / "dependabot.yml")
    assert config["updates"] == [
        {
            "package-ecosystem": "github-actions",
            "directory": "/",
            "schedule": {"interval": "weekly"},
        }
    ]
    guide = (ROOT / "docs" / "github-actions.md").read_text(encoding="utf-8")
    shown = [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```$", guide, re.S | re.M)]
    assert config in shown
