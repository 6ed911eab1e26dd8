"""Files shipped with ctflow: the JSON Schemas of the YAML kinds.

In a wheel they live in ``ctflow/schemas``; in a source checkout (editable install) in the
repository's top-level ``schemas/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def schemas_dir() -> Path:
    for candidate in (_PACKAGE / "schemas", _PACKAGE.parent / "schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("ctflow's JSON Schemas are missing from this installation")


def load_schema(name: str) -> dict[str, Any]:
    """The schema ``<name>.schema.json``, e.g. ``load_schema("project")``."""
    data: dict[str, Any] = json.loads((schemas_dir() / f"{name}.schema.json").read_text("utf-8"))
    return data
