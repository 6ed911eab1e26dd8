"""Single-profile read (§8.3), profile delete (§3), real-time counts (§8.5) and the event schema
(§9). Imports only the standard library and sandbox modules.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ctflow.sandbox.record_checks import RESTRICTED_EVENTS
from ctflow.sandbox.replies import ApiError, Json, fail, fail_body, malformed
from ctflow.sandbox.store import Store

ACTIVE_SECONDS = 300  # §8.5: active in the last 5 minutes
MAX_DELETE = 100  # §1.5
SYSTEM_EVENTS = RESTRICTED_EVENTS | {"Charged"}


def profile(store: Store, params: dict[str, str]) -> Json:
    for param, key in (("identity", "identity"), ("email", "email"), ("objectId", "objectId")):
        if params.get(param):
            found = store.find_profile(key, params[param])
            break
    else:
        raise fail("One of identity, email or objectId is required")  # [?] text
    if found is None:
        # §8.3: the not-found response was not retrieved; HTTP 404 with a fail body [?].
        raise ApiError(404, fail_body("Profile not found", 404))
    summary: dict[str, dict[str, int]] = {}
    for event in store.events(profile_id=found.id):
        entry = summary.setdefault(event.name, {"count": 0, "first_seen": event.ts, "last_seen": 0})
        entry["count"] += 1
        entry["first_seen"] = min(entry["first_seen"], event.ts)
        entry["last_seen"] = max(entry["last_seen"], event.ts)
    record: Json = {
        "identity": found.identity,
        "objectId": found.guid,
        "profileData": found.data,
        "events": summary,
        "platformInfo": found.platform,
    }
    if found.email:
        record["email"] = found.email
    return {"status": "success", "record": record}


def delete_profiles(store: Store, body: object) -> Json:
    if not isinstance(body, dict):
        raise malformed()
    keys = [k for k in ("identity", "guid") if k in body]
    if len(keys) != 1:
        raise fail("Exactly one of identity or guid is required")  # [?] text
    raw = body[keys[0]]
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise fail(f"Field {keys[0]} must be a non-empty string or list of strings")  # [?]
    if len(values) > MAX_DELETE:
        raise fail(f"Too many values in {keys[0]}: {len(values)}, at most {MAX_DELETE}")  # [?]
    store.delete_profiles("identity" if keys[0] == "identity" else "objectId", values)
    return {"status": "success"}


# §8.5, sample_now_response_full.json: the vocabulary of each breakdown, every key present.
NOW_VOCABULARY: dict[str, tuple[str, ...]] = {
    "session_source": ("direct", "others", "search", "social", "email", "unavailable"),
    "browser": ("others", "firefox", "chrome", "ie", "mobileapp"),
    "os": ("others", "android", "ios", "windows", "mac", "linux"),
    "device": ("desktop", "mobile", "tablet"),
}
# Where a stored profile or session says nothing the vocabulary names, it counts as "others" [?].
OS_OF_PLATFORM = {"Android": "android", "iOS": "ios", "Windows": "windows"}
SOURCE_WORDS = {
    "direct": "direct",
    "organic": "search",
    "search": "search",
    "social": "social",
    "email": "email",
}


def _device(platform: list[dict[str, Any]]) -> str | None:
    """desktop, mobile or tablet from a profile's first device; None when it has none."""
    if not platform:
        return None
    entry = platform[0]
    model = str(entry.get("model", "")).lower()
    if "ipad" in model or "tablet" in model:
        return "tablet"
    if entry.get("platform") == "Web" or entry.get("token_type") == "wns":
        return "desktop"
    return "mobile"


def _browser(platform: list[dict[str, Any]]) -> str:
    if not platform:
        return "others"
    entry = platform[0]
    if entry.get("platform") != "Web":
        return "mobileapp"
    kind = str(entry.get("token_type", ""))
    return kind if kind in NOW_VOCABULARY["browser"] else "others"


def _split(attributes: list[dict[str, str | None]]) -> dict[str, dict[str, int]]:
    """One breakdown per vocabulary, counting each user's attribute once."""
    found: dict[str, dict[str, int]] = {}
    for name, words in NOW_VOCABULARY.items():
        tally = Counter(a[name] for a in attributes if a[name] is not None)
        found[name] = {word: tally.get(word, 0) for word in words}
    return found


def now_counts(store: Store, body: object, now: float) -> Json:
    """§8.5: users with an event in the last 5 minutes, plus the requested breakdowns, in the
    full sample's vocabulary and nesting (``new`` holds the breakdowns of new users)."""
    flags = body if isinstance(body, dict) else {}
    recent = store.events(start=int(now) - ACTIVE_SECONDS, end=int(now))
    active = {e.profile_id for e in recent}
    people = store.profiles_by_id(active)
    reply: Json = {"status": "success", "count": len(active), "last_processed_ts": int(now)}
    first_seen = store.first_seen(active)
    new_users = {pid for pid in active if first_seen[pid] >= now - ACTIVE_SECONDS}
    source: dict[int, str] = {}
    for event in recent:  # the latest session of each user says where they came from
        word = str(event.session.get("Source", "")).lower()
        source[event.profile_id] = SOURCE_WORDS.get(word, "others" if word else "unavailable")
    attributes: dict[int, dict[str, str | None]] = {}
    for pid in active:
        platform = people[pid].platform if pid in people else []
        first = str(platform[0].get("platform", "")) if platform else ""
        attributes[pid] = {
            "session_source": source[pid],
            "browser": _browser(platform),
            "os": OS_OF_PLATFORM.get(first, "others"),
            "device": _device(platform),
        }
    breakdowns: dict[str, Any] = {
        "user_type": {
            "new": len(new_users),
            "repeat": len(active) - len(new_users),
            "addressable": sum(1 for p in people.values() if p.platform or p.email),
            "customer": len({e.profile_id for e in store.events(name="Charged")} & active),
        },
        **_split(list(attributes.values())),
        "new": _split([attributes[pid] for pid in new_users]),
    }
    for flag, value in breakdowns.items():
        if flags.get(flag):
            reply[flag] = value
    return reply


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str) and value.startswith("$D_"):
        return "date"
    if isinstance(value, list):
        return "list"
    return "string"


def schema(store: Store, event_type: str | None) -> Json:
    """§9: the response shape was not retrieved; this one is our choice [?]. ``type=profile``
    is not documented either [?]: the sandbox answers it with the profile properties it holds,
    so that ``ctflow import schemas`` can be tried end to end."""
    if event_type == "profile":
        found: dict[str, str] = {}
        for person in store.profiles():
            for key, value in person.data.items():
                found.setdefault(key, _kind(value))
        listed = [{"name": k, "type": t} for k, t in sorted(found.items())]
        return {"status": "success", "profile": {"properties": listed}}
    if event_type != "events":
        raise fail("Invalid type: only type=events and type=profile are supported")  # [?]
    props: dict[str, dict[str, str]] = {}
    for event in store.events():
        seen = props.setdefault(event.name, {})
        for key, value in event.props.items():
            seen.setdefault(key, _kind(value))
    events = [
        {
            "name": name,
            "type": "system" if name in SYSTEM_EVENTS else "custom",
            "properties": [{"name": k, "type": t} for k, t in sorted(found.items())],
        }
        for name, found in sorted(props.items())
    ]
    return {"status": "success", "events": events}
