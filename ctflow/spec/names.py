"""The names a project declares (environments; trigger, campaign, journey and dataset keys;
fixtures), for shell completion: a line scan of the files, no schema check, no templates, no
parsing but of ``ctflow.yaml``. Top-level ``kind:`` and ``key:``, a journey's step keys and a
trigger's fixture names in block style (as ``ctflow init`` and every example write them) are
found; a document written otherwise is skipped.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ctflow.config import CONFIG_NAME, SANDBOX, project_root
from ctflow.spec.discovery import discover
from ctflow.yamlio import MAX_BYTES, YamlError, load_single

_DOCUMENT_START = re.compile(r"^(?:---|\.\.\.)(?:[ \t].*)?$", re.MULTILINE)
_TOP_FIELD = re.compile(r"""^(["']?)(kind|key|steps|fixtures)\1[ \t]*:(?:[ \t]+(.*))?$""")
_ITEM_FIELD = {"steps": "key", "fixtures": "name"}
"""The lists whose items are read, and the field each item is named by."""
_DOUBLE_QUOTED = re.compile(r'^"(?:[^"\\]|\\.)*"')
_SINGLE_QUOTED = re.compile(r"^'(?:[^']|'')*'")
_NOT_PLAIN = tuple("&*!|>{[@`%\"'")


@dataclass(frozen=True)
class Declared:
    """What a project names, each sorted; ``steps`` are journeys' campaigns, ``JOURNEY.STEP``;
    ``fixtures`` the names of each trigger's fixtures."""

    environments: tuple[str, ...] = (SANDBOX,)
    triggers: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    journeys: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    fixtures: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def declared(directory: Path) -> Declared:
    """The names of the project ``directory`` is in (found as every command finds it)."""
    root = project_root(directory)
    environments, exclude = _project_file(root / CONFIG_NAME)
    found: dict[str, set[str]] = {kind: set() for kind in ("Trigger", "Campaign", "Journey")}
    found["Dataset"], found["Audience"], found["steps"] = set(), set(), set()
    fixtures: dict[str, tuple[str, ...]] = {}
    for path in discover(root, exclude):
        for kind, key, lists in _documents(_text(path)):
            if kind in found:
                found[kind].add(key)
            if kind == "Journey":
                found["steps"].update(f"{key}.{step}" for step in lists.get("steps", ()))
            if kind == "Trigger":
                fixtures[key] = tuple(sorted(lists.get("fixtures", ())))
    return Declared(
        environments=tuple(sorted(environments)),
        triggers=tuple(sorted(found["Trigger"])),
        campaigns=tuple(sorted(found["Campaign"])),
        journeys=tuple(sorted(found["Journey"])),
        steps=tuple(sorted(found["steps"])),
        datasets=tuple(sorted(found["Dataset"])),
        audiences=tuple(sorted(found["Audience"])),
        fixtures=fixtures,
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


def _documents(text: str) -> Iterator[tuple[str, str, dict[str, list[str]]]]:
    """(kind, key, the names of the items of its ``steps`` and ``fixtures``) of each document of
    ``text`` that has both a kind and a key."""
    for document in _DOCUMENT_START.split(text):
        kind = key = None
        lists: dict[str, _Items] = {}
        reading: _Items | None = None
        for line in document.splitlines():
            if line[:1] in ("", " ", "-", "#"):  # not a top-level field
                if reading is not None:
                    reading.read(line)
                continue
            reading = None
            match = _TOP_FIELD.match(line)
            if match is None:
                continue
            name, value = match[2], _scalar(match[3] or "")
            if name == "kind":
                kind = value
            elif name == "key":
                key = value
            else:
                reading = lists[name] = _Items(_ITEM_FIELD[name])
        if kind is not None and key is not None:
            yield kind, key, {name: items.names for name, items in lists.items()}


class _Items:
    """The ``<field>:`` of each item of a top-level block list, read a line at a time."""

    def __init__(self, named_by: str) -> None:
        self.names: list[str] = []
        self._field = re.compile(rf"""^(["']?){named_by}\1[ \t]*:[ \t]+(.*)$""")
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
        match = self._field.match(stripped)
        value = _scalar(match[2]) if match else None
        if value is not None:
            self.names.append(value)


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
