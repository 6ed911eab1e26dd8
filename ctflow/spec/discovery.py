"""Which files of a project are declarations: every YAML file under its root but ``ctflow.yaml``,
hidden ones and the ``exclude`` globs. Light: shell completion walks it on every TAB."""

from __future__ import annotations

import os
from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path

from ctflow.config import CONFIG_NAME

SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})


def discover(root: Path, exclude: Sequence[str] = ()) -> list[Path]:
    """Every YAML file under ``root`` except ``ctflow.yaml``, hidden ones and ``exclude`` globs.

    Paths are ``root / relative`` so that messages read the way the user named the project.
    """
    found: list[Path] = []
    top = str(root)
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        # text, not Path objects, for each file: a project may have thousands
        folder = os.path.relpath(directory, top).replace(os.sep, "/")
        prefix = "" if folder == "." else f"{folder}/"
        for name in sorted(files):
            relative = prefix + name
            if (
                name.startswith(".")
                or not name.lower().endswith(SUFFIXES)
                or relative == CONFIG_NAME
                or _excluded(relative, exclude)
            ):
                continue
            found.append(root / relative)
    return found


def _excluded(relative: str, patterns: Sequence[str]) -> bool:
    """Glob match (``*`` crosses ``/``); a pattern naming a directory excludes all below it."""
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        folder = bare.rstrip("/")
        if (
            fnmatch(relative, pattern)
            or fnmatch(relative, bare)
            or relative.startswith(f"{folder}/")
            or fnmatch(relative, f"{folder}/*")
        ):
            return True
    return False
