"""Checks of triggers: the parameters schema, campaign ids per environment (``campaign_id``, or
``campaign_ids`` for several campaigns), fixtures.

Owns "every fixture satisfies the parameters and renders" and CleverTap's string-only values for
external triggers. Templates are checked through ``templating``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator

from ctflow.config import SANDBOX, Project
from ctflow.errors import InvalidInput
from ctflow.problems import LONE_SURROGATE, Problems, dotted, lone_surrogates, suggest
from ctflow.schemacheck import violations
from ctflow.spec import templating
from ctflow.spec.files import unreadable
from ctflow.spec.model import Decl
from ctflow.spec.parameters import readable, vouched
from ctflow.yamlio import MAX_BYTES, Document, YamlError, load_single

SCALARS = frozenset({"string", "number", "integer", "boolean"})


def check_trigger(
    decl: Decl, project: Project, problems: Problems, *, project_ok: bool = True
) -> None:
    """Parameters, fixtures and, when ``ctflow.yaml`` loaded (``project_ok``), the campaign ids
    per environment and every template (they depend on its environments and variables)."""
    data = decl.data
    parameters, well_formed = readable(decl, problems)
    validator = _parameters_validator(decl, parameters, problems) if well_formed else None
    properties: Mapping[str, Any] = parameters.get("properties") or {}
    for name in templating.RESERVED:
        if name in properties:
            problems.add(
                decl.document,
                ("parameters", "properties", name),
                f"a parameter may not be called {name!r}: templates use it for the "
                "project's " + ("variables" if name == "vars" else "environment name"),
                at_key=True,
            )
    if data.get("type") == "external":
        _check_external(decl, project if project_ok else None, properties, problems)
    fields = list(templating.fields(decl, problems))
    if not project_ok:
        fields = []
    # Against malformed parameters every use of a parameter would look undeclared: the
    # templates are still rendered with each fixture below, but not checked statically.
    checked = fields if well_formed else []
    broken = templating.check_fields(project, checked, problems, parameters)
    names: dict[str, int] = {}
    for index, fixture in enumerate(data.get("fixtures") or []):
        name = fixture["name"]
        if name in names:
            problems.add(
                decl.document,
                ("fixtures", index, "name"),
                f"fixture {name!r} is already declared (fixtures[{names[name]}])",
            )
        names.setdefault(name, index)
        loaded = _fixture_data(decl, index, fixture, problems)
        if loaded is None:
            continue
        fixture_data, report_at = loaded
        if validator is not None:
            found = [] if vouched(parameters, fixture_data) else violations(validator, fixture_data)
            for violation in found:
                report_at(violation.keys, f"fixture {name!r}: {violation.message}")
            if found:
                continue
        templating.check_renders(
            project,
            [f for f in fields if f not in broken],
            problems,
            fixture_data if isinstance(fixture_data, Mapping) else {},
            f"fixture {name!r} does not render",
        )


def _parameters_validator(
    decl: Decl, parameters: Mapping[str, Any], problems: Problems
) -> Draft202012Validator | None:
    """The fixtures' validator of well-formed ``parameters`` (:func:`parameters.readable`)."""
    if parameters.get("type") != "object":
        problems.add(
            decl.document, ("parameters",), "parameters must be a schema of 'type: object'"
        )
        return None
    broken = False
    for keys, ref in _refs(parameters, ("parameters",)):
        if not _resolves(parameters, ref):
            offline = "only references inside parameters (#/...) work offline"
            reason = "points to nothing" if ref.startswith("#") else offline
            problems.add(decl.document, keys, f"$ref {ref!r} {reason}")
            broken = True
    if broken:
        return None
    return Draft202012Validator(parameters, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _refs(schema: Any, keys: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(schema, Mapping):
        for name, value in schema.items():
            if name == "$ref" and isinstance(value, str):
                found.append(((*keys, name), value))
            else:
                found.extend(_refs(value, (*keys, name)))
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found.extend(_refs(value, (*keys, index)))
    return found


def _resolves(schema: Mapping[str, Any], ref: str) -> bool:
    """Whether a local JSON pointer (``#/$defs/item``) names something inside ``schema``."""
    if not ref.startswith("#"):
        return False
    node: Any = schema
    for raw in [p for p in ref[1:].split("/") if p]:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdecimal() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _check_external(
    decl: Decl, project: Project | None, properties: Mapping[str, Any], problems: Problems
) -> None:
    for field in ("campaign_id", "campaign_ids"):
        per_env = decl.data.get(field)
        if project is None or not isinstance(per_env, Mapping):
            continue
        real = sorted(name for name in project.environments if name != SANDBOX)
        for env in per_env:
            if env not in project.environments:
                problems.add(
                    decl.document,
                    (field, env),
                    f"unknown environment {env!r}{suggest(env, real)}; ctflow.yaml declares: "
                    + ", ".join(sorted(project.environments)),
                    at_key=True,
                )
        missing = [env for env in real if env not in per_env]
        if missing:
            what = "id" if field == "campaign_id" else "ids"
            problems.add(
                decl.document, (field,), f"no {what} for environment " + ", ".join(missing)
            )
    if "values" in decl.data:
        return
    for name, schema in properties.items():
        kind = schema.get("type") if isinstance(schema, Mapping) else None
        kinds = {kind} if isinstance(kind, str) else set(kind or [])
        if not kinds or not kinds <= SCALARS | {"null"}:
            problems.add(
                decl.document,
                ("parameters", "properties", name),
                f"parameter {name!r} is not a string, number, integer or boolean: CleverTap "
                "takes only text values for an external trigger; declare 'values' to flatten it",
                at_key=True,
            )


def fixture_data(decl: Decl, fixture: Mapping[str, Any]) -> Any:
    """A fixture's data, inline or read from its file; exit 3 when the file cannot be read."""
    problems = Problems()
    index = list(decl.data.get("fixtures") or []).index(fixture)
    loaded = _fixture_data(decl, index, fixture, problems)
    if loaded is None:
        raise InvalidInput(
            f"fixture {fixture['name']!r} of trigger {decl.key!r} cannot be read",
            [str(p) for p in problems.sorted()],
        )
    return loaded[0]


def _fixture_data(decl: Decl, index: int, fixture: Mapping[str, Any], problems: Problems) -> Any:
    """(data, a reporter placing a problem inside it) for inline or file fixtures."""
    if "data" in fixture:

        def inline(keys: Any, message: str) -> None:
            problems.add(decl.document, ("fixtures", index, "data", *keys), message)

        return fixture["data"], inline
    path = decl.directory / fixture["file"]
    read = _fixture_file(decl, index, path, problems)
    if read is None:
        return None
    document, data = read

    def in_file(keys: Any, message: str) -> None:
        if document is not None:
            problems.add(document, keys, message)
        else:
            where = dotted(keys)
            problems.at(path, 1, 1, f"{where}: {message}" if where else message)

    if document is None:  # JSON that is not YAML: YAML would have refused a lone surrogate
        for keys in lone_surrogates(data):
            in_file(keys, LONE_SURROGATE)
    return data, in_file


def _fixture_file(
    decl: Decl, index: int, path: Path, problems: Problems
) -> tuple[Document | None, Any] | None:
    """(its document, when read as YAML; its data) of a fixture's file, or ``None`` with a
    problem when it cannot be read."""
    missing = unreadable(path)
    if missing is not None:
        problems.add(decl.document, ("fixtures", index, "file"), f"{missing}: {path}")
        return None
    try:
        try:  # JSON is YAML too, and read as YAML a fixture's problems have positions
            document = load_single(path)
            return document, document.data
        except YamlError:
            if path.suffix != ".json" or path.stat().st_size > MAX_BYTES:
                raise
            return None, json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        problems.add(decl.document, ("fixtures", index, "file"), f"cannot read {path}: {error}")
    except json.JSONDecodeError as error:
        problems.at(path, error.lineno, error.colno, f"invalid JSON: {error.msg}")
    except YamlError as error:
        problems.yaml(error)
    return None
