"""DESIGN.md's layering, checked by parsing imports: who may import whom.

Every import statement counts, wherever it is: at the top, inside a function (ctflow imports
lazily to start fast) or under ``TYPE_CHECKING`` (a dependency all the same for whoever reads
the code).
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ctflow"
STDLIB = frozenset(__import__("sys").stdlib_module_names)


def _imports() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Every module of ctflow (dotted name) with its imports: (the module an import statement
    names, the names it takes from it; none for ``import x``)."""
    found: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        imports: list[tuple[str, tuple[str, ...]]] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imports.extend((alias.name, ()) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:  # relative: resolve against the package
                    package = name.split(".") if path.name == "__init__.py" else rel.parts[:-1]
                    base = list(package[: len(package) - (node.level - 1)])
                    module = ".".join([*base, *([module] if module else [])])
                imports.append((module, tuple(alias.name for alias in node.names)))
        found[name] = imports
    return found


IMPORTS = _imports()
MODULES = {name: {module for module, _ in imports} for name, imports in IMPORTS.items()}
"""Every module with the modules its import statements name."""

COMMAND_UNITS = frozenset({"ctflow", "ctflow.__main__", "ctflow.cli", "ctflow.commands"})
"""The entry points and the commands; every other unit is a domain package or a shared module."""


def _module_of(imported: str) -> str | None:
    """The ctflow module an import names: ``from ctflow.commands import plan`` names
    ``ctflow.commands.plan``; ``from ctflow.plan.model import Plan`` names ``ctflow.plan.model``."""
    parts = imported.split(".")
    while parts:
        if ".".join(parts) in MODULES:
            return ".".join(parts)
        parts.pop()
    return None


def _graph() -> dict[str, set[str]]:
    """Every module with the other ctflow modules it imports."""
    graph: dict[str, set[str]] = {}
    for name, imports in IMPORTS.items():
        named = {
            f"{module}.{taken}" if taken else module
            for module, names in imports
            for taken in (names or ("",))
        }
        graph[name] = {m for m in map(_module_of, named) if m is not None and m != name}
    return graph


GRAPH = _graph()


def _unit(module: str) -> str:
    """``ctflow.plan.model`` is in the unit ``ctflow.plan``; ``ctflow.config`` is a unit."""
    return ".".join(module.split(".")[:2])


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """A cycle of ``graph`` (each node imports the next), or nothing."""
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        return list(reversed(exc.args[1]))  # graphlib lists each node before those importing it
    return []


def _importers(prefix: str) -> list[str]:
    return sorted(
        mod for mod, imports in MODULES.items() if any(i.split(".")[0] == prefix for i in imports)
    )


def test_the_package_was_found() -> None:
    assert "ctflow.cli" in MODULES
    assert "ctflow.clevertap._http" in MODULES


def test_httpx_is_imported_only_by_the_clients_transport_module() -> None:
    assert _importers("httpx") == ["ctflow.clevertap._http"]


def test_click_is_imported_only_by_cli() -> None:
    importers = _importers("click")
    assert "ctflow.cli.plan" in importers
    assert all(m == "ctflow.cli" or m.startswith("ctflow.cli.") for m in importers), importers


def _in(package: str) -> list[str]:
    return sorted(m for m in MODULES if m == package or m.startswith(package + "."))


def test_no_module_imports_itself_through_others() -> None:
    cycle = _cycle(GRAPH)
    assert not cycle, f"an import cycle between modules: {' -> '.join(cycle)}"


def test_no_two_units_import_each_other() -> None:
    """A unit is a package (``ctflow.plan``) or a top-level module (``ctflow.config``)."""
    units: dict[str, set[str]] = {}
    for module, imported in GRAPH.items():
        units.setdefault(_unit(module), set()).update(
            _unit(m) for m in imported if _unit(m) != _unit(module)
        )
    cycle = _cycle(units)
    assert not cycle, f"an import cycle between units: {' -> '.join(cycle)}"


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _unit(m) not in COMMAND_UNITS))
def test_domain_packages_never_import_the_commands_or_the_cli(module: str) -> None:
    for imported in GRAPH[module]:
        assert _unit(imported) not in COMMAND_UNITS, f"{module} imports {imported}"


@pytest.mark.parametrize("module", _in("ctflow.commands"))
def test_the_commands_never_import_the_cli(module: str) -> None:
    """The commands are plain functions that ``ctflow.cli`` calls, never the other way."""
    assert not [m for m in GRAPH[module] if _unit(m) == "ctflow.cli"]


@pytest.mark.parametrize("module", _in("ctflow.sandbox"))
def test_sandbox_imports_nothing_else_of_ctflow(module: str) -> None:
    # liquid: the sandbox fills in CleverTap's Liquid as CleverTap does, with its own renderer
    # (ctflow.sandbox.personalise), sharing no code with the spec layer's reader.
    allowed_third_party = {"starlette", "uvicorn", "orjson", "liquid"}
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
    """Kept behind a small interface (DESIGN.md); psycopg only in the PostgreSQL journal, which
    is imported only when one is asked for."""
    for imported in MODULES[module]:
        top = imported.split(".")[0]
        allowed = top in STDLIB or top == "__future__" or imported == "ctflow.errors"
        if module.startswith("ctflow.journal.postgres"):
            allowed = allowed or top == "psycopg"
        assert allowed or imported.startswith("ctflow.journal"), f"{module} imports {imported}"


@pytest.mark.parametrize("module", _in("ctflow.integrations"))
def test_the_engine_integrations_are_a_top_layer_over_the_upload_api(module: str) -> None:
    """Dask's and Spark's integrations call ``upload_records`` per partition: they take the
    upload API (``ctflow.upload``, its types and errors) and their engine, nothing else of
    ctflow."""
    engines = {"dask", "distributed", "pyspark"}
    for imported in MODULES[module]:
        top = imported.split(".")[0]
        allowed = top in STDLIB | engines | {"__future__", "orjson"} or imported.startswith(
            ("ctflow.integrations", "ctflow.upload", "ctflow.errors")
        )
        assert allowed, f"{module} imports {imported}"


def test_nothing_of_ctflow_imports_the_engine_integrations() -> None:
    """They are imported by the user's job only, so ctflow never needs Dask or Spark."""
    assert "ctflow.integrations.dask" in MODULES
    importers = sorted(
        module
        for module, imported in GRAPH.items()
        if _unit(module) != "ctflow.integrations"
        and any(_unit(m) == "ctflow.integrations" for m in imported)
    )
    assert importers == []


def test_psycopg_is_imported_only_by_the_postgresql_journal() -> None:
    assert all(m.startswith("ctflow.journal.postgres") for m in _importers("psycopg"))
