"""`ctflow init` and `ctflow validate` as a new user meets them, through the real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ctflow import cli
from ctflow.spec.validate import check

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "journeys"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.run(list(argv), {})
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_scaffolds_a_project_that_validates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "Acme Store"
    code, out, _ = run(capsys, "init", str(target))
    assert code == 0
    assert "Created project 'acme-store'" in out
    assert f"cd '{target}' && ctflow validate" in out
    for rel in ("ctflow.yaml", "campaigns/welcome.yaml", "triggers/order-confirmation.yaml"):
        assert (target / rel).is_file(), rel
    assert ".ctflow/" in (target / ".gitignore").read_text().splitlines()
    assert (target / "schemas" / "campaign.schema.json").is_file()
    assert "project: acme-store" in (target / "ctflow.yaml").read_text()
    assert "__" not in (target / "campaigns" / "welcome.yaml").read_text()

    code, out, err = run(capsys, "validate", "-C", str(target))
    assert (code, out) == (0, "")
    assert err.startswith("ctflow: valid: 2 events, 1 profile schema, 1 campaign,")


def test_init_never_overwrites(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "ctflow.yaml").write_text("project: mine\n")
    code, out, err = run(capsys, "init", str(tmp_path))
    assert code == 1
    assert out == ""
    assert "already has ctflow.yaml" in err
    assert "never overwrites" in err
    assert (tmp_path / "ctflow.yaml").read_text() == "project: mine\n"
    assert not (tmp_path / "campaigns").exists()


def test_init_refuses_a_project_id_the_marker_cannot_hold(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "init", str(tmp_path / "x"), "--project", "My Shop")
    assert code == 64
    assert "'My Shop' cannot be a project id" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("project", ["123", "2026", "1e5", "1e-5", "true", "null", "shop-2"])
def test_init_writes_a_project_id_its_own_validate_accepts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, project: str
) -> None:
    code, _, _ = run(capsys, "init", str(tmp_path / "shop2"), "--project", project)
    assert code == 0
    code, out, err = run(capsys, "validate", "-C", str(tmp_path / "shop2"))
    assert (code, out) == (0, ""), err
    assert check(tmp_path / "shop2").declarations.project.name == project


def test_init_under_a_file_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "afile").write_text("a file\n")
    code, out, err = run(capsys, "init", str(tmp_path / "afile" / "sub"))
    assert (code, out) == (1, "")
    assert err == f"ctflow: cannot create the directory {tmp_path}/afile/sub: Not a directory\n"
    assert "this is a bug" not in err
    assert (tmp_path / "afile").read_text() == "a file\n"


def test_init_in_a_place_the_system_refuses_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "init", "/proc/ctflow-nope")
    assert (code, out) == (1, "")
    assert err.startswith("ctflow: cannot create the directory /proc/ctflow-nope: "), err


def test_a_broken_file_is_reported_at_its_line_with_exit_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init", str(tmp_path))
    welcome = tmp_path / "campaigns" / "welcome.yaml"
    welcome.write_text(welcome.read_text().replace("channel: push", "channel: pusj"))
    code, out, err = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 3
    line = next(n for n, t in enumerate(welcome.read_text().splitlines(), 1) if "pusj" in t)
    assert out.splitlines() == [
        f"{welcome}:{line}:10: channel: 'pusj' is not one of push, email, sms, webpush, "
        "whatsapp, webhook, app_inbox (did you mean 'push'?)"
    ]
    assert err == "ctflow: 1 problem in 1 file\n"


def test_validate_json_lists_problems_as_data(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init", str(tmp_path))
    (tmp_path / "broken.yaml").write_text("kind: Campain\nkey: x\n")
    code, out, _ = run(capsys, "validate", "-C", str(tmp_path), "--format", "json")
    report = json.loads(out)
    assert code == 3
    assert report["valid"] is False
    assert report["problems"] == [
        {
            "path": str(tmp_path / "broken.yaml"),
            "line": 1,
            "column": 7,
            "message": "kind: unknown kind 'Campain' (did you mean 'Campaign'?); known kinds: "
            "EventSchema, ProfileSchema, Campaign, Journey, Trigger, Dataset, Audience",
        }
    ]
    assert report["counts"]["Campaign"] == 1


def test_the_examples_validate_and_use_every_kind() -> None:
    result = check(EXAMPLE)
    assert [str(p) for p in result.problems] == []
    counts = result.declarations.counts()
    assert all(counts[kind] >= 1 for kind in counts), counts
    assert counts["Journey"] + counts["Campaign"] >= 4
    triggers = result.declarations.triggers.values()
    assert {t.data["type"] for t in triggers} == {"identity", "external"}
    assert all(t.data.get("fixtures") for t in triggers if t.data["type"] == "identity")


def test_every_example_document_points_editors_at_the_projects_own_schemas() -> None:
    """yaml-language-server reads the modeline of each document; the path stays inside the
    example, so a copy of it out of the repository still finds the schema."""
    documents = 0
    for path in sorted(EXAMPLE.rglob("*.yaml")):
        for number, document in enumerate(re.split(r"^---$", path.read_text(), flags=re.M)):
            first = document.strip("\n").splitlines()[0]
            assert first.startswith("# yaml-language-server: $schema="), f"{path} #{number + 1}"
            schema = (path.parent / first.split("=", 1)[1]).resolve()
            assert schema == EXAMPLE / "schemas" / "ctflow.schema.json", path
            documents += 1
    assert documents >= 21
    for copy in sorted((EXAMPLE / "schemas").glob("*.json")):
        assert copy.read_text() == (ROOT / "schemas" / copy.name).read_text(), copy
    assert len(list((EXAMPLE / "schemas").glob("*.json"))) == len(
        list((ROOT / "schemas").glob("*.json"))
    )


def test_the_pre_commit_hook_runs_validate_once_per_commit() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "ctflow-validate"
    assert hook["entry"] == "ctflow validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False


def test_init_at_a_repository_root_keeps_readme_and_extends_gitignore(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "README.md").write_text("# Our CRM\n")
    (tmp_path / ".gitignore").write_text("*.pyc")
    code, out, _ = run(capsys, "init", str(tmp_path), "--project", "crm")
    assert code == 0
    assert ".gitignore (added .ctflow/)" in out
    assert (tmp_path / "README.md").read_text() == "# Our CRM\n"
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n.ctflow/\n"
    assert run(capsys, "validate", "-C", str(tmp_path))[0] == 0


def test_validate_without_a_project_says_so_instead_of_scanning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    code, out, err = run(capsys, "validate", "-C", str(tmp_path))
    assert code == 3
    assert out == ""
    assert err.startswith(f"ctflow: no ctflow.yaml in {tmp_path.resolve()} or any directory above")


def test_validate_from_a_subdirectory_finds_the_project_above(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init", str(tmp_path))
    code, _, err = run(capsys, "-C", str(tmp_path / "campaigns"), "validate")
    assert code == 0
    assert "1 campaign" in err
