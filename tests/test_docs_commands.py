"""Every ``$ ctflow …`` command the pages of docs/ show runs as written against the sandbox.

Each page replays its commands in order, through ``cli.run``, in a fresh copy of the example
project (the copy the pages start from): a command exits 0, or with the code the page shows
after it (``$ echo $?``), or with the code :data:`FAILS` gives for an example of an error, and
an example of an error prints the lines the page shows. A ``$ cat FILE`` with the file's text
under it writes that file first, as the reader would have. A command for another environment
runs against the sandbox instead (its ``echo $?`` is that environment's, not checked). What
cannot run at all (a file the page does not give, an id of the run the page shows) is listed in
:data:`CANNOT_RUN` with the reason; the list itself is checked, so an entry the pages no longer
show fails too. After the last command the project still validates: a reader who followed the
page has a working project.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctflow import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLE = ROOT / "examples" / "journeys"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^(`{3,})[a-z]*\n(.*?)^\1$", flags=re.S | re.M)
SETUP = "cp -r examples/journeys /tmp/shop && cd /tmp/shop"

# The commands of the pages that cannot run as written against the sandbox, and why.
CANNOT_RUN = {
    "ctflow report 1795358108": "names a campaign id of the run the page shows",
    "ctflow report 1795358126": "names a campaign id of the run the page shows",
    "ctflow report 1795358126 --format json": "names a campaign id of the run the page shows",
    "ctflow upload profiles crm.jsonl --env production": "a file the page does not give",
    "ctflow upload events exports/points-2022.jsonl --env production": "a file the page does "
    "not give",
    "ctflow upload events exports/orders-2026-01.jsonl.gz": "a file the page does not give",
    "ctflow upload events exports/orders-2026-01-fixes.jsonl": "a file the page does not give",
    "ctflow upload events exports/points-2019.jsonl --concurrency 1": "needs a Ctrl-C",
    "ctflow upload events exports/points-2019.jsonl": "a file the page does not give",
    "ctflow upload profiles exports/crm-2026-11-21.jsonl --format json": "a file the page does "
    "not give",
    "cat .ctflow/rejected/orders-2026-01.bb5e8c82.sandbox.jsonl": "a file the page does not give",
    "jq -c .record .ctflow/rejected/orders-2026-01.bb5e8c82.sandbox.jsonl > "
    "exports/orders-2026-01-fixes.jsonl": "a file the page does not give",
    "ctflow send payment-failed-sms --batch recipients.jsonl": "a file the page does not give",
    "ctflow send order-shipped --batch shipped.jsonl": "a file the page does not give",
    # tests/upload/test_cli_ambiguous.py runs these against a served sandbox that loses answers
    "ctflow upload events exports/points-2023.jsonl --env local --ambiguous": "needs batches "
    "whose answers a served sandbox lost",
    "ctflow upload events exports/points-2023.jsonl --env local --accept-ambiguous "
    "events:e83270effa14c135:1 --resend-ambiguous 1-1000": "needs batches whose answers a "
    "served sandbox lost",
    "ctflow upload events exports/three.jsonl --env local --give-up-after 10": "needs an "
    "environment nothing listens at (test_cli_ambiguous.py runs one)",
}
# What a page's examples ran after, the way its text says: commands, and the keys of the
# declarations it shows as YAML, which a reader adds to the project.
BEFORE: dict[str, list[str]] = {
    "journal.md": ["apply --auto-approve", "upload profiles data/vip-customers.jsonl"],
}
DECLARED_BY_PAGE = {"sending.md": ["points-earned"]}
# Examples of errors the pages show without an `echo $?` after them: the code they exit with.
FAILS = {
    "ctflow upload profiles data/loyalty.csv": 3,
    "ctflow count events --where queries/broken.yaml": 3,
    "ctflow profile get --identity user-09999": 1,
}


@dataclass
class Shown:
    """One ``$`` line of a page and the output printed under it."""

    page: str
    line: int
    command: str
    output: list[str]

    @property
    def bare(self) -> str:
        """The command without its trailing ``# comment``."""
        return re.sub(r"\s+#.*$", "", self.command)


def shown_commands(page: Path) -> list[Shown]:
    text = page.read_text(encoding="utf-8")
    found: list[Shown] = []
    for block in FENCE.finditer(text):
        first = text.count("\n", 0, block.start(2)) + 1
        for offset, line in enumerate(block[2].splitlines()):
            if line.startswith("$ "):
                found.append(Shown(page.name, first + offset, line[2:].strip(), []))
            elif found and found[-1].line >= first:
                found[-1].output.append(line)
    return found


def _words(command: str) -> list[str]:
    words = shlex.split(command, comments=True)
    cleaned: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in ("<", ">", "2>"):
            skip = True
        else:
            cleaned.append(word)
    return cleaned


def _parts(command: str) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for word in _words(command):
        if word == "&&":
            parts.append([])
        else:
            parts[-1].append(word)
    return [part for part in parts if part]


def _elsewhere(argv: list[str]) -> bool:
    """The command names an environment other than the sandbox."""
    return "--env" in argv and argv[argv.index("--env") + 1] != "sandbox"


def _on_the_sandbox(argv: list[str]) -> list[str]:
    if not _elsewhere(argv):
        return argv
    at = argv.index("--env")
    return argv[:at] + argv[at + 2 :]


class Replay:
    """A page's commands in a copy of the example project."""

    def __init__(self, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.project = project
        self.capsys = capsys
        self.code = 0
        self.ran = 0

    def ctflow(self, argv: list[str]) -> tuple[str, str]:
        self.code = cli.run(["-C", str(self.project), *argv], {})
        self.ran += 1
        out, err = self.capsys.readouterr()
        return out, err

    def run(self, shown: Shown, expected: int) -> None:
        where = f"{shown.page}:{shown.line}: $ {shown.command}"
        for argv in map(_on_the_sandbox, _parts(shown.command)):
            name = argv[0]
            if name in ("cp", "cd"):
                assert shown.command == SETUP, f"{where}: set up the way the pages do"
            elif name == "echo":
                assert argv == ["echo", "$?"], where
                assert shown.output, where
                assert self.code == int(shown.output[0]), f"{where}: exit {self.code}"
            elif name == "cat":
                self._cat(where, argv, shown.output)
            elif name == "head":
                assert (self.project / argv[-1]).stat().st_size > 0, where
            else:
                assert name == "ctflow", f"{where}: a command the replay does not know"
                out, err = self.ctflow(argv[1:])
                assert self.code == expected, f"{where}: exit {self.code}\n{out}\n{err}"
                if expected not in (0, 2):  # an example of an error: it reads as shown
                    printed = (out + err).replace(f"{self.project}/", "").splitlines()
                    missing = [line for line in shown.output if line not in printed]
                    assert missing == [], f"{where}: shown but not printed:\n{out}{err}"

    def _cat(self, where: str, argv: list[str], output: list[str]) -> None:
        path = self.project / argv[1]
        if path.exists():
            assert path.read_text(encoding="utf-8").splitlines() == output, where
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{line}\n" for line in output), encoding="utf-8")


def _expected(commands: list[Shown], index: int) -> int:
    following = commands[index + 1] if index + 1 < len(commands) else None
    if following is not None and following.command == "echo $?":
        return int(following.output[0])
    return FAILS.get(commands[index].bare, 0)


def declare_shown(page: Path, key: str, project: Path) -> None:
    """Write the YAML block of ``page`` that declares ``key`` into the project."""
    text = page.read_text(encoding="utf-8")
    [block] = [
        b[2] for b in FENCE.finditer(text) if b[1] == "```" and f"\nkey: {key}\n" in f"\n{b[2]}"
    ]
    (project / "shown").mkdir(exist_ok=True)
    (project / "shown" / f"{key}.yaml").write_text(block, encoding="utf-8")


@pytest.mark.parametrize("page", [p for p in PAGES if shown_commands(p)], ids=lambda p: p.name)
def test_the_commands_of_a_page_run_as_shown(
    page: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".ctflow"))
    monkeypatch.setattr("ctflow.cli.plan.confirm", lambda: lambda question: True)  # "yes"
    for key in DECLARED_BY_PAGE.get(page.name, []):
        declare_shown(page, key, project)
    replay = Replay(project, capsys)
    for argv in BEFORE.get(page.name, []):
        out, err = replay.ctflow(argv.split())
        assert replay.code == 0, f"{page.name}: before the page, ctflow {argv}:\n{out}\n{err}"
    commands = shown_commands(page)
    unchecked = False
    for index, shown in enumerate(commands):
        if shown.command == "echo $?" and unchecked:
            continue  # the code of a command not run, or of another environment
        elsewhere = any(_elsewhere(argv) for argv in _parts(shown.command))
        unchecked = elsewhere or shown.bare in CANNOT_RUN
        if shown.bare not in CANNOT_RUN:
            replay.run(shown, 0 if elsewhere else _expected(commands, index))
    assert replay.ran, f"{page.name} shows no command that runs against the sandbox"
    out, err = replay.ctflow(["validate"])
    assert replay.code == 0, f"after {page.name} the project no longer validates:\n{out}{err}"


def test_what_cannot_run_is_still_shown_and_every_failure_example_too() -> None:
    shown = {c.bare for page in PAGES for c in shown_commands(page)}
    assert set(CANNOT_RUN) - shown == set()
    assert set(FAILS) - shown == set()
