"""``ctflow drift``: the declared EventSchemas against the account's ``/getSchema`` answer.

A plain function returning an exit code; the comparison and its renderers are
:mod:`ctflow.drift`'s, the client comes from :mod:`ctflow.connect`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TextIO

from ctflow.clevertap import CleverTap
from ctflow.config import Target
from ctflow.connect import open_client
from ctflow.drift import drift, live_events, render_json, render_text
from ctflow.errors import CtflowError, ExitCode
from ctflow.spec.validate import load as load_declarations
from ctflow.upload.job import schemas_of

Connect = Callable[[], AbstractAsyncContextManager[CleverTap]]


def run(
    target: Target,
    project: Path,
    fmt: str,
    detailed: bool,
    *,
    out: TextIO,
    connect: Connect | None = None,
) -> int:
    """Print the drift between the EventSchemas declared in the project at ``project`` and the
    event schema of ``target``. ``detailed``: exit 2 when there is drift (else always 0).

    Declarations are checked first, offline (exit 3 lists every problem). ``connect`` replaces
    the target's client (tests hand in one of their own).
    """
    declarations = load_declarations(project)
    declared = schemas_of(declarations)
    timezone = declarations.project.timezone_for(target.environment)

    async def read() -> Any:
        opened = connect() if connect else open_client(target, timezone=timezone)
        async with opened as client:
            return (await client.get_schema("events")).raw

    raw = asyncio.run(read())
    live = live_events(raw)
    if live is None:
        keys = ", ".join(sorted(map(str, raw))) if isinstance(raw, dict) else type(raw).__name__
        raise CtflowError(
            f"cannot read the account's event schema: /getSchema answered without an events "
            f"list ({keys}); please report this answer's shape"
        )
    found = drift(declared, live)
    name = target.environment.name
    where = "the sandbox" if target.is_sandbox else f"environment {name!r}"
    out.write(render_json(found, name) if fmt == "json" else render_text(found, where))
    if fmt != "json" and found.undeclared_events:
        env = "" if target.is_sandbox else f" --env {name}"
        out.write(
            "\nTo write an EventSchema for each event live but not declared (see it first "
            f"without --write):\n  ctflow import schemas{env} --write\n"
        )
    return ExitCode.CHANGES if detailed and found.found else ExitCode.OK
