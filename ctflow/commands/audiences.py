"""The declared Audiences in ``ctflow plan`` (and so ``apply``): their changes, read against the
journal's record of what was last applied, and the segment ids a plan's estimates can use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ctflow.config import Project, Target, journal_location
from ctflow.journal import existing_journal
from ctflow.plan.audiences import audience_changes, audience_facts, segment_id
from ctflow.plan.model import Plan
from ctflow.spec.model import Declarations
from ctflow.spec.payload import placeholder_audience

Segments = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]
"""A create body with its Audience's segment id; ``None`` when the segment is not created yet."""


def with_audiences(
    made: Plan, declarations: Declarations, target: Target, targets: Sequence[str]
) -> Plan:
    """``made`` with the Audiences' changes, warnings and unchanged keys added."""
    project = declarations.project
    env = target.environment.name
    journal = existing_journal(journal_location(project, target), project=project.name)
    if journal is None:
        facts = audience_facts(declarations, None, env)
    else:
        with journal:
            facts = audience_facts(declarations, journal, env)
    if not facts:
        return made
    changes, notes, unchanged = audience_changes(facts, targets)
    return replace(
        made,
        changes=(*made.changes, *changes),
        notes=(*made.notes, *notes),
        unchanged=(*made.unchanged, *unchanged),
    )


def known_segments(project: Project, target: Target) -> Segments:
    """Resolves a create body's Audience to the segment id the journal remembers."""
    env = target.environment.name
    ids: dict[str, int] = {}
    journal = existing_journal(journal_location(project, target), project=project.name)
    if journal is not None:
        with journal:
            for key in journal.audiences(env):
                record = journal.audience(env, key)
                if record and record["customer_segment_id"] == segment_id(project.name, key):
                    ids[key] = int(record["ct_segment_id"])

    def resolve(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        key = placeholder_audience(body)
        if key is None:
            return body
        return {**body, "segment": ids[key]} if key in ids else None

    return resolve
