"""Shell completion as the shell drives it (``_CTFLOW_COMPLETE``, ``COMP_WORDS``, ``COMP_CWORD`` in
a fresh process): the project's environments and keys for each option and argument, never an
error, and the names the light scan finds are the ones the full loader reads."""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ctflow.commands.init import init
from ctflow.spec.names import declared
from ctflow.spec.validate import load

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "journeys"
ENVIRONMENTS = ["production", "sandbox", "staging"]
TRIGGERS = ["order-shipped", "otp-sms", "payment-failed-email", "payment-failed-sms"]
CAMPAIGNS = ["early-access-invite", "winback-2027-q1-email", "winback-2027-q1-push"]
JOURNEYS = ["cart-abandonment-sale-2027-01", "onboarding-2027-01"]
STEPS = [
    "cart-abandonment-sale-2027-01.email",
    "cart-abandonment-sale-2027-01.push",
    "onboarding-2027-01.day2-email",
    "onboarding-2027-01.day7-sms",
    "onboarding-2027-01.welcome",
]
DATASETS = ["loyalty-backfill-2026", "vip-customers"]
AUDIENCES = ["early-access"]


def shell(
    line: str, cwd: Path = EXAMPLE, shell_name: str = "bash"
) -> subprocess.CompletedProcess[str]:
    """What a TAB at the end of ``line`` runs (a trailing space: a new, empty word). bash and
    zsh say which word is completed, fish says the text of it."""
    words = shlex.split(line)
    cword = len(words) if line.endswith(" ") else len(words) - 1
    current = "" if line.endswith(" ") else words[-1]
    environ = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "_CTFLOW_COMPLETE": f"{shell_name}_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": current if shell_name == "fish" else str(cword),
    }
    return subprocess.run(
        [sys.executable, "-m", "ctflow"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        timeout=60,
        check=False,
    )


def complete(line: str, cwd: Path = EXAMPLE) -> list[str]:
    """The words bash is offered (click's ``type,value`` lines), in order; no error allowed."""
    done = shell(line, cwd)
    assert (done.returncode, done.stderr) == (0, "")
    return [entry.split(",", 1)[1] for entry in done.stdout.splitlines() if entry]


@pytest.mark.parametrize(
    "line", ["ctflow plan --env ", "ctflow upload --env ", "ctflow now --env "]
)
def test_env_completes_the_environments_of_ctflow_yaml(line: str) -> None:
    assert complete(line) == ENVIRONMENTS


def test_env_of_history_completes_them_too() -> None:
    assert complete("ctflow history --env s") == ["sandbox", "staging"]


def test_target_completes_campaigns_journeys_their_steps_datasets_and_audiences() -> None:
    assert complete("ctflow plan --target ") == [
        *CAMPAIGNS,
        *JOURNEYS,
        *STEPS,
        *DATASETS,
        *AUDIENCES,
    ]
    assert complete("ctflow apply --target onb") == [JOURNEYS[1], *STEPS[2:]]


def test_replace_completes_what_can_be_created_again() -> None:
    assert complete("ctflow plan --replace ") == [*CAMPAIGNS, *JOURNEYS, *STEPS]
    assert complete("ctflow apply --replace win") == CAMPAIGNS[1:]


def test_send_completes_trigger_names() -> None:
    assert complete("ctflow send ") == TRIGGERS
    assert complete("ctflow send pay") == TRIGGERS[2:]


def test_render_completes_triggers_and_campaigns_not_whole_journeys() -> None:
    assert complete("ctflow render ") == [*TRIGGERS, *CAMPAIGNS, *STEPS]


def test_fixture_completes_the_fixtures_of_the_trigger_typed_before_it() -> None:
    assert complete("ctflow send otp-sms --to C100234 --fixture ") == ["cod-confirmation", "login"]
    assert complete("ctflow render payment-failed-email --fixture fi") == [
        "final-attempt",
        "first-attempt-inr",
    ]
    assert complete("ctflow send --fixture ") == []  # no trigger yet: nothing to offer


def test_completion_reads_the_project_given_with_dash_c(tmp_path: Path) -> None:
    line = f"ctflow -C {EXAMPLE.relative_to(ROOT)} send o"
    assert complete(line, cwd=ROOT) == ["order-shipped", "otp-sms"]
    assert complete("ctflow send ", cwd=tmp_path) == []


def test_zsh_and_fish_are_told_what_each_name_is() -> None:
    zsh = shell("ctflow render otp", shell_name="zsh")
    assert zsh.stdout.splitlines() == ["plain", "otp-sms", "trigger"]
    fish = shell("ctflow plan --target onboarding-2027-01.w", shell_name="fish")
    assert fish.stdout.splitlines() == ["plain,onboarding-2027-01.welcome\tjourney step"]


def test_a_fresh_project_completes_what_init_wrote(tmp_path: Path) -> None:
    init(tmp_path / "shop", None, date(2026, 12, 7), out=io.StringIO())
    found = load(tmp_path / "shop")
    assert complete("ctflow send ", tmp_path / "shop") == sorted(found.triggers)
    assert complete("ctflow plan --replace ", tmp_path / "shop") == sorted(found.campaigns)


def test_the_scan_finds_what_the_loader_reads() -> None:
    """The example uses both kinds of key placement, quoting and comments the scan must read."""
    names, full = declared(EXAMPLE), load(EXAMPLE)
    assert list(names.triggers) == sorted(full.triggers)
    assert list(names.journeys) == sorted(full.journeys)
    assert list(names.datasets) == sorted(full.datasets)
    assert sorted([*names.campaigns, *names.steps]) == sorted(full.campaigns)
    assert list(names.environments) == sorted(full.project.environments)
    assert dict(names.fixtures) == {
        key: tuple(sorted(f["name"] for f in trigger.data.get("fixtures") or []))
        for key, trigger in full.triggers.items()
    }


def test_the_scan_reads_quoted_keys_steps_first_and_skips_what_it_cannot(tmp_path: Path) -> None:
    (tmp_path / "ctflow.yaml").write_text("project: p\nexclude: [ignored/**]\n")
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "t.yaml").write_text("kind: Trigger\nkey: hidden\n")
    (tmp_path / "a.yaml").write_text(
        "# a comment\n"
        "kind: 'Trigger'\n"
        'key: "it\'s-quoted"   # trailing comment\n'
        "---\n"
        "steps:\n"
        "- after: 0d\n"
        "  key: first\n"
        "  content:\n"
        "    - key: not-a-step\n"
        "-   key: second\n"
        "kind: Journey\n"
        "key: j\n"
        "--- {kind: Campaign, key: flow-style}\n"
        "...\n"
        "kind: Campaign\n"
        "key: &anchor anchored\n"
    )
    names = declared(tmp_path)
    assert names.triggers == ("it's-quoted",)
    assert names.steps == ("j.first", "j.second")
    assert names.campaigns == ()


@pytest.mark.parametrize(
    "files",
    [
        {"ctflow.yaml": "project: [unclosed\n", "a.yaml": "kind: Trigger\nkey: t\n"},
        {"ctflow.yaml": "- a list\n", "a.yaml": "kind: Trigger\nkey: t\n"},
        {"a.yaml": b"kind: Trigger\nkey: t\xff\xfe\n"},
    ],
)
def test_a_project_it_cannot_read_completes_what_it_can_and_never_errs(
    tmp_path: Path, files: dict[str, str | bytes]
) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert complete("ctflow plan --env ", tmp_path) == ["sandbox"]
    assert len(complete("ctflow send ", tmp_path)) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_named_like_a_declaration_does_not_hang_a_tab(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "t.yaml").write_text("kind: Trigger\nkey: t\n")
    assert complete("ctflow send ", tmp_path) == ["t"]


def test_an_unreadable_directory_completes_nothing_quietly(tmp_path: Path) -> None:
    assert complete(f"ctflow -C {tmp_path / 'missing'} send ", tmp_path) == []


BASH_TAB = """
eval "$(_CTFLOW_COMPLETE=bash_source ctflow)"
COMP_WORDS=(ctflow send pay)
COMP_CWORD=2
_ctflow_completion ctflow
printf '%s\\n' "${COMPREPLY[@]}"
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_line_the_readme_gives_for_bashrc_completes_in_bash(tmp_path: Path) -> None:
    """The README's line evaluated by bash itself, then its completion function called as a TAB
    after `ctflow send pay` calls it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "ctflow"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ctflow "$@"\n')
    wrapper.chmod(0o755)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'eval "$(_CTFLOW_COMPLETE=bash_source ctflow)"' in readme
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", BASH_TAB],
        capture_output=True,
        text=True,
        cwd=EXAMPLE,
        env={
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(ROOT),
        },
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == TRIGGERS[2:]
