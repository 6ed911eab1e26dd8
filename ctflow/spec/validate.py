"""Loading a whole project: every file read, every kind checked, every problem collected.

The entry point of the spec layer: :func:`check` for ``ctflow validate``, :func:`load` for the
commands that need valid declarations (plan, apply, send, render).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from ctflow.config import CONFIG_NAME, Project, default_project, find_project, project_root
from ctflow.errors import ConfigError, InvalidInput
from ctflow.problems import Problem, Problems
from ctflow.spec import campaigns, journeys, templating, tracking
from ctflow.spec.datasets import check_dataset
from ctflow.spec.documents import discover, read_declarations
from ctflow.spec.model import Decl, Declarations
from ctflow.spec.timeparse import zone
from ctflow.spec.triggers import check_trigger
from ctflow.spec.types import Property

_POSITION = re.compile(r"^(.*?):(\d+):(\d+): (.*)$")


@dataclass(frozen=True)
class Result:
    """What ``validate`` found: the declarations that loaded and every problem, sorted."""

    declarations: Declarations
    problems: list[Problem]
    files: int

    @property
    def valid(self) -> bool:
        return not self.problems


def check(directory: Path, now: datetime | None = None) -> Result:
    """Read and check every declaration of the project in ``directory``.

    ``now`` (the clock is an ambient input, so a parameter) adds the checks that depend on the
    date: audience windows that end in the future.
    """
    problems = Problems()
    templating.forget_files()
    try:
        project = find_project(directory)
    except ConfigError as error:
        _config_problems(directory, error, problems)
        project = default_project(project_root(directory))
        broken_config = True
    else:
        if not project.found:
            raise ConfigError(
                f"no {CONFIG_NAME} in {directory.resolve()} or any directory above it: run "
                "`ctflow init` "
                "to create a project, or point at one with -C DIR"
            )
        _check_project(project, problems)
        broken_config = False
    files = discover(project.root, project.exclude)
    reading = read_declarations(files, problems)
    # Checks that depend on a part that failed would only repeat its problem in other words
    # ("property not declared" after the ProfileSchema failed): they wait for the next run.
    skip = Skips(
        references=bool(reading.broken_kinds & {"EventSchema", "ProfileSchema"})
        or reading.unreadable_files > 0,
        templates=broken_config,
    )
    tz = zone(project.timezone) or UTC
    today = now.astimezone(tz).date() if now is not None else None
    declarations = _check_all(project, reading.decls, problems, skip, today)
    return Result(declarations, problems.sorted(), len(files))


@dataclass(frozen=True)
class Skips:
    """Checks left out because what they rest on is broken."""

    references: bool = False
    templates: bool = False


def load(directory: Path) -> Declarations:
    """Valid declarations, or :class:`InvalidInput` listing every problem (exit 3)."""
    result = check(directory)
    if not result.valid:
        raise InvalidInput(
            f"{len(result.problems)} problem(s) in the declarations",
            [str(p) for p in result.problems],
        )
    return result.declarations


def _by_kind(decls: Sequence[Decl], kind: str) -> list[Decl]:
    return [d for d in decls if d.kind == kind]


def _check_all(
    project: Project, decls: list[Decl], problems: Problems, skip: Skips, today: date | None
) -> Declarations:
    events = tracking.event_properties(_by_kind(decls, "EventSchema"), project.limits, problems)
    profile_decls = _by_kind(decls, "ProfileSchema")
    profile = tracking.profile_properties(profile_decls, project.limits, problems)
    references = not skip.references
    journey_decls = campaigns.check_names(_by_kind(decls, "Journey"), "journey", problems)
    expanded: list[Decl] = []
    for journey in journey_decls.values():
        if references:
            _check_journey_audiences(journey, events, profile, problems, today)
        campaigns.check_timezone(
            journey.document, ("timezone",), journey.data.get("timezone"), problems
        )
        expanded.extend(journeys.expand(journey, problems))
    campaign_decls = campaigns.check_names(
        [*_by_kind(decls, "Campaign"), *expanded], "campaign", problems
    )
    for decl in campaign_decls.values():
        campaigns.check_campaign(
            decl, events, profile, problems, references=references, today=today
        )
        items = list(templating.fields(decl, problems))
        if not skip.templates:
            broken = templating.check_fields(project, items, problems)
            templating.render_fields(project, [i for i in items if i not in broken], problems)
    trigger_decls = campaigns.check_names(_by_kind(decls, "Trigger"), "trigger", problems)
    for decl in trigger_decls.values():
        check_trigger(decl, project, problems, project_ok=not skip.templates)
    dataset_decls = campaigns.check_names(_by_kind(decls, "Dataset"), "dataset", problems)
    strict = frozenset(d.key for d in _by_kind(decls, "EventSchema") if d.data.get("strict"))
    for decl in dataset_decls.values():
        check_dataset(
            decl,
            events,
            profile,
            bool(profile_decls),
            problems,
            references=references,
            strict_events=strict,
        )
    return Declarations(
        project=project,
        events=_first_by_key(_by_kind(decls, "EventSchema")),
        profiles=campaigns.check_names(profile_decls, "profile schema", problems),
        campaigns=campaign_decls,
        journeys=journey_decls,
        triggers=trigger_decls,
        datasets=dataset_decls,
        event_properties=events,
        profile_properties=profile,
    )


def _first_by_key(decls: Sequence[Decl]) -> dict[str, Decl]:
    found: dict[str, Decl] = {}
    for decl in decls:
        found.setdefault(decl.key, decl)
    return found


def _check_journey_audiences(
    journey: Decl,
    events: Mapping[str, Mapping[str, Property]],
    profile: Mapping[str, Property],
    problems: Problems,
    today: date | None,
) -> None:
    data = journey.data
    defaults = data.get("defaults") or {}
    if "audience" in defaults:
        campaigns.check_audience_at(
            journey.document,
            ("defaults", "audience"),
            defaults["audience"],
            events,
            profile,
            problems,
            today,
        )
    for index, step in enumerate(data["steps"]):
        if "audience" in step:
            campaigns.check_audience_at(
                journey.document,
                ("steps", index, "audience"),
                step["audience"],
                events,
                profile,
                problems,
                today,
            )


def _check_project(project: Project, problems: Problems) -> None:
    document = project.document
    if document is None:
        return
    campaigns.check_timezone(document, ("timezone",), document.data.get("timezone"), problems)
    for name, env in (document.data.get("environments") or {}).items():
        if isinstance(env, dict):
            campaigns.check_timezone(
                document, ("environments", name, "timezone"), env.get("timezone"), problems
            )


def _config_problems(directory: Path, error: ConfigError, problems: Problems) -> None:
    lines = error.problems or [error.message]
    for line in lines:
        match = _POSITION.match(line)
        if match:
            problems.at(match[1], int(match[2]), int(match[3]), match[4])
        else:
            problems.at(directory / CONFIG_NAME, 1, 1, line)
