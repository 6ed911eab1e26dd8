"""DESIGN.md's layering, checked by parsing imports: who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ctflow"
STDLIB = frozenset(__import__("sys").stdlib_module_names)


def _modules() -> dict[str, set[str]]:
    """Every module of ctflow (dotted name) with the top-level names it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        imports: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imports.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imports.add(node.module)
            elif isinstance(node, ast.ImportFrom):  # relative: resolve against the package
                package = name.split(".") if path.name == "__init__.py" else rel.parts[:-1]
                base = list(package[: len(package) - (node.level - 1)])
                imports.add(".".join([*base, *([node.module] if node.module else [])]))
        found[name] = imports
    return found


MODULES = _modules()


def _importers(prefix: str) -> list[str]:
    return sorted(
        mod for mod, imports in MODULES.items() if any(i.split(".")[0] == prefix for i in imports)
    )


def test_the_package_was_found() -> None:
    assert "ctflow.cli" in MODULES and "ctflow.clevertap._http" in MODULES


def test_httpx_is_imported_only_by_the_clients_transport_module() -> None:
    assert _importers("httpx") == ["ctflow.clevertap._http"]


def test_click_is_imported_only_by_cli() -> None:
    assert _importers("click") == ["ctflow.cli", "ctflow.cli.reads", "ctflow.cli.sends"]


def _in(package: str) -> list[str]:
    return sorted(m for m in MODULES if m == package or m.startswith(package + "."))


@pytest.mark.parametrize("module", _in("ctflow.sandbox"))
def test_sandbox_imports_nothing_else_of_ctflow(module: str) -> None:
    allowed_third_party = {"starlette", "uvicorn", "orjson"}
    for imported in MODULES[module]:
        top = imported.split(".")[0]
        if top == "ctflow":
            assert imported in _in("ctflow.sandbox"), f"{module} imports {imported}"
        else:
            assert top in STDLIB | allowed_third_party, f"{module} imports {imported}"


@pytest.mark.parametrize("module", _in("ctflow.clevertap"))
def test_client_knows_nothing_of_campaigns_as_code(module: str) -> None:
    for imported in MODULES[module]:
        if imported.split(".")[0] == "ctflow":
            assert imported.startswith(("ctflow.clevertap", "ctflow.errors")), (
                f"{module} imports {imported}"
            )


def test_only_the_entry_points_read_the_process_environment() -> None:
    """The command line, ``upload_records`` and ``load_project`` (code's entry points, whose
    credentials default to the process's like the CLI's); everything below them is handed what
    it needs."""
    readers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"environ", "getenv"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ):
                readers.append(path.relative_to(PACKAGE.parent).as_posix())
    entry_points = ["ctflow/cli/__init__.py", "ctflow/send/api.py", "ctflow/upload/api.py"]
    assert sorted(set(readers)) == entry_points


@pytest.mark.parametrize("module", _in("ctflow.spec"))
def test_the_spec_layer_knows_yaml_but_not_http(module: str) -> None:
    for imported in MODULES[module]:
        top = imported.split(".")[0]
        assert top != "httpx", f"{module} imports {imported}"
        assert not imported.startswith(("ctflow.clevertap", "ctflow.sandbox", "ctflow.connect")), (
            f"{module} imports {imported}"
        )


def test_validate_runs_without_importing_httpx_or_the_client(tmp_path: Path) -> None:
    """`ctflow validate` is a pre-commit hook: offline, and no heavier than it needs to be."""
    import subprocess
    import sys

    example = PACKAGE.parent / "examples" / "journeys"
    script = (
        "import sys; from ctflow.cli import run; "
        f"code = run(['validate', '-C', {str(example)!r}], {{}}); "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('httpx', 'httpcore', 'starlette', 'uvicorn') or m.startswith('ctflow.clevertap')); "
        "print(code, loaded)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip() == "0 []"


@pytest.mark.parametrize("module", _in("ctflow.journal"))
def test_the_journal_imports_only_the_standard_library_and_errors(module: str) -> None:
    """Kept behind a small interface, so that a shared journal can replace it (DESIGN.md)."""
    for imported in MODULES[module]:
        top = imported.split(".")[0]
        allowed = top in STDLIB or top == "__future__" or imported == "ctflow.errors"
        assert allowed or imported.startswith("ctflow.journal"), f"{module} imports {imported}"
