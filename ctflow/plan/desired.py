"""Desired state: each declared campaign (journey steps included) as the exact create body for
one environment, with the version hash its marker carries.

Templates (``[[ … ]]``) are rendered with the environment's variables and ``body_file``s are
read; the spec layer has already checked everything. No HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.config import Environment
from ctflow.errors import InvalidInput
from ctflow.plan import marker
from ctflow.problems import Problems
from ctflow.spec import templates, templating
from ctflow.spec.model import Decl, Declarations
from ctflow.spec.payload import SCHEDULE_FORMAT, create_payload
from ctflow.spec.where import compile_where

OWNER_LABEL = "ctflow"
_SCHEDULED = re.compile(r"[0-9]{8} [0-9]{2}:[0-9]{2}")
"""``SCHEDULE_FORMAT``'s fixed-width form, which strptime reads only one way."""


@dataclass(frozen=True)
class Desired:
    """One campaign as it should be live.

    ``spec`` is the create body the hash covers: the display name, audience windows kept
    relative (``in_last: 7d``), so that a campaign does not change version every day. ``payload``
    is what is sent: windows fixed to today's dates and the marker at the end of the name.
    """

    key: str
    journey: str | None
    name: str
    enabled: bool
    hash: str
    spec: Mapping[str, Any]
    payload: Mapping[str, Any]
    starts_at: datetime | None = None
    """When the (first) send is scheduled; ``None`` for ``schedule: now``."""
    channel: str | None = None
    step: int | None = None
    """A journey step's place in its journey (from 0), in the order declared."""
    after: str | None = None
    """A journey step's offset from the anchor, as declared (``2d``)."""


def owner_labels(project: str, labels: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys([OWNER_LABEL, f"{OWNER_LABEL}:{project}", *labels]))


def desired_state(
    declarations: Declarations, env: Environment, today: date, only: str | None = None
) -> list[Desired]:
    """Every campaign of ``declarations`` for ``env``, in key order (``only``: that one).

    ``today`` is in the account timezone: it fixes the audience windows of the payloads.
    A template that fails to render raises :class:`InvalidInput` (exit 3) with its position.
    """
    project = declarations.project
    labels = owner_labels(project.name, project.labels)
    timezone = project.timezone_for(env)
    problems = Problems()
    out: list[Desired] = []
    for key in sorted(declarations.campaigns) if only is None else [only]:
        decl = declarations.campaigns[key]
        data = _rendered(decl, declarations, env, problems)
        if data is None:
            continue
        common: dict[str, Any] = {
            "labels": labels,
            "today": today,
            "account_timezone": timezone,
            "events": declarations.event_properties,
            "profile": declarations.profile_properties,
        }
        spec = create_payload(data, symbolic=True, **common)
        payload = dict(spec)  # the body sent differs only in its windows, fixed to today's dates
        if "where" in payload:
            payload["where"] = compile_where(
                data["audience"],
                today,
                events=declarations.event_properties,
                profile=declarations.profile_properties,
                timezone=timezone,
            )
        version = marker.digest(spec)
        payload["name"] = marker.mark(data["name"], project.name, key, version)
        step, after = _place(decl, declarations)
        out.append(
            Desired(
                key=key,
                journey=decl.journey,
                name=data["name"],
                enabled=data.get("enabled", True) is not False,
                hash=version,
                spec=spec,
                payload=payload,
                starts_at=_starts_at(payload, timezone),
                channel=data.get("channel"),
                step=step,
                after=after,
            )
        )
    if problems:
        raise InvalidInput(
            f"{len(problems)} template(s) failed to render for environment {env.name!r}",
            [str(p) for p in problems.sorted()],
        )
    return out


def _place(decl: Decl, declarations: Declarations) -> tuple[int | None, str | None]:
    """A journey step's place in its journey and its declared ``after``."""
    journey = declarations.journeys.get(decl.journey) if decl.journey else None
    if journey is None:
        return None, None
    own = decl.key.removeprefix(f"{journey.key}.")
    for index, step in enumerate(journey.data.get("steps") or []):
        if isinstance(step, Mapping) and step.get("key") == own:
            after = step.get("after")
            return index, after if isinstance(after, str) else None
    return None, None


def _rendered(
    decl: Decl, declarations: Declarations, env: Environment, problems: Problems
) -> dict[str, Any] | None:
    """``decl.data`` with every template rendered and each ``body_file`` read into ``body``."""
    before = len(problems)

    def failed(field: templating.Field, exc: templates.TemplateRenderError) -> None:
        field.report(problems, exc.line, 1, f"in environment {env.name}: {exc}")

    values = templating.context(declarations.project, env)
    data = templating.rendered(decl, values, problems, failed)
    return data if len(problems) == before else None


def schedule_start(payload: Mapping[str, Any]) -> datetime | None:
    """The (first) start of a create body's ``when`` as the account's wall time: the
    ``"YYYYMMDD HH:MM"`` text, or the recurring object's ``start_time``; ``None`` for ``now``."""
    when = payload.get("when")
    text = when.get("start_time") if isinstance(when, Mapping) else when
    if not isinstance(text, str) or text == "now":
        return None
    try:
        if _SCHEDULED.fullmatch(text):  # as ctflow writes it: read without strptime (slow)
            day, hour, minute = int(text[6:8]), int(text[9:11]), int(text[12:14])
            return datetime(int(text[0:4]), int(text[4:6]), day, hour, minute)
        return datetime.strptime(text, SCHEDULE_FORMAT)
    except ValueError:
        return None


def _starts_at(payload: Mapping[str, Any], timezone: str) -> datetime | None:
    start = schedule_start(payload)
    return None if start is None else start.replace(tzinfo=ZoneInfo(timezone))
