"""Reading the declaration files of a project into schema-valid declarations.

Owns the ``kind`` dispatch and the JSON Schema check of each document (which files are
declarations is :mod:`ctflow.spec.discovery`). Imports yamlio, resources and the spec helpers;
never the client.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctflow.config import CONFIG_NAME
from ctflow.problems import Problems, suggest
from ctflow.resources import KINDS, surely_valid, validator
from ctflow.schemacheck import violations
from ctflow.spec.model import KIND_ORDER, Decl, Keys
from ctflow.yamlio import MAX_BYTES, Document, YamlError, load_documents

KEY_FIELD = {"EventSchema": "event"}


@dataclass(frozen=True)
class Broken:
    """A declaration of a known kind that failed its schema (its problems are reported).

    ``faults`` are where the schema found them: the parts no fault is at or under can still
    be checked (see ``salvage``). A document with keys that are not text never reached its
    schema (``schema_checked`` is false): no part of it is intact."""

    kind: str
    document: Document
    faults: tuple[Keys, ...]
    schema_checked: bool = True

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.document.data
        return data

    def intact(self, keys: Keys) -> bool:
        """Whether the value at ``keys`` exists and the schema found no fault at or under it."""
        return (
            self.schema_checked
            and self.document.exists(keys)
            and not any(fault[: len(keys)] == keys for fault in self.faults)
        )


@dataclass
class Reading:
    """The declarations that passed their schema, those that failed it, and the kinds that a
    file which could not be read as YAML may declare."""

    decls: list[Decl] = field(default_factory=list)
    broken: list[Broken] = field(default_factory=list)
    unread_kinds: set[str] = field(default_factory=set)


_KIND_LINE = re.compile(r"""\bkind["']?[ \t]*:[ \t]*["']?(\w+)""")


def read_declarations(files: Sequence[Path], problems: Problems) -> Reading:
    """Read ``files``; every problem is reported, the valid declarations returned.

    A duplicate key is reported and its first value kept, so the rest of its file is checked.
    """
    reading = Reading()
    for path in files:
        duplicates: list[YamlError] = []
        try:
            documents = load_documents(path, duplicates)
        except YamlError as error:
            problems.yaml(error)
            reading.unread_kinds |= _kinds_named(path)
            continue
        finally:
            for duplicate in duplicates:
                problems.yaml(duplicate)
        for document in documents:
            decl = _declaration(document, problems, reading.broken)
            if decl is not None:
                reading.decls.append(decl)
    return reading


def _kinds_named(path: Path) -> set[str]:
    """The kinds an unreadable file says it declares (every kind when it cannot be read)."""
    try:
        found = path.stat()  # a pipe or a device may never end: every kind, unread
        if not stat.S_ISREG(found.st_mode) or found.st_size > MAX_BYTES:
            return set(KIND_ORDER)
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return set(KIND_ORDER)
    return {match[1] for match in _KIND_LINE.finditer(text)}


def _declaration(document: Document, problems: Problems, broken: list[Broken]) -> Decl | None:
    data = document.data
    if data is None:
        return None  # an empty document (comments only)
    if not isinstance(data, dict):
        problems.add(
            document,
            (),
            f"a declaration is a mapping with 'kind:' (one of {', '.join(KIND_ORDER)}); "
            f"found {_describe(data)}",
        )
        return None
    bad_keys = [] if document.text_keys else list(_non_text_keys(data, ()))
    for keys in bad_keys:
        problems.add(document, keys, "keys must be text; quote it", at_key=True)
    kind = data.get("kind")
    if kind is None:
        problems.add(
            document,
            (),
            f"missing 'kind': one of {', '.join(KIND_ORDER)} says what this declares (not a "
            f"ctflow file? list it under exclude: in {CONFIG_NAME})",
        )
        return None
    if kind == "Project":
        problems.add(document, ("kind",), f"the Project is declared in {CONFIG_NAME} only")
        return None
    if not isinstance(kind, str) or kind not in KINDS:
        problems.add(
            document,
            ("kind",),
            f"unknown kind {kind!r}{suggest(kind, KIND_ORDER)}; known kinds: "
            + ", ".join(KIND_ORDER),
        )
        return None
    if bad_keys:
        broken.append(Broken(kind, document, tuple(bad_keys), schema_checked=False))
        return None
    schema = KINDS[kind]
    found = [] if surely_valid(schema, data) else violations(validator(schema), data)
    for violation in found:
        problems.add(document, violation.keys, violation.text(), at_key=violation.at_key)
    if found:
        broken.append(Broken(kind, document, tuple(v.keys for v in found)))
        return None
    return Decl(kind=kind, key=str(data[KEY_FIELD.get(kind, "key")]), data=data, document=document)


def _non_text_keys(value: Any, keys: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, keys)]
    while stack:
        item, where = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    yield (*where, str(key))
                else:
                    stack.append((child, (*where, key)))
        elif isinstance(item, list):
            stack.extend((child, (*where, index)) for index, child in enumerate(item))


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return f"the value {value!r}"
