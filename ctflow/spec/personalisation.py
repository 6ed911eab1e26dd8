"""CleverTap personalisation checked against the tracking plan: every ``Profile.X`` a campaign's or
a trigger's content reads is declared by a ProfileSchema, every ``Event.X`` by the EventSchema
of an event the campaign qualifies on (docs/declarations.md "Personalisation").

Reads Liquid through :mod:`ctflow.spec.liquid`; reports through ``templating.Field``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctflow.problems import Problems, suggest
from ctflow.spec import liquid
from ctflow.spec.declared import complete, undeclared
from ctflow.spec.model import Decl
from ctflow.spec.templating import Field
from ctflow.spec.types import Property

# Types whose value is not text: a list prints as CleverTap's list, not as words.
NOT_TEXT = frozenset({"list"})
NO_PROFILE_SCHEMA = (
    "Liquid reads Profile properties, but the project declares no ProfileSchema, so they are "
    "not checked; declare one (docs/declarations.md#profileschema) to have them checked"
)


@dataclass
class Personalisation:
    """The checks of one project: problems (exit 3), warnings and at most one note."""

    events: Mapping[str, Mapping[str, Property]]
    profile: Mapping[str, Property]
    profiles_declared: bool
    problems: Problems
    warnings: Problems
    notes: Problems
    _unchecked: list[tuple[Field, int, int]] = field(default_factory=list)

    def campaign(self, decl: Decl, fields: Iterable[Field]) -> None:
        """A campaign reads the properties of the events its audience qualifies on."""
        qualifying = _qualifying_events(decl.data.get("audience"))
        self._fields(fields, qualifying, "campaign")

    def trigger(self, decl: Decl, fields: Iterable[Field]) -> None:
        """An identity trigger's message is sent through /1/send: no event goes with it."""
        self._fields((f for f in fields if f.keys[0] == "content"), None, "trigger")

    def finish(self) -> None:
        """The one note of a project without a ProfileSchema, at the first Profile read."""
        if self._unchecked:
            first, line, column = min(
                self._unchecked, key=lambda u: (str(u[0].decl.path), u[1], u[2])
            )
            first.report(self.notes, line, column, NO_PROFILE_SCHEMA)

    def _fields(self, fields: Iterable[Field], events: list[str] | None, what: str) -> None:
        for item in fields:
            if not liquid.has_liquid(item.source):
                continue
            reading = liquid.read(item.source)
            if reading.error is not None:
                index, message = reading.error
                line, column = liquid.position(item.source, index)
                item.report(self.problems, line, column, f"Liquid: {message}")
                continue
            for index, name in reading.unknown_filters:
                line, column = liquid.position(item.source, index)
                hint = suggest(name, liquid.known_filters())
                item.report(self.problems, line, column, f"Liquid: unknown filter {name!r}{hint}")
            for ref in reading.references:
                line, column = liquid.position(item.source, ref.index)
                if ref.root == "Profile":
                    self._profile(item, line, column, ref)
                else:
                    self._event(item, line, column, ref, events, what)

    def _profile(self, item: Field, line: int, column: int, ref: liquid.Reference) -> None:
        if not self.profiles_declared:
            self._unchecked.append((item, line, column))
            return
        prop = self.profile.get(ref.name)
        if prop is None:
            if undeclared(ref.name, self.profile):
                hint = suggest(ref.name, self.profile)
                message = f"profile property {ref.name!r} is not declared{hint}"
                item.report(self.problems, line, column, f"{_shown(ref)}: {message}")
            return
        self._renders(item, line, column, ref, prop)

    def _event(
        self,
        item: Field,
        line: int,
        column: int,
        ref: liquid.Reference,
        events: list[str] | None,
        what: str,
    ) -> None:
        if events is None:
            item.report(
                self.problems,
                line,
                column,
                f"{_shown(ref)}: a {what} is sent with no event, so CleverTap has no event "
                "property to fill in; pass the value as a parameter",
            )
            return
        if not events:
            item.report(
                self.problems,
                line,
                column,
                f"{_shown(ref)}: the campaign's audience names no event it qualifies on "
                "(did or did_any), so CleverTap has no event to read it from",
            )
            return
        declared = [self.events[e] for e in events if e in self.events]
        if len(declared) < len(events) or not all(complete(d) for d in declared):
            return  # an undeclared event is reported by the audience check
        for props in declared:
            if ref.name in props:
                self._renders(item, line, column, ref, props[ref.name])
                return
        known = sorted({name for props in declared for name in props})
        names = " or ".join(repr(e) for e in events)
        item.report(
            self.problems,
            line,
            column,
            f"{_shown(ref)}: property {ref.name!r} is not declared for event {names}"
            f"{suggest(ref.name, known)}",
        )

    def _renders(
        self, item: Field, line: int, column: int, ref: liquid.Reference, prop: Property
    ) -> None:
        if ref.printed and prop.type in NOT_TEXT:
            item.report(
                self.warnings,
                line,
                column,
                f"{_shown(ref)} is {prop.kind}, which does not print as text; give it a "
                "default (| default: '…') or a filter (| join: ', ')",
            )


def _shown(ref: liquid.Reference) -> str:
    if ref.name.isidentifier():
        return f"{ref.root}.{ref.name}"
    quoted = f'"{ref.name}"' if '"' not in ref.name else repr(ref.name)
    return f"{ref.root}[{quoted}]"


def _qualifying_events(audience: Any) -> list[str]:
    """The events a campaign's audience qualifies people on (``did``, ``did_any``)."""
    if not isinstance(audience, Mapping):
        return []
    found: list[str] = []
    for part in ("did", "did_any"):
        for condition in audience.get(part) or []:
            event = condition.get("event") if isinstance(condition, Mapping) else None
            if isinstance(event, str) and event not in found:
                found.append(event)
    return found
