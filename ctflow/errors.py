"""The one error tree of ctflow; every class carries its process exit code.

Owns the exit-code table of DESIGN.md. Imports nothing else from ctflow, so every layer may
raise these. ``ctflow.cli`` catches :class:`CtflowError` once and exits with ``exit_code``.

    CtflowError                      exit 1   anything ctflow expected and can explain
    ├── InvalidInput                 exit 3   bad declarations or data (``file:line:col: msg``)
    │   └── ConfigError              exit 3   ctflow.yaml malformed
    ├── CredentialsError             exit 4   credentials missing or refused
    ├── UnavailableError             exit 5   CleverTap down or limits exhausted after retries
    │   └── JournalUnavailable       exit 5   the journal cannot be reached, or was lost
    ├── GateError                    exit 6   a safety gate refused the action
    ├── ConflictError                exit 7   stale saved plan, journal locked by another apply
    ├── UsageError                   exit 64  the command line itself is wrong
    └── clevertap.errors.CleverTapError        the client's tree (see that module); each of its
                                              classes maps onto one of the codes above

``ExitCode`` names the codes so no module spells a bare number.
"""

from __future__ import annotations

import re
from enum import IntEnum

_POSITION = re.compile(r"^(.*?):(\d+):(\d+): ")


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2
    INVALID = 3
    CREDENTIALS = 4
    UNAVAILABLE = 5
    GATED = 6
    CONFLICT = 7
    USAGE = 64
    INTERRUPTED = 130


class CtflowError(Exception):
    """An error ctflow can explain in one line; the message is shown to the user as is."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(CtflowError):
    """Declarations or data are wrong; ``problems`` holds every ``where: what`` line, sorted."""

    exit_code = ExitCode.INVALID

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = sorted(problems or [], key=_by_position)


def _by_position(problem: str) -> tuple[str, int, int, str]:
    """Sort ``file:line:col: msg`` lines by file, then numerically by line and column."""
    match = _POSITION.match(problem)
    if match is None:
        return (problem, 0, 0, "")
    return (match[1], int(match[2]), int(match[3]), problem[match.end() :])


class ConfigError(InvalidInput):
    """``ctflow.yaml`` is missing something or malformed."""


class CredentialsError(CtflowError):
    exit_code = ExitCode.CREDENTIALS


class UnavailableError(CtflowError):
    exit_code = ExitCode.UNAVAILABLE


class JournalUnavailable(UnavailableError):
    """The journal cannot be reached, or its connection was lost: ctflow makes no further call
    to CleverTap, since it could not remember what it did."""


class GateError(CtflowError):
    exit_code = ExitCode.GATED


class ConflictError(CtflowError):
    exit_code = ExitCode.CONFLICT


class UsageError(CtflowError):
    exit_code = ExitCode.USAGE
