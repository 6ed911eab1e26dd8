"""Journeys → campaigns: each step becomes the campaign ``journey.step`` with the defaults merged.

Owns the merge rules of docs/declarations.md "Journey" and its order: a step sends no earlier
than the step declared before it, unless it says ``allow_before_previous: true``. Pure;
positions of merged values point back at the step, or at the journey's ``defaults`` for
inherited values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ctflow.problems import Problems
from ctflow.resources import validator
from ctflow.schemacheck import violations
from ctflow.spec.model import Decl, Keys
from ctflow.spec.salvage import without_faults
from ctflow.spec.timeparse import parse_datetime, parse_duration

LIST_PARTS = ("did", "did_not", "did_any")
STEP_ONLY = ("after", "allow_before_previous")
"""A step's fields that place it in the journey and are not fields of its campaign."""


def expand(journey: Decl, problems: Problems, *, salvaged: bool = False) -> list[Decl]:
    """The campaigns of ``journey``; steps that cannot become one are reported and skipped.

    A journey that failed its schema is ``salvaged``: what :func:`ctflow.spec.salvage.pruned`
    left of it (its schema problems are reported; a step's are not repeated here)."""
    data = journey.data
    text = data.get("anchor")
    anchor = parse_datetime(text) if isinstance(text, str) else None
    if anchor is None and isinstance(text, str):
        problems.add(journey.document, ("anchor",), f"{text!r} is not a real date-time")
    campaigns: list[Decl] = []
    seen: dict[str, int] = {}
    previous: tuple[str, str, timedelta] | None = None
    for index, step in enumerate(data.get("steps") or []):
        if step is None:
            continue
        if step["key"] in seen:
            problems.add(
                journey.document,
                ("steps", index, "key"),
                f"step key {step['key']!r} is already used by steps[{seen[step['key']]}]",
            )
            continue
        seen[step["key"]] = index
        after = parse_duration(step["after"]) if isinstance(step.get("after"), str) else None
        if after is not None:
            if previous is not None and after < previous[2] and not _allowed_before(step):
                problems.add(journey.document, ("steps", index, "after"), _backwards(previous))
            previous = (step["key"], step["after"], after)
        campaign = _step(journey, index, step, anchor, problems, salvaged)
        if campaign is not None:
            campaigns.append(campaign)
    return campaigns


def _allowed_before(step: Mapping[str, Any]) -> bool:
    return step.get("allow_before_previous") is True


def _backwards(previous: tuple[str, str, timedelta]) -> str:
    key, text, _ = previous
    return (
        f"sends before the step declared above it ({key}, after: {text}): a journey's steps "
        "send in the order they are declared; move this step up, or say "
        "allow_before_previous: true"
    )


def _step(
    journey: Decl,
    index: int,
    step: Mapping[str, Any],
    anchor: datetime | None,
    problems: Problems,
    salvaged: bool,
) -> Decl | None:
    """The campaign of one step: the journey's defaults under the step's own fields, scheduled
    ``after`` the anchor; ``None`` when it cannot be one (the problems say why). Without a real
    anchor it is still made (scheduled ``now``), so that its content is checked."""
    data = journey.data
    defaults: Mapping[str, Any] = data.get("defaults") or {}
    base: Keys = ("steps", index)
    channel = step.get("channel", defaults.get("channel"))
    merged = _merged(journey, defaults, step, channel)
    missing = [f for f in ("channel", "audience") if f not in merged]
    for field in [] if salvaged else missing:
        problems.add(
            journey.document,
            base,
            f"steps[{index}]: missing {field!r} (set it here or in defaults)",
        )
    after = parse_duration(step["after"])
    if after is None:
        problems.add(journey.document, (*base, "after"), f"{step['after']!r} is not a duration")
    if missing or after is None:
        return None
    if anchor is None:
        merged["schedule"] = "now"
    else:
        schedule: dict[str, Any] = {"at": (anchor + after).strftime("%Y-%m-%d %H:%M")}
        if data.get("timezone"):
            schedule["timezone"] = data["timezone"]
        merged["schedule"] = schedule
    origins: tuple[tuple[Keys, Keys], ...] = (
        (("content",), (*base, "content")),
        (("content",), ("defaults", "content", channel)),
        (("schedule",), (*base, "after")),
        ((), base),
        ((), ("defaults",)),
    )
    found = violations(validator("campaign"), {**merged, "key": step["key"]})
    for violation in [] if salvaged else found:
        # Inherited values passed the journey's own schema: what fails here is what the step
        # lacks, so it is reported in the step (at its nearest existing part).
        keys = (*base, *violation.keys)
        problems.add(journey.document, keys, violation.message, at_key=violation.at_key)
    if found:  # what is left is still checked (its templates), as any broken declaration
        merged = without_faults(merged, [v.keys for v in found])
    return Decl(
        kind="Campaign",
        key=f"{journey.key}.{step['key']}",
        data=merged,
        document=journey.document,
        origins=origins,
        journey=journey.key,
    )


def _merged(
    journey: Decl, defaults: Mapping[str, Any], step: Mapping[str, Any], channel: str | None
) -> dict[str, Any]:
    """The step's fields over the journey's defaults (content and audience merged deeply)."""
    merged: dict[str, Any] = {
        name: value for name, value in defaults.items() if name not in ("content", "audience")
    }
    merged.update({name: value for name, value in step.items() if name not in STEP_ONLY})
    merged["kind"] = "Campaign"
    merged["key"] = f"{journey.key}.{step['key']}"
    merged.setdefault("name", f"{journey.data.get('name', journey.key)}: {step['key']}")
    labels = [*defaults.get("labels", []), *step.get("labels", [])]
    if labels:
        merged["labels"] = list(dict.fromkeys(labels))
    if journey.data.get("enabled") is False:
        merged["enabled"] = False
    audience = _audience(defaults.get("audience"), step.get("audience"))
    if audience is not None:
        merged["audience"] = audience
    contents, own = defaults.get("content"), step.get("content")
    default_content = contents.get(channel) if isinstance(contents, Mapping) and channel else None
    merged["content"] = _merge(
        default_content if isinstance(default_content, Mapping) else {},
        own if isinstance(own, Mapping) else {},
    )
    return merged


def _audience(default: Any, step: Any) -> Any:
    """Both must hold: lists of conditions are joined, profile filters merged (the step wins).
    Under an Audience of the defaults a step stays on it (another target is a validate problem,
    ``audiences.check_references``)."""
    if isinstance(default, str) and default != "everyone":
        return step if isinstance(step, Mapping) else default  # conditions: still checked
    if default is None or isinstance(default, str):  # everyone
        return step if step is not None else default
    if step is None or isinstance(step, str):
        return default if step is None or step == "everyone" else step
    combined: dict[str, Any] = {}
    for part in LIST_PARTS:
        joined = [*default.get(part, []), *step.get(part, [])]
        if joined:
            combined[part] = joined
    profile = {**default.get("profile", {}), **step.get("profile", {})}
    if profile:
        combined["profile"] = profile
    reachable = list(
        dict.fromkeys([*default.get("reachable_by", []), *step.get("reachable_by", [])])
    )
    if reachable:
        combined["reachable_by"] = reachable
    return combined


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for name, value in override.items():
        current = merged.get(name)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[name] = _merge(current, value)
        else:
            merged[name] = value
    if "body_file" in override:
        merged.pop("body", None)
    if "body" in override:
        merged.pop("body_file", None)
    return merged
