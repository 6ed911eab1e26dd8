"""Whether one upload record may be sent: CleverTap's own rules, then the declared schemas.

CleverTap's rules (clevertap-api.md §1.5, §1.6, §2.1, §2.4): exactly one identifier, non-empty and
under 120 characters; ``ts`` in epoch seconds; an event name; at most ``limits.event_properties``
properties; keys up to 120 characters and values up to 512 bytes; no system event only the SDKs
may raise; token data complete. The declared EventSchema / ProfileSchema are compiled once per
event with jsonschema-rs (a yes/no gate at about a microsecond a record); the reason for a record
that fails is worked out in Python only then, in the words ``ctflow validate`` uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import jsonschema_rs

from ctflow.clevertap.retry import is_upsert
from ctflow.spec.types import (
    ISO_DATE_PATTERN,
    MAX_VALUE_BYTES,
    Property,
    property_json_schema,
    value_problem,
)

Kind: TypeAlias = Literal["events", "profiles", "tokens"]
KINDS: tuple[Kind, ...] = ("events", "profiles", "tokens")
RECORD_TYPE: dict[Kind, str] = {"events": "event", "profiles": "profile", "tokens": "token"}

IDENTIFIERS = ("identity", "objectId", "FBID", "GPID")
MAX_IDENTITY_CHARS = 119  # "under 120 chars" (§1.5, from error 523's text)
MAX_KEY_CHARS = 120
MAX_TS = 10**10  # epoch seconds; 13 digits are milliseconds (§1.6)
SAFE_CHARS = MAX_VALUE_BYTES // 4  # a string this short cannot exceed 512 bytes in UTF-8
TOKEN_TYPES = frozenset({"fcm", "gcm", "apns", "wns", "mpns", "chrome"})
OPERATIONS = frozenset({"$add", "$remove", "$incr", "$decr", "$delete"})
CLEVERTAP_DATE = re.compile(r"\$D_-?[0-9]+")  # not \d: "١٢٣" are digits too
"""CleverTap's form of a date property's value (fullmatch): ``$D_<epoch seconds>``."""

# §2.4 code 513: events only CleverTap's SDKs raise ("Charged" is uploadable).
SYSTEM_EVENTS = frozenset(
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
# §2.4 codes 514-520: CleverTap checks these profile keys itself.
RESERVED_PROFILE_VALUES: dict[str, tuple[str, ...]] = {
    "Gender": ("M", "F"),
    "Employed": ("Y", "N"),
    "Married": ("Y", "N"),
    "Education": ("School", "College", "Graduate"),
}


@dataclass(frozen=True)
class Schemas:
    """What the project declares, as the rules need it. Empty: CleverTap's rules only."""

    events: Mapping[str, Mapping[str, Property]] = field(default_factory=dict)
    strict_events: frozenset[str] = frozenset()
    profile: Mapping[str, Property] | None = None
    event_properties: int = 100
    """Properties per event (ctflow.yaml ``limits.event_properties``; CleverTap's default)."""
    profile_properties: int = 256


class Rules:
    """``problem(record)`` is None for a record that may be sent, else the reason it may not."""

    def __init__(self, kind: Kind, schemas: Schemas) -> None:
        self.kind = kind
        self.schemas = schemas
        self._gates: dict[str, Any] = {}
        self._record_gates = Gates(schemas, as_read=False)
        self.row_gates = Gates(schemas, as_read=True)
        """Gates for event rows as read, before shaping (see :class:`Gates`)."""
        self._profile_gate = (
            None
            if schemas.profile is None
            else _gate(
                {**property_json_schema(schemas.profile, strict=False), "required": []},
                operations=True,
            )
        )

    def problem(self, record: Mapping[str, Any]) -> str | None:
        if self.kind == "events":
            name = record.get("evtName")
            gate: Any = self._record_gates[name] if isinstance(name, str) else False
            if gate and type(record.get("ts")) is not float and gate.is_valid(record):
                return None
        return self._problem(record)

    def _problem(self, record: Mapping[str, Any]) -> str | None:
        """Every rule in Python: exact, slower, and the reason in words."""
        kind = self.kind
        declared = record.get("type", RECORD_TYPE[kind])
        if declared != RECORD_TYPE[kind]:
            return f"type is {declared!r}, but this is an upload of {kind}"
        stray = "profileData" if kind == "events" else "evtName" if kind == "profiles" else None
        if stray is not None and stray in record:
            other = "profiles" if kind == "events" else "events"
            return f"{stray}: this row is for an upload of {other}, not {kind}"
        reason = _ts_problem(record)
        if reason:
            return reason
        if kind == "tokens":
            return _token_problem(record)
        reason = _identifier_problem(record)
        if reason:
            return reason
        if kind == "events":
            return self._event_problem(record)
        return self._profile_problem(record)

    # -- events ------------------------------------------------------------------------------

    def _event_problem(self, record: Mapping[str, Any]) -> str | None:
        name = record.get("evtName")
        if not isinstance(name, str) or not name.strip():
            return "evtName: an event needs a name"
        if len(name) > MAX_KEY_CHARS:
            return f"evtName: {len(name)} characters; CleverTap allows {MAX_KEY_CHARS}"
        if name in SYSTEM_EVENTS:
            return f"{name!r} is a system event only CleverTap's SDKs may raise"
        data = record.get("evtData", {})
        if not isinstance(data, dict):
            return "evtData: must be an object of properties"
        limit = self.schemas.event_properties
        if len(data) > limit:
            return f"evtData: {len(data)} properties; CleverTap allows {limit} per event"
        reason = _size_problem(data, "evtData")
        if reason:
            return reason
        declared = self.schemas.events
        if not declared:
            return None
        properties = declared.get(name)
        if properties is None:
            return f"event {name!r} is not declared; declare an EventSchema for it"
        gate = self._gates.get(name)
        if gate is None:
            strict = name in self.schemas.strict_events
            gate = self._gates[name] = _gate(
                _without_iso_dates(property_json_schema(properties, strict=strict))
            )
        if gate.is_valid(data):
            return None
        strict = name in self.schemas.strict_events
        # The gate is a shortcut; the rules in Python are the exact word.
        return _property_problem("evtData", data, properties, strict=strict)

    # -- profiles ----------------------------------------------------------------------------

    def _profile_problem(self, record: Mapping[str, Any]) -> str | None:
        data = record.get("profileData", {})
        if not isinstance(data, dict):
            return "profileData: must be an object of properties"
        limit = self.schemas.profile_properties
        if len(data) > limit:
            return f"profileData: {len(data)} properties; CleverTap allows {limit}"
        for key, value in data.items():
            if isinstance(value, dict):
                if len(value) != 1 or next(iter(value)) not in OPERATIONS:
                    ops = ", ".join(sorted(OPERATIONS))
                    return f"profileData.{key}: an operation is one of {ops}"
            elif value is not None:
                reason = _reserved_problem(key, value)
                if reason:
                    return f"profileData.{key}: {reason}"
        reason = _size_problem(data, "profileData", key_bytes=True)
        if reason or self._profile_gate is None:
            return reason
        if self._profile_gate.is_valid(data):
            return None
        assert self.schemas.profile is not None
        plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
        return _property_problem("profileData", plain, self.schemas.profile, partial=True)


def repeatable(record: Mapping[str, Any]) -> bool:
    """Whether sending this (valid) profile record twice leaves the profile as sending it once:
    the client's own rule for retrying an upload (no ``$incr``/``$decr``)."""
    return is_upsert(record)


# -- the fast gate ---------------------------------------------------------------------------
# One compiled JSON Schema per event name for the whole record, stricter than the rules (strings
# over SAFE_CHARS fail it, since their UTF-8 size needs Python): a record it passes is valid; any
# other goes through the rules in Python, which are exact and say why.

MAX_GATES = 1024


class Gates(dict[Any, Any]):
    """``gates[event name]``: the compiled gate for records of that event, made on first use;
    False when every such record needs the rules. ``as_read``: for rows before shaping, whose
    date properties may still be ISO dates (the caller turns them into CleverTap dates after
    the gate, and sends the row the exact way when one is not a calendar date)."""

    def __init__(self, schemas: Schemas, *, as_read: bool) -> None:
        super().__init__()
        self.schemas = schemas
        self.as_read = as_read

    def __missing__(self, name: Any) -> Any:
        gate = (
            _event_record_gate(name, self.schemas, as_read=self.as_read)
            if isinstance(name, str)
            else False
        )
        if len(self) < MAX_GATES:  # a file of random names costs a compile each, not memory
            self[name] = gate
        return gate


_SHORT = {"maxLength": SAFE_CHARS, "items": {"maxLength": SAFE_CHARS}}
# Strings only (an integer identity, or 1.0, goes through the rules); the pattern needs one
# character str.strip() keeps (it also strips \x1c-\x1f and \x85, which \s does not match).
_IDENTIFIER = {
    "type": "string",
    "pattern": "[^\\s\\x1c-\\x1f\\x85]",
    "maxLength": MAX_IDENTITY_CHARS,
}


# Exactly one identifier, as exclusive branches: ``anyOf`` stops at the first that holds, so a
# record with ``identity`` costs one branch (``oneOf`` would try all four).
_ONE_IDENTIFIER = [
    {"required": [key], "properties": {other: False for other in IDENTIFIERS if other != key}}
    for key in IDENTIFIERS
]


def _shortened(schema: dict[str, Any], as_read: bool) -> dict[str, Any]:
    """A declared property's schema whose strings also fit in SAFE_CHARS (merged in, not an
    ``allOf``: one keyword less to evaluate per property and record)."""
    if schema.get("type") == "string":
        return {**schema, "maxLength": min(schema.get("maxLength", SAFE_CHARS), SAFE_CHARS)}
    if schema.get("type") == "array":
        return {**schema, "items": _shortened(schema["items"], as_read)}
    if "anyOf" in schema:  # dates
        if as_read:  # the caller reads them (and sends a row the exact way when one is not)
            return {"type": ["string", "integer"]}
        # Shaping made valid ones $D_ strings; an ISO date left is not a calendar date.
        kept = [s for s in schema["anyOf"] if s.get("pattern") != ISO_DATE_PATTERN]
        return {**schema, "anyOf": [_shortened(s, as_read) for s in kept]}
    return schema


def _event_record_gate(name: str, schemas: Schemas, *, as_read: bool = False) -> Any:
    """The gate for records of event ``name``; False when every such record needs the rules.
    ``as_read``: dates may still be in their ISO form (see :class:`Gates`)."""
    if not name.strip() or len(name) > MAX_KEY_CHARS or name in SYSTEM_EVENTS:
        return False
    declared = schemas.events
    properties = declared.get(name)
    if declared and properties is None:
        return False
    required = ["evtName"]
    data: dict[str, Any] = {
        "type": "object",
        "maxProperties": schemas.event_properties,
        "propertyNames": {"maxLength": MAX_KEY_CHARS},
        "additionalProperties": _SHORT,
    }
    if properties is not None:
        strict = name in schemas.strict_events
        declared_schema = property_json_schema(properties, strict=strict)
        data["properties"] = {
            key: _shortened(value, as_read) for key, value in declared_schema["properties"].items()
        }
        data["required"] = declared_schema["required"]
        if data["required"]:
            required.append("evtData")
        if strict:
            data["additionalProperties"] = False
    schema = {
        "type": "object",
        "required": required,
        "properties": {
            "type": {"const": RECORD_TYPE["events"]},
            "ts": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": MAX_TS},
            "evtName": {"const": name},
            "evtData": data,
            **{key: _IDENTIFIER for key in IDENTIFIERS},
        },
        "anyOf": _ONE_IDENTIFIER,
    }
    return jsonschema_rs.validator_for(schema)


# -- the parts -------------------------------------------------------------------------------

_OPERATION_SCHEMA = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "propertyNames": {"enum": sorted(OPERATIONS)},
}


def _gate(schema: dict[str, Any], *, operations: bool = False) -> Any:
    if operations:
        schema = {
            **schema,
            "properties": {
                name: {"anyOf": [_shaped_dates(value), _OPERATION_SCHEMA]}
                for name, value in schema["properties"].items()
            },
        }
    return jsonschema_rs.validator_for(schema)


def _without_iso_dates(schema: dict[str, Any]) -> dict[str, Any]:
    """A record schema whose date properties no longer take their ISO form."""
    properties = {name: _shaped_dates(value) for name, value in schema["properties"].items()}
    return {**schema, "properties": properties}


def _shaped_dates(schema: dict[str, Any]) -> dict[str, Any]:
    """A date property's schema without its ISO form (see ISO_DATE_PATTERN)."""
    if "anyOf" not in schema:
        return schema
    return {**schema, "anyOf": [s for s in schema["anyOf"] if s.get("pattern") != ISO_DATE_PATTERN]}


def _property_problem(
    where: str,
    data: Mapping[str, Any],
    properties: Mapping[str, Property],
    *,
    strict: bool = False,
    partial: bool = False,
) -> str | None:
    """The first declared rule ``data`` breaks; ``partial``: a profile update sets only some."""
    for name, prop in properties.items():
        if name not in data:
            if prop.required and not partial:
                return f"{where}: {name!r} is required"
            continue
        value = data[name]
        if prop.type == "date" and isinstance(value, str) and CLEVERTAP_DATE.fullmatch(value):
            continue
        reason = value_problem(prop, value)
        if reason:
            return f"{where}.{name}: {reason}"
    if strict:
        for name in data:
            if name not in properties:
                return f"{where}: {name!r} is not a declared property (the event is strict)"
    return None


def _size_problem(data: Mapping[str, Any], where: str, key_bytes: bool = False) -> str | None:
    """Keys up to 120 characters (an event's) or 120 bytes (a profile's, `key_bytes`, §1.5),
    values up to 512 bytes."""
    for key, value in data.items():
        if len(key) > MAX_KEY_CHARS:
            return f"{where}: key {key[:40]!r}… is {len(key)} characters; CleverTap allows 120"
        if key_bytes and len(key) > MAX_KEY_CHARS // 4 and len(key.encode()) > MAX_KEY_CHARS:
            size = len(key.encode())
            return f"{where}: key {key[:40]!r}… is {size} bytes; CleverTap allows 120"
        for item in value if isinstance(value, list) else (value,):
            if type(item) is str and len(item) > SAFE_CHARS:
                size = len(item.encode("utf-8"))
                if size > MAX_VALUE_BYTES:
                    return f"{where}.{key}: {size} bytes; CleverTap allows {MAX_VALUE_BYTES}"
    return None


def _identifier_problem(record: Mapping[str, Any]) -> str | None:
    present = [key for key in IDENTIFIERS if key in record]
    if len(present) != 1:
        if not present:
            return "no identity: a record needs one of identity, objectId, FBID or GPID"
        return f"{' and '.join(present)}: a record takes exactly one identifier"
    key = present[0]
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"{key}: must be a string"
    text = str(value)
    if not text.strip():
        return f"{key}: is empty"
    if len(text) > MAX_IDENTITY_CHARS:
        return f"{key}: {len(text)} characters; CleverTap needs under 120"
    return None


def _ts_problem(record: Mapping[str, Any]) -> str | None:
    if "ts" not in record:
        return None
    ts = record["ts"]
    if isinstance(ts, bool) or not isinstance(ts, int) or ts <= 0:
        return f"ts: {ts!r} is not a time in epoch seconds"
    if ts >= MAX_TS:
        return f"ts: {ts} looks like milliseconds; CleverTap takes epoch seconds"
    return None


def _reserved_problem(key: str, value: Any) -> str | None:
    allowed = RESERVED_PROFILE_VALUES.get(key)
    if allowed is not None and value not in allowed:
        return f"{value!r} is not one of {'/'.join(allowed)} (CleverTap's rule for {key})"
    if key == "Phone" and not (isinstance(value, str) and value.startswith("+")):
        return f"{value!r} must start with + and the country code"
    if key == "Email" and not (isinstance(value, str) and "@" in value):
        return f"{value!r} is not an email address"
    return None


def _token_problem(record: Mapping[str, Any]) -> str | None:
    object_id = record.get("objectId")
    if not isinstance(object_id, str) or not object_id.strip():
        return "objectId: a token record needs the device's CleverTap objectId"
    if len(object_id) > MAX_IDENTITY_CHARS:
        return f"objectId: {len(object_id)} characters; CleverTap needs under 120"
    data = record.get("tokenData")
    if not isinstance(data, dict):
        return "tokenData: must be an object with id and type"
    if not isinstance(data.get("id"), str) or not data["id"]:
        return "tokenData.id: the token is missing"
    kind = data.get("type")
    if kind not in TOKEN_TYPES:
        return f"tokenData.type: {kind!r} is not one of {', '.join(sorted(TOKEN_TYPES))}"
    keys = data.get("keys")
    if kind == "chrome" and not (
        isinstance(keys, dict) and keys.get("p256dh") and keys.get("auth")
    ):
        return "tokenData.keys: a chrome token needs keys.p256dh and keys.auth"
    return None
