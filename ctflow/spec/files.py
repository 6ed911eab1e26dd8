"""Files a declaration or a command line names: whether each can be read, said in words.

Standard library only. A path the file system refuses (too long, a NUL byte, no permission) is a
reason like a missing file, never an exception.
"""

from __future__ import annotations

from pathlib import Path


def unreadable(path: Path) -> str | None:
    """Why ``path`` is not a file to read (``file not found``, ``not a file``, ``File name too
    long``), or ``None`` when it is one."""
    try:
        if path.is_file():
            return None
        return "not a file" if path.exists() else "file not found"
    except (OSError, ValueError) as error:
        return error.strerror if isinstance(error, OSError) and error.strerror else str(error)
