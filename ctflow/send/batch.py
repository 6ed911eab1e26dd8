"""From what the caller gives (recipients and data, or a batch file of one recipient a line) to
the sends to make, each under its idempotency key; what cannot be sent is a :class:`Refused`
with its line and reason. No HTTP, no journal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ctflow.config import Environment, Project
from ctflow.errors import InvalidInput
from ctflow.problems import LONE_SURROGATE, lone_surrogates
from ctflow.send import message, recipients
from ctflow.send.deliver import Send
from ctflow.spec.model import Decl


@dataclass(frozen=True)
class Refused:
    """A recipient ctflow did not send to, before any call: where and why."""

    recipient: str | None
    reason: str
    line: int | None = None


class Composer:
    """Builds the sends of one trigger in one environment."""

    def __init__(self, decl: Decl, project: Project, env: Environment) -> None:
        self.decl = decl
        self.project = project
        self.env = env
        self._validator = message.parameters_validator(decl)  # compiled once for a batch

    def sends(
        self,
        to: Sequence[str],
        data: Any,
        *,
        key: str | None = None,
        line: int | None = None,
    ) -> list[Send]:
        """The sends of ``data`` to each of ``to``; exit 3 (raised) when the data does not fit
        the trigger or does not render. ``key``: the caller's idempotency key, else derived."""
        if not to:
            raise InvalidInput("a send needs at least one recipient")
        if key is not None and (not isinstance(key, str) or not key.strip()):
            raise InvalidInput("an idempotency key must be non-empty text")
        refusals = {recipients.shown(r): self.refusal(r) for r in to}
        refused = [f"{who}: {why}" for who, why in refusals.items() if why is not None]
        if refused:
            raise InvalidInput(
                f"{len(refused)} recipient(s) cannot receive trigger {self.decl.key!r}; nothing "
                "was sent",
                refused,
            )
        if key is not None and lone_surrogates(key):
            raise InvalidInput(f"{key!r}: {LONE_SURROGATE}")
        message.check_data(self.decl, data, validator=self._validator)
        built = message.build(self.decl, self.project, self.env, data)
        digest = message.data_digest(self.decl.key, data)
        return [
            Send(
                built,
                recipient,
                key if key is not None else message.send_key(self.decl.key, recipient, data),
                digest,
                line,
            )
            for recipient in dict.fromkeys(to)
        ]

    def refusal(self, recipient: object) -> str | None:
        """Why ``recipient`` is not one this trigger can address (its ``recipient:``)."""
        kind = self.decl.data.get("recipient", "identity")
        reason = recipients.problem(kind, recipient)
        if reason is None or kind not in ("email", "phone"):
            return reason
        return f"{reason}; trigger {self.decl.key!r} addresses people by {kind}"

    def batch(self, path: Path) -> Iterator[Send | Refused]:
        """One recipient a line: ``{"to": "C100234", "data": {...}}`` (``to`` may be a list;
        ``idempotency_key`` optional); a line that cannot be sent is a :class:`Refused`."""
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
        with stream:
            for number, raw in enumerate(stream, start=1):
                if not raw.strip():
                    continue
                yield from self._line(number, raw)

    def _line(self, number: int, raw: bytes) -> Iterator[Send | Refused]:
        try:
            entry = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield Refused(None, f"not JSON: {exc}", number)
            return
        if not isinstance(entry, Mapping):
            yield Refused(None, 'not an object like {"to": "…", "data": {…}}', number)
            return
        to = entry.get("to")
        targets = [to] if isinstance(to, str) else to
        if not isinstance(targets, list) or not targets:
            yield Refused(None, "to: a recipient (or a list of them) is needed", number)
            return
        key = entry.get("idempotency_key")
        if key is not None and (not isinstance(key, str) or not key.strip()):
            yield Refused(None, "idempotency_key: must be non-empty text", number)
            return
        good: list[str] = []
        for recipient in targets:
            refusal = self.refusal(recipient)
            if refusal is None and isinstance(recipient, str):
                good.append(recipient)
            elif isinstance(recipient, str) and recipients.printable(recipient):
                yield Refused(recipient, refusal or "", number)
            else:  # shown escaped, in the reason
                yield Refused(None, f"{recipients.shown(recipient)}: {refusal}", number)
        if not good:
            return
        try:
            yield from self.sends(good, entry.get("data", {}), key=key, line=number)
        except InvalidInput as exc:
            reason = "; ".join(exc.problems) if exc.problems else exc.message
            for recipient in good:
                yield Refused(recipient, reason, number)
