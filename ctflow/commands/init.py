"""``ctflow init [DIR]``: scaffold a small project that validates and plans on the sandbox.

Copies ``ctflow/scaffold/`` (and the JSON Schemas, for editors) into the directory and maps the
schemas in ``.vscode/settings.json`` (merged into one that exists); refuses to overwrite anything
else that exists.
"""

from __future__ import annotations

import re
import shlex
from datetime import date, timedelta
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TextIO

from ctflow.commands import editor
from ctflow.errors import CtflowError, ExitCode, UsageError

RENAMES = {"gitignore": ".gitignore"}
# Project ids that YAML 1.2 would read as a number, a boolean or null: written quoted.
NOT_TEXT = re.compile(r"[0-9]+(?:e-?[0-9]+)?|true|false|null")
KEPT_IF_PRESENT = ("README.md",)  # an existing repository's README stays as it is
STATE_LINE = ".ctflow/"


def init(directory: Path, project: str | None, today: date, *, out: TextIO) -> int:
    """Write the scaffold into ``directory`` (created if missing) and say what to run next.

    An existing ``README.md`` is kept and an existing ``.gitignore`` gains ``.ctflow/``, so init
    also works at the root of a repository; any other file already there stops it.
    """
    name = project or _project_id(directory)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise UsageError(
            f"{name!r} cannot be a project id (lower-case letters, digits, '-' and '_'); "
            "choose one with --project"
        )
    _make_directory(directory)
    plan = dict(_scaffold_files())
    plan.update(
        {f"{editor.SCHEMAS}/{p.name}": p.read_text("utf-8") for p in editor.installed_schemas()}
    )
    for rel in (*KEPT_IF_PRESENT, ".gitignore"):
        if (directory / rel).is_file():
            del plan[rel]
    existing = [rel for rel in plan if (directory / rel).exists()]
    if existing:
        raise CtflowError(
            f"{directory} already has {', '.join(sorted(existing))}; ctflow init never "
            "overwrites files (pick an empty directory)"
        )
    tokens = {
        "project: __PROJECT__": f"project: {_yaml_text(name)}",
        "__PROJECT__": name,
        "__TOMORROW__": (today + timedelta(days=1)).isoformat(),
    }
    for rel, text in sorted(plan.items()):
        for token, value in tokens.items():
            text = text.replace(token, value)
        editor.write_file(directory / rel, text)
    written = sorted(r for r in plan if not r.startswith(f"{editor.SCHEMAS}/"))
    if ".gitignore" not in plan and _ignore_state(directory / ".gitignore"):
        written.append(".gitignore (added .ctflow/)")
    settings = editor.SETTINGS.as_posix()
    try:
        if editor.write_settings(directory):
            written.append(f"{settings} (yaml.schemas for your editor)")
    except CtflowError as exc:  # a settings file ctflow will not rewrite: the project stands
        written.append(f"{settings} left as it is: {exc.message}")
    shown = "." if directory == Path(".") else str(directory)
    out.write(f"Created project {name!r} in {shown}:\n")
    out.writelines(f"  {rel}\n" for rel in written)
    out.write("  schemas/ (JSON Schemas for your editor)\n\nNext:\n")
    prefix = "" if shown == "." else f"cd {shlex.quote(shown)} && "
    out.write(f"  {prefix}ctflow validate\n")
    return ExitCode.OK


def _yaml_text(name: str) -> str:
    """``name`` as a YAML scalar that reads back as text (``123`` would be a number)."""
    return f'"{name}"' if NOT_TEXT.fullmatch(name) else name


def _make_directory(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise CtflowError(f"cannot create the project in {directory}: it is a file")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CtflowError(
            f"cannot create the directory {directory}: {exc.strerror or exc}"
        ) from None


def _ignore_state(gitignore: Path) -> bool:
    """Add ``.ctflow/`` to an existing ``.gitignore``; whether the file changed."""
    text = gitignore.read_text(encoding="utf-8")
    if STATE_LINE in text.splitlines():
        return False
    separator = "" if not text or text.endswith("\n") else "\n"
    gitignore.write_text(f"{text}{separator}{STATE_LINE}\n", encoding="utf-8")
    return True


def _project_id(directory: Path) -> str:
    raw = directory.resolve().name.lower()
    return re.sub(r"[^a-z0-9_-]+", "-", raw).strip("-_") or "my-project"


def _scaffold_files() -> dict[str, str]:
    root = files("ctflow") / "scaffold"
    found: dict[str, str] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            rel = f"{prefix}{RENAMES.get(child.name, child.name)}"
            if child.is_dir():
                if child.name != "__pycache__":
                    walk(child, rel + "/")
            else:
                found[rel] = child.read_text(encoding="utf-8")

    walk(root, "")
    return found
