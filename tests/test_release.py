"""The release: the version every document names is the package's, the changelog has it, and
the release workflow refuses a tag that names another version and runs real ctflow commands."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from ctflow import __version__
from ctflow.cli import cli

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
HOME = "https://github.com/ctflow/ctflow"

# Where a document names a version of ctflow to install or run.
MENTIONS = [
    re.compile(r"github\.com/ctflow/ctflow@v(?P<version>[\w.*-]+)"),  # pip from a tag
    re.compile(r"^[#\s]*rev:\s*v(?P<version>[\w.*-]+)", re.M),  # pre-commit
    re.compile(r"\bctflow(?:\[[\w,]+\])?==(?P<version>[\w.*-]+)"),  # pip from an index
    re.compile(r'"ctflow_version":\s*"(?P<version>[^"]+)"'),  # a printed plan
]


def documents() -> list[Path]:
    found = [ROOT / "README.md", ROOT / ".pre-commit-hooks.yaml"]
    for folder in ("docs", "examples", "ctflow/scaffold"):
        found += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".md", ".yml", ".yaml"}]
    return found


def mentions() -> list[tuple[str, str]]:
    """(file, version) for each version of ctflow a document names."""
    return [
        (path.relative_to(ROOT).as_posix(), match["version"])
        for path in documents()
        for pattern in MENTIONS
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]


def test_every_version_the_documents_name_is_the_package_version() -> None:
    found = mentions()
    major_minor = ".".join(__version__.split(".")[:2])
    wrong = [(f, v) for f, v in found if v not in {__version__, f"{major_minor}.*"}]
    assert wrong == [], f"the package is {__version__}"
    named = {f for f, _ in found}
    # The install and hook instructions people copy: a test without them would prove nothing.
    assert {
        "README.md",
        "docs/workflows/ctflow.yml",
        "docs/github-actions.md",
        "docs/declarations.md",
        ".pre-commit-hooks.yaml",
    } <= named


def test_the_changelog_starts_with_this_version_and_links_it() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert versions[0] == __version__
    assert "0.1.0" in versions
    for version in versions:
        assert re.search(rf"^\[{re.escape(version)}\]: {HOME}/", changelog, re.M), version


# --- the release workflow --------------------------------------------------------------------


@pytest.fixture(scope="module")
def release() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))
    if True in loaded:  # YAML 1.1 reads the bare key `on` as the boolean True
        loaded["on"] = loaded.pop(True)
    return loaded


def build_step(release: dict[Any, Any], name: str) -> dict[str, Any]:
    [found] = [s for s in release["jobs"]["build"]["steps"] if s.get("name") == name]
    return found


def test_it_runs_on_version_tags_only_and_publishes_after_the_build(
    release: dict[Any, Any],
) -> None:
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["jobs"]["publish"]["needs"] == "build"
    runs = [s.get("run", "") for s in release["jobs"]["build"]["steps"]]
    assert "python -m build" in runs
    assert "python -m twine check --strict dist/*" in runs


@pytest.mark.parametrize(("tag", "passes"), [(f"v{__version__}", True), ("v99.0.0", False)])
def test_a_tag_that_names_another_version_stops_the_release(
    release: dict[Any, Any], tmp_path: Path, tag: str, passes: bool
) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    (tmp_path / "dist").mkdir()
    for name in (f"ctflow-{__version__}.tar.gz", f"ctflow-{__version__}-py3-none-any.whl"):
        (tmp_path / "dist" / name).write_bytes(b"")
    script = build_step(release, "Check the tag names the package's version")
    assert script["env"] == {"TAG": "${{ github.ref_name }}"}, "never ${{ }} inside a script"
    ran = subprocess.run(
        [bash, "--noprofile", "--norc", "-e", "-c", script["run"]],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "TAG": tag},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (ran.returncode == 0) is passes, ran.stdout + ran.stderr
    if not passes:
        assert f"the tag {tag} does not name the version built" in ran.stdout


def test_the_wheel_step_runs_ctflow_commands_that_exist(release: dict[Any, Any]) -> None:
    script = build_step(release, "Run the wheel from a fresh virtualenv")["run"]
    commands = [shlex.split(line) for line in script.splitlines() if line.startswith("ctflow ")]
    assert [argv[-2:] for argv in commands if "apply" in argv] == [
        ["apply", "--auto-approve"],
        ["apply", "--auto-approve"],
    ]
    assert any(argv[1:] == ["init", "shop"] for argv in commands)
    assert isinstance(cli, click.Group)
    for argv in commands:
        args = argv[1:]
        if args[0] == "-C":
            args = args[2:]
        command = cli.commands[args[0]]
        try:
            command.make_context(f"ctflow {args[0]}", args[1:])
        except click.UsageError as exc:
            pytest.fail(f"{shlex.join(argv)}: {exc.format_message()}")
    assert 'test "$(ctflow --version)" = "ctflow ${TAG#v}"' in script
