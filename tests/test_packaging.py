"""A non-editable install must carry everything ctflow reads at run time, and the wheel built
from the sdist, installed in a fresh virtualenv, must run (it is what users get)."""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from hatchling.builders.sdist import SdistBuilder
from hatchling.builders.wheel import WheelBuilder

from ctflow import __version__
from ctflow.resources import load_schema

ROOT = Path(__file__).resolve().parent.parent
HOME = "https://github.com/ctflow/ctflow"


def build_wheel(source: Path, into: Path) -> Path:
    return Path(next(iter(WheelBuilder(str(source)).build(directory=str(into)))))


def build_sdist(into: Path) -> Path:
    return Path(next(iter(SdistBuilder(str(ROOT)).build(directory=str(into)))))


def test_wheel_ships_the_schemas_and_the_console_script(tmp_path: Path) -> None:
    wheel = build_wheel(ROOT, tmp_path)
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


def test_the_metadata_names_the_version_and_where_the_project_lives(tmp_path: Path) -> None:
    wheel = build_wheel(ROOT, tmp_path)
    assert wheel.name == f"ctflow-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        metadata = email.message_from_bytes(
            archive.read(f"ctflow-{__version__}.dist-info/METADATA")
        )
    assert metadata["Version"] == __version__
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL", []))
    assert set(urls) == {"Homepage", "Source", "Issues", "Changelog", "Documentation"}
    assert all(url.startswith(HOME) for url in urls.values()), urls
    assert urls["Changelog"].endswith("/CHANGELOG.md")


def test_the_sdist_ships_the_changelog_and_the_licence(tmp_path: Path) -> None:
    sdist = build_sdist(tmp_path)
    assert sdist.name == f"ctflow-{__version__}.tar.gz"
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"CHANGELOG.md", "LICENSE", "README.md", "pyproject.toml"} <= names
    schemas = {f"schemas/{p.name}" for p in (ROOT / "schemas").glob("*.json")}
    assert schemas
    assert schemas <= names, "the wheel built from the sdist needs them"


def test_schemas_are_found_from_a_source_checkout() -> None:
    assert load_schema("project")["title"].startswith("ctflow project")


# --- the wheel, as users get it --------------------------------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def _clean_env() -> dict[str, str]:
    """This process's environment without what would make the fresh install see the checkout
    or a real account."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
        and not key.startswith(("CTFLOW_", "CLEVERTAP_"))
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv (no system site-packages) with the wheel built from the sdist, as
    ``python -m build`` does it; its dependencies come from the package index pip is set up for."""
    work = tmp_path_factory.mktemp("release")
    started = time.perf_counter()
    sdist = build_sdist(work / "dist")
    with tarfile.open(sdist) as archive:
        archive.extractall(work / "src", filter="data")
    wheel = build_wheel(work / "src" / sdist.name.removesuffix(".tar.gz"), work / "dist")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=_clean_env())
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)]
    done = subprocess.run(pip, capture_output=True, text=True, env=_clean_env(), check=False)
    if done.returncode != 0:
        said = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        if _in_ci():
            pytest.fail(f"installing the wheel failed:\n{said}", pytrace=False)
        pytest.skip(f"cannot install the wheel's dependencies here:\n{said}")
    print(f"built and installed in {time.perf_counter() - started:.1f} s")
    return venv


def ctflow(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "ctflow"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_wheel_runs_init_validate_plan_apply_from_a_fresh_virtualenv(
    installed: Path, tmp_path: Path
) -> None:
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import ctflow; print(ctflow.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed), "ctflow from the wheel only"
    version = ctflow(installed, tmp_path, "--version")
    assert (version.returncode, version.stdout) == (0, f"ctflow {__version__}\n")

    init = ctflow(installed, tmp_path, "init", "shop")
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "shop" / "ctflow.yaml").is_file()
    validate = ctflow(installed, tmp_path, "-C", "shop", "validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "valid:" in validate.stderr
    plan = ctflow(installed, tmp_path, "-C", "shop", "plan", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "Plan: 1 to create, 0 to replace, 0 to stop." in plan.stdout
    apply = ctflow(installed, tmp_path, "-C", "shop", "apply", "--auto-approve")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    assert "Apply complete: 1 created" in apply.stdout
    again = ctflow(installed, tmp_path, "-C", "shop", "plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_wheel_runs_the_readme_try_it_on_a_copy_of_the_example(
    installed: Path, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "examples" / "journeys", tmp_path / "journeys")
    apply = ctflow(installed, tmp_path, "-C", "journeys", "apply", "--auto-approve")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    assert (
        "Apply complete: 8 created, 0 adopted, 0 stopped, 2 dataset(s) uploaded, "
        "1 audience(s) updated."
    ) in apply.stdout
    again = ctflow(installed, tmp_path, "-C", "journeys", "plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
