"""Templates inside declarations: which fields are templates, what names they may use, and
where their problems are in the YAML (or in the ``body_file``) — the bridge to ``templates.py``.

Owns the template context of docs/declarations.md "Templates": ``vars`` (per environment), ``env``
and, for triggers, the send's parameters.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ctflow.config import Environment, Project
from ctflow.problems import Problems, dotted
from ctflow.spec import templates
from ctflow.spec.files import unreadable
from ctflow.spec.model import Decl, Keys

RESERVED = ("vars", "env")
MAX_BODY_BYTES = 2_000_000


@dataclass(frozen=True, eq=False)
class Field:
    """One template: its text, and where that text was written."""

    decl: Decl
    keys: Keys  # in decl.data
    source: str
    file: Path | None = None  # set when the text came from a body_file
    autoescape: bool = False

    def report(self, problems: Problems, line: int, column: int, message: str) -> None:
        if self.file is not None:
            problems.at(self.file, line, column, message)
            return
        document = self.decl.document
        keys = self.decl.locate(self.keys)
        message = f"{dotted(keys)}: {message}"
        start_line, start_column = document.position(keys)
        style = document.scalar_style(keys)
        path = document.path
        if style == "|":  # a literal block keeps its lines: template line n is file line L + n
            # past the block's indentation, a line's own (deeper) indentation is in the text
            problems.at(path, start_line + line, _block_indent(path, start_line) + column, message)
            return
        quoted = 1 if style in ("'", '"') else 0
        if line == 1 and style != ">" and _as_written(self.source, path, start_line, start_column):
            problems.at(path, start_line, start_column + quoted + column - 1, message)
        else:  # folded, multi-line or escaped ('', \n): the text is not the file's; the value
            problems.at(path, start_line, start_column, message)


def fields(decl: Decl, problems: Problems) -> Iterator[Field]:
    """Every template of ``decl``: the text leaves of ``content`` (and a trigger's ``values``)."""
    email = decl.data.get("channel") == "email"
    for root in ("content", "values"):
        value = decl.data.get(root)
        if not isinstance(value, Mapping):
            continue
        for keys, text in _leaves(value, (root,)):
            if keys[-1] == "body_file":
                body = _read(decl, keys, text, problems)
                if body is not None:
                    path, source = body
                    yield Field(decl, (*keys[:-1], "body"), source, path, autoescape=email)
            else:
                html = email and keys == ("content", "body")
                yield Field(decl, keys, text, autoescape=html)


def _leaves(
    value: Any, keys: Keys, found: list[tuple[Keys, str]] | None = None
) -> list[tuple[Keys, str]]:
    """The text leaves under ``value`` with their keys, in document order (a list, not nested
    generators: every campaign's content is walked)."""
    found = [] if found is None else found
    if isinstance(value, str):
        found.append((keys, value))
    elif isinstance(value, Mapping):
        for name, child in value.items():
            if isinstance(child, str):
                found.append(((*keys, name), child))
            else:
                _leaves(child, (*keys, name), found)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _leaves(child, (*keys, index), found)
    return found


def _read(decl: Decl, keys: Keys, name: str, problems: Problems) -> tuple[Path, str] | None:
    path = Path(os.path.normpath(decl.directory / name))
    missing = unreadable(path)
    if missing is not None:
        problems.add(decl.document, decl.locate(keys), f"{missing}: {path}")
        return None
    try:
        if path.stat().st_size > MAX_BODY_BYTES:
            problems.add(
                decl.document,
                decl.locate(keys),
                f"{path} is {path.stat().st_size:,} bytes; a message body over "
                f"{MAX_BODY_BYTES:,} is surely a mistake",
            )
            return None
        return path, path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.add(decl.document, decl.locate(keys), f"file not found: {path}")
    except UnicodeDecodeError:
        problems.add(decl.document, decl.locate(keys), f"{path} is not UTF-8 text")
    except OSError as error:
        problems.add(decl.document, decl.locate(keys), f"cannot read {path}: {error.strerror}")
    return None


def rendered(
    decl: Decl,
    values: Mapping[str, Any],
    problems: Problems,
    failed: Callable[[Field, templates.TemplateRenderError], None],
) -> dict[str, Any]:
    """A copy of ``decl.data`` with every template rendered with ``values`` and each
    ``body_file`` read into ``body``. A template that does not render goes to ``failed`` (and
    stays as written); an unreadable ``body_file`` goes to ``problems``."""
    out: dict[str, Any] = dict(decl.data)
    for root in ("content", "values"):  # the only parts rendered (fixtures may be large)
        if root in out:
            out[root] = copy.deepcopy(out[root])
    for field in fields(decl, problems):
        text = field.source
        if templates.is_template(text):
            try:
                text = templates.render(text, values, autoescape=field.autoescape)
            except templates.TemplateRenderError as exc:
                failed(field, exc)
                continue
        parent: Any = out
        for part in field.keys[:-1]:
            parent = parent[part]
        parent[field.keys[-1]] = text
        if field.file is not None:
            parent.pop("body_file", None)
    return out


def context_schema(
    project: Project, env: Environment, parameters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON Schema of every name a template may use in ``env``."""
    properties: dict[str, Any] = dict((parameters or {}).get("properties") or {})
    properties["vars"] = _schema_of(project.variables_for(env))
    properties["env"] = {"type": "string"}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    for defs in ("$defs", "definitions"):  # so "#/$defs/..." references still resolve
        if parameters and defs in parameters:
            schema[defs] = parameters[defs]
    return schema


def context(
    project: Project, env: Environment, data: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The values a template renders with in ``env``."""
    return {**(data or {}), "vars": project.variables_for(env), "env": env.name}


def _schema_of(value: Any) -> dict[str, Any]:
    """A JSON Schema describing a variable's value, so templates are type-checked against it."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array"}
    if isinstance(value, Mapping):
        return {
            "type": "object",
            "properties": {str(k): _schema_of(v) for k, v in value.items()},
            "additionalProperties": False,
        }
    return {}


def check_fields(
    project: Project,
    items: list[Field],
    problems: Problems,
    parameters: Mapping[str, Any] | None = None,
) -> set[Field]:
    """Statically check ``items`` in every environment; returns the fields with problems.

    A problem found in only some environments names them (a variable set for production but
    not for staging); one found in all of them is reported once.
    """
    broken: set[Field] = set()
    items = [item for item in items if templates.is_template(item.source)]  # others pass
    if not items:
        return broken
    envs = sorted(project.environments.values(), key=lambda e: e.name)
    schemas = _PER_PROJECT.schemas(project, envs, parameters)
    for item in items:
        found: dict[tuple[int, int, str], list[str]] = {}
        shape = templates.skeleton(item.source)
        for env in envs:
            for problem in _check(shape, schemas[env.name]):
                found.setdefault((problem.line, problem.column, problem.message), []).append(
                    env.name
                )
        for (line, column, message), names in found.items():
            where = "" if len(names) == len(envs) else f"; in environment {', '.join(names)}"
            item.report(problems, line, column, f"{message}{where}")
            broken.add(item)
    return broken


def check_renders(
    project: Project,
    items: list[Field],
    problems: Problems,
    data: Mapping[str, Any] | None = None,
    what: str = "does not render",
) -> None:
    """Render ``items`` (with a send's ``data``) in every environment, as plan and send will;
    a failure found in only some environments names them."""
    envs = sorted(project.environments.values(), key=lambda e: e.name)
    values: dict[str, dict[str, Any]] = {}  # each environment's, made when first needed
    failures: dict[tuple[Field, int, str], list[str]] = {}
    outcomes = _PER_PROJECT.outcomes(project) if data is None else {}
    alike = _PER_PROJECT.alike(project, envs)
    for item in items:  # each template compiled once (cached), rendered in every environment
        if not templates.is_template(item.source):
            continue
        # a text that does not name `env` renders alike where the variables are alike
        envwise = "env" in item.source
        for env in envs:
            name = env.name if envwise else alike[env.name]
            key = (item.source, item.autoescape, name)
            if key not in outcomes:
                if name not in values:
                    values[name] = context(project, project.environments[name], data)
                outcomes[key] = _render_failure(item, values[name])
            failure = outcomes[key]
            if failure is not None:
                failures.setdefault((item, *failure), []).append(env.name)
    for (item, line, message), names in failures.items():
        where = "" if len(names) == len(envs) else f"; in environment {', '.join(names)}"
        item.report(problems, line, 1, f"{what}: {message}{where}")


def _render_failure(item: Field, values: Mapping[str, Any]) -> tuple[int, str] | None:
    """(line, message) of why ``item`` does not render with ``values``; None when it does."""
    try:
        templates.render(item.source, values, autoescape=item.autoescape)
    except templates.TemplateRenderError as error:
        return error.line, error.message
    return None


class _ProjectMemo:
    """What every declaration of one project shares, worked out once for the project checked
    last: the frozen context schema per environment, and whether each template renders with
    the project's own values (no parameters, no data: the same for every campaign)."""

    MAX_OUTCOMES = 4096

    def __init__(self) -> None:
        self._project: Project | None = None
        self._schemas: dict[str, str] = {}
        self._outcomes: dict[tuple[str, bool, str], tuple[int, str] | None] = {}
        self._alike: dict[str, str] = {}

    def _for(self, project: Project) -> None:
        if project is not self._project:  # Project is frozen: the same object, the same values
            self._project, self._schemas, self._outcomes, self._alike = project, {}, {}, {}

    def schemas(
        self, project: Project, envs: list[Environment], parameters: Mapping[str, Any] | None
    ) -> dict[str, str]:
        if parameters is not None:
            return {env.name: _freeze(context_schema(project, env, parameters)) for env in envs}
        self._for(project)
        for env in envs:
            if env.name not in self._schemas:
                self._schemas[env.name] = _freeze(context_schema(project, env))
        return self._schemas

    def alike(self, project: Project, envs: list[Environment]) -> dict[str, str]:
        """Each environment's name → the first of ``envs`` with the very same variables: same
        types and key order too (Jinja tells ``1`` from ``1.0`` and ``true``)."""
        self._for(project)
        if not self._alike:
            exact = {e.name: _exactly(project.variables_for(e)) for e in envs}
            for env in envs:
                self._alike[env.name] = next(
                    e.name for e in envs if exact[e.name] == exact[env.name]
                )
        return self._alike

    def outcomes(self, project: Project) -> dict[tuple[str, bool, str], tuple[int, str] | None]:
        self._for(project)
        if len(self._outcomes) > self.MAX_OUTCOMES:
            self._outcomes.clear()
        return self._outcomes


_PER_PROJECT = _ProjectMemo()


@lru_cache(maxsize=4096)
def _check(source: str, schema: str) -> tuple[templates.TemplateProblem, ...]:
    return tuple(templates.check(source, json.loads(schema)))


def _exactly(value: Any) -> str:
    """``value`` written out with its types and its keys in order (``1``, ``1.0`` and ``true``
    differ)."""
    return json.dumps(value, default=repr)


def _freeze(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, default=str)


def forget_files() -> None:
    """Drop cached file lines (a new validation run may see edited files)."""
    _lines.cache_clear()


def _block_indent(path: Path, header: int) -> int:
    """The indentation of the literal block whose ``|`` is on line ``header``: its first line
    with text (lines indented deeper keep the rest in the block's text)."""
    for text in _lines(path)[header:]:
        if text.strip():
            return len(text) - len(text.lstrip(" "))
    return 0


def _as_written(source: str, path: Path, line: int, column: int) -> bool:
    """Whether the one-line ``source`` stands in the file as it is, at ``column`` of ``line``
    (after the opening quote of a quoted scalar): no escape (``''``, ``\\t``) moved its text."""
    if "\n" in source:
        return False
    lines = _lines(path)
    if not 1 <= line <= len(lines):
        return False
    text = lines[line - 1]
    start = column - 1 + (1 if text[column - 1 : column] in ("'", '"') else 0)
    return text[start : start + len(source)] == source


@lru_cache(maxsize=256)
def _lines(path: Path) -> tuple[str, ...]:
    try:
        return tuple(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return ()
