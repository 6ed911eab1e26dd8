"""The JSON Schemas of the YAML kinds: well-formed, self-consistent, faithful to the docs.

Error messages are asserted as jsonschema produces them (and at the path it reports): a user of
an editor sees exactly these, and ``ctflow validate`` words them from the same errors.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from ctflow.resources import KINDS, registry, schemas_dir, validator
from ctflow.yamlio import load_documents

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "declarations.md"
EXAMPLES = ROOT / "examples"
SCHEMA_FILES = sorted(schemas_dir().glob("*.schema.json"))

TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _TextDates(yaml.SafeLoader):
    """PyYAML's safe loader, except that dates stay the text written, as ctflow reads them."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_TextDates)


def _errors(schema: str, document: Any) -> list[tuple[list[str | int], str]]:
    return [(list(e.absolute_path), e.message) for e in validator(schema).iter_errors(document)]


# --- the schema files themselves ------------------------------------------------------------


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_schema_is_a_valid_draft_2020_12_schema(path: Path) -> None:
    Draft202012Validator.check_schema(json.loads(path.read_text("utf-8")))


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_refs_are_relative_and_resolve_from_the_schema_directory(path: Path) -> None:
    """Editors resolve ``$ref`` next to the file: no ``$id``, no URL, nothing dangling."""
    schema = json.loads(path.read_text("utf-8"))
    assert "$id" not in schema
    resolver = registry().resolver(base_uri=path.name)
    for ref in _refs(schema):
        assert "://" not in ref, ref
        assert resolver.lookup(ref).contents is not None


def _property_schemas(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    """Every schema declared under a ``properties`` map (``if`` conditions excepted)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "if":
                continue
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield f"{where}.{name}", sub
                    yield from _property_schemas(sub, f"{where}.{name}")
            else:
                yield from _property_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _property_schemas(item, f"{where}/{index}")


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_field_has_a_description_for_editor_hover(path: Path) -> None:
    schema = json.loads(path.read_text("utf-8"))
    resolver = registry().resolver(base_uri=path.name)
    undescribed = []
    for where, sub in _property_schemas(schema, path.name):
        if "description" in sub or "not" in sub:  # "not": a field forbidden here, with x-message
            continue
        if "$ref" in sub and "description" in resolver.lookup(sub["$ref"]).contents:
            continue
        undescribed.append(where)
    assert undescribed == []
    defs = schema.get("$defs", {})
    assert [name for name, sub in defs.items() if "description" not in sub] == []


def test_ctflow_schema_dispatches_to_every_kind_and_nothing_else() -> None:
    schema = json.loads((schemas_dir() / "ctflow.schema.json").read_text("utf-8"))
    assert schema["properties"]["kind"]["enum"] == list(KINDS)
    dispatched = {
        rule["if"]["properties"]["kind"]["const"]: rule["then"]["$ref"] for rule in schema["allOf"]
    }
    assert dispatched == {kind: f"{name}.schema.json" for kind, name in KINDS.items()}
    assert {f"{name}.schema.json" for name in KINDS.values()} <= {p.name for p in SCHEMA_FILES}


# --- the documentation's examples -----------------------------------------------------------

_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
DISPATCH = "ctflow.schema.json"  # the schema of every kind, dispatching on `kind:`
_MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def _doc_blocks() -> list[Any]:
    params = []
    for text in _BLOCK.findall(DOCS.read_text("utf-8")):
        kind = re.search(r"^kind: (\w+)$", text, re.MULTILINE)
        key = re.search(r"^(?:key|event): (.+?)\s*(?:#.*)?$", text, re.MULTILINE)
        if kind is None:
            continue
        ident = f"{kind[1]}:{key[1] if key else '-'}"
        params.append(pytest.param(text, id=ident))
    return params


@pytest.mark.parametrize("text", _doc_blocks())
def test_every_documented_declaration_validates(text: str) -> None:
    modeline = _MODELINE.search(text)
    if modeline:
        # The editor-support excerpt: not whole declarations, but each document's comment must
        # name the schema of its kind or the one that dispatches on kind.
        for part in re.split(r"^---$", text, flags=re.MULTILINE):
            document = _yaml(part)
            named = _MODELINE.search(part)
            assert named is not None, part
            assert Path(named[1]).name in (f"{KINDS[document['kind']]}.schema.json", DISPATCH)
            assert (schemas_dir() / Path(named[1]).name).is_file()
        return
    document = _yaml(text)
    assert _errors(KINDS[document["kind"]], document) == []
    assert _errors("ctflow", document) == []


def test_the_documented_event_condition_validates() -> None:
    condition_blocks = [
        _yaml(text)
        for text in _BLOCK.findall(DOCS.read_text("utf-8"))
        if text.startswith("- event:")
    ]
    assert condition_blocks
    check = Draft202012Validator(
        {"$ref": "common.schema.json#/$defs/event_conditions"}, registry=registry()
    )
    for conditions in condition_blocks:
        assert [e.message for e in check.iter_errors(conditions)] == []


def _example_documents() -> list[Any]:
    params = []
    for path in sorted(EXAMPLES.rglob("*.y*ml")):
        for index, document in enumerate(load_documents(path)):
            ident = f"{path.relative_to(EXAMPLES)}#{index}"
            params.append(pytest.param(document.data, id=ident))
    return params


@pytest.mark.parametrize("document", _example_documents())
def test_every_example_declaration_validates(document: dict[str, Any]) -> None:
    assert _errors(KINDS[document.get("kind", "Project")], document) == []


# --- what users get when something is wrong -------------------------------------------------

CAMPAIGN = _yaml(
    """
kind: Campaign
key: winback
name: We miss you
channel: push
audience:
  did:
    - {event: App Launched, in_last: 90d}
content:
  title: We miss you
  body: Here is 10% off
  android: {channel_id: marketing}
schedule: now
"""
)
TRIGGER = _yaml(
    """
kind: Trigger
key: order-shipped
type: identity
channel: email
parameters: {type: object}
content: {subject: Shipped, sender_name: Shop, body_file: templates/shipped.html}
"""
)
JOURNEY = _yaml(
    """
kind: Journey
key: onboarding
name: Onboarding
anchor: "2026-12-01 09:00"
steps:
  - {key: welcome, after: 0d, channel: push, content: {title: Welcome, body: Hello}}
"""
)


def _with(base: dict[str, Any], changes: str) -> dict[str, Any]:
    document = copy.deepcopy(base)
    document.update(_yaml(changes))
    return document


def _condition(condition: str) -> dict[str, Any]:
    return _with(CAMPAIGN, f"audience: {{did: [{condition}]}}")


IN_LAST = r"^\d+ ?(d|days?|w|weeks?)( \d+ ?(d|days?|w|weeks?))*$"
DURATION = (
    r"^\d+ ?(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)"
    r"( \d+ ?(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?))*$"
)
CHANNELS = "['push', 'email', 'sms', 'webpush', 'whatsapp', 'webhook', 'app_inbox']"

INVALID = [
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "{channel: email, content: {sender_name: Shop, body: Hi}}"),
        ["content"],
        "'subject' is a required property",
        id="email-without-subject",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "channel: mail"),
        ["channel"],
        f"'mail' is not one of {CHANNELS}",
        id="unknown-channel-is-the-only-error",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "{channel: sms, content: {title: Hi, body: Hello}}"),
        ["content"],
        "Additional properties are not allowed ('title' was unexpected)",
        id="sms-with-title",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "content: {title: Hi, body: Hello, android: {deep_link: 'shop://'}}"),
        ["content", "android"],
        "'channel_id' is a required property",
        id="push-to-android-by-default-without-channel-id",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "{devices: [ios, android], content: {title: Hi, body: Hello}}"),
        ["content"],
        "'android' is a required property",
        id="push-to-android-without-android-options",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "content: {title: Hi, android: {channel_id: m}}"),
        ["content"],
        "'body' is a required property",
        id="push-without-body",
    ),
    pytest.param(
        "campaign",
        _with(
            CAMPAIGN,
            "content: {title: Hi, body: Hello, body_file: a.txt, android: {channel_id: m}}",
        ),
        ["content", "body"],
        "'Hello' should not be valid under {}",
        id="body-and-body-file",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "{channel: whatsapp, content: {}}"),
        ["content"],
        "'template' is a required property",
        id="whatsapp-without-template-or-text",
    ),
    pytest.param(
        "campaign",
        _with(
            CAMPAIGN,
            "{channel: email, devices: [ios], content: {subject: S, sender_name: N, body: B}}",
        ),
        ["devices"],
        "['ios'] should not be valid under {}",
        id="devices-on-email",
    ),
    pytest.param(
        "campaign",
        _condition("{event: X, in_last: 7d, from: 2026-11-01, to: 2026-11-30}"),
        ["audience", "did", 0, "from"],
        "'2026-11-01' should not be valid under {}",
        id="window-with-in-last-and-from",
    ),
    pytest.param(
        "campaign",
        _condition("{event: X}"),
        ["audience", "did", 0],
        "'in_last' is a required property",
        id="window-missing",
    ),
    pytest.param(
        "campaign",
        _condition("{event: X, from: 2026-11-01}"),
        ["audience", "did", 0],
        "'to' is a dependency of 'from'",
        id="window-from-without-to",
    ),
    pytest.param(
        "campaign",
        _condition("{event: X, in_last: 12h}"),
        ["audience", "did", 0, "in_last"],
        f"'12h' does not match {IN_LAST!r}",
        id="in-last-not-whole-days",
    ),
    pytest.param(
        "campaign",
        _condition("{event: X, since: 01/11/2026}"),
        ["audience", "did", 0, "since"],
        r"'01/11/2026' does not match '^\\d{4}-\\d{2}-\\d{2}$'",
        id="date-not-iso",
    ),
    pytest.param(
        "campaign",
        _condition("{event: X, in_last: 7d, where: {Price: {greater_than: 5, less_than: 9}}}"),
        ["audience", "did", 0, "where", "Price"],
        "{'greater_than': 5, 'less_than': 9} has too many properties",
        id="filter-with-two-operators",
    ),
    pytest.param(
        "campaign",
        _condition("{event: X, in_last: 7d, where: {Price: {greater: 5}}}"),
        ["audience", "did", 0, "where", "Price"],
        "Additional properties are not allowed ('greater' was unexpected)",
        id="unknown-filter-operator",
    ),
    pytest.param(
        "campaign",
        _condition("{event: X, in_last: 7d, count: {at_least: 0}}"),
        ["audience", "did", 0, "count", "at_least"],
        "0 is less than the minimum of 1",
        id="count-at-least-zero",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "audience: ''"),
        ["audience"],
        "'' should be non-empty",
        id="audience-empty-text",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "schedule: {at: '2026-12-01'}"),
        ["schedule", "at"],
        r"'2026-12-01' does not match '^\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}(:\\d{2})?$'",
        id="schedule-at-without-time",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "schedule: {repeat: weekly, at: '10:00', start: 2026-12-01}"),
        ["schedule"],
        "'on' is a required property",
        id="weekly-without-days",
    ),
    pytest.param(
        "campaign",
        _with(
            CAMPAIGN,
            "schedule: {repeat: daily, at: '10:00', start: 2026-12-01, end: 2026-12-31,"
            " occurrences: 5}",
        ),
        ["schedule", "occurrences"],
        "5 should not be valid under {}",
        id="recurring-with-end-and-occurrences",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "control_group: {percentage: 95}"),
        ["control_group", "percentage"],
        "95 is greater than the maximum of 90",
        id="control-group-over-90",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "conversion_goal: {event: Charged, within: 3d}"),
        ["conversion_goal", "within"],
        "'3d' is not one of ['30m', '1H', '2H', '3H', '6H', '12H', '1D', '2D', '3D', '5D', "
        "'1W', '2W', '1M', '2M', '5M']",
        id="conversion-window-not-cleverTaps",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "key: Winback"),
        ["key"],
        "'Winback' does not match '^[a-z0-9][a-z0-9_-]{0,63}$'",
        id="key-with-capitals",
    ),
    pytest.param(
        "journey",
        _with(JOURNEY, "steps: [{key: welcome, after: 2 dayz}]"),
        ["steps", 0, "after"],
        f"'2 dayz' does not match {DURATION!r}",
        id="bad-duration",
    ),
    pytest.param(
        "journey",
        _with(JOURNEY, "steps: [{key: day2, after: 2d, channel: email, schedule: now}]"),
        ["steps", 0],
        "Additional properties are not allowed ('schedule' was unexpected)",
        id="step-with-schedule",
    ),
    pytest.param(
        "journey",
        _with(JOURNEY, "steps: [{key: day2, after: 2d, channel: sms, content: {title: Hi}}]"),
        ["steps", 0, "content"],
        "Additional properties are not allowed ('title' was unexpected)",
        id="step-content-checked-for-its-channel",
    ),
    pytest.param(
        "journey",
        _with(JOURNEY, "defaults: {name: Shared}"),
        ["defaults"],
        "Additional properties are not allowed ('name' was unexpected)",
        id="defaults-with-name",
    ),
    pytest.param(
        "trigger",
        _yaml("{kind: Trigger, key: paid, type: external, parameters: {type: object}}"),
        [],
        "'campaign_id' is a required property",
        id="external-trigger-without-campaign-id",
    ),
    pytest.param(
        "trigger",
        _yaml(
            "{kind: Trigger, key: paid, type: external, parameters: {type: object},"
            " campaign_id: 17, content: {body: Hi}}"
        ),
        ["content"],
        "{'body': 'Hi'} should not be valid under {}",
        id="external-trigger-with-content",
    ),
    pytest.param(
        "trigger",
        _with(TRIGGER, "channel: webhook"),
        ["channel"],
        "'webhook' is not one of ['push', 'email', 'sms', 'webpush', 'whatsapp']",
        id="identity-trigger-on-a-campaign-only-channel",
    ),
    pytest.param(
        "trigger",
        _with(TRIGGER, "parameters: {type: array}"),
        ["parameters", "type"],
        "'object' was expected",
        id="parameters-not-an-object-schema",
    ),
    pytest.param(
        "trigger",
        _with(TRIGGER, "fixtures: [{name: one}]"),
        ["fixtures", 0],
        "'data' is a required property",
        id="fixture-without-data-or-file",
    ),
    pytest.param(
        "dataset",
        _yaml("{kind: Dataset, key: loyalty, type: events, event: Loyalty Points Earned}"),
        [],
        "'file' is a required property",
        id="dataset-without-file",
    ),
    pytest.param(
        "dataset",
        _yaml("{kind: Dataset, key: loyalty, type: events, file: data/loyalty.csv}"),
        [],
        "'event' is a required property",
        id="event-dataset-without-event",
    ),
    pytest.param(
        "event-schema",
        _yaml("{kind: EventSchema, event: Charged, version: 1, properties: {Items: lists}}"),
        ["properties", "Items"],
        "'lists' is not one of ['string', 'number', 'integer', 'boolean', 'date', 'list']",
        id="property-type-typo",
    ),
    pytest.param(
        "event-schema",
        _yaml("{kind: EventSchema, event: Charged, properties: {}}"),
        [],
        "'version' is a required property",
        id="event-schema-without-version",
    ),
    pytest.param(
        "project",
        _yaml("{project: shop, limits: {event_properties: 0}}"),
        ["limits", "event_properties"],
        "0 is less than the minimum of 1",
        id="project-limit-not-positive",
    ),
    pytest.param(
        "project",
        _yaml("{project: shop, exclude: data/**}"),
        ["exclude"],
        "'data/**' is not of type 'array'",
        id="project-exclude-not-a-list",
    ),
]


@pytest.mark.parametrize(("schema", "document", "path", "message"), INVALID)
def test_an_invalid_declaration_gets_exactly_one_error_at_the_mistake(
    schema: str, document: dict[str, Any], path: list[str | int], message: str
) -> None:
    assert _errors(schema, document) == [(path, message)]


@pytest.mark.parametrize(
    ("schema", "forbidden", "hint"),
    [
        ("campaign", "body-and-body-file", "give either body or body_file, not both"),
        ("campaign", "window-with-in-last-and-from", "give one window: in_last, since, or from"),
        ("campaign", "devices-on-email", "devices are for push only"),
        ("trigger", "external-trigger-with-content", "content is for identity triggers"),
    ],
)
def test_a_forbidden_field_carries_the_reason_ctflow_shows(
    schema: str, forbidden: str, hint: str
) -> None:
    """``{"not": {}}`` says nothing by itself; its ``x-message`` is what ctflow validate prints."""
    document = next(p.values[1] for p in INVALID if p.id == forbidden)
    (error,) = validator(schema).iter_errors(document)
    assert error.validator == "not"
    assert error.schema["x-message"].startswith(hint)


VALID = [
    pytest.param("campaign", _with(CAMPAIGN, "audience: everyone"), id="audience-everyone"),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "{devices: [ios], content: {title: Hi, body: Hello}}"),
        id="ios-only-push-needs-no-android-channel",
    ),
    pytest.param(
        "campaign",
        _condition(
            "{event: X, from: 2026-11-01, to: 2026-11-30, count: {between: [2, 5]},"
            " where: {Price: {between: [10, 20]}, Day: {greater_than: 2026-11-05},"
            " Tags: {contains: sale}, Coupon: {exists: false}, Category: [Shoes, Bags]}}"
        ),
        id="window-from-to-and-every-filter-form",
    ),
    pytest.param("campaign", _condition("{event: X, since: 2026-11-01}"), id="window-since"),
    pytest.param("campaign", _condition("{event: X, in_last: 1w 3 days}"), id="in-last-combined"),
    pytest.param(
        "campaign",
        _with(
            CAMPAIGN,
            "schedule: {repeat: daily, at: '07:00', start: 2026-12-01, end: 2026-12-31,"
            " every: 2, timezone: Europe/Berlin}",
        ),
        id="daily-schedule",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "schedule: {at: '2026-12-01T10:00:30', timezone: UTC}"),
        id="one-time-schedule-with-t-and-seconds",
    ),
    pytest.param(
        "campaign",
        _with(
            CAMPAIGN,
            "{channel: email, provider: ses, control_group: {custom: holdout},"
            " user_limit: {overall: 1000}, content: {subject: S, sender_name: N,"
            " body_file: mail.html, cc: [a@x.example], bcc: b@x.example}}",
        ),
        id="email-with-body-file-and-options",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "{channel: whatsapp, content: {text: Hello}}"),
        id="whatsapp-text",
    ),
    pytest.param(
        "campaign",
        _with(
            CAMPAIGN,
            "{channel: webhook, content: {endpoint: crm-sync, key_values: {source: ctflow}}}",
        ),
        id="webhook",
    ),
    pytest.param(
        "campaign",
        _with(CAMPAIGN, "{channel: app_inbox, content: {title: T, body: B, ttl_days: 7}}"),
        id="app-inbox",
    ),
    pytest.param(
        "journey",
        _with(
            JOURNEY,
            "{defaults: {channel: email, content: {email: {sender_name: Shop}}},"
            " steps: [{key: day2, after: 1d 12h, content: {subject: Hi, body: Hello}}]}",
        ),
        id="step-content-completed-by-defaults",
    ),
    pytest.param(
        "trigger",
        _yaml(
            "{kind: Trigger, key: paid, type: external, parameters: {type: object},"
            " campaign_id: {staging: 1, production: 2}, values: {amount: '[[ amount ]]'},"
            " fixtures: [{name: file, file: fixtures/paid.json}]}"
        ),
        id="external-trigger-per-environment",
    ),
    pytest.param(
        "dataset",
        _yaml("{kind: Dataset, key: raw, type: events, file: raw.jsonl.gz, format: native}"),
        id="native-events-dataset-needs-no-event",
    ),
]


@pytest.mark.parametrize(("schema", "document"), VALID)
def test_every_documented_form_is_accepted(schema: str, document: dict[str, Any]) -> None:
    assert _errors(schema, document) == []


# --- ctflow.schema.json ---------------------------------------------------------------------


def test_ctflow_schema_rejects_an_unknown_kind() -> None:
    assert _errors("ctflow", {"kind": "Campain", "key": "x"}) == [
        (
            ["kind"],
            "'Campain' is not one of ['Project', 'EventSchema', 'ProfileSchema', 'Campaign', "
            "'Journey', 'Trigger', 'Dataset', 'Audience']",
        )
    ]
    assert _errors("ctflow", {"key": "x"}) == [([], "'kind' is a required property")]


def test_ctflow_schema_checks_a_campaign_as_a_campaign() -> None:
    no_subject = _with(CAMPAIGN, "{channel: email, content: {sender_name: Shop, body: Hi}}")
    assert _errors("ctflow", no_subject) == [(["content"], "'subject' is a required property")]
    assert _errors("ctflow", _with(CAMPAIGN, "version: 2")) == [
        ([], "Additional properties are not allowed ('version' was unexpected)")
    ]
    assert _errors("ctflow", CAMPAIGN) == []
