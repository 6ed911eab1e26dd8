"""``ctflow export events|profiles``: the cursor pages of ``/1/events.json`` or
``/1/profiles.json`` (§8.1, §8.2) streamed to JSON lines, one record a line, in constant memory.

With ``-o FILE`` the lines go to a temporary file beside it, renamed to ``FILE`` only once the
last page has arrived: an interrupted export never leaves a half file that looks complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from ctflow.clevertap.polling import MAX_EXPORT_BATCH
from ctflow.commands import query
from ctflow.commands.reading import ExportProgress, Reader
from ctflow.errors import CtflowError, ExitCode


@dataclass(frozen=True)
class ExportOptions:
    kind: str
    where_file: Path | None = None
    event: str | None = None
    start: date | None = None
    end: date | None = None
    output: Path | None = None
    batch_size: int = MAX_EXPORT_BATCH
    fmt: str = "text"


def export(reader: Reader, options: ExportOptions) -> int:
    """Every matching record as one JSON line, to ``options.output`` or stdout."""
    where = query.load_where(options.where_file) if options.where_file is not None else None
    body = query.build(
        options.kind, where, event=options.event, start=options.start, end=options.end
    )
    progress = ExportProgress(reader, options.kind)

    async def stream(sink: TextIO) -> None:
        async with reader.client() as client:
            method = client.export_events if options.kind == "events" else client.export_profiles
            async for record in method(body, batch_size=options.batch_size):
                sink.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                progress.add()

    try:
        if options.output is None:
            asyncio.run(stream(reader.out))
            reader.out.flush()
        else:
            with _replacing(options.output) as sink:
                asyncio.run(stream(sink))
    finally:
        progress.done()
    where_to = "stdout" if options.output is None else str(options.output)
    seconds = progress.elapsed
    reader.say(
        f"exported {progress.records:,} {options.kind} to {where_to} in {seconds:.1f}s "
        f"({reader.place})"
    )
    if options.fmt == "json" and options.output is not None:
        reader.json(
            {
                "environment": reader.environment,
                "kind": options.kind,
                "records": progress.records,
                "output": str(options.output),
                "elapsed_seconds": round(seconds, 3),
                "query": body,
            }
        )
    return ExitCode.OK


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[TextIO]:
    """A text file that becomes ``path`` when the block ends normally, and vanishes otherwise."""
    directory = path.parent
    try:
        handle, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{path.name}.", suffix=".partial"
        )
    except OSError as exc:
        raise CtflowError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as sink:
            yield sink
        try:
            os.replace(temporary, path)
        except OSError as exc:
            raise CtflowError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
