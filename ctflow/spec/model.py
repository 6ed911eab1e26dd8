"""The declarations as loaded: each one's kind, key, schema-valid data and where it was written.

Plain data, no checks and no I/O; imports ``ctflow.yamlio`` and ``ctflow.config`` types only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctflow.config import Project
from ctflow.spec.types import Property
from ctflow.yamlio import Document

Keys = tuple[str | int, ...]

KIND_ORDER = (
    "EventSchema",
    "ProfileSchema",
    "Campaign",
    "Journey",
    "Trigger",
    "Dataset",
    "Audience",
)


@dataclass(frozen=True)
class Decl:
    """One declaration. ``data`` passed its kind's JSON Schema.

    ``origins`` say where the values of ``data`` were written: pairs of (prefix in ``data``,
    prefix in ``document``), tried in order. A campaign declared on its own has the single pair
    ``((), ())``; a journey step's campaign maps its own fields to ``steps[i]`` and falls back to
    the journey's ``defaults`` for the values it inherited.
    """

    kind: str
    key: str
    data: Mapping[str, Any]
    document: Document
    origins: tuple[tuple[Keys, Keys], ...] = (((), ()),)
    journey: str | None = None

    @property
    def path(self) -> Path:
        return self.document.path

    @property
    def directory(self) -> Path:
        """Where files named by this declaration (``body_file``, ``file``) are resolved."""
        return self.document.path.parent

    def locate(self, keys: Sequence[str | int]) -> Keys:
        """The document keys of the value at ``keys`` of ``data`` (or of its nearest parent)."""
        keys = tuple(keys)
        candidates = [
            (*doc_prefix, *keys[len(prefix) :])
            for prefix, doc_prefix in self.origins
            if keys[: len(prefix)] == prefix
        ]
        for candidate in candidates:
            if self.document.exists(candidate):
                return candidate
        return candidates[0] if candidates else keys


@dataclass(frozen=True)
class Declarations:
    """Everything declared in a project, by kind and key; journey steps appear as campaigns."""

    project: Project
    events: Mapping[str, Decl] = field(default_factory=dict)
    profiles: Mapping[str, Decl] = field(default_factory=dict)
    campaigns: Mapping[str, Decl] = field(default_factory=dict)
    journeys: Mapping[str, Decl] = field(default_factory=dict)
    triggers: Mapping[str, Decl] = field(default_factory=dict)
    datasets: Mapping[str, Decl] = field(default_factory=dict)
    audiences: Mapping[str, Decl] = field(default_factory=dict)
    event_properties: Mapping[str, Mapping[str, Property]] = field(default_factory=dict)
    profile_properties: Mapping[str, Property] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "EventSchema": len(self.events),
            "ProfileSchema": len(self.profiles),
            "Campaign": sum(1 for c in self.campaigns.values() if c.journey is None),
            "Journey": len(self.journeys),
            "Trigger": len(self.triggers),
            "Dataset": len(self.datasets),
            "Audience": len(self.audiences),
        }
