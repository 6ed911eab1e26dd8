"""The names a project declares (environments; trigger, campaign, journey and dataset keys), for
shell completion: a line scan of the files, no schema check, no templates, no parsing but of
``ctflow.yaml``. Top-level ``kind:`` and ``key:`` and a journey's step keys in block style (as
``ctflow init`` and every example write them) are found; a document written otherwise is skipped.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ctflow.config import CONFIG_NAME, SANDBOX, project_root
from ctflow.spec.discovery import discover
from ctflow.yamlio import MAX_BYTES, YamlError, load_single

_DOCUMENT_START = re.compile(r"^(?:---|\.\.\.)(?:[ \t].*)?$", re.MULTILINE)
_TOP_FIELD = re.compile(r"""^(["']?)(kind|key|steps)\1[ \t]*:(?:[ \t]+(.*))?$""")
_KEY_FIELD = re.compile(r"""^(["']?)key\1[ \t]*:[ \t]+(.*)$""")
_DOUBLE_QUOTED = re.compile(r'^"(?:[^"\\]|\\.)*"')
_SINGLE_QUOTED = re.compile(r"^'(?:[^']|'')*'")
_NOT_PLAIN = tuple("&*!|>{[@`%\"'")


@dataclass(frozen=True)
class Declared:
    """What a project names, each sorted; ``steps`` are journeys. campaigns, ``JOURNEY.STEP``."""

    environments: tuple[str, ...] = (SANDBOX,)
    triggers: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    journeys: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()


def declared(directory: Path) -> Declared:
    """The names of the project ``directory`` is in (found as every command finds it)."""
    root = project_root(directory)
    environments, exclude = _project_file(root / CONFIG_NAME)
    found: dict[str, set[str]] = {kind: set() for kind in ("Trigger", "Campaign", "Journey")}
    found["Dataset"], found["steps"] = set(), set()
    for path in discover(root, exclude):
        for kind, key, steps in _documents(_text(path)):
            if kind in found:
                found[kind].add(key)
            if kind == "Journey":
                found["steps"].update(f"{key}.{step}" for step in steps)
    return Declared(
        environments=tuple(sorted(environments)),
        triggers=tuple(sorted(found["Trigger"])),
        campaigns=tuple(sorted(found["Campaign"])),
        journeys=tuple(sorted(found["Journey"])),
        steps=tuple(sorted(found["steps"])),
        datasets=tuple(sorted(found["Dataset"])),
    )


def _project_file(path: Path) -> tuple[set[str], tuple[str, ...]]:
    """The environments (``sandbox`` always) and ``exclude`` globs of ``ctflow.yaml``."""
    environments = {SANDBOX}
    if not path.is_file():
        return environments, ()
    try:
        data = load_single(path).data
    except YamlError:
        return environments, ()
    if not isinstance(data, dict):
        return environments, ()
    declared_envs = data.get("environments")
    if isinstance(declared_envs, dict):
        environments.update(name for name in declared_envs if isinstance(name, str))
    exclude = data.get("exclude")
    globs = tuple(g for g in exclude if isinstance(g, str)) if isinstance(exclude, list) else ()
    return environments, globs


def _text(path: Path) -> str:
    """The file's text; nothing for a file too big or not a regular file (a pipe never ends)."""
    try:
        found = path.stat()
        if not stat.S_ISREG(found.st_mode) or found.st_size > MAX_BYTES:
            return ""
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _documents(text: str) -> Iterator[tuple[str, str, list[str]]]:
    """(kind, key, step keys) of each document of ``text`` that has both a kind and a key."""
    for document in _DOCUMENT_START.split(text):
        kind = key = None
        steps: _Steps | None = None
        for line in document.splitlines():
            if line[:1] in ("", " ", "-", "#"):  # not a top-level field
                if steps is not None and not steps.ended:
                    steps.read(line)
                continue
            if steps is not None:
                steps.ended = True
            match = _TOP_FIELD.match(line)
            if match is None:
                continue
            field, value = match[2], _scalar(match[3] or "")
            if field == "kind":
                kind = value
            elif field == "key":
                key = value
            else:
                steps = _Steps()
        if kind is not None and key is not None:
            yield kind, key, [] if steps is None else steps.keys


class _Steps:
    """The ``key:`` of each item of the block list under ``steps:``, read a line at a time."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.ended = False
        self._item_indent: int | None = None
        self._field_indent = -1

    def read(self, line: str) -> None:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if stripped == "-" or stripped.startswith("- "):
            if self._item_indent is None:
                self._item_indent = indent
            if indent != self._item_indent:
                return
            stripped = stripped[1:].lstrip(" ")
            self._field_indent = len(line) - len(stripped)
        elif indent != self._field_indent:
            return
        match = _KEY_FIELD.match(stripped)
        value = _scalar(match[2]) if match else None
        if value is not None:
            self.keys.append(value)


def _scalar(text: str) -> str | None:
    """A one-line scalar as YAML reads it (plain, or quoted), without a trailing comment."""
    text = text.strip()
    if match := _DOUBLE_QUOTED.match(text):
        try:
            value: object = json.loads(match[0])
        except ValueError:
            return None
        return value if isinstance(value, str) and value else None
    if match := _SINGLE_QUOTED.match(text):
        return match[0][1:-1].replace("''", "'") or None
    plain = re.split(r"[ \t]#", text, maxsplit=1)[0].rstrip()
    if not plain or plain.startswith(_NOT_PLAIN):
        return None
    return plain
