"""Sending messages once. Each recipient's idempotency key is claimed in the journal before the
call and its outcome recorded after it; a key already sent is not sent again, and one whose
answer was lost or was a 5xx (which never says the message was not queued) is reported
ambiguous, never retried on its own (CleverTap does not deduplicate sends, clevertap-api.md
§1.3, §5, §10.4). Recipients of identical messages share a call, up to 1000; at most
three calls are in flight (CleverTap's limit for everything but uploads, §1.4).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ctflow.clevertap import CleverTap
from ctflow.clevertap.errors import (
    AmbiguousOutcomeError,
    AuthError,
    CleverTapError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from ctflow.errors import JournalUnavailable
from ctflow.journal import SendKeys
from ctflow.send.message import Message

MAX_RECIPIENTS = 1000  # §1.5 [?]: identities per send call
CONCURRENCY = 3
IN_FLIGHT_FOR = timedelta(minutes=10)
"""A send recorded ``sending`` by a run that has not finished is taken as in flight for this
long (the client gives up on a call well before), then as cut short."""

State = Literal[
    "sent", "already_sent", "ambiguous", "failed", "unavailable", "duplicate", "conflict"
]
SENT_BEFORE: State = "already_sent"


@dataclass(frozen=True)
class Send:
    """One recipient of one message, under its idempotency key; ``line`` in a batch file."""

    message: Message
    recipient: str
    key: str
    digest: str
    line: int | None = None


@dataclass(frozen=True)
class Outcome:
    send: Send
    state: State
    detail: str | None = None
    """Why it failed, what was lost, or when it was sent before."""


class Sender:
    """Sends through ``client`` in ``environment``, remembering each send in ``journal``."""

    def __init__(
        self,
        client: CleverTap,
        journal: SendKeys,
        environment: str,
        *,
        run_id: int | None = None,
        resend_ambiguous: bool = False,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.environment = environment
        self.run_id = run_id
        self.resend_ambiguous = resend_ambiguous
        self.on_outcome = on_outcome
        self.journal_lost: str | None = None
        """Why the journal could not be written: nothing more is sent."""
        self._slots = asyncio.Semaphore(CONCURRENCY)

    async def send_all(self, sends: Iterable[Send]) -> list[Outcome]:
        """Every send's outcome, in the order given. Stops at a refused credential (raised)."""
        outcomes: dict[int, Outcome] = {}
        seen: dict[tuple[str, str], Send] = {}
        groups: dict[str, list[tuple[int, Send]]] = {}
        for index, send in enumerate(sends):
            pair = (send.key, send.recipient)
            first = seen.setdefault(pair, send)
            if first is not send:
                where = f"line {first.line}" if first.line is not None else "an earlier send"
                if first.digest != send.digest:
                    reason = f"idempotency key {send.key!r} is also on {where}, for other data"
                    outcomes[index] = self._tell(Outcome(send, "conflict", reason))
                else:
                    outcomes[index] = self._tell(Outcome(send, "duplicate", f"the same as {where}"))
                continue
            groups.setdefault(send.message.fingerprint, []).append((index, send))
        calls = [
            group[start : start + MAX_RECIPIENTS]
            for group in groups.values()
            for start in range(0, len(group), MAX_RECIPIENTS)
        ]
        # Every call ends and records its outcome before an error goes up: a refused
        # credential in one must not leave the others' sends half recorded.
        results = await asyncio.gather(*(self._call(c) for c in calls), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
            outcomes.update(result)
        return [outcomes[index] for index in sorted(outcomes)]

    async def _call(self, call: Sequence[tuple[int, Send]]) -> dict[int, Outcome]:
        first = call[0][1]
        again = ("failed", "ambiguous", "sending") if self.resend_ambiguous else ("failed",)
        async with self._slots:
            try:
                if self.journal_lost is not None:
                    raise JournalUnavailable(self.journal_lost)
                earlier = self.journal.claim_sends(
                    self.environment,
                    [(send.key, send.recipient, send.digest) for _, send in call],
                    trigger=first.message.trigger,
                    run_id=self.run_id,
                    again=again,
                    stale_before=(datetime.now(UTC) - IN_FLIGHT_FOR).isoformat(timespec="seconds"),
                )
            except JournalUnavailable as exc:  # not claimed, so not sent
                self.journal_lost = exc.message
                lost = f"not sent: {exc.message}"
                return {
                    index: self._tell(Outcome(send, "unavailable", lost)) for index, send in call
                }
            outcomes = {
                index: self._tell(_earlier(send, earlier[(send.key, send.recipient)]))
                for index, send in call
                if (send.key, send.recipient) in earlier
            }
            claimed = [(index, send) for index, send in call if index not in outcomes]
            if not claimed:
                return outcomes
            pairs = [(send.key, send.recipient) for _, send in claimed]
            try:
                state, detail = await self._request(first.message, [to for _, to in pairs])
            except AuthError as exc:  # refused before anything was queued: not sent
                self.journal.send_outcomes(self.environment, pairs, "failed", {"detail": str(exc)})
                raise
            except JournalUnavailable as exc:  # lost while waiting for the account's slot
                self.journal_lost = self.journal_lost or exc.message
                state, detail = "unavailable", f"not sent, but the journal says sending: {exc}"
                return outcomes | {i: self._tell(Outcome(s, state, detail)) for i, s in claimed}
            recorded = "failed" if state in ("failed", "unavailable") else state
            try:
                self.journal.send_outcomes(
                    self.environment, pairs, recorded, {"detail": detail} if detail else None
                )
            except JournalUnavailable as exc:  # the journal still says 'sending': ambiguous
                self.journal_lost = self.journal_lost or exc.message
                what = f"{state} ({detail})" if detail else state
                state, detail = "ambiguous", f"{what}, but the journal could not record it: {exc}"
            for index, send in claimed:
                outcomes[index] = self._tell(Outcome(send, state, detail))
            return outcomes

    async def _request(self, message: Message, recipients: list[str]) -> tuple[State, str | None]:
        body = message.request(recipients)
        try:
            if "campaign_id_list" in body:
                await self.client.external_trigger_campaigns(
                    body["campaign_id_list"], body["to"], body["ExternalTrigger"]
                )
            elif message.type == "external":
                await self.client.external_trigger(
                    body["campaign_id"], body["to"], body["ExternalTrigger"]
                )
            else:
                channel = message.endpoint.removeprefix("/1/send/").removesuffix(".json")
                rest = {k: v for k, v in body.items() if k not in ("to", "content")}
                await self.client.send(channel, body["to"], body["content"], **rest)  # type: ignore[arg-type]
        except AuthError:
            raise
        except (AmbiguousOutcomeError, ServerError) as exc:  # it may have been queued
            return "ambiguous", exc.message
        except (RateLimitedError, TransportError) as exc:
            return "unavailable", exc.message
        except CleverTapError as exc:
            return "failed", exc.message
        return "sent", None

    def _tell(self, outcome: Outcome) -> Outcome:
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome


def _earlier(send: Send, record: dict[str, Any]) -> Outcome:
    """What a send already in the journal comes to now."""
    when = record.get("updated_at")
    if record["digest"] != send.digest:
        return Outcome(
            send,
            "conflict",
            f"idempotency key {send.key!r} was used on {when} for other data "
            f"(trigger {record['trigger_key']!r}); use a new key for a new message",
        )
    if record["state"] == "sent":
        return Outcome(send, SENT_BEFORE, f"sent on {when}")
    if record.get("in_progress"):
        run = record.get("run_id")
        who = f"run {run}" if run is not None else "another process"
        return Outcome(send, "ambiguous", f"{who} is sending it now (since {when})")
    lost = "its outcome is unknown" if record["state"] == "ambiguous" else "it was cut short"
    return Outcome(send, "ambiguous", f"sent on {when} but {lost}: it may have arrived")
