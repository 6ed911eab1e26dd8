"""Loading a whole project: every file read, every kind checked, every problem collected.

The entry point of the spec layer: :func:`check` for ``ctflow validate``, :func:`load` for the
commands that need valid declarations (plan, apply, send, render).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from ctflow import gcpause
from ctflow.config import (
    CONFIG_NAME,
    Project,
    default_project,
    find_project,
    project_root,
    salvaged_project,
)
from ctflow.errors import ConfigError, InvalidInput
from ctflow.problems import Problem, Problems
from ctflow.spec import campaigns, journeys, salvage, templating, tracking
from ctflow.spec.audiences import check_audience_decl, check_key_clashes, check_references
from ctflow.spec.datasets import check_dataset
from ctflow.spec.discovery import discover
from ctflow.spec.documents import Broken, Reading, read_declarations
from ctflow.spec.model import KIND_ORDER, Decl, Declarations
from ctflow.spec.personalisation import Personalisation
from ctflow.spec.timeparse import zone
from ctflow.spec.triggers import check_trigger
from ctflow.spec.types import Property

_POSITION = re.compile(r"^(.*?):(\d+):(\d+): (.*)$")


@dataclass(frozen=True)
class Result:
    """What ``validate`` found: the declarations that loaded and every problem, sorted; the
    warnings and notes do not make the project invalid."""

    declarations: Declarations
    problems: list[Problem]
    files: int
    warnings: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def check(directory: Path, now: datetime | None = None) -> Result:
    """Read and check every declaration of the project in ``directory``.

    ``now`` (the clock is an ambient input, so a parameter) adds the checks that depend on the
    date: audience windows that end in the future.
    """
    with gcpause.paused():  # what is read stays alive: collections would only walk it again
        return _check(directory, now)


def _check(directory: Path, now: datetime | None) -> Result:
    problems = Problems()
    templating.forget_files()
    try:
        project = find_project(directory)
    except ConfigError as error:
        _config_problems(directory, error, problems)
        salvaged = salvaged_project(directory)
        project = salvaged or default_project(project_root(directory))
        broken_config = salvaged is None
        if salvaged is not None:
            _check_project(project, problems)
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
    tz = zone(project.timezone) or UTC
    today = now.astimezone(tz).date() if now is not None else None
    # Templates depend on ctflow.yaml's environments and variables: when they failed, checking
    # templates would only say "not declared" of every variable.
    checks = _Checks(project, problems, not broken_config, today)
    declarations = checks.run(reading)
    return Result(
        declarations,
        problems.sorted(),
        len(files),
        checks.warnings.sorted(),
        checks.notes.sorted(),
    )


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


@dataclass
class _Checks:
    """Every check of every declaration; those that failed their schema are checked too, on
    what :mod:`ctflow.spec.salvage` leaves of them, and never enter the declarations."""

    project: Project
    problems: Problems
    templates: bool
    today: date | None
    events: Mapping[str, Mapping[str, Property]] = field(default_factory=dict)
    profile: Mapping[str, Property] = field(default_factory=dict)
    warnings: Problems = field(default_factory=Problems)
    notes: Problems = field(default_factory=Problems)
    liquid: Personalisation | None = None

    def run(self, reading: Reading) -> Declarations:
        decls, problems = reading.decls, self.problems
        broken = {kind: [b for b in reading.broken if b.kind == kind] for kind in KIND_ORDER}
        salvaged = {kind: [salvage.pruned(b) for b in found] for kind, found in broken.items()}
        profile_decls = _by_kind(decls, "ProfileSchema")
        self._tracking(reading, broken)
        self.liquid = Personalisation(
            self.events,
            self.profile,
            bool(profile_decls or broken["ProfileSchema"])
            or "ProfileSchema" in reading.unread_kinds,
            problems,
            self.warnings,
            self.notes,
        )
        journey_decls = campaigns.check_names(_by_kind(decls, "Journey"), "journey", problems)
        expanded = [c for j in journey_decls.values() for c in self._journey(j)]
        campaign_decls = campaigns.check_names(
            [*_by_kind(decls, "Campaign"), *expanded], "campaign", problems
        )
        for decl in campaign_decls.values():
            self._campaign(decl)
        for journey in salvaged["Journey"]:
            for decl in self._journey(journey, salvaged=True):
                self._campaign(decl)
        for decl in salvaged["Campaign"]:
            self._campaign(decl)
        trigger_decls = campaigns.check_names(_by_kind(decls, "Trigger"), "trigger", problems)
        for decl in trigger_decls.values():
            check_trigger(decl, self.project, problems, project_ok=self.templates)
            self.liquid.trigger(decl, templating.fields(decl, Problems()))
        for decl in salvaged["Trigger"]:
            if salvage.plain_parameters(decl):
                check_trigger(decl, self.project, problems, project_ok=self.templates)
            self.liquid.trigger(decl, templating.fields(decl, Problems()))
        self.liquid.finish()
        dataset_decls = campaigns.check_names(_by_kind(decls, "Dataset"), "dataset", problems)
        strict = frozenset(d.key for d in _by_kind(decls, "EventSchema") if d.data.get("strict"))
        profiles = bool(profile_decls or broken["ProfileSchema"]) or (
            "ProfileSchema" in reading.unread_kinds
        )
        for decl in [*dataset_decls.values(), *salvaged["Dataset"]]:
            if salvage.usable(decl, ("file", "type")):
                check_dataset(
                    decl, self.events, self.profile, profiles, problems, strict_events=strict
                )
        audience_decls = campaigns.check_names(_by_kind(decls, "Audience"), "audience", problems)
        for decl in audience_decls.values():
            check_audience_decl(decl, problems)
        known = {**audience_decls, **{b.key: b for b in salvaged["Audience"]}}
        check_references(campaign_decls, journey_decls, known, problems)
        check_key_clashes(known, campaign_decls, journey_decls, problems)
        return Declarations(
            project=self.project,
            events=_first_by_key(_by_kind(decls, "EventSchema")),
            profiles=campaigns.check_names(profile_decls, "profile schema", problems),
            campaigns=campaign_decls,
            journeys=journey_decls,
            triggers=trigger_decls,
            datasets=dataset_decls,
            audiences=audience_decls,
            event_properties=self.events,
            profile_properties=self.profile,
        )

    def _tracking(self, reading: Reading, broken: Mapping[str, list[Broken]]) -> None:
        """The declared events and profile properties, with those of broken schemas as far as
        they go: an event problem elsewhere is still found when a ProfileSchema failed."""
        limits = self.project.limits
        event_parts = [salvage.schema_part(b) for b in broken["EventSchema"]]
        known = [d for d in event_parts if d is not None]
        self.events = tracking.event_properties(
            [*_by_kind(reading.decls, "EventSchema"), *known],
            limits,
            self.problems,
            partial=known,
            complete=len(known) == len(event_parts) and "EventSchema" not in reading.unread_kinds,
        )
        profile_parts = [salvage.schema_part(b) for b in broken["ProfileSchema"]]
        self.profile = tracking.profile_properties(
            [*_by_kind(reading.decls, "ProfileSchema"), *(d for d in profile_parts if d)],
            limits,
            self.problems,
            complete=not profile_parts and "ProfileSchema" not in reading.unread_kinds,
        )

    def _journey(self, journey: Decl, *, salvaged: bool = False) -> list[Decl]:
        _check_journey_audiences(journey, self.events, self.profile, self.problems, self.today)
        campaigns.check_timezone(
            journey.document, ("timezone",), journey.data.get("timezone"), self.problems
        )
        return journeys.expand(journey, self.problems, salvaged=salvaged)

    def _campaign(self, decl: Decl) -> None:
        """Its rules, references and templates: checked, then rendered in every environment as
        ``plan`` will."""
        campaigns.check_campaign(decl, self.events, self.profile, self.problems, today=self.today)
        items = list(templating.fields(decl, self.problems))
        if self.liquid is not None:
            self.liquid.campaign(decl, items)
        if self.templates:
            broken = templating.check_fields(self.project, items, self.problems)
            templating.check_renders(
                self.project, [i for i in items if i not in broken], self.problems
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
    for index, step in enumerate(data.get("steps") or []):
        if step is not None and "audience" in step:
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
