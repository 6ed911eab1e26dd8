"""Declared Datasets in the plan: ``+ upload <key> (N records, M batches)`` until the journal
says this content was uploaded to the environment. Pure: the facts are gathered elsewhere
(``ctflow.upload.datasets``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ctflow.plan.model import DatasetFile, Upload
from ctflow.plan.planner import targeted


@dataclass(frozen=True)
class DatasetFacts:
    """What is known of one declared Dataset in one environment."""

    key: str
    file: str
    kind: str
    content: str
    """The id of the file's content and mapping (the upload's batch prefix)."""
    rows: int
    batches: int
    accepted_batches: int = 0
    """Batches of this content an earlier, unfinished upload delivered."""
    complete: bool = False
    """This content was uploaded whole to the environment."""
    earlier: str | None = None
    """When another content of this dataset was uploaded, if ever."""


def dataset_changes(
    facts: Sequence[DatasetFacts], targets: Sequence[str] = ()
) -> tuple[list[Upload], list[str]]:
    """The uploads to make, and the keys of datasets already uploaded as they are."""
    changes: list[Upload] = []
    unchanged: list[str] = []
    for fact in sorted(facts, key=lambda f: f.key):
        if not targeted(fact.key, targets):
            continue
        if fact.complete:
            unchanged.append(fact.key)
            continue
        changes.append(
            Upload(
                key=fact.key,
                name=fact.file,
                reason=_reason(fact),
                hash=fact.content,
                dataset=DatasetFile(
                    file=fact.file,
                    kind=fact.kind,
                    rows=fact.rows,
                    batches=fact.batches,
                    accepted_batches=fact.accepted_batches,
                ),
            )
        )
    return changes, unchanged


def _reason(fact: DatasetFacts) -> str:
    if fact.accepted_batches:
        return (
            f"an earlier upload of this content stopped after {fact.accepted_batches} of "
            f"{fact.batches} batches; apply sends the rest"
        )
    if fact.earlier is not None:
        kept = (
            "the whole file is sent again, so rows that were in that version arrive twice "
            "(CleverTap does not deduplicate events)"
            if fact.kind == "events"
            else "the whole file is sent again; profiles are updated in place"
        )
        return f"the file changed since it was uploaded ({fact.earlier}); {kept}"
    return "not uploaded to this environment yet"
