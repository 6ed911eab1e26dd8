"""Test sends: a campaign's declared content, sent to test identities through CleverTap's
identity send (``/1/send/<channel>.json``, clevertap-api.md §5), so no campaign is created.

Who may receive one: the identities of the environment's named lists (``test_recipients:`` in
``ctflow.yaml``), by list name or by identity, and any identity written ``identity:VALUE``. A
bare word that is neither is refused, so a misspelt list name is never taken for a person.
Test sends are never deduplicated: each one sends again. No plan, no journal here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctflow.clevertap import CleverTap
from ctflow.clevertap.errors import (
    AmbiguousOutcomeError,
    AuthError,
    CleverTapError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from ctflow.config import Environment
from ctflow.errors import InvalidInput
from ctflow.problems import suggest
from ctflow.send import recipients
from ctflow.send.message import Message

EXPLICIT = "identity:"
"""The prefix of an identity outside the test lists: ``--to identity:someone@shop.example``."""
CHANNELS = ("push", "email", "sms", "webpush", "whatsapp")  # §5: the identity send's paths
MAX_RECIPIENTS = 1000  # §1.5 [?]: identities per send call
SENT_AGAIN = "test sends are never deduplicated: running this again sends again"


@dataclass(frozen=True)
class Recipient:
    identity: str
    via: str
    """The list it came from, or ``identity:`` when named explicitly."""


@dataclass(frozen=True)
class Outcome:
    """One call's outcome: ``sent``, ``failed`` (CleverTap refused it), ``ambiguous`` (the
    answer was lost: it may have arrived) or ``unavailable`` (not sent)."""

    recipients: tuple[Recipient, ...]
    state: str
    detail: str | None = None


def resolve(to: Sequence[str], env: Environment) -> list[Recipient]:
    """The identities ``to`` names in ``env``, each once; exit 3 listing every word that names
    neither a test list, nor an identity of one, nor ``identity:VALUE``."""
    lists = env.test_recipients
    members = {identity: name for name, ids in lists.items() for identity in ids}
    found: dict[str, Recipient] = {}
    problems: list[str] = []
    for word in to:
        if word.startswith(EXPLICIT):
            identity = word[len(EXPLICIT) :]
            reason = recipients.problem("identity", identity)
            if reason is not None:
                problems.append(f"{recipients.shown(word)}: {reason}")
            else:
                found.setdefault(identity, Recipient(identity, EXPLICIT))
        elif word in lists:
            for identity in lists[word]:
                found.setdefault(identity, Recipient(identity, word))
        elif word in members:
            found.setdefault(word, Recipient(word, members[word]))
        else:
            problems.append(_refusal(word, env))
    if problems:
        raise InvalidInput(
            f"{len(problems)} recipient(s) cannot be sent a test in environment "
            f"{env.name!r}; nothing was sent",
            problems,
        )
    return list(found.values())


def _refusal(word: str, env: Environment) -> str:
    names = sorted(env.test_recipients)
    hint = suggest(word, names)
    listed = ", ".join(names) if names else "none (declare them under "
    if not names:
        listed += f"environments.{env.name}.test_recipients in ctflow.yaml)"
    return (
        f"{recipients.shown(word)}: not a test list of environment {env.name!r} nor an identity "
        f"in one{hint}; lists: {listed}. To send to an identity outside the lists, write "
        f"{EXPLICIT}{word}"
    )


def message(key: str, payload: Mapping[str, Any]) -> Message:
    """The identity send of the campaign ``key`` whose create body is ``payload``: its content
    and delivery settings, without audience, schedule, name or labels; exit 3 for a channel
    the identity send cannot reach."""
    channel = payload.get("target_mode", "push")  # §4.1: push when omitted
    if channel not in CHANNELS:
        raise InvalidInput(
            f"campaign {key!r} is a {channel} campaign: CleverTap's identity send, which test "
            f"sends use, reaches only {', '.join(CHANNELS)} (clevertap-api.md §5); apply it to "
            "a test environment to see it"
        )
    body: dict[str, Any] = {"content": payload.get("content", {})}
    body["respect_frequency_caps"] = False  # a test must arrive, whatever was sent today
    for field in ("provider_nick_name", "wzrk_cid", "badge_id", "badge_icon", "mutable_content"):
        if field in payload:
            body[field] = payload[field]
    return Message(key, "identity", f"/1/send/{channel}.json", "Identity", body)


async def deliver(client: CleverTap, built: Message, to: Sequence[Recipient]) -> list[Outcome]:
    """One call per 1000 identities, all at once (the client keeps within the account's limit);
    a lost answer is ambiguous, never retried."""
    batches = [tuple(to[i : i + MAX_RECIPIENTS]) for i in range(0, len(to), MAX_RECIPIENTS)]
    channel = built.endpoint.removeprefix("/1/send/").removesuffix(".json")

    async def one(batch: tuple[Recipient, ...]) -> Outcome:
        ids = [r.identity for r in batch]
        body = dict(built.body)
        content = body.pop("content")
        try:
            await client.send(channel, {built.to_key: ids}, content, **body)  # type: ignore[arg-type]
        except AuthError:
            raise
        except (AmbiguousOutcomeError, ServerError) as exc:
            return Outcome(batch, "ambiguous", str(exc))
        except (RateLimitedError, TransportError) as exc:
            return Outcome(batch, "unavailable", str(exc))
        except CleverTapError as exc:
            return Outcome(batch, "failed", str(exc))
        return Outcome(batch, "sent")

    return list(await asyncio.gather(*(one(batch) for batch in batches)))
