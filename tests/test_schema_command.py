"""`ctflow schema`: where the installed schemas are, and the editor settings it writes (merged,
idempotent, never losing a setting) for the project and for `ctflow init`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.resources import schemas_dir

DISPATCHING = "./schemas/ctflow.schema.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.run(list(argv), {})
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "shop"
    assert run(capsys, "init", str(root))[0] == 0
    return root


def test_schema_prints_the_installed_schemas_directory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0
    directory = Path(out.strip())
    assert directory == schemas_dir()
    assert (directory / "ctflow.schema.json").is_file()


def test_init_maps_the_dispatching_schema_onto_every_declaration_folder(project: Path) -> None:
    settings = json.loads((project / ".vscode" / "settings.json").read_text("utf-8"))
    globs = settings["yaml.schemas"][DISPATCHING]
    for pattern in ("/ctflow.yaml", "/campaigns/*.yaml", "/tracking/*.yaml", "/triggers/*.yaml"):
        assert pattern in globs
    assert (project / "schemas" / "ctflow.schema.json").read_text("utf-8") == (
        schemas_dir() / "ctflow.schema.json"
    ).read_text("utf-8")


def test_write_merges_into_existing_settings_and_is_idempotent(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / ".vscode" / "settings.json"
    mine = {
        "editor.tabSize": 2,
        "yaml.schemas": {"https://example.com/k8s.json": "/deploy/*.yaml"},
    }
    path.write_text(json.dumps(mine), "utf-8")
    (project / "promos").mkdir()
    (project / "promos" / "summer.yaml").write_text("kind: Campaign\n", "utf-8")

    code, out, _ = run(capsys, "-C", str(project), "schema", "--write")
    assert code == 0
    assert "settings.json: yaml.schemas maps" in out
    settings = json.loads(path.read_text("utf-8"))
    assert settings["editor.tabSize"] == 2
    assert settings["yaml.schemas"]["https://example.com/k8s.json"] == "/deploy/*.yaml"
    assert "/promos/*.yaml" in settings["yaml.schemas"][DISPATCHING]

    before = path.read_text("utf-8")
    code, out, _ = run(capsys, "-C", str(project), "schema", "--write")
    assert code == 0
    assert out.splitlines()[-1].endswith("settings.json: up to date")
    assert path.read_text("utf-8") == before


def test_folders_validate_does_not_read_are_not_mapped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder the project excludes (a Helm chart, a virtualenv) keeps its own YAML unchecked by
    ctflow's schema in the editor, as `ctflow validate` leaves it unread."""
    for folder in ("deploy", "promos"):
        (project / folder).mkdir()
        (project / folder / "a.yaml").write_text("kind: Campaign\n", "utf-8")
    config = project / "ctflow.yaml"
    config.write_text(config.read_text("utf-8") + "exclude: [deploy]\n", "utf-8")
    assert run(capsys, "-C", str(project), "schema", "--write")[0] == 0
    settings = json.loads((project / ".vscode" / "settings.json").read_text("utf-8"))
    mapped = settings["yaml.schemas"][DISPATCHING]
    assert "/promos/*.yaml" in mapped
    assert not any(glob.startswith("/deploy/") for glob in mapped)


def test_write_refreshes_a_stale_copy_of_the_schemas(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = project / "schemas" / "campaign.schema.json"
    stale.write_text("{}", "utf-8")
    code, out, _ = run(capsys, "-C", str(project), "schema", "--write")
    assert code == 0
    assert "schemas/: 1 of" in out
    assert stale.read_text("utf-8") == (schemas_dir() / stale.name).read_text("utf-8")


def test_settings_with_comments_are_never_rewritten(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / ".vscode" / "settings.json"
    jsonc = '{\n  // my editor\n  "editor.tabSize": 2, /* two */\n}\n'
    path.write_text(jsonc, "utf-8")
    code, _, err = run(capsys, "-C", str(project), "schema", "--write")
    assert code == 1
    assert "has comments" in err
    assert DISPATCHING in err
    assert path.read_text("utf-8") == jsonc


def test_commented_settings_that_already_map_the_schema_are_up_to_date(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / ".vscode" / "settings.json"
    mapped = json.loads(path.read_text("utf-8"))["yaml.schemas"][DISPATCHING]
    jsonc = (
        '{\n  // ctflow\n  "yaml.schemas": {"'
        + DISPATCHING
        + '": '
        + json.dumps(mapped)
        + ",},\n}\n"
    )
    path.write_text(jsonc, "utf-8")
    code, out, _ = run(capsys, "-C", str(project), "schema", "--write")
    assert code == 0
    assert out.splitlines()[-1].endswith("settings.json: up to date")
    assert path.read_text("utf-8") == jsonc


def test_an_empty_settings_file_gets_the_mapping(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / ".vscode" / "settings.json"
    path.write_text("\n", "utf-8")
    code, _, _ = run(capsys, "-C", str(project), "schema", "--write")
    assert code == 0
    assert DISPATCHING in json.loads(path.read_text("utf-8"))["yaml.schemas"]


def test_settings_written_with_a_byte_order_mark_are_merged(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / ".vscode" / "settings.json"
    path.write_text('\ufeff{"editor.tabSize": 2}\n', "utf-8")  # as some Windows editors save
    code, _, err = run(capsys, "-C", str(project), "schema", "--write")
    assert code == 0, err
    settings = json.loads(path.read_text("utf-8"))
    assert settings["editor.tabSize"] == 2
    assert DISPATCHING in settings["yaml.schemas"]


def test_settings_that_are_not_utf8_are_left_alone_with_a_message(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / ".vscode" / "settings.json"
    path.write_bytes(b'{"editor.fontFamily": "Caf\xe9"}\n')
    code, _, err = run(capsys, "-C", str(project), "schema", "--write")
    assert code == 1
    assert "settings.json: not UTF-8" in err
    assert "Traceback" not in err
    assert path.read_bytes() == b'{"editor.fontFamily": "Caf\xe9"}\n'


def test_broken_settings_are_reported_with_their_position(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / ".vscode" / "settings.json"
    path.write_text('{\n  "editor.tabSize": 2\n  "x": 1\n}\n', "utf-8")
    code, _, err = run(capsys, "-C", str(project), "schema", "--write")
    assert code == 1
    assert "settings.json:3:3: not valid JSON" in err
    assert "Traceback" not in err


def test_write_outside_a_project_says_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "-C", str(tmp_path), "schema", "--write")
    assert code == 3
    assert "no ctflow.yaml" in err
    assert "ctflow init" in err
    assert not (tmp_path / ".vscode").exists()
