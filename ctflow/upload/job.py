"""One file to upload: how its rows are read and mapped, the id of its content, its dead letters.

Shared by ``ctflow upload``, by ``ctflow apply`` for declared Datasets, and by
:func:`ctflow.upload_records`: what differs between them is where rows come from.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

from ctflow.config import Project
from ctflow.errors import CtflowError, InvalidInput
from ctflow.spec.datasets import dataset_format
from ctflow.spec.files import unreadable
from ctflow.spec.model import Decl, Declarations
from ctflow.upload.batches import (
    EVENT_BATCH,
    TOKEN_BATCH,
    Batch,
    Preparer,
    Reject,
    Skipped,
    make_batches,
)
from ctflow.upload.rules import Kind, Rules, Schemas
from ctflow.upload.shape import DatasetMapping, Shaper
from ctflow.upload.sources import CHUNK, Format, chunks, format_of

DATASET_KINDS: dict[str, Kind] = {"events": "events", "profiles": "profiles"}


def load_tracking_plan(project: Project, warn: Callable[[str], object]) -> Declarations:
    """The declarations; problems in schemas and datasets stop the upload (exit 3), problems
    elsewhere (a campaign) are mentioned and do not."""
    from ctflow.spec import validate

    result = validate.check(project.root)
    decls = result.declarations
    blocking = [p for p in result.problems if _may_declare_tracking(Path(p.path))]
    if blocking:
        raise InvalidInput(
            f"{len(blocking)} problem(s) in the tracking plan or datasets; records are checked "
            "against them, so fix them first",
            [str(p) for p in blocking],
        )
    if result.problems:
        warn(
            f"ctflow: warning: {len(result.problems)} problem(s) in campaigns, journeys or "
            "triggers (`ctflow validate` lists them); uploading anyway\n"
        )
    return decls


_KIND = re.compile(r"^\s*-?\s*kind:\s*[\"']?([A-Za-z]+)", re.MULTILINE)
TRACKING_KINDS = frozenset({"EventSchema", "ProfileSchema", "Dataset"})


def _may_declare_tracking(path: Path) -> bool:
    """Whether a file with problems may hold a schema or dataset: it says one of those kinds,
    or no kind can be read from it (a file that failed to load may hold anything)."""
    try:
        kinds = set(_KIND.findall(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return True
    return not kinds or bool(kinds & TRACKING_KINDS)


def batch_size(kind: Kind) -> int:
    """1000 records a call, 100 for device tokens (clevertap-api.md §1.5)."""
    return TOKEN_BATCH if kind == "tokens" else EVENT_BATCH


def schemas_of(decls: Declarations | None) -> Schemas:
    if decls is None:
        return Schemas()
    limits = decls.project.limits
    return Schemas(
        events=decls.event_properties,
        strict_events=frozenset(k for k, d in decls.events.items() if d.data.get("strict")),
        profile=decls.profile_properties if decls.profiles else None,
        event_properties=limits.event_properties,
        profile_properties=limits.profile_properties,
    )


@dataclass(frozen=True)
class FileJob:
    """A file and how to read it; ``prefix`` names its content (bytes, kind and mapping)."""

    path: Path
    kind: Kind
    format: Format
    mapping: DatasetMapping | None
    dataset: str | None
    file_digest: str
    lines: int | None = field(default=None, compare=False)
    """Newlines in the file (an estimate of its rows for progress); None when compressed."""

    @property
    def prefix(self) -> str:
        mapping = None if self.mapping is None else _mapping_json(self.mapping)
        text = orjson.dumps([self.file_digest, self.kind, self.format, mapping])
        return f"{self.kind}:{hashlib.sha256(text).hexdigest()[:16]}"

    @property
    def estimated_rows(self) -> int | None:
        if self.lines is None:
            return None
        return max(0, self.lines - (1 if self.format == "csv" else 0))

    def batches(
        self, schemas: Schemas, tz: ZoneInfo, states: Mapping[str, str]
    ) -> Iterator[Batch | Skipped]:
        shaper = Shaper(self.kind, schemas, tz, self.mapping)
        prepare = Preparer(shaper, Rules(self.kind, schemas), text_cells=self.format == "csv")
        return make_batches(
            chunks(self.path, self.format, batch_size(self.kind)),
            prefix=self.prefix,
            prepare=prepare,
            states=states,
            source=self.shown,
        )

    @property
    def shown(self) -> str:
        """The path as the user would write it: relative to the working directory when the
        file is under it."""
        return shown_path(self.path)


def shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def dataset_job(decl: Decl) -> FileJob:
    """The upload a declared Dataset describes."""
    data = decl.data
    kind = DATASET_KINDS[data["type"]]
    fmt = dataset_format(decl)
    native = fmt == "native"
    mapping = None
    if not native:
        mapping = DatasetMapping(
            event=data.get("event"),
            identity=data.get("identity", "identity"),
            timestamp=data.get("timestamp"),
            columns=dict(data.get("columns") or {}),
        )
    path = (decl.directory / data["file"]).resolve()
    read_as: Format = "jsonl" if native or fmt is None else fmt  # type: ignore[assignment]
    digest, lines = scan(path)
    return FileJob(path, kind, read_as, mapping, decl.key, digest, lines)


def file_job(path: Path, kind: Kind, decls: Declarations | None) -> FileJob:
    """The upload of ``path`` as ``kind``: mapped by the Dataset that declares the file, if one
    does, else read as CleverTap's own shape (JSONL)."""
    resolved = path.resolve()
    missing = unreadable(resolved)
    if missing is not None:
        raise InvalidInput(f"{path}: {missing}")
    for decl in decls.datasets.values() if decls else ():
        if (decl.directory / decl.data["file"]).resolve() == resolved:
            declared = DATASET_KINDS[decl.data["type"]]
            if declared != kind:
                raise InvalidInput(
                    f"{path}: dataset {decl.key!r} ({decl.path}) declares this file as "
                    f"{declared}; run `ctflow upload {declared} {path}`"
                )
            return dataset_job(decl)
    fmt = format_of(resolved)
    if fmt is None:
        raise InvalidInput(
            f"{path}: cannot tell the format from the name; use .jsonl or .csv (optionally .gz)"
        )
    if fmt == "csv":
        raise InvalidInput(
            f"{path}: a CSV file needs a Dataset declaring it (which column is the identity, "
            "which event the rows are); see docs/uploads.md"
        )
    digest, lines = scan(resolved)
    return FileJob(resolved, kind, fmt, None, None, digest, lines)


def scan(path: Path) -> tuple[str, int | None]:
    """The file's SHA-256 and, unless compressed, how many lines it has, in one read."""
    sha = hashlib.sha256()
    lines = 0
    last = b"\n"
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                sha.update(chunk)
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if last != b"\n":
        lines += 1
    compressed = path.name.lower().endswith(".gz")
    return sha.hexdigest(), None if compressed else lines


def _mapping_json(mapping: DatasetMapping) -> dict[str, Any]:
    return {
        "event": mapping.event,
        "identity": mapping.identity,
        "timestamp": mapping.timestamp,
        "columns": dict(sorted(mapping.columns.items())),
    }


class DeadLetterFile:
    """Rejected records as JSON lines, appended; the file is created on the first reject."""

    def __init__(self, path: Path, *, truncate: bool = False) -> None:
        self.path = path
        self.written = 0
        self._stream: IO[bytes] | None = None
        if truncate and path.exists():
            path.unlink()

    def check(self) -> None:
        """Before anything is sent: the file can be written where it was asked for."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # FileExistsError: a file stands where a directory is needed
            reason = "Not a directory" if isinstance(exc, FileExistsError) else exc.strerror
            raise CtflowError(
                f"cannot write the dead-letter file {self.path}: {reason or exc}"
            ) from None
        target = self.path if self.path.exists() else self.path.parent
        if self.path.is_dir() or not os.access(target, os.W_OK):
            reason = "it is a directory" if self.path.is_dir() else "permission denied"
            raise CtflowError(f"cannot write the dead-letter file {self.path}: {reason}")

    def write(self, rejects: Sequence[Reject]) -> None:
        if self._stream is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self.path.open("ab")
        lines = b"".join(
            orjson.dumps(r.to_json(), default=str, option=orjson.OPT_APPEND_NEWLINE)
            for r in rejects
        )
        self._stream.write(lines)
        self._stream.flush()
        os.fsync(self._stream.fileno())
        self.written += len(rejects)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


class DeadLetterList:
    """Rejected records kept in memory (``upload_records`` without a dead-letter file)."""

    def __init__(self) -> None:
        self.rejects: list[Reject] = []

    def write(self, rejects: Sequence[Reject]) -> None:
        self.rejects.extend(rejects)
