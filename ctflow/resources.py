"""Files shipped with ctflow: the JSON Schemas of the YAML kinds, and validators built from them.

In a wheel they live in ``ctflow/schemas``; in a source checkout (editable install) in the
repository's top-level ``schemas/``. Imports jsonschema, referencing and jsonschema-rs only, and
only when a validator is first asked for: `ctflow --version` and `--help` never pay for them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from referencing import Registry

_PACKAGE = Path(__file__).resolve().parent
SUFFIX = ".schema.json"

# Every kind of declaration and the name of its schema (``<name>.schema.json``).
KINDS: dict[str, str] = {
    "Project": "project",
    "EventSchema": "event-schema",
    "ProfileSchema": "profile-schema",
    "Campaign": "campaign",
    "Journey": "journey",
    "Trigger": "trigger",
    "Dataset": "dataset",
    "Audience": "audience",
}


def schemas_dir() -> Path:
    for candidate in (_PACKAGE / "schemas", _PACKAGE.parent / "schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("ctflow's JSON Schemas are missing from this installation")


def load_schema(name: str) -> dict[str, Any]:
    """The schema ``<name>.schema.json``, e.g. ``load_schema("project")``."""
    data: dict[str, Any] = json.loads((schemas_dir() / f"{name}{SUFFIX}").read_text("utf-8"))
    return data


@cache
def registry() -> Registry[Any]:
    """Every shipped schema keyed by its file name, so relative ``$ref``s resolve offline.

    The schemas carry no ``$id``: editors resolve ``common.schema.json#/$defs/...`` next to the
    file they opened, and this registry does the same for ctflow.
    """
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources: list[tuple[str, Resource[Any]]] = [
        (path.name, DRAFT202012.create_resource(json.loads(path.read_text("utf-8"))))
        for path in sorted(schemas_dir().glob(f"*{SUFFIX}"))
    ]
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for ``<name>.schema.json`` (e.g. ``"campaign"``), built once per process."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name), registry=registry())


BASE_URI = "json-schema:///"  # where jsonschema-rs resolves a schema without an ``$id``


@cache
def _compiled(name: str) -> Any:
    import jsonschema_rs

    registry = jsonschema_rs.Registry(
        [
            (BASE_URI + path.name, json.loads(path.read_text("utf-8")))
            for path in sorted(schemas_dir().glob(f"*{SUFFIX}"))
        ]
    )
    return jsonschema_rs.validator_for(
        load_schema(name), registry=registry, base_uri=f"{BASE_URI}{name}{SUFFIX}"
    )


def surely_valid(name: str, instance: Any) -> bool:
    """Whether ``instance`` is valid against ``<name>.schema.json``, asked of a compiled validator
    (jsonschema-rs), which answers many times faster than :func:`validator` but cannot say why.
    False also when it cannot tell (a value it cannot read): then ask :func:`validator`."""
    try:
        return bool(_compiled(name).is_valid(instance))
    except (ValueError, TypeError, OverflowError):
        return False
