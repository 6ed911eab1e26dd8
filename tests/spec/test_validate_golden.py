# ruff: noqa: E501 — golden lines are compared whole; splitting them would hide what users read
"""Golden tests of `ctflow validate`: each case breaks a valid project in one way and asserts
the full text of every problem reported (file:line:col: message), in order.

The base project is in project_support.py. When a message changes on purpose, update the
expectation here and review it like code: these lines are what users read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec.project_support import BASE, problems

CW = "campaigns/winback.yaml"
TR = "triggers/receipt.yaml"
TK = "tracking.yaml"


def sub(file: str, old: str, new: str) -> dict[str, str | None]:
    assert old in BASE[file], old
    return {file: BASE[file].replace(old, new, 1)}


JOURNEY = """\
kind: Journey
key: onboarding
name: Onboarding
anchor: "2027-01-04 09:00"
defaults:
  audience:
    did:
      - {event: App Launched, in_last: 7d}
  content:
    push: {android: {channel_id: onboarding}}
    email: {sender_name: Shop}
steps:
  - key: welcome
    after: 0d
    channel: push
    content: {title: Hi, body: Welcome}
  - key: day2
    after: 2d
    channel: email
    audience:
      did_not:
        - {event: Charged, in_last: 7d}
    content: {subject: Hello, body_file: day2.html}
"""
DAY2 = "<p>Hello [[ vars.brand ]]</p>\n<p>[[ vars.nope ]]</p>\n"

CASES = [
    pytest.param(
        sub(CW, "channel: push", "channel: [push"),
        [
            "campaigns/winback.yaml:5:9: expected ',' or ']', but got ':'",
        ],
        id="yaml-syntax",
    ),
    pytest.param(
        sub(CW, "channel: push", "channel: push\nchannel: email"),
        [
            "campaigns/winback.yaml:5:1: duplicate key 'channel' (first defined at line 4)",
        ],
        id="duplicate-key",
    ),
    pytest.param(
        sub(CW, "channel: push", "channel:\tpush\n\tx: 1"),
        [
            "campaigns/winback.yaml:4:9: found character '\\t' that cannot start any token (YAML indents with spaces, never tabs)",
        ],
        id="tab",
    ),
    pytest.param(
        {"extra.yaml": "- a\n- b\n"},
        [
            "extra.yaml:1:1: a declaration is a mapping with 'kind:' (one of EventSchema, ProfileSchema, Campaign, Journey, Trigger, Dataset, Audience); found a list",
        ],
        id="not-mapping",
    ),
    pytest.param(
        {"extra.yaml": "key: x\nname: y\n"},
        [
            "extra.yaml:1:1: missing 'kind': one of EventSchema, ProfileSchema, Campaign, Journey, Trigger, Dataset, Audience says what this declares (not a ctflow file? list it under exclude: in ctflow.yaml)",
        ],
        id="missing-kind",
    ),
    pytest.param(
        sub(CW, "kind: Campaign", "kind: Campain"),
        [
            "campaigns/winback.yaml:1:7: kind: unknown kind 'Campain' (did you mean 'Campaign'?); known kinds: EventSchema, ProfileSchema, Campaign, Journey, Trigger, Dataset, Audience",
        ],
        id="unknown-kind",
    ),
    pytest.param(
        {"extra.yaml": "kind: Project\nproject: x\n"},
        [
            "extra.yaml:1:7: kind: the Project is declared in ctflow.yaml only",
        ],
        id="project-elsewhere",
    ),
    pytest.param(
        sub(CW, "  title:", "  titel:"),
        [
            "campaigns/winback.yaml:17:3: content.titel: unknown field (did you mean 'title'?)",
        ],
        id="unknown-field",
    ),
    pytest.param(
        sub(CW, "name: We miss you\n", ""),
        [
            "campaigns/winback.yaml:1:1: missing required field 'name'",
        ],
        id="missing-field",
    ),
    pytest.param(
        sub(CW, "channel: push", "channel: 5"),
        [
            "campaigns/winback.yaml:4:10: channel: 5 is not one of push, email, sms, webpush, whatsapp, webhook, app_inbox",
        ],
        id="wrong-type",
    ),
    pytest.param(
        sub(CW, "channel: push", "channel: pushh"),
        [
            "campaigns/winback.yaml:4:10: channel: 'pushh' is not one of push, email, sms, webpush, whatsapp, webhook, app_inbox (did you mean 'push'?)",
        ],
        id="bad-enum",
    ),
    pytest.param(
        sub(TR, '  subject: "Order [[ order_id ]]"\n', ""),
        [
            "triggers/receipt.yaml:19:3: content: missing required field 'subject'",
        ],
        id="email-missing-subject",
    ),
    pytest.param(
        sub(CW, "in_last: 90d", "in_last: 90 dayz"),
        [
            "campaigns/winback.yaml:8:16: audience.did[0].in_last: '90 dayz' is not whole days or weeks such as 7d, 90d, 2w or 30 days",
        ],
        id="bad-duration",
    ),
    pytest.param(
        sub(CW, "in_last: 90d", "in_last: 90d\n      from: 2026-01-01\n      to: 2026-02-01"),
        [
            "campaigns/winback.yaml:9:13: audience.did[0].from: give one window: in_last, since, or from + to",
        ],
        id="two-windows",
    ),
    pytest.param(
        sub(CW, "in_last: 90d", "from: 2026-03-01\n      to: 2026-02-01"),
        [
            "campaigns/winback.yaml:8:13: audience.did[0].from: 'from' 2026-03-01 is after 'to' 2026-02-01",
        ],
        id="from-after-to",
    ),
    pytest.param(
        sub(CW, "in_last: 90d", "from: 2026-02-30\n      to: 2026-03-01"),
        [
            "campaigns/winback.yaml:8:13: audience.did[0].from: '2026-02-30' is not a calendar date",
        ],
        id="bad-date",
    ),
    pytest.param(
        sub(CW, "- event: App Launched", "- event: App Lunched"),
        [
            "campaigns/winback.yaml:7:14: audience.did[0].event: event 'App Lunched' is not declared (did you mean 'App Launched'?)",
        ],
        id="undeclared-event",
    ),
    pytest.param(
        sub(CW, "Customer Type: Gold", "Customer Typ: Gold"),
        [
            "campaigns/winback.yaml:15:19: audience.profile.Customer Typ: profile property 'Customer Typ' is not declared (did you mean 'Customer Type'?)",
        ],
        id="undeclared-property",
    ),
    pytest.param(
        sub(CW, "Customer Type: Gold", "Customer Type: Bronze"),
        [
            "campaigns/winback.yaml:15:20: audience.profile.Customer Type: 'Bronze' is not one of Silver, Gold",
        ],
        id="enum-value",
    ),
    pytest.param(
        sub(CW, "Amount: {greater_than: 10}", "Amount: {contains: ten}"),
        [
            "campaigns/winback.yaml:13:28: audience.did_not[0].where.Amount.contains: 'contains' does not apply to Amount (a number); use equals, not_equals, greater_than, less_than, between or exists",
        ],
        id="operator-type",
    ),
    pytest.param(
        sub(CW, "Amount: {greater_than: 10}", "Amount: {greater_than: ten}"),
        [
            "campaigns/winback.yaml:13:32: audience.did_not[0].where.Amount.greater_than: 'ten' is not a number, or an ISO date such as 2026-12-01",
        ],
        id="value-type",
    ),
    pytest.param(
        {"campaigns/other.yaml": BASE[CW]},
        [
            "campaigns/winback.yaml:2:6: key: campaign key 'winback' is already declared at campaigns/other.yaml:2:6",
        ],
        id="dup-key",
    ),
    pytest.param(
        sub(CW, "  android: {channel_id: marketing}\n", ""),
        [
            "campaigns/winback.yaml:17:3: content: content.android.channel_id is required when devices include android (as they do unless devices says otherwise): Android 8+ shows no notification without a channel",
        ],
        id="android-channel",
    ),
    pytest.param(
        sub(CW, "name: We miss you", "name: " + "x" * 130),
        [
            "campaigns/winback.yaml:3:7: name: 130 characters; at most 120",
        ],
        id="name-long",
    ),
    pytest.param(
        sub(CW, '"Hello from [[ vars.brand ]]"', '"Hello from [[ vars.brand "'),
        [
            "campaigns/winback.yaml:17:11: content.title: unexpected end of template, expected 'end of print statement'",
        ],
        id="template-syntax",
    ),
    pytest.param(
        sub(CW, "vars.brand", "vars.brnd"),
        [
            "campaigns/winback.yaml:17:11: content.title: 'vars' has no property 'brnd' (did you mean 'brand'?)",
        ],
        id="template-undeclared",
    ),
    pytest.param(
        sub(TR, "[[ item.name ]]", "[[ item.nme ]]"),
        [
            "triggers/receipt.yaml:23:5: content.body: 'item' has no property 'nme' (did you mean 'name'?)",
        ],
        id="template-block-line",
    ),
    pytest.param(
        sub(TR, "[% for item in items %]", "[% for item in order_id %]"),
        [
            "triggers/receipt.yaml:23:5: content.body: 'item' is a string; it has no attribute 'name'",
        ],
        id="template-type",
    ),
    pytest.param(
        sub(TR, "{order_id: A-1, items", "{order_id: 5, items"),
        [
            "triggers/receipt.yaml:26:22: fixtures[0].data.order_id: fixture 'one': expected text, found the number 5",
        ],
        id="fixture-schema",
    ),
    pytest.param(
        sub(TR, "{order_id: A-1, items: [{name: Mug, qty: 1}]}", "{items: []}"),
        [
            "triggers/receipt.yaml:26:11: fixtures[0].data: fixture 'one': missing required field 'order_id'",
        ],
        id="fixture-missing",
    ),
    pytest.param(
        {"tracking2.yaml": "kind: EventSchema\nevent: Charged\nversion: 2\n"},
        [
            "tracking2.yaml:2:8: event: event 'Charged' is already declared at tracking.yaml:2:8",
        ],
        id="event-dup",
    ),
    pytest.param(
        sub(TK, "enum: [EUR, USD]", "enum: [EUR, 5]"),
        [
            "tracking.yaml:6:40: properties.Currency.enum[1]: enum value: 5 is not a string (Currency is a string)",
        ],
        id="enum-type",
    ),
    pytest.param(
        sub(TK, "Age: integer", "Age: int"),
        [
            "tracking.yaml:17:8: properties.Age: 'int' is not one of string, number, integer, boolean, date, list (did you mean 'integer'?)",
        ],
        id="prop-type",
    ),
    pytest.param(
        sub(
            CW,
            'schedule: {at: "2027-01-05 10:00"}',
            'schedule: {at: "2027-01-05 10:00", timezone: Europe/Berlinn}',
        ),
        [
            "campaigns/winback.yaml:20:46: schedule.timezone: unknown timezone 'Europe/Berlinn' (an IANA name like Europe/Berlin)",
        ],
        id="tz",
    ),
    pytest.param(
        sub(CW, "2027-01-05 10:00", "2027-02-30 10:00"),
        [
            "campaigns/winback.yaml:20:16: schedule.at: '2027-02-30 10:00' is not a real date-time",
        ],
        id="at-bad",
    ),
    pytest.param(
        {"ctflow.yaml": "project: shop\nenvironments:\n  production:\n    regin: eu1\n"},
        [
            "ctflow.yaml:4:5: environments.production.regin: unknown field (did you mean 'region'?)",
        ],
        id="config-bad",
    ),
    pytest.param(
        {
            "ctflow.yaml": BASE["ctflow.yaml"].replace("variables:\n  brand: Shop\n", "")
            + "    variables:\n      brand: Shop\n"
        },
        [
            "campaigns/winback.yaml:17:11: content.title: 'vars' has no property 'brand'; in environment sandbox",
            "triggers/receipt.yaml:20:17: content.sender_name: 'vars' has no property 'brand'; in environment sandbox",
        ],
        id="var-env-only",
    ),
    pytest.param(
        sub(CW, "schedule:", "api_fields: {name: x, dnd: {message_state: delay}}\nschedule:"),
        [
            "campaigns/winback.yaml:20:14: api_fields.name: api_fields may not set 'name': ctflow sets it from the declaration",
        ],
        id="api-fields",
    ),
    pytest.param(
        sub(
            CW,
            "schedule:",
            "conversion_goal: {event: Charged, within: 3D, revenue_property: Currency}\nschedule:",
        ),
        [
            "campaigns/winback.yaml:20:65: conversion_goal.revenue_property: revenue_property 'Currency' is a string; revenue must be a number",
        ],
        id="goal",
    ),
    pytest.param(
        {"ds.yaml": "kind: Dataset\nkey: d\ntype: events\nfile: data/x.csv\nevent: Chargd\n"},
        [
            "ds.yaml:4:7: file: file not found: data/x.csv",
            "ds.yaml:5:8: event: event 'Chargd' is not declared (did you mean 'Charged'?)",
        ],
        id="dataset",
    ),
    pytest.param(
        sub(
            TR,
            "  body: |\n    <p>Thanks!</p>\n    [% for item in items %]<li>[[ item.name ]]</li>[% endfor %]\n",
            "  body_file: missing.html\n",
        ),
        [
            "triggers/receipt.yaml:21:14: content.body_file: file not found: triggers/missing.html",
        ],
        id="body-file",
    ),
    pytest.param(
        sub(TK, "Age: integer", "1: integer"),
        [
            "tracking.yaml:17:3: properties.1: keys must be text; quote it",
        ],
        id="non-text-key",
    ),
    pytest.param(
        {
            "journeys/onboarding.yaml": JOURNEY,
            "journeys/day2.html": DAY2.replace("[[ vars.nope ]]", "bye"),
        },
        [],
        id="journey-ok",
    ),
    pytest.param(
        {"journeys/onboarding.yaml": JOURNEY, "journeys/day2.html": DAY2},
        [
            "journeys/day2.html:2:1: 'vars' has no property 'nope'",
        ],
        id="journey-body-file-template",
    ),
    pytest.param(
        {
            "journeys/onboarding.yaml": JOURNEY.replace(
                "{title: Hi, body: Welcome}", "{body: Welcome}"
            ),
            "journeys/day2.html": "x",
        },
        [
            "journeys/onboarding.yaml:16:14: steps[0].content: missing required field 'title'",
        ],
        id="journey-step-missing-title",
    ),
    pytest.param(
        {
            "journeys/onboarding.yaml": JOURNEY.replace(
                "    push: {android: {channel_id: onboarding}}\n", ""
            ),
            "journeys/day2.html": "x",
        },
        [
            "journeys/onboarding.yaml:15:14: steps[0].content: content.android.channel_id is required when devices include android (as they do unless devices says otherwise): Android 8+ shows no notification without a channel",
        ],
        id="journey-step-no-channel-default",
    ),
    pytest.param(
        {
            "journeys/onboarding.yaml": JOURNEY.replace("key: day2", "key: welcome"),
            "journeys/day2.html": "x",
        },
        [
            "journeys/onboarding.yaml:17:10: steps[1].key: step key 'welcome' is already used by steps[0]",
        ],
        id="journey-dup-step",
    ),
    pytest.param(
        {
            "journeys/onboarding.yaml": JOURNEY.replace(
                "{event: Charged, in_last: 7d}", "{event: Chargd, in_last: 7d}"
            ),
            "journeys/day2.html": "x",
        },
        [
            "journeys/onboarding.yaml:22:19: steps[1].audience.did_not[0].event: event 'Chargd' is not declared (did you mean 'Charged'?)",
        ],
        id="journey-bad-event",
    ),
    pytest.param(
        {
            "journeys/onboarding.yaml": JOURNEY.replace("after: 2d", "after: 2 fortnights"),
            "journeys/day2.html": "x",
        },
        [
            "journeys/onboarding.yaml:18:12: steps[1].after: '2 fortnights' is not a duration such as 30m, 6h, 2d, 1w, 2 days or 1d 12h",
        ],
        id="journey-bad-after",
    ),
    pytest.param(
        {
            "journeys/onboarding.yaml": JOURNEY.replace("after: 0d", "after: 3d"),
            "journeys/day2.html": "x",
        },
        [
            "journeys/onboarding.yaml:18:12: steps[1].after: sends before the step declared above it (welcome, after: 3d): a journey's steps send in the order they are declared; move this step up, or say allow_before_previous: true",
        ],
        id="journey-step-backwards",
    ),
    pytest.param(
        {
            "journeys/onboarding.yaml": JOURNEY.replace("after: 0d", "after: 3d").replace(
                "after: 2d", "after: 2d\n    allow_before_previous: true"
            ),
            "journeys/day2.html": "x",
        },
        [],
        id="journey-step-backwards-allowed",
    ),
    pytest.param(
        {
            "journeys/onboarding.yaml": JOURNEY.replace(
                "after: 2d", "after: 2d\n    allow_before_previous: yes please"
            ),
            "journeys/day2.html": "x",
        },
        [
            "journeys/onboarding.yaml:19:28: steps[1].allow_before_previous: expected true or false, found the text 'yes please'",
        ],
        id="journey-allow-before-not-boolean",
    ),
    pytest.param(
        {
            "triggers/ext.yaml": "kind: Trigger\nkey: ext\ntype: external\ncampaign_id: {staging: 1}\nparameters:\n  type: object\n  properties:\n    items: {type: array}\n"
        },
        [
            "triggers/ext.yaml:4:14: campaign_id: no id for environment production",
            "triggers/ext.yaml:4:15: campaign_id.staging: unknown environment 'staging'; ctflow.yaml declares: production, sandbox",
            "triggers/ext.yaml:8:5: parameters.properties.items: parameter 'items' is not a string, number, integer or boolean: CleverTap takes only text values for an external trigger; declare 'values' to flatten it",
        ],
        id="external-missing-env",
    ),
    pytest.param(
        {
            "triggers/six.yaml": "kind: Trigger\nkey: ext\ntype: external\ncampaign_ids: [1, 2, 3, 4, 5, 6]\nparameters:\n  type: object\n",
            "triggers/none.yaml": "kind: Trigger\nkey: ext\ntype: external\ncampaign_ids: []\nparameters:\n  type: object\n",
            "triggers/twice.yaml": "kind: Trigger\nkey: ext\ntype: external\ncampaign_ids: [7, 7]\nparameters:\n  type: object\n",
            "triggers/both.yaml": "kind: Trigger\nkey: ext\ntype: external\ncampaign_id: 1\ncampaign_ids: [2, 3]\nparameters:\n  type: object\n",
            "triggers/zero.yaml": "kind: Trigger\nkey: ext\ntype: external\ncampaign_ids: [1, 0]\nparameters:\n  type: object\n",
            "triggers/neither.yaml": "kind: Trigger\nkey: ext\ntype: external\nparameters:\n  type: object\n",
        },
        [
            "triggers/both.yaml:4:14: campaign_id: give campaign_id (one campaign) or campaign_ids (several), not both",
            "triggers/neither.yaml:1:1: missing required field 'campaign_id' (or 'campaign_ids' for several campaigns)",
            "triggers/none.yaml:4:15: campaign_ids: expected 1 to 5 different campaign ids: CleverTap triggers at most 5 campaigns in one call",
            "triggers/six.yaml:4:15: campaign_ids: expected 1 to 5 different campaign ids: CleverTap triggers at most 5 campaigns in one call",
            "triggers/twice.yaml:4:15: campaign_ids: expected 1 to 5 different campaign ids: CleverTap triggers at most 5 campaigns in one call",
            "triggers/zero.yaml:4:19: campaign_ids[1]: 0 is less than the minimum of 1",
        ],
        id="external-campaign-ids",
    ),
    pytest.param(
        {
            "triggers/ext.yaml": "kind: Trigger\nkey: ext\ntype: external\ncampaign_ids: {staging: [1, 2]}\nparameters:\n  type: object\n",
            **sub(TR, "channel: email\n", "channel: email\ncampaign_ids: [1, 2]\n"),
        },
        [
            "triggers/ext.yaml:4:15: campaign_ids: no ids for environment production",
            "triggers/ext.yaml:4:16: campaign_ids.staging: unknown environment 'staging'; ctflow.yaml declares: production, sandbox",
            "triggers/receipt.yaml:5:15: campaign_ids: campaign_ids is for external triggers; an identity trigger groups its stats under one campaign_id",
        ],
        id="campaign-ids-per-environment",
    ),
]


CASES += [
    pytest.param(
        {
            "datasets/buyers.yaml": BASE["datasets/buyers.yaml"].replace(
                "identity: customer", "identity: customr"
            ),
            "datasets/vip.yaml": "kind: Dataset\nkey: vip\ntype: profiles\nfile: vip.jsonl\n"
            "identity: id\ncolumns: {Nmae: Name}\n",
            "datasets/vip.jsonl": '{"id": "c-1", "Name": "Ann"}\n',
        },
        [
            "datasets/buyers.yaml:6:11: identity: column 'customr' is not in buyers.csv (did you mean 'customer'?)",
            "datasets/vip.yaml:6:11: columns.Nmae: column 'Nmae' is not in vip.jsonl (did you mean 'Name'?)",
        ],
        id="dataset-columns",
    ),
    pytest.param(
        {"docker-compose.yml": "services: {}\n"},
        [
            "docker-compose.yml:1:1: missing 'kind': one of EventSchema, ProfileSchema, Campaign, Journey, Trigger, Dataset, Audience says what this declares (not a ctflow file? list it under exclude: in ctflow.yaml)"
        ],
        id="foreign-yaml",
    ),
    pytest.param(
        {
            "ctflow.yaml": BASE["ctflow.yaml"] + "exclude: [docker-compose.yml, 'ops/**']\n",
            "docker-compose.yml": "services: {}\n",
            "ops/deploy/values.yaml": "replicas: 2\n",
        },
        [],
        id="foreign-yaml-excluded",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), CASES)
def test_each_kind_of_problem_is_reported_where_it_is(
    tmp_path: Path, overrides: dict[str, str | None], expected: list[str]
) -> None:
    assert problems(tmp_path, overrides) == expected


def test_the_base_project_is_valid(tmp_path: Path) -> None:
    assert problems(tmp_path) == []


def test_with_the_clock_a_window_ending_in_the_future_is_refused(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from ctflow.spec.validate import check
    from tests.spec.project_support import write_project

    window = "from: 2026-11-01\n      to: 2026-11-30"
    write_project(tmp_path, sub(CW, "in_last: 90d", window))
    today = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    found = [str(p).replace(f"{tmp_path}/", "") for p in check(tmp_path, now=today).problems]
    assert len(found) == 1
    assert found[0].startswith("campaigns/winback.yaml:9:11: audience.did[0].to:")
    assert "2026-11-30" in found[0]
    later = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert check(tmp_path, now=later).problems == []
