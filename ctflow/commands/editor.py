"""What an editor needs to check every document: the project's copy of the JSON Schemas and
VS Code's ``yaml.schemas`` setting, merged into ``.vscode/settings.json`` without losing a key."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ctflow.errors import CtflowError
from ctflow.resources import SUFFIX, schemas_dir
from ctflow.spec.discovery import SUFFIXES, discover

SCHEMAS = "schemas"  # the project's copy, beside ctflow.yaml
SETTINGS = Path(".vscode") / "settings.json"
DISPATCHING = f"./{SCHEMAS}/ctflow{SUFFIX}"  # relative to the workspace folder
FOLDERS = ("campaigns", "journeys", "triggers", "tracking", "datasets")
"""The folders a project usually keeps its declarations in (every one ``ctflow init`` makes)."""

# A leading "/" anchors a pattern at a folder boundary: yaml-language-server matches it against
# the end of the file's URI, and its "*" crosses "/" (so "/campaigns/*.yaml" covers subfolders).


def installed_schemas() -> list[Path]:
    """The JSON Schemas of the installed ctflow, by name."""
    return sorted(schemas_dir().glob(f"*{SUFFIX}"))


def globs(project: Path, exclude: Sequence[str] = ()) -> list[str]:
    """The patterns that cover ``ctflow.yaml`` and every declaration folder of ``project``: the
    usual ones and each top-level folder holding a file ``ctflow validate`` reads."""
    folders = set(FOLDERS)
    for path in discover(project, exclude) if project.is_dir() else ():
        parts = path.relative_to(project).parts
        if len(parts) > 1 and parts[0] != SCHEMAS:
            folders.add(parts[0])
    found = [f"/ctflow{suffix}" for suffix in SUFFIXES]
    found += [f"/{folder}/*{suffix}" for folder in sorted(folders) for suffix in SUFFIXES]
    return found


def copy_schemas(project: Path) -> list[str]:
    """Write the installed schemas into ``project/schemas/``; the names of those that changed."""
    changed = []
    for source in installed_schemas():
        target = project / SCHEMAS / source.name
        text = source.read_text(encoding="utf-8")
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        write_file(target, text)
        changed.append(source.name)
    return changed


def write_settings(project: Path, exclude: Sequence[str] = ()) -> bool:
    """Map the kind-dispatching schema onto the project's YAML files in
    ``project/.vscode/settings.json``, keeping every other setting; whether the file changed.

    A file with comments (JSONC) is rewritten only if it needs no change; otherwise ctflow
    refuses, rather than drop the comments, and says what to add.
    """
    path = project / SETTINGS
    wanted = globs(project, exclude)
    text = _read(path)
    text = text if text.strip() else "{}"  # an empty file, as editors sometimes leave one
    try:
        settings = json.loads(text)
        commented = False
    except json.JSONDecodeError:
        settings = _jsonc(text, path)
        commented = True
    if not isinstance(settings, dict):
        raise CtflowError(f"{path} is not a JSON object; ctflow leaves it as it is")
    schemas = settings.get("yaml.schemas", {})
    if not isinstance(schemas, dict):
        raise CtflowError(f'{path}: "yaml.schemas" is not an object; ctflow leaves it as it is')
    if schemas.get(DISPATCHING) == wanted:
        return False
    if commented:
        entry = json.dumps({DISPATCHING: wanted}, indent=4)
        raise CtflowError(
            f"{path} has comments, which rewriting it would lose; ctflow leaves it as it is. "
            f'Add this to its "yaml.schemas" yourself:\n{entry}'
        )
    settings["yaml.schemas"] = {**schemas, DISPATCHING: wanted}
    write_file(path, json.dumps(settings, indent=4, ensure_ascii=False) + "\n")
    return True


_COMMENTS = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', flags=re.S)
_TRAILING_COMMAS = re.compile(r'"(?:\\.|[^"\\])*"|,(?=\s*[}\]])')


def _jsonc(text: str, path: Path) -> Any:
    """JSON with comments and trailing commas, as VS Code writes it, read for comparison."""

    def blank(match: re.Match[str]) -> str:  # blanks keep the error's line:col true
        token = match.group(0)
        return token if token.startswith('"') else re.sub(r"[^\n]", " ", token)

    try:
        return json.loads(_TRAILING_COMMAS.sub(blank, _COMMENTS.sub(blank, text)))
    except json.JSONDecodeError as exc:
        raise CtflowError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "
            "ctflow leaves it as it is"
        ) from None


def _read(path: Path) -> str:
    """The settings file's text ("" when there is none); a byte-order mark is allowed."""
    if not path.is_file():
        return ""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CtflowError(
            f"{path}: not UTF-8 (byte {exc.start}); ctflow leaves it as it is"
        ) from None
    except OSError as exc:
        raise CtflowError(f"cannot read {path}: {exc.strerror or exc}") from None


def write_file(target: Path, text: str) -> None:
    """Write a project file (making its directory); a failure is a message, not a traceback."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CtflowError(f"cannot write {target}: {exc.strerror or exc}") from None
