"""A non-editable install must carry everything ctflow reads at run time."""

from __future__ import annotations

import zipfile
from pathlib import Path

from hatchling.builders.wheel import WheelBuilder

from ctflow.resources import load_schema

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_the_schemas_and_the_console_script(tmp_path: Path) -> None:
    wheel = Path(next(iter(WheelBuilder(str(ROOT)).build(directory=str(tmp_path)))))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    shipped = {n for n in names if n.startswith("ctflow/schemas/")}
    expected = {f"ctflow/schemas/{p.name}" for p in (ROOT / "schemas").glob("*.json")}
    assert expected
    assert shipped == expected
    assert "ctflow = ctflow.cli:main" in scripts
    assert "ctflow/sandbox/__init__.py" in names
    assert "ctflow/clevertap/__init__.py" in names
    scaffold = {n for n in names if n.startswith("ctflow/scaffold/")}
    expected_scaffold = {
        f"ctflow/{p.relative_to(ROOT / 'ctflow').as_posix()}"
        for p in (ROOT / "ctflow" / "scaffold").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert "ctflow/scaffold/ctflow.yaml" in scaffold
    assert scaffold == expected_scaffold
    licence = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(licence).startswith(b"MIT License"), "the licence the metadata names"


def test_schemas_are_found_from_a_source_checkout() -> None:
    assert load_schema("project")["title"].startswith("ctflow project")
