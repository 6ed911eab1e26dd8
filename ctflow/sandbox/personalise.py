"""CleverTap's Liquid filled in for each recipient, as CleverTap does when it delivers a message
(docs.clevertap.com/docs/liquid-tags): ``{{ Profile.Name | default: 'friend' }}`` becomes the
recipient's Name. What the sandbox records for identity sends and shows for a campaign's audience.

Imports python-liquid (on first use) and sandbox modules only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ctflow.sandbox.store import Profile, Store

if TYPE_CHECKING:
    from liquid import BoundTemplate, Environment

# §5: the keys of `to` in an identity send, and the profile column each one finds.
LOOKUP = {
    "Identity": "identity",
    "Email": "email",
    "objectId": "objectId",
    "FBID": "FBID",
    "GPID": "GPID",
}
KIND = "deliveries"  # the store's keyed state: the personalised messages of send N
MAX_OUTPUT = 200_000  # characters of one rendered text: a request cannot make the sandbox spin
MAX_LOOPS = 10_000


def has_liquid(value: Any) -> bool:
    """Whether any text inside ``value`` holds Liquid markup."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(has_liquid(v) for v in value.values())
    if isinstance(value, list):
        return any(has_liquid(v) for v in value)
    return False


def personalised(value: Any, profile: Mapping[str, Any]) -> Any:
    """``value`` with each text rendered for a recipient whose properties are ``profile``.

    A property the profile lacks renders empty (or its ``default``), as CleverTap renders it;
    text that is not valid Liquid, or that fails to render, stays as written."""
    if isinstance(value, str):
        return _render(value, profile)
    if isinstance(value, Mapping):
        return {k: personalised(v, profile) for k, v in value.items()}
    if isinstance(value, list):
        return [personalised(v, profile) for v in value]
    return value


def deliveries(store: Store, to: Mapping[str, Iterable[str]], content: Any) -> list[Any]:
    """One entry per recipient of an identity send: who, and the content they receive."""
    out: list[Any] = []
    for key, values in to.items():
        for value in values:
            profile = store.find_profile(LOOKUP[key], value) if key in LOOKUP else None
            out.append({"to": {key: value}, "content": personalised(content, _props(profile))})
    return out


def messages(people: Iterable[Profile], content: Any) -> list[dict[str, Any]]:
    """What each of a campaign's audience receives."""
    return [
        {"objectId": p.guid, "identity": p.identity, "content": personalised(content, _props(p))}
        for p in people
    ]


def _props(profile: Profile | None) -> dict[str, Any]:
    if profile is None:
        return {}
    found = dict(profile.data)
    if profile.email is not None:
        found.setdefault("Email", profile.email)
    if profile.identity is not None:
        found.setdefault("Identity", profile.identity)
    return found


def _render(text: str, profile: Mapping[str, Any]) -> str:
    if "{{" not in text and "{%" not in text:
        return text
    from liquid.exceptions import LiquidError

    template = _template(text)
    if template is None:
        return text
    try:
        return template.render(Profile=dict(profile))
    except (LiquidError, RecursionError):
        return text


@functools.lru_cache(maxsize=1024)
def _template(text: str) -> BoundTemplate | None:
    from liquid.exceptions import LiquidError

    try:
        return _environment().from_string(text)
    except (LiquidError, RecursionError):
        return None


@functools.cache
def _environment() -> Environment:
    from liquid import Environment

    class Bounded(Environment):
        output_stream_limit = MAX_OUTPUT
        loop_iteration_limit = MAX_LOOPS

    return Bounded()
