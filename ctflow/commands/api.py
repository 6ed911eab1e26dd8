"""``ctflow api METHOD PATH``: one authenticated call to any endpoint of the environment's
account, through the client (its slots, retry table and passcode scrubbing), the answer printed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from ctflow.clevertap.generic import ApiAnswer, changes_the_account, check_path
from ctflow.commands.reading import Reader
from ctflow.errors import ExitCode, InvalidInput, UsageError

Confirm = Callable[[str], bool]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    data: str | None = None
    """``--data``: JSON text, or ``@FILE`` for a file's."""
    query: Mapping[str, str] | None = None
    fmt: str = "json"


def api(reader: Reader, call: Call, *, directory: Path, yes: bool, confirm: Confirm | None) -> int:
    """Make ``call`` and print the answer (pretty JSON, or ``raw`` as received). A failure is
    printed too, then raised as the error it means (its exit code). A call that may change a
    real account asks on the terminal first, unless ``yes``."""
    method = call.method.upper()
    bare, written = check_path(method, call.path)
    twice = sorted(set(call.query or ()) & {k for k, _ in parse_qsl(written or "", True)})
    if twice:
        raise InvalidInput(
            f"{method} {call.path}: {', '.join(twice)} is given in the path and with --query; "
            "give it once"
        )
    content = None if call.data is None else _body(call.data, directory)
    what = f"{method} {call.path}"
    if changes_the_account(method, bare) and not reader.target.is_sandbox and not yes:
        if confirm is None:
            raise UsageError(
                f"refusing to send {what} to {reader.place} without confirmation: there is no "
                "terminal to ask on, and the call may change the account; add --yes to send it "
                "without asking"
            )
        reader.out.write(f"{what} may change the account ({reader.place}).\n")
        if not confirm("Send it? Only 'yes' will be accepted"):
            reader.out.write("Cancelled; nothing was sent.\n")
            return ExitCode.ERROR

    async def ask() -> ApiAnswer:
        async with reader.client() as client:
            return await client.request(method, call.path, params=call.query, content=content)

    answer = asyncio.run(ask())
    shown = _shown(answer.body, call.fmt)
    if shown and not shown.endswith("\n") and reader.out.isatty():  # raw: the prompt on its line
        shown += "\n"
    reader.out.write(shown)
    if answer.error is not None:
        if answer.status == 405 and method in ("GET", "POST"):
            # CleverTap's read endpoints differ: /1/now.json is POST, /1/profile.json GET
            other = "POST" if method == "GET" else "GET"
            answer.error.message += f"; {bare} may take {other}: ctflow api {other} {call.path}"
            answer.error.args = (answer.error.message,)
        raise answer.error
    return ExitCode.OK


def _body(data: str, directory: Path) -> bytes:
    """The request body as the user wrote it, once it is known to be JSON."""
    where = "--data"
    if data.startswith("@"):
        path = Path(data[1:])
        path = path if path.is_absolute() else directory / path
        where = str(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"--data: cannot read {path}: {exc.strerror or exc}") from None
    else:
        raw = data.encode("utf-8")
    try:
        json.loads(raw)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{where}: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        at = f"{where}:{exc.lineno}:{exc.colno}: " if where != "--data" else "--data: "
        raise InvalidInput(
            f"{at}not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
        ) from None
    return raw


def _shown(body: bytes, fmt: str) -> str:
    text = body.decode("utf-8", errors="replace")
    if fmt == "raw":
        return text
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return text if text.endswith("\n") or not text else text + "\n"
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
