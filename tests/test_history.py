"""``ctflow history``: the journal's runs read back, one line a run or one run's steps, from
whichever journal is configured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctflow import cli
from tests.plan.support import cli_files, write_project

Capsys = pytest.CaptureFixture[str]


def run(
    capsys: Capsys, root: Path, *argv: str, environ: dict[str, str] | None = None
) -> tuple[int, str, str]:
    code = cli.run(["-C", str(root), *argv], environ or {})
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def applied(tmp_path: Path, capsys: Capsys) -> Path:
    root = write_project(tmp_path, cli_files())
    assert run(capsys, root, "apply", "--auto-approve")[0] == 0
    assert run(capsys, root, "stop", "--all", "--auto-approve")[0] == 0
    return root


def test_history_lists_the_runs_newest_first(applied: Path, capsys: Capsys) -> None:
    code, out, _ = run(capsys, applied, "history")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "RUN",
        "STARTED",
        "ENV",
        "KIND",
        "OUTCOME",
        "BY",
        "COMMIT",
        "COUNTS",
        "COMMAND",
    ]
    stop, apply = lines[1].split(), lines[2].split()
    assert (stop[0], stop[3:6]) == ("2", ["sandbox", "stop-all", "ok"])
    assert "stopped 1" in lines[1]
    assert (apply[0], apply[3:6]) == ("1", ["sandbox", "apply", "ok"])
    assert "created 1" in lines[2]


def test_history_as_json_filters_by_kind(applied: Path, capsys: Capsys) -> None:
    code, out, _ = run(capsys, applied, "history", "--kind", "apply", "--format", "json")
    found = json.loads(out)
    assert code == 0
    assert found["project"] == "shop"
    assert [(r["kind"], r["outcome"], r["summary"]["created"]) for r in found["runs"]] == [
        ("apply", "ok", 1)
    ]
    assert (
        json.loads(run(capsys, applied, "history", "--since", "2999-01-01", "--format", "json")[1])[
            "runs"
        ]
        == []
    )


def test_one_run_shows_its_steps(applied: Path, capsys: Capsys) -> None:
    code, out, _ = run(capsys, applied, "history", "1")
    assert code == 0
    assert out.startswith("Run 1: apply in sandbox by ")
    assert "  counts: created 1\n" in out
    assert "create winback@" in out
    assert "→ done" in out
    code, out, _ = run(capsys, applied, "history", "1", "--format", "json")
    steps = json.loads(out)["steps"]
    assert [(s["action"], s["key"], s["outcome"]) for s in steps] == [("create", "winback", "done")]


def test_an_unknown_run_is_a_usage_error(applied: Path, capsys: Capsys) -> None:
    code, _, err = run(capsys, applied, "history", "999")
    assert code == 64
    assert "no run 999 of project 'shop' in " in err


def test_history_never_makes_a_journal(tmp_path: Path, capsys: Capsys) -> None:
    root = write_project(tmp_path, cli_files())
    code, out, _ = run(capsys, root, "history")
    assert (code, out) == (
        0,
        "No journal yet at " + str(root / ".ctflow" / "journal.db") + ": nothing has run.\n",
    )
    assert not (root / ".ctflow" / "journal.db").exists()


def test_a_second_checkout_reads_the_shared_journals_history(
    tmp_path: Path, capsys: Capsys, postgres_url: str
) -> None:
    shared = {"CTFLOW_JOURNAL_URL": postgres_url}
    first = write_project(tmp_path / "runner-1", cli_files())
    assert run(capsys, first, "apply", "--auto-approve", environ=shared)[0] == 0
    second = write_project(tmp_path / "runner-2", cli_files())

    code, out, _ = run(capsys, second, "history", "--format", "json", environ=shared)

    runs = json.loads(out)["runs"]
    assert code == 0
    assert [(r["kind"], r["outcome"], r["summary"]["created"]) for r in runs] == [
        ("apply", "ok", 1)
    ], "the first runner's apply, read from the second"
    assert not (second / ".ctflow" / "journal.db").exists()


def test_every_flag_the_docs_show_exists_and_every_option_is_documented(capsys: Capsys) -> None:
    from tests.reads.test_docs_reads import real_flags, shown_flags

    root = Path(__file__).resolve().parent.parent
    real = real_flags(capsys, ("history",))
    for doc in (root / "README.md", root / "docs" / "journal.md"):
        assert shown_flags(doc.read_text(encoding="utf-8"), ("history",)) - real == set(), doc
    guide = (root / "docs" / "journal.md").read_text(encoding="utf-8")
    assert {flag for flag in real if f"`{flag}" not in guide} == set()
