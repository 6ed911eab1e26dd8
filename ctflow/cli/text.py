"""Text crossing the process's edge: arguments must be UTF-8, and whatever is printed can be.

Arguments that are not UTF-8 (Python keeps their bytes as lone surrogates) are refused before a
command sees them: no request, file or journal could hold them. Output escapes any character the
stream cannot encode (a file name's stray byte shows as ``\\udcff``) instead of failing, for every
command and message at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO


def printable(*streams: TextIO) -> None:
    """Make each stream escape what it cannot encode (``\\ud800``), instead of raising."""
    for stream in streams:
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) != "backslashreplace":
            reconfigure(errors="backslashreplace")


def not_utf8(argv: Sequence[str]) -> str | None:
    """Why the first argument that is not UTF-8 text is refused; ``None`` when all are."""
    for number, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            try:
                shown = repr(arg.encode("utf-8", "surrogateescape"))
            except UnicodeEncodeError:
                shown = repr(arg)
            return (
                f"argument {number} ({shown}) is not UTF-8 text; ctflow reads its arguments, "
                "file names included, as UTF-8"
            )
    return None
