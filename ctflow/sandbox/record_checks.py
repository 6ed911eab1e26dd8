"""The checks of one upload record that need no stored data, with CleverTap's codes (§2.4).

Imports only the standard library and sandbox modules.
"""

from __future__ import annotations

import re
from typing import Any

MAX_EVENT_PROPS = 100  # §1.5: the 2026 page (configurable per account; an older page said 256)
MAX_PROFILE_KEYS = 256  # §1.5
MAX_KEY_CHARS = 120
MAX_VALUE_BYTES = 512
IDENTIFIERS = ("identity", "objectId", "FBID", "GPID")
OPERATIONS = frozenset({"$add", "$remove", "$incr", "$decr", "$delete"})
TOKEN_PLATFORMS = {
    "fcm": "Android",
    "gcm": "Android",
    "apns": "iOS",
    "wns": "Windows",
    "mpns": "Windows",
    "chrome": "Web",
}
# §2.4 code 513: system events only the SDKs may raise ("Charged" is uploadable).
RESTRICTED_EVENTS = frozenset(
    {
        "App Launched",
        "App Installed",
        "App Uninstalled",
        "App Version Changed",
        "Notification Sent",
        "Notification Viewed",
        "Notification Clicked",
        "Push Impressions",
        "Session Concluded",
        "Stayed",
        "UTM Visited",
        "Reply Received",
        "Geocluster Entered",
        "Geocluster Exited",
        "Channel Unsubscribed",
        "State Transitioned",
    }
)
# §2.4 code 526: CleverTap's GUIDs start with "~", "__" or "-" (its token sample); a custom
# CleverTap ID adds a prefix to letters, digits and ( ) ! : @ $ _ - (Set CleverTap ID page).
OBJECT_ID = re.compile(r"^[A-Za-z0-9~()!:@$_.\-]{1,119}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+\d{7,15}$")
# §2.4: the real texts; the profile ones run straight into "Skipped record number".
IDENTITY_TEXT = (
    "'identity' or 'fbId' or 'gpId' or 'objectId' is necessary under 120 chars "
    "to identify the user. "
)
RESERVED: dict[str, tuple[int, str]] = {
    "Gender": (514, "Profile data is incorrect. Gender needs to be M/F."),
    "Email": (515, "Profile data is incorrect. Email is not valid."),
    "Phone": (516, "Profile data is incorrect. Phone number is not valid."),
    "Employed": (517, "Profile data is incorrect. Employed needs to be Y/N."),
    "Education": (
        518,
        "Profile data is incorrect. Education needs to be School/College/Graduate..",
    ),
    "Married": (519, "Profile data is incorrect. Married needs to be Y/N."),
    "Age": (520, "Profile data is incorrect. Age is invalid."),
}


# Texts for codes without a recorded message (509, 512, 513, 522, 524, 526, 528, 530–535) and for
# the call-level 0 / >1000 / >100-token rejections are our wording, in the same style [?].
class RecordError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def _reserved_ok(key: str, value: object) -> bool:
    if key == "Gender":
        return value in ("M", "F")
    if key == "Email":
        return isinstance(value, str) and bool(EMAIL.match(value))
    if key == "Phone":
        return isinstance(value, str) and bool(PHONE.match(value))
    if key in ("Employed", "Married"):
        return value in ("Y", "N")
    if key == "Education":
        return value in ("School", "College", "Graduate")
    if isinstance(value, str) and value.isdecimal():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 150


def _check_sizes(data: dict[str, Any], what: str, key_bytes: bool = False) -> None:
    """Keys up to 120 characters (events) or 120 bytes (profiles, `key_bytes`), values up to
    512 bytes, as §1.5 words them."""
    for key, value in data.items():
        if len(key) > MAX_KEY_CHARS or (
            key_bytes and len(key) > SHORT_KEY and len(key.encode()) > MAX_KEY_CHARS
        ):
            unit = "bytes" if key_bytes else "characters"
            raise RecordError(512, f"{what} key exceeds {MAX_KEY_CHARS} {unit}: {key[:40]}. ")
        kind = type(value)
        if kind is str:
            if len(value) > SHORT and _too_long(value):
                raise _value_too_long(what, key)
        elif kind is list:
            for item in value:
                if type(item) is str and len(item) > SHORT and _too_long(item):
                    raise _value_too_long(what, key)


# UTF-8 takes at most 4 bytes a character: only longer strings need measuring.
SHORT = MAX_VALUE_BYTES // 4
SHORT_KEY = MAX_KEY_CHARS // 4


def _too_long(text: str) -> bool:
    return len(text) > MAX_VALUE_BYTES or len(text.encode()) > MAX_VALUE_BYTES


def _value_too_long(what: str, key: str) -> RecordError:
    return RecordError(512, f"{what} value exceeds {MAX_VALUE_BYTES} bytes for key {key}. ")


def _identifier(record: dict[str, Any]) -> tuple[str, str]:
    key = ""
    for candidate in IDENTIFIERS:  # exactly one of them
        if candidate in record:
            if key:
                raise RecordError(523, IDENTITY_TEXT)
            key = candidate
    if not key:
        raise RecordError(523, IDENTITY_TEXT)
    raw = record[key]
    kind = type(raw)
    value = raw if kind is str else str(raw) if kind is int or isinstance(raw, (int, str)) else ""
    if isinstance(raw, bool) or len(value) >= 120 or not value.strip():
        raise RecordError(523, IDENTITY_TEXT)
    if key == "objectId" and not OBJECT_ID.match(value):
        raise RecordError(526, "objectId is invalid. ")
    return key, value


def _check_ts(record: dict[str, Any]) -> None:
    if "ts" not in record:
        return
    ts = record["ts"]
    # A 13-digit (milliseconds) ts is refused too: the API wants epoch seconds (§1.6) [?].
    if isinstance(ts, bool) or not isinstance(ts, int) or not 0 < ts < 10**10:
        raise RecordError(525, "Timestamp should be present in the Unix Epoch format. ")


def _check_event(record: dict[str, Any], discarded: set[str], most_props: int) -> None:
    name = record.get("evtName")
    if not isinstance(name, str) or not name.strip():
        raise RecordError(509, "Event name is mandatory. ")
    if len(name) > MAX_KEY_CHARS:
        raise RecordError(512, f"Event name exceeds {MAX_KEY_CHARS} characters. ")
    if name in RESTRICTED_EVENTS:
        raise RecordError(513, f"Raised a restricted system event : {name}. ")
    if name in discarded:
        raise RecordError(528, f"Event {name} has been discarded. ")
    data = record.get("evtData", {})
    if not isinstance(data, dict):
        raise RecordError(512, "Invalid event structure: evtData must be an object. ")
    if len(data) > most_props:
        raise RecordError(522, f"Event properties limit exceeded: {len(data)} > {most_props}. ")
    _check_sizes(data, "Event property")


def _check_profile(record: dict[str, Any]) -> None:
    data = record.get("profileData", {})
    if not isinstance(data, dict):
        raise RecordError(512, "Invalid profile structure: profileData must be an object. ")
    if len(data) > MAX_PROFILE_KEYS:
        raise RecordError(512, f"Profile property limit exceeded: {len(data)} > 256. ")
    _check_sizes(data, "Profile property", key_bytes=True)
    for key, value in data.items():
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in OPERATIONS:
                raise RecordError(512, f"Invalid operation on profile property {key}. ")
            continue
        if key in RESERVED and value is not None and not _reserved_ok(key, value):
            code, text = RESERVED[key]
            raise RecordError(code, text)


def _check_token(record: dict[str, Any]) -> tuple[str, str]:
    object_id = record.get("objectId")
    if not isinstance(object_id, str) or not OBJECT_ID.match(object_id):
        raise RecordError(530, "Token upload failed. objectId is invalid. ")
    data = record.get("tokenData")
    if not isinstance(data, dict):
        raise RecordError(531, "Token upload failed. tokenData is invalid. ")
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise RecordError(532, "Token upload failed. Token id is missing. ")
    if not isinstance(data.get("type"), str) or not data["type"]:
        raise RecordError(533, "Token upload failed. Token type is missing. ")
    if data["type"] not in TOKEN_PLATFORMS:
        raise RecordError(534, f"Token upload failed. Token type {data['type']} is not valid. ")
    keys = data.get("keys")
    if data["type"] == "chrome" and not (
        isinstance(keys, dict) and keys.get("p256dh") and keys.get("auth")
    ):
        raise RecordError(535, "Token upload failed. Token data is invalid. ")
    return "objectId", object_id


def _good_event(
    record: dict[str, Any], discarded: set[str], most_props: int
) -> tuple[str, str] | None:
    """The identifier of an event record with a string identity that passes every check, in one
    pass without calls; None for any other (`check_record` then finds what is wrong)."""
    ts = record.get("ts", 1)
    identity = record.get("identity")
    name = record.get("evtName")
    data = record.get("evtData", EMPTY)
    if not (
        type(ts) is int
        and 0 < ts < 10**10
        and type(identity) is str
        and len(identity) < MAX_KEY_CHARS
        and identity.strip()
        and "objectId" not in record
        and "FBID" not in record
        and "GPID" not in record
        and type(name) is str
        and len(name) <= MAX_KEY_CHARS
        and name.strip()
        and name not in RESTRICTED_EVENTS
        and name not in discarded
        and type(data) is dict
        and len(data) <= most_props
    ):
        return None
    for key, value in data.items():
        if len(key) > MAX_KEY_CHARS:
            return None
        kind = type(value)
        if kind is str:
            if len(value) > SHORT and _too_long(value):
                return None
        elif kind is list:
            for item in value:
                if type(item) is str and len(item) > SHORT and _too_long(item):
                    return None
    return "identity", identity


EMPTY: dict[str, Any] = {}


def check_record(
    record: object, discarded: set[str], most_props: int = MAX_EVENT_PROPS
) -> tuple[str, str]:
    """Every check that needs no stored data; the record's identifier (key, value) if it passes.

    Whether a token's profile exists is left to `upload`, which knows the profiles created by
    the batch's earlier records."""
    if not isinstance(record, dict):
        raise RecordError(512, "Invalid record structure. ")
    kind = record.get("type")
    if kind == "event":  # most records
        found = _good_event(record, discarded, most_props)
        if found is not None:
            return found
        if "ts" in record:  # what is wrong, found in CleverTap's order
            _check_ts(record)
        identifier = _identifier(record)
        _check_event(record, discarded, most_props)
        return identifier
    if kind not in ("profile", "token"):
        raise RecordError(524, "Data is neither event nor profile. ")
    _check_ts(record)
    if kind == "token":
        return _check_token(record)
    identifier = _identifier(record)
    _check_profile(record)
    return identifier
