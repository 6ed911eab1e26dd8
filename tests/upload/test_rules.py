"""Which upload records may be sent (ctflow/upload/rules.py): CleverTap's own rules, then the
declared EventSchema / ProfileSchema, each refusal naming the field; and the fast jsonschema-rs
gate, which must never let through a record the exact rules refuse.
"""

from __future__ import annotations

import copy
import sys
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctflow.spec.types import Property
from ctflow.upload.batches import Preparer
from ctflow.upload.rules import IDENTIFIERS, Rules, Schemas, _event_record_gate, repeatable
from ctflow.upload.shape import Shaper

TS = 1767225600  # 2026-01-01T00:00:00Z
DROP = object()
FUZZ = settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _with(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    record = {**base, **changes}
    return {k: v for k, v in record.items() if v is not DROP}


def event(**changes: Any) -> dict[str, Any]:
    base = {"identity": "C100234", "ts": TS, "evtName": "Page Viewed", "evtData": {"page": "/"}}
    return _with(base, changes)


def profile(**changes: Any) -> dict[str, Any]:
    return _with({"identity": "C100234", "ts": TS, "profileData": {"Name": "Ana"}}, changes)


def token(**changes: Any) -> dict[str, Any]:
    base = {"objectId": "__g1234", "tokenData": {"id": "tok-1", "type": "fcm"}}
    return _with(base, changes)


def declared(props: dict[str, dict[str, Any]]) -> dict[str, Property]:
    return {name: Property(name, **spec) for name, spec in props.items()}


PURCHASED = declared(
    {
        "Amount": {"type": "number", "required": True, "minimum": 0},
        "Plan": {"type": "string", "enum": ("monthly", "yearly")},
        "Code": {"type": "string", "pattern": "^[A-Z]+$"},
        "Note": {"type": "string", "max_length": 10},
        "Quantity": {"type": "integer", "minimum": 1, "maximum": 10},
        "Gift": {"type": "boolean"},
        "Since": {"type": "date"},
        "Tags": {"type": "list"},
    }
)
REFUNDED = declared({"Amount": {"type": "number", "required": True}})
BOOKED = declared({"From": {"type": "date"}, "To": {"type": "date"}, "Nights": {"type": "integer"}})
EVENTS = {"Purchased": PURCHASED, "Refunded": REFUNDED, "Booked": BOOKED}
DECLARED = Schemas(events=EVENTS, strict_events=frozenset({"Refunded"}))
CUSTOMER = declared(
    {
        "Name": {"type": "string", "required": True},
        "Tier": {"type": "string", "enum": ("Gold", "Silver")},
        "Visits": {"type": "integer", "minimum": 0},
        "Since": {"type": "date"},
        "Tags": {"type": "list"},
    }
)
PROFILE = Schemas(profile=CUSTOMER)

CLEVERTAP_ONLY = Rules("events", Schemas())


def purchase(**data: Any) -> dict[str, Any]:
    return event(evtName="Purchased", evtData={"Amount": 10, **data})


# -- CleverTap's rules, events ---------------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        pytest.param({"identity": "C1", "evtName": "Page Viewed"}, id="no-ts-no-evtData"),
        pytest.param(event(identity=DROP, objectId="__g1"), id="objectId"),
        pytest.param(event(identity=DROP, FBID="10203"), id="FBID"),
        pytest.param(event(identity=DROP, GPID="1188"), id="GPID"),
        pytest.param(event(identity=100234), id="integer-identity"),
        pytest.param(event(identity="x" * 119), id="identity-119-chars"),
        pytest.param(event(ts=1), id="ts-1"),
        pytest.param(event(ts=9_999_999_999), id="ts-10-digits"),
        pytest.param(event(type="event"), id="type-event"),
        pytest.param(event(evtName="E" * 120), id="name-120-chars"),
        pytest.param(
            event(evtName="Charged", evtData={"Amount": 5, "Items": [{"sku": "A1", "qty": 2}]}),
            id="Charged-with-items",
        ),
        pytest.param(event(evtData={"k" * 120: 1}), id="key-120-chars"),
        pytest.param(event(evtData={"note": "a" * 512}), id="512-ascii-bytes"),
        pytest.param(event(evtData={"note": "é" * 256}), id="512-utf8-bytes"),
        pytest.param(event(evtData={"tags": ["a" * 300, "é" * 200]}), id="list-items-under-512"),
        pytest.param(event(evtData={f"p{i}": i for i in range(100)}), id="100-properties"),
        pytest.param(event(evtData={"n": None, "b": True, "f": 2.5, "o": {"x": 1}}), id="types"),
    ],
)
def test_clevertap_accepts_event(record: dict[str, Any]) -> None:
    assert CLEVERTAP_ONLY.problem(record) is None


LONG_KEY = "k" * 121


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            event(identity=DROP),
            "no identity: a record needs one of identity, objectId, FBID or GPID",
        ),
        (event(objectId="__g1"), "identity and objectId: a record takes exactly one identifier"),
        (event(identity=True), "identity: must be a string"),
        (event(identity=None), "identity: must be a string"),
        (event(identity=["C1"]), "identity: must be a string"),
        (event(identity=""), "identity: is empty"),
        (event(identity=" \t"), "identity: is empty"),
        (event(identity="x" * 120), "identity: 120 characters; CleverTap needs under 120"),
        (event(FBID="é" * 200, identity=DROP), "FBID: 200 characters; CleverTap needs under 120"),
        (event(ts=0), "ts: 0 is not a time in epoch seconds"),
        (event(ts=-5), "ts: -5 is not a time in epoch seconds"),
        (event(ts="1767225600"), "ts: '1767225600' is not a time in epoch seconds"),
        (event(ts=True), "ts: True is not a time in epoch seconds"),
        (event(ts=None), "ts: None is not a time in epoch seconds"),
        (
            event(ts=1767225600000),
            "ts: 1767225600000 looks like milliseconds; CleverTap takes epoch seconds",
        ),
        (
            event(ts=10**10),
            "ts: 10000000000 looks like milliseconds; CleverTap takes epoch seconds",
        ),
        (event(evtName=DROP), "evtName: an event needs a name"),
        (event(evtName="  "), "evtName: an event needs a name"),
        (event(evtName=42), "evtName: an event needs a name"),
        (event(evtName="E" * 121), "evtName: 121 characters; CleverTap allows 120"),
        (
            event(evtName="App Launched"),
            "'App Launched' is a system event only CleverTap's SDKs may raise",
        ),
        (
            event(evtName="Notification Clicked"),
            "'Notification Clicked' is a system event only CleverTap's SDKs may raise",
        ),
        (event(evtData=["page", "/"]), "evtData: must be an object of properties"),
        (event(evtData=None), "evtData: must be an object of properties"),
        (
            event(evtData={f"p{i}": i for i in range(101)}),
            "evtData: 101 properties; CleverTap allows 100 per event",
        ),
        (
            event(evtData={LONG_KEY: 1}),
            f"evtData: key {LONG_KEY[:40]!r}… is 121 characters; CleverTap allows 120",
        ),
        (event(evtData={"note": "a" * 513}), "evtData.note: 513 bytes; CleverTap allows 512"),
        (event(evtData={"note": "é" * 257}), "evtData.note: 514 bytes; CleverTap allows 512"),
        (event(evtData={"note": "€" * 200}), "evtData.note: 600 bytes; CleverTap allows 512"),
        (
            event(evtData={"tags": ["ok", "😀" * 129]}),
            "evtData.tags: 516 bytes; CleverTap allows 512",
        ),
        (event(type="profile"), "type is 'profile', but this is an upload of events"),
    ],
)
def test_clevertap_refuses_event_naming_the_field(record: dict[str, Any], reason: str) -> None:
    assert CLEVERTAP_ONLY.problem(record) == reason


def test_properties_per_event_follow_the_project_limit() -> None:
    rules = Rules("events", Schemas(event_properties=3))
    assert rules.problem(event(evtData={"a": 1, "b": 2, "c": 3})) is None
    four = event(evtData={"a": 1, "b": 2, "c": 3, "d": 4})
    assert rules.problem(four) == "evtData: 4 properties; CleverTap allows 3 per event"


def test_without_schemas_any_event_name_may_be_sent() -> None:
    assert CLEVERTAP_ONLY.problem(event(evtName="Anything At All", evtData={"x": "y"})) is None


# -- CleverTap's rules, profiles -------------------------------------------------------------

PROFILES_ONLY = Rules("profiles", Schemas())


def test_clevertap_accepts_reserved_profile_values() -> None:
    data = {
        "Gender": "F",
        "Employed": "Y",
        "Married": "N",
        "Education": "Graduate",
        "Phone": "+919812345678",
        "Email": "ana@example.com",
    }
    assert PROFILES_ONLY.problem(profile(profileData=data)) is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            {"Gender": "X"},
            "profileData.Gender: 'X' is not one of M/F (CleverTap's rule for Gender)",
        ),
        (
            {"Employed": "yes"},
            "profileData.Employed: 'yes' is not one of Y/N (CleverTap's rule for Employed)",
        ),
        (
            {"Married": "maybe"},
            "profileData.Married: 'maybe' is not one of Y/N (CleverTap's rule for Married)",
        ),
        (
            {"Education": "PhD"},
            "profileData.Education: 'PhD' is not one of School/College/Graduate "
            "(CleverTap's rule for Education)",
        ),
        (
            {"Phone": "09812345678"},
            "profileData.Phone: '09812345678' must start with + and the country code",
        ),
        (
            {"Phone": 919812345678},
            "profileData.Phone: 919812345678 must start with + and the country code",
        ),
        (
            {"Email": "ana.example.com"},
            "profileData.Email: 'ana.example.com' is not an email address",
        ),
        (
            {"Visits": {"$mul": 2}},
            "profileData.Visits: an operation is one of $add, $decr, $delete, $incr, $remove",
        ),
        (
            {"Visits": {"$incr": 1, "$decr": 1}},
            "profileData.Visits: an operation is one of $add, $decr, $delete, $incr, $remove",
        ),
        (
            {f"p{i}": i for i in range(257)},
            "profileData: 257 properties; CleverTap allows 256",
        ),
        ({"Bio": "é" * 300}, "profileData.Bio: 600 bytes; CleverTap allows 512"),
        (
            {LONG_KEY: 1},
            f"profileData: key {LONG_KEY[:40]!r}… is 121 characters; CleverTap allows 120",
        ),
        (  # 61 characters: an event may have this key, a profile may not (§1.5: 120 bytes)
            {"é" * 61: 1},
            f"profileData: key {'é' * 40!r}… is 122 bytes; CleverTap allows 120",
        ),
    ],
)
def test_clevertap_refuses_profile_naming_the_field(data: dict[str, Any], reason: str) -> None:
    assert PROFILES_ONLY.problem(profile(profileData=data)) == reason


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (profile(profileData=["Name"]), "profileData: must be an object of properties"),
        (
            profile(identity=DROP),
            "no identity: a record needs one of identity, objectId, FBID or GPID",
        ),
        (
            profile(ts=1767225600000),
            "ts: 1767225600000 looks like milliseconds; CleverTap takes epoch seconds",
        ),
        (profile(type="event"), "type is 'event', but this is an upload of profiles"),
    ],
)
def test_profile_record_shape(record: dict[str, Any], reason: str) -> None:
    assert PROFILES_ONLY.problem(record) == reason


# -- CleverTap's rules, device tokens ---------------------------------------------------------

TOKENS = Rules("tokens", Schemas())
CHROME = {"id": "https://push/x", "type": "chrome", "keys": {"p256dh": "BPk", "auth": "a1"}}


@pytest.mark.parametrize(
    "record",
    [
        token(),
        token(ts=TS, type="token"),
        token(tokenData={"id": "a1b2", "type": "apns"}),
        token(tokenData=CHROME),
    ],
)
def test_clevertap_accepts_token(record: dict[str, Any]) -> None:
    assert TOKENS.problem(record) is None


NEEDS_OBJECT_ID = "objectId: a token record needs the device's CleverTap objectId"
TOKEN_TYPES = "apns, chrome, fcm, gcm, mpns, wns"
CHROME_KEYS = "tokenData.keys: a chrome token needs keys.p256dh and keys.auth"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (token(objectId=DROP, identity="C1"), NEEDS_OBJECT_ID),
        (token(objectId="  "), NEEDS_OBJECT_ID),
        (token(objectId="g" * 120), "objectId: 120 characters; CleverTap needs under 120"),
        (token(tokenData="tok-1"), "tokenData: must be an object with id and type"),
        (token(tokenData={"type": "fcm"}), "tokenData.id: the token is missing"),
        (token(tokenData={"id": "", "type": "fcm"}), "tokenData.id: the token is missing"),
        (token(tokenData={"id": "t"}), f"tokenData.type: None is not one of {TOKEN_TYPES}"),
        (
            token(tokenData={"id": "t", "type": "sms"}),
            f"tokenData.type: 'sms' is not one of {TOKEN_TYPES}",
        ),
        (token(tokenData={"id": "t", "type": "chrome"}), CHROME_KEYS),
        (token(tokenData={**CHROME, "keys": {"p256dh": "BPk"}}), CHROME_KEYS),
        (token(ts=0), "ts: 0 is not a time in epoch seconds"),
        (token(type="profile"), "type is 'profile', but this is an upload of tokens"),
    ],
)
def test_clevertap_refuses_token_naming_the_field(record: dict[str, Any], reason: str) -> None:
    assert TOKENS.problem(record) == reason


# -- declared event schemas -----------------------------------------------------------------

DECLARED_RULES = Rules("events", DECLARED)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"Plan": "yearly", "Code": "SAVE", "Note": "x" * 10, "Quantity": 10, "Gift": False},
        {"Since": "2026-01-01"},
        {"Since": "2026-01-01 10:30"},
        {"Since": "$D_1767225600"},
        {"Since": 1767225600},
        {"Tags": ["a", "b"]},
        {"Undeclared": "fine, the event is not strict"},
        {"Amount": 0},
    ],
)
def test_declared_event_accepts(data: dict[str, Any]) -> None:
    assert DECLARED_RULES.problem(purchase(**data)) is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            event(evtName="Purchased", evtData={"Plan": "yearly"}),
            "evtData: 'Amount' is required",
        ),
        (purchase(Amount="ten"), "evtData.Amount: 'ten' is not a number (Amount is a number)"),
        (purchase(Amount=True), "evtData.Amount: true is not a number (Amount is a number)"),
        (purchase(Amount=-1), "evtData.Amount: -1 is below Amount's minimum 0"),
        (purchase(Quantity=11), "evtData.Quantity: 11 is above Quantity's maximum 10"),
        (
            purchase(Quantity=2.5),
            "evtData.Quantity: 2.5 is not an integer (Quantity is an integer)",
        ),
        (purchase(Plan="weekly"), "evtData.Plan: 'weekly' is not one of monthly, yearly"),
        (purchase(Code="save10"), "evtData.Code: 'save10' does not match Code's pattern ^[A-Z]+$"),
        (
            purchase(Note="x" * 11),
            "evtData.Note: 'xxxxxxxxxxx' is longer than Note's max_length 10",
        ),
        (purchase(Note="€" * 200), "evtData.Note: 600 bytes; CleverTap allows 512"),
        (purchase(Gift="yes"), "evtData.Gift: 'yes' is not a boolean (Gift is a boolean)"),
        (
            purchase(Since="tomorrow"),
            "evtData.Since: 'tomorrow' is not a date (Since is a date: YYYY-MM-DD, "
            "YYYY-MM-DD HH:MM or epoch seconds)",
        ),
        (purchase(Tags=["a", 1]), "evtData.Tags: 1 is not a string (Tags is a list of strings)"),
        (
            event(evtName="Refunded", evtData={"Amount": 5, "Reason": "late"}),
            "evtData: 'Reason' is not a declared property (the event is strict)",
        ),
        (
            event(evtName="Signed Up"),
            "event 'Signed Up' is not declared; declare an EventSchema for it",
        ),
        (
            event(evtName="Purchased", evtData={"Amount": 10}, identity=DROP),
            "no identity: a record needs one of identity, objectId, FBID or GPID",
        ),
    ],
)
def test_declared_event_refuses_naming_the_field(record: dict[str, Any], reason: str) -> None:
    assert DECLARED_RULES.problem(record) == reason


def test_strict_event_accepts_only_declared_properties() -> None:
    assert DECLARED_RULES.problem(event(evtName="Refunded", evtData={"Amount": 5})) is None


def test_declared_required_property_is_required_when_evtData_is_absent() -> None:
    record = event(evtName="Purchased", evtData=DROP)
    assert DECLARED_RULES.problem(record) == "evtData: 'Amount' is required"


@pytest.mark.parametrize(
    ("kind", "record", "field"),
    [
        ("events", purchase(Since="2026-02-30"), "evtData.Since"),
        ("events", purchase(Since="2026-01-01 25:61"), "evtData.Since"),
        ("profiles", profile(profileData={"Since": "2026-02-30"}), "profileData.Since"),
    ],
)
def test_declared_date_refuses_impossible_dates(
    kind: str, record: dict[str, Any], field: str
) -> None:
    schemas = Schemas(events=EVENTS, profile=CUSTOMER)
    reason = Rules(kind, schemas).problem(record)  # type: ignore[arg-type]
    assert reason is not None
    assert reason.startswith(f"{field}: ")
    assert "is not a calendar date" in reason


@pytest.mark.parametrize("value", ["$D_", "$D_12x", "$D_1.5", " $D_1", "$D_١٢٣"])
def test_date_that_only_starts_like_clevertaps_form_is_refused(value: str) -> None:
    reason = DECLARED_RULES.problem(purchase(Since=value))
    assert reason is not None
    assert reason.startswith("evtData.Since: ")


# -- declared profile schema ----------------------------------------------------------------

PROFILE_RULES = Rules("profiles", PROFILE)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"Tier": "Gold"}, id="partial-update-without-required-Name"),
        pytest.param({"Nickname": "Bo"}, id="undeclared-property"),
        pytest.param({"Visits": {"$incr": 1}}, id="incr"),
        pytest.param({"Visits": {"$decr": 2}}, id="decr"),
        pytest.param({"Tags": {"$add": ["vip"]}}, id="add"),
        pytest.param({"Tags": {"$remove": ["vip"]}}, id="remove"),
        pytest.param({"Tier": {"$delete": True}}, id="delete"),
        pytest.param({"Since": "2026-01-01", "Tags": ["a"]}, id="date-and-list"),
    ],
)
def test_declared_profile_accepts(data: dict[str, Any]) -> None:
    assert PROFILE_RULES.problem(profile(profileData=data)) is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"Tier": "Bronze"}, "profileData.Tier: 'Bronze' is not one of Gold, Silver"),
        ({"Visits": -1}, "profileData.Visits: -1 is below Visits's minimum 0"),
        (
            {"Visits": "many", "Tier": "Gold"},
            "profileData.Visits: 'many' is not an integer (Visits is an integer)",
        ),
        (
            {"Visits": {"$incr": 1}, "Tier": "Bronze"},
            "profileData.Tier: 'Bronze' is not one of Gold, Silver",
        ),
        (
            {"Visits": {"$times": 2}},
            "profileData.Visits: an operation is one of $add, $decr, $delete, $incr, $remove",
        ),
        (
            {"Gender": "female"},
            "profileData.Gender: 'female' is not one of M/F (CleverTap's rule for Gender)",
        ),
    ],
)
def test_declared_profile_refuses_naming_the_field(data: dict[str, Any], reason: str) -> None:
    assert PROFILE_RULES.problem(profile(profileData=data)) == reason


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"Name": "Ana"}, True),
        ({"Tags": {"$add": ["vip"]}}, True),
        ({"Visits": {"$incr": 1}}, False),
        ({"Visits": {"$decr": 1}, "Name": "Ana"}, False),
    ],
)
def test_profile_record_is_repeatable_unless_it_increments(
    data: dict[str, Any], expected: bool
) -> None:
    assert repeatable(profile(profileData=data)) is expected


# -- the fast gate against the exact rules --------------------------------------------------


def test_gate_alone_accepts_a_plain_valid_event() -> None:
    """The fast path is taken at all: a valid record needs no Python rules."""
    gate = _event_record_gate("Purchased", DECLARED)
    assert gate.is_valid(purchase(Plan="monthly"))
    assert not gate.is_valid(purchase(Plan="weekly"))


def test_gate_refuses_a_float_ts() -> None:
    record = event(ts=1767225600.0)
    assert CLEVERTAP_ONLY.problem(record) == "ts: 1767225600.0 is not a time in epoch seconds"


def test_identity_that_is_a_float_is_refused() -> None:
    assert CLEVERTAP_ONLY.problem(event(identity=100234.0)) == "identity: must be a string"


WHITESPACE = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]


@pytest.mark.parametrize("space", WHITESPACE, ids=[f"U+{ord(c):04X}" for c in WHITESPACE])
def test_identity_of_any_whitespace_character_is_empty(space: str) -> None:
    """Every character str.strip() removes, also those regex \\s does not match."""
    assert CLEVERTAP_ONLY.problem(event(identity=space * 3)) == "identity: is empty"


def test_event_name_that_is_a_list_is_refused_naming_evtName() -> None:
    assert CLEVERTAP_ONLY.problem(event(evtName=["Purchased"])) == "evtName: an event needs a name"


# The property's records: a valid event of a random project, changed in one or two places.

SCHEMAS = st.sampled_from(
    [
        Schemas(),
        Schemas(events=EVENTS),
        DECLARED,
        Schemas(events=EVENTS, strict_events=frozenset(EVENTS), event_properties=3),
    ]
)
IDENTITY = st.one_of(
    st.sampled_from(
        [
            *("x" * 120, "é" * 130, "x" * 119, "", " ", "\t\n", "\u3000", "\x1f", "\x85"),
            *(True, False, None, 100234.0, 2.5, ["C1"]),
        ]
    ),
    st.text(max_size=6),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
TS_VALUE = st.one_of(
    st.sampled_from([0, -1, 1, TS, 9_999_999_999, 10**10, TS * 1000, "1767225600", "2026-01-01"]),
    st.integers(min_value=-(10**3), max_value=10**14),
    st.sampled_from([True, None, 1767225600.0]),
)
EVENT_NAME = st.sampled_from(
    [
        *("App Launched", "Notification Viewed", "", "  ", "E" * 121, None, 7, ["Purchased"]),
        *("Signed Up", "Charged", "E" * 120, "Purchased", "Refunded", "Page Viewed"),
    ]
)
LONG_TEXT = st.builds(
    lambda n, char: char * n, st.integers(129, 600), st.sampled_from(["a", "é", "€", "😀"])
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    LONG_TEXT,
    st.sampled_from(
        ["monthly", "weekly", "SAVE", "save", "2026-01-01", "2026-01-01 10:00", "$D_1767225600"]
    ),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
KEY = st.one_of(
    st.sampled_from([*PURCHASED, "Extra", "k" * 120, "k" * 121, "é" * 121]),
    st.text(max_size=6),
)
VALID_DATA = {
    "Purchased": st.fixed_dictionaries(
        {"Amount": st.integers(0, 100)},
        optional={
            "Plan": st.sampled_from(["monthly", "yearly"]),
            "Code": st.sampled_from(["SAVE", "X"]),
            "Note": st.text(max_size=10),
            "Quantity": st.integers(1, 10),
            "Gift": st.booleans(),
            "Since": st.sampled_from(
                [
                    *("2026-01-01", "2026-01-01 10:00", "$D_1", 1767225600, "2026-02-30"),
                    *("2026-01-01T10:00:00+02:00", "2026-13-01", 1767225600.0, "$D_1x"),
                ]
            ),
            "Tags": st.lists(st.text(max_size=8), max_size=3),
        },
    ),
    "Refunded": st.fixed_dictionaries({"Amount": st.floats(0, 100)}),
    "Booked": st.fixed_dictionaries(
        {},
        optional={
            "From": st.sampled_from(["2026-01-01", "2026-02-30", 1767225600, "$D_1", "x"]),
            "To": st.sampled_from(["2026-01-03 12:00", "2026-01-32", "$D_2", True]),
            "Nights": st.integers(0, 3),
        },
    ),
    "Page Viewed": st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=5),
}


def _replace(key: str, values: st.SearchStrategy[Any]) -> Any:
    def mutate(draw: st.DrawFn, record: dict[str, Any]) -> None:
        record[key] = draw(values)

    return mutate


def _drop(draw: st.DrawFn, record: dict[str, Any]) -> None:
    record.pop(draw(st.sampled_from(["ts", "evtName", "evtData", "identity"])), None)


def _identifiers(draw: st.DrawFn, record: dict[str, Any]) -> None:
    for key in IDENTIFIERS:
        record.pop(key, None)
    keys = draw(st.lists(st.sampled_from(IDENTIFIERS), max_size=3, unique=True))
    record.update({key: draw(IDENTITY) for key in keys})


def _identity(draw: st.DrawFn, record: dict[str, Any]) -> None:
    for key in IDENTIFIERS:
        record.pop(key, None)
    record[draw(st.sampled_from(IDENTIFIERS))] = draw(IDENTITY)


def _second_identifier(draw: st.DrawFn, record: dict[str, Any]) -> None:
    record[draw(st.sampled_from(IDENTIFIERS[1:]))] = "C2"


def _property(draw: st.DrawFn, record: dict[str, Any]) -> None:
    if isinstance(record.get("evtData"), dict):
        record["evtData"][draw(KEY)] = draw(VALUE)


def _long_key(draw: st.DrawFn, record: dict[str, Any]) -> None:
    if isinstance(record.get("evtData"), dict):
        key = draw(st.sampled_from(["k", "é"])) * draw(st.integers(118, 122))
        record["evtData"][key] = draw(st.integers(0, 9))


def _long_value(draw: st.DrawFn, record: dict[str, Any]) -> None:
    if isinstance(record.get("evtData"), dict):
        text = draw(LONG_TEXT)
        value = draw(st.sampled_from([text, [text], ["ok", text]]))
        record["evtData"][draw(st.sampled_from(["Note", "Tags", "Code", "note"]))] = value


def _drop_property(draw: st.DrawFn, record: dict[str, Any]) -> None:
    if isinstance(record.get("evtData"), dict) and record["evtData"]:
        del record["evtData"][draw(st.sampled_from(sorted(record["evtData"])))]


NOT_AN_OBJECT = st.sampled_from([None, [], "x", 3])
MUTATIONS = {
    "identifiers": _identifiers,
    "identity": _identity,
    "second-identifier": _second_identifier,
    "drop": _drop,
    "ts": _replace("ts", TS_VALUE),
    "evtName": _replace("evtName", EVENT_NAME),
    "evtData": _replace("evtData", st.one_of(NOT_AN_OBJECT, st.builds(dict))),
    "type": _replace("type", st.sampled_from(["event", "profile", None])),
    "property": _property,
    "long-key": _long_key,
    "long-value": _long_value,
    "drop-property": _drop_property,
}


@st.composite
def event_records(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event, then mostly one change (identifiers, ts, name, type, evtData, a field
    dropped, a property added, long or dropped), since the gate is tested by records that
    break one rule only."""
    name = draw(st.sampled_from(sorted(VALID_DATA)))
    record = {"identity": "C100234", "ts": TS, "evtName": name, "evtData": draw(VALID_DATA[name])}
    count = draw(st.sampled_from([1, 1, 1, 2, 0]))  # one change: a record that breaks one rule
    for change in draw(
        st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=count, max_size=count)
    ):
        MUTATIONS[change](draw, record)
    return record


@FUZZ
@given(schemas=SCHEMAS, record=event_records())
def test_fast_gate_never_accepts_what_the_rules_refuse(
    schemas: Schemas, record: dict[str, Any]
) -> None:
    """Rules.problem (gate first) says exactly what Rules._problem (every rule in Python) says."""
    rules = Rules("events", schemas)
    assert rules.problem(record) == rules._problem(record)


@FUZZ
@given(schemas=SCHEMAS, row=event_records())
def test_fast_way_agrees_with_the_exact_way(schemas: Schemas, row: dict[str, Any]) -> None:
    """A row the fast way (gate on the row as read, then dates) accepts is one the exact way
    (shaped on a copy, every rule) accepts, as the same record; one it refuses is untouched."""
    shaper = Shaper("events", schemas, ZoneInfo("Asia/Kolkata"), None)
    rules = Rules("events", schemas)
    fast = copy.deepcopy(row)
    if Preparer(shaper, rules).accept(fast):
        exact = shaper.shape(copy.deepcopy(row))
        assert rules._problem(exact) is None
        assert fast == exact
    else:
        assert fast == row
