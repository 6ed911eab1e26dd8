"""The ownership marker at the end of every campaign name ctflow creates (DESIGN.md "Ownership"):
``<display name> [ctflow:<project>/<key>@<hash8>]``. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_MARKER = re.compile(
    r"\s*\[ctflow:(?P<project>[a-z0-9][a-z0-9_-]*)/(?P<key>[a-z0-9][a-z0-9_.-]*)"
    r"@(?P<hash>[0-9a-f]{8})\]\s*$"
)


@dataclass(frozen=True)
class Marker:
    project: str
    key: str
    hash: str


def digest(spec: Mapping[str, Any]) -> str:
    """Eight hex digits of the SHA-256 of ``spec`` in canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def mark(name: str, project: str, key: str, hash: str) -> str:
    return f"{name} [ctflow:{project}/{key}@{hash}]"


def parse(name: str) -> Marker | None:
    """The marker at the end of ``name``; ``None`` for a campaign ctflow did not create."""
    match = _MARKER.search(name)
    if match is None:
        return None
    return Marker(match["project"], match["key"], match["hash"])


def display_name(name: str) -> str:
    """``name`` without its marker."""
    match = _MARKER.search(name)
    return name[: match.start()] if match else name
