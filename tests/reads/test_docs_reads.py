"""docs/reads.md and the README describe today's read commands: every flag they show after a
command exists on it, every option a read command has is documented, and the JSON keys the
guide tables are the ones a real run prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ctflow import cli
from tests.reads.support import run

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "reads.md"
README = ROOT / "README.md"
COMMANDS = [
    ("campaigns", "list"),
    ("report",),
    ("count",),
    ("export",),
    ("profile", "get"),
    ("profile", "delete"),
]
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-o)\b")


def real_flags(capsys: pytest.CaptureFixture[str], command: tuple[str, ...]) -> set[str]:
    assert cli.run([*command, "--help"], {}) == 0
    return set(FLAG.findall(capsys.readouterr().out)) - {"--help"}


def shown_flags(text: str, command: tuple[str, ...]) -> set[str]:
    """Flags written after ``ctflow COMMAND`` on a line, or on the indented lines that continue
    a synopsis."""
    name = "ctflow " + " ".join(command)
    found: set[str] = set()
    continuing = False
    for line in text.splitlines():
        if re.search(rf"{re.escape(name)}(?![\w-])", line):
            for part in re.split(rf"{re.escape(name)}(?![\w-])", line)[1:]:
                found.update(FLAG.findall(part.split("` | ")[0]))
            continuing = True
        elif continuing and re.match(r"^\s{6,}\[", line):
            found.update(FLAG.findall(line))
        else:
            continuing = False
    return found


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("doc", [GUIDE, README], ids=lambda p: p.name)
def test_every_flag_the_docs_show_exists(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...], doc: Path
) -> None:
    shown = shown_flags(doc.read_text(encoding="utf-8"), command)
    assert shown, f"{doc.name} never shows `ctflow {' '.join(command)}`"
    assert shown - real_flags(capsys, command) == set()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_option_is_documented(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    shown = shown_flags(GUIDE.read_text(encoding="utf-8"), command)
    assert real_flags(capsys, command) - shown == set()


def test_the_campaign_keys_the_guide_tables_are_the_real_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.reads.support import campaign, create, local_sandbox

    sandbox = local_sandbox(tmp_path)
    try:
        create(sandbox, campaign("Flash sale", day=sandbox.clock.now().date()))
    finally:
        sandbox.close()
    code, out, _ = run(capsys, tmp_path, "campaigns", "list", "--format", "json")
    assert code == 0
    [entry] = json.loads(out)["campaigns"]
    section = GUIDE.read_text(encoding="utf-8").split("## `ctflow report", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.M))
    assert documented == entry.keys()
