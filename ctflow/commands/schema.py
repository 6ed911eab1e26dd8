"""``ctflow schema [--write]``: where the installed JSON Schemas are; with ``--write``, the
project's copy of them refreshed and VS Code's settings made to check every document."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from ctflow.commands import editor
from ctflow.config import CONFIG_NAME, find_project, project_root
from ctflow.errors import ConfigError, ExitCode
from ctflow.resources import schemas_dir


def schema(directory: Path, write: bool, *, out: TextIO) -> int:
    """Print the installed schemas' directory, or (``write``) refresh the project's copy and
    its ``.vscode/settings.json``, saying what changed."""
    if not write:
        out.write(f"{schemas_dir()}\n")
        return ExitCode.OK
    root = project_root(directory)
    if not (root / CONFIG_NAME).is_file():
        raise ConfigError(
            f"no {CONFIG_NAME} in {directory.resolve()} or any directory above it: run "
            "`ctflow init` to create a project, or point at one with -C DIR"
        )
    shown = "" if root == Path(".") else f"{root}/"
    changed = editor.copy_schemas(root)
    total = len(editor.installed_schemas())
    state = f"{len(changed)} of {total} updated" if changed else "up to date"
    out.write(f"{shown}{editor.SCHEMAS}/: {state}\n")
    settings = f"{shown}{editor.SETTINGS.as_posix()}"
    if editor.write_settings(root, find_project(root).exclude):
        out.write(f"{settings}: yaml.schemas maps {editor.DISPATCHING} onto the declarations\n")
    else:
        out.write(f"{settings}: up to date\n")
    return ExitCode.OK
