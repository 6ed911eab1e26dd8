"""Where a journal is: a SQLite file (the default, ``.ctflow/journal.db``) or a PostgreSQL
database, written as a URL (``sqlite:///PATH``, ``postgresql://…``). A URL's password is never
shown: :attr:`JournalLocation.shown` masks it. Imports only the standard library and
``ctflow.errors``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ctflow.errors import ConfigError

DEFAULT_SCHEMA = "ctflow"
"""The PostgreSQL schema the journal's tables live in, unless the URL says ``?schema=``."""
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_POSTGRES = ("postgresql", "postgres")


@dataclass(frozen=True)
class JournalLocation:
    """One journal: ``path`` for SQLite; ``url`` (what libpq is given, password and all) and
    ``schema`` for PostgreSQL."""

    kind: Literal["sqlite", "postgresql"]
    path: Path | None = None
    url: str = field(default="", repr=False)
    schema: str = DEFAULT_SCHEMA
    shown: str = ""
    """The location for messages: the file, or the URL with its password masked."""

    @classmethod
    def sqlite(cls, path: Path) -> JournalLocation:
        return cls("sqlite", path=path, shown=str(path))

    @property
    def is_shared(self) -> bool:
        """A journal other machines can use too (not a file on this one)."""
        return self.kind == "postgresql"


def parse_location(text: str, root: Path, *, source: str) -> JournalLocation:
    """The journal ``text`` names; a relative SQLite path is relative to ``root`` (the project).
    ``source`` says where the text came from, for the message when it is not a journal URL."""
    scheme, sep, rest = text.partition("://")
    if sep and scheme.lower() == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise ConfigError(f"{source}: write sqlite:///PATH (three slashes), not {text!r}")
        path = Path(rest[1:])  # sqlite:///relative, sqlite:////absolute
        return JournalLocation.sqlite(path if path.is_absolute() else root / path)
    if sep and scheme.lower() in _POSTGRES:
        return _postgresql(text, source)
    raise ConfigError(
        f"{source}: {mask_password(text)!r} is not a journal URL: use sqlite:///PATH or "
        "postgresql://USER@HOST/DATABASE"
    )


def _postgresql(text: str, source: str) -> JournalLocation:
    parts = urlsplit(text)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), DEFAULT_SCHEMA)
    if not _SCHEMA_NAME.match(schema):
        raise ConfigError(
            f"{source}: schema {schema!r} is not a schema name (lower-case letters, digits and "
            "'_', starting with a letter)"
        )
    libpq = urlunsplit(
        (
            "postgresql",
            parts.netloc,
            parts.path,
            urlencode([(k, v) for k, v in query if k != "schema"]),
            parts.fragment,
        )
    )
    return JournalLocation(
        "postgresql", url=libpq, schema=schema, shown=mask_password(libpq) + _suffix(schema)
    )


def _suffix(schema: str) -> str:
    return "" if schema == DEFAULT_SCHEMA else f" (schema {schema})"


def has_password(text: str) -> bool:
    """Whether a URL carries a password (``user:secret@host``)."""
    netloc = urlsplit(text).netloc
    userinfo, at, _host = netloc.rpartition("@")
    return bool(at) and ":" in userinfo


def mask_password(text: str) -> str:
    """``text`` with the password of its URL, if any, as ``***``."""
    parts = urlsplit(text)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return text
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
