"""ctflow.sandbox imports only the standard library, starlette, uvicorn and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import ctflow.sandbox

ALLOWED = {"starlette", "uvicorn"}


def test_sandbox_imports_nothing_else() -> None:
    package = Path(ctflow.sandbox.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                inside = name == "ctflow.sandbox" or name.startswith("ctflow.sandbox.")
                if not (inside or top in ALLOWED or top in sys.stdlib_module_names):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
