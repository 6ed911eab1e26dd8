"""``ctflow import schemas [--write]``: the account's live events and profile properties that
no EventSchema or ProfileSchema declares, written as new YAML files (never over a file), or
shown. What to write is :mod:`ctflow.drift.imports`'s; the files, names and text are here."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from ctflow.clevertap import CleverTap
from ctflow.clevertap.errors import MethodNotAllowedError, NotFoundError, ValidationError
from ctflow.config import Target, project_root
from ctflow.connect import open_client
from ctflow.drift.imports import ImportedEvent, ImportedProperty, Imports, live_profile, to_import
from ctflow.drift.live import live_events
from ctflow.errors import CtflowError, ExitCode
from ctflow.spec.model import Decl
from ctflow.spec.validate import load as load_declarations
from ctflow.upload.job import schemas_of

Connect = Callable[[], AbstractAsyncContextManager[CleverTap]]
EVENTS_FOLDER = "events"
"""Where a project that keeps no EventSchema yet gets them."""
PROFILE_KEY = "imported"
MODELINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=(\S+)")
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*(?: [A-Za-z0-9_.-]+)*")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


@dataclass(frozen=True)
class NewFile:
    path: Path
    text: str
    what: str
    """``EventSchema Signed Up (2 properties)``: for the summary."""


@dataclass(frozen=True)
class Live:
    events: Any
    profile: Any | None
    """The ``type=profile`` answer; None when the account refused the question."""


def run(
    target: Target,
    project: Path,
    write: bool,
    *,
    today: date,
    out: TextIO,
    err: TextIO,
    connect: Connect | None = None,
) -> int:
    """Show (or, ``write``, write) a YAML file for each live event the project does not
    declare and one for its undeclared profile properties. Declarations are checked first
    (exit 3 lists every problem); ``connect`` replaces the target's client in tests."""
    declarations = load_declarations(project)
    timezone = declarations.project.timezone_for(target.environment)
    where = "the sandbox" if target.is_sandbox else f"environment {target.environment.name!r}"
    live = asyncio.run(_read(connect or (lambda: open_client(target, timezone=timezone))))
    events = live_events(live.events)
    if events is None:
        raise CtflowError(
            "cannot read the account's event schema: /getSchema answered without an events "
            "list; please report this answer's shape"
        )
    profile = None if live.profile is None else live_profile(live.profile)
    imports = to_import(
        schemas_of(declarations),
        events,
        declarations.profile_properties.keys(),
        profile,
    )
    root = project_root(project)
    files = _files(imports, root, declarations.events.values(), declarations.profiles, where, today)
    for new in files:
        shown = str(new.path)
        if write:
            _create(new)
            out.write(f"wrote {shown}: {new.what}\n")
        else:
            out.write(f"--- {shown} (not written): {new.what}\n{new.text}\n")
    _notes(imports, profile is not None, declarations.events, err)
    if not files:
        what = "event and profile property" if profile is not None else "event"
        out.write(f"Nothing to import: every {what} of {where} is declared.\n")
    elif write:
        out.write(f"{len(files)} file(s) written; `ctflow validate` checks them.\n")
    else:
        out.write(
            f"{len(files)} file(s) would be written; `ctflow import schemas --write` writes them.\n"
        )
    return ExitCode.OK


async def _read(connect: Connect) -> Live:
    async with connect() as client:
        events = (await client.get_schema("events")).raw
        try:
            profile = (await client.get_schema("profile")).raw
        except (ValidationError, NotFoundError, MethodNotAllowedError):
            profile = None  # type=profile is not documented (§9): an account may refuse it
        return Live(events, profile)


def _files(
    imports: Imports,
    root: Path,
    event_decls: Iterable[Decl],
    profile_decls: Mapping[str, Decl],
    where: str,
    today: date,
) -> list[NewFile]:
    event_decls = list(event_decls)
    events_folder = _usual_folder(event_decls, root) or root / EVENTS_FOLDER
    taken: set[Path] = set()
    header = (
        f"# Written by `ctflow import schemas` from the schema of {where} on {today}.\n"
        "# Types are the account's; add descriptions, `required:` and limits.\n"
    )
    files = []
    for event in imports.events:
        path = _free(events_folder / f"{_slug(event.name, 'event')}.yaml", taken)
        body = (
            f"kind: EventSchema\nevent: {_scalar(event.name)}\nversion: 1\n"
            f"{_properties(event.properties)}"
        )
        files.append(
            NewFile(path, _modeline(path, root, event_decls) + header + body, _what(event))
        )
    if imports.profile:
        folder = _usual_folder(list(profile_decls.values()), root) or events_folder
        path = _free(folder / "profile-imported.yaml", taken)
        key = PROFILE_KEY
        n = 1
        while key in profile_decls:
            n += 1
            key = f"{PROFILE_KEY}-{n}"
        body = f"kind: ProfileSchema\nkey: {key}\nversion: 1\n{_properties(imports.profile)}"
        count = len(imports.profile)
        what = f"ProfileSchema {key} ({count} propert{'y' if count == 1 else 'ies'})"
        decls = [*profile_decls.values(), *event_decls]
        files.append(NewFile(path, _modeline(path, root, decls) + header + body, what))
    return files


def _what(event: ImportedEvent) -> str:
    count = len(event.properties)
    return f"EventSchema {event.name} ({count} propert{'y' if count == 1 else 'ies'})"


def _usual_folder(decls: list[Decl], root: Path) -> Path | None:
    """The folder holding most of these declarations (the first such, by name)."""
    folders = Counter(d.path.parent for d in decls if d.journey is None)
    if not folders:
        return None
    most = max(folders.values())
    return min(f for f, n in folders.items() if n == most)


def _free(wanted: Path, taken: set[Path]) -> Path:
    """``wanted``, or ``name-2.yaml``, ``name-3.yaml``, …: a name no file has (or will have)."""
    path, n = wanted, 1
    while path.exists() or path in taken:
        n += 1
        path = wanted.with_name(f"{wanted.stem}-{n}{wanted.suffix}")
    taken.add(path)
    return path


def _slug(name: str, fallback: str) -> str:
    slug = re.sub(r"[^\w]+", "-", name.casefold()).strip("-_")
    return slug[:80] or fallback


def _scalar(text: str) -> str:
    """A YAML scalar that reads back as ``text``: plain when that is safe, else quoted."""
    if _PLAIN.fullmatch(text) and text.casefold() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def _properties(properties: tuple[ImportedProperty, ...]) -> str:
    if not properties:
        return "properties: {}\n"
    lines = ["properties:"]
    for prop in properties:
        line = f"  {_scalar(prop.name)}: {prop.type}"
        if prop.reported is not None:
            line += f"  # the account says {prop.reported!r}, a type ctflow does not know"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _modeline(path: Path, root: Path, decls: Iterable[Decl]) -> str:
    """The ``$schema`` modeline the project's files use, pointed from ``path``'s folder."""
    for decl in decls:
        try:
            with decl.path.open(encoding="utf-8") as opened:
                first = opened.readline()
        except (OSError, UnicodeDecodeError):
            continue
        found = MODELINE.match(first)
        if found is None:
            continue
        target = found.group(1)
        if "://" in target:
            return f"# yaml-language-server: $schema={target}\n"
        return _pointing(path, decl.path.parent / target)
    schema = root / "schemas" / "ctflow.schema.json"
    return _pointing(path, schema) if schema.is_file() else ""


def _pointing(path: Path, schema: Path) -> str:
    relative = Path(os.path.relpath(os.path.abspath(schema), os.path.abspath(path.parent)))
    return f"# yaml-language-server: $schema={relative.as_posix()}\n"


def _create(new: NewFile) -> None:
    """Write a new file; one that appeared meanwhile is left alone, and that is an error."""
    try:
        new.path.parent.mkdir(parents=True, exist_ok=True)
        with new.path.open("x", encoding="utf-8") as opened:
            opened.write(new.text)
    except FileExistsError:
        raise CtflowError(
            f"{new.path} appeared while importing; ctflow never overwrites a file"
        ) from None
    except OSError as exc:
        raise CtflowError(f"cannot write {new.path}: {exc.strerror or exc}") from None


def _notes(imports: Imports, profile_read: bool, events: Mapping[str, Decl], err: TextIO) -> None:
    if imports.system_events:
        names = ", ".join(imports.system_events)
        err.write(
            f"ctflow: not imported, CleverTap's own events: {names} (declare those your "
            "campaigns use)\n"
        )
    if not profile_read:
        err.write(
            "ctflow: the account did not answer /getSchema?type=profile (not documented by "
            "CleverTap) with profile properties ctflow can read; they were not imported\n"
        )
    for finding in imports.undeclared_properties:
        decl = events.get(finding.event)
        where = f" in {decl.path}" if decl is not None else ""
        live = finding.live or finding.reported or "type not given"
        err.write(
            f"ctflow: {finding.event}: property {finding.property!r} ({live}) is live but not "
            f"declared{where}; ctflow does not rewrite your files, add it by hand\n"
        )
