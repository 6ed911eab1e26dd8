"""What an editor shows, asked of yaml-language-server itself (the checker of VS Code's YAML
extension): every document of every example is checked, in a copy of the example made outside
the repository, and the settings `ctflow init` writes check files that carry no modeline."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctflow import cli
from tests.yamlls import VERSION, LanguageServer, find_server

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "journeys"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=.*\n", flags=re.M)


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    """The example project as a reader copies it: out of the repository."""
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".ctflow"))
    return project


@pytest.fixture
def server(copied: Path) -> Iterator[LanguageServer]:
    running = LanguageServer(find_server(), copied, {"yaml": {"validate": True}})
    try:
        yield running
    finally:
        running.close()


def documents(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n---\n")


def messages(found: list[dict[str, object]]) -> list[tuple[int, object]]:
    """(line, message) of each diagnostic; lines counted from 0 as LSP counts them."""
    return [(d["range"]["start"]["line"], d["message"]) for d in found]  # type: ignore[index]


@pytest.mark.slow
def test_a_typo_in_the_second_document_of_a_copied_example_is_flagged(
    copied: Path, server: LanguageServer
) -> None:
    path = copied / "campaigns" / "winback.yaml"
    first, second = documents(path)
    lines = second.splitlines()
    at = next(n for n, text in enumerate(lines) if text.startswith("labels:"))
    lines[at] = lines[at].replace("labels:", "lables:")
    path.write_text(first + "\n---\n" + "\n".join(lines) + "\n", "utf-8")
    line = len(first.splitlines()) + 1 + at  # counted from 0, past the first document and ---
    assert messages(server.open(path)) == [(line, "Property lables is not allowed.")]


@pytest.mark.slow
def test_every_example_document_is_valid_and_checked(copied: Path, server: LanguageServer) -> None:
    files = sorted(p for p in copied.rglob("*.yaml") if ".vscode" not in p.parts)
    checked = 0
    for path in files:
        assert messages(server.open(path)) == [], path
        parts = documents(path)
        broken = [MODELINE.sub(lambda m: f"{m[0]}not_a_field: 1\n", part, 1) for part in parts]
        typo = path.with_name(f"typo-{path.name}")  # a new file: each path is opened once
        typo.write_text("\n---\n".join(broken), "utf-8")
        lines = [
            number
            for number, text in enumerate(typo.read_text("utf-8").splitlines())
            if text == "not_a_field: 1"
        ]
        assert len(lines) == len(parts), path
        found = messages(server.open(typo))
        assert found == [(n, "Property not_a_field is not allowed.") for n in lines], path
        checked += len(parts)
    assert checked >= 21


@pytest.mark.slow
def test_the_settings_init_writes_check_documents_without_a_modeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "shop"
    assert cli.run(["init", str(project)], {}) == 0
    capsys.readouterr()
    for path in project.rglob("*.yaml"):
        path.write_text(MODELINE.sub("", path.read_text("utf-8")), "utf-8")
    settings = json.loads((project / ".vscode" / "settings.json").read_text("utf-8"))
    events = project / "tracking" / "events.yaml"
    first, second = documents(events)
    events.write_text(f"{first}\n---\nvresion: 1\n{second}", "utf-8")
    line = len(first.splitlines()) + 1

    running = LanguageServer(
        find_server(), project, {"yaml": {"validate": True, "schemas": settings["yaml.schemas"]}}
    )
    try:
        assert messages(running.open(events)) == [(line, "Property vresion is not allowed.")]
        assert messages(running.open(project / "campaigns" / "welcome.yaml")) == []
        assert messages(running.open(project / "ctflow.yaml")) == []
    finally:
        running.close()


def test_ci_installs_the_version_the_tests_are_written_for() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"YAMLLS_VERSION={VERSION}\n" in ci
    assert '"yaml-language-server@$YAMLLS_VERSION"' in ci
