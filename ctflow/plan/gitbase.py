"""The project directory as committed at a git revision, extracted into a directory (``git
archive`` through a subprocess with a timeout). Owns talking to git for the plan; nothing else
of ctflow."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

TIMEOUT = 60.0


class Unavailable(Exception):
    """The revision cannot be read: the message says why, in words."""


def extract(root: Path, ref: str, into: Path) -> None:
    """Write the files of the directory ``root`` as of revision ``ref`` into ``into``."""
    not_git = f"{root} is not in a git repository"
    found = _git(root, "rev-parse", "--show-toplevel", "--show-prefix", fail=not_git)
    top, prefix = [*found.decode().splitlines(), ""][:2]
    unknown = f"git cannot read the revision {ref!r}"
    verify = ("rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}")
    commit = _git(root, *verify, fail=unknown).decode().strip()
    where = prefix.rstrip("/") or "the repository root"
    tree = f"{commit}:{prefix}"  # run at the top: in a subdirectory, archive narrows to it again
    data = _git(Path(top), "archive", "--format=tar", tree, fail=f"{where} is not in {ref}")
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            if hasattr(tarfile, "data_filter"):
                archive.extractall(into, filter="data")
            else:  # Python < 3.11.4; the archive is git's own, of a tree of this repository
                archive.extractall(into)
    except (tarfile.TarError, OSError) as exc:
        raise Unavailable(f"cannot extract {ref}: {exc}") from None


def _git(root: Path, *args: str, fail: str) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, timeout=TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise Unavailable("git is not installed") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise Unavailable(f"{fail} ({said[-1]})" if said else fail)
    return done.stdout
