"""A small valid project to break in one place at a time (golden tests of ``ctflow validate``)."""

from __future__ import annotations

from pathlib import Path

from ctflow.spec.validate import check

BASE: dict[str, str] = {
    "ctflow.yaml": """\
project: shop
timezone: Europe/Berlin
variables:
  brand: Shop
environments:
  production:
    region: eu1
""",
    "tracking.yaml": """\
kind: EventSchema
event: Charged
version: 1
properties:
  Amount: {type: number, required: true}
  Currency: {type: string, enum: [EUR, USD]}
---
kind: EventSchema
event: App Launched
version: 1
---
kind: ProfileSchema
key: customers
properties:
  Name: string
  Customer Type: {type: string, enum: [Silver, Gold]}
  Age: integer
""",
    "campaigns/winback.yaml": """\
kind: Campaign
key: winback
name: We miss you
channel: push
audience:
  did:
    - event: App Launched
      in_last: 90d
  did_not:
    - event: Charged
      in_last: 30d
      where:
        Amount: {greater_than: 10}
  profile:
    Customer Type: Gold
content:
  title: "Hello from [[ vars.brand ]]"
  body: "{{ Profile.Name | default: 'friend' }}, come back!"
  android: {channel_id: marketing}
schedule: {at: "2027-01-05 10:00"}
""",
    "triggers/receipt.yaml": """\
kind: Trigger
key: receipt
type: identity
channel: email
parameters:
  type: object
  required: [order_id, items]
  properties:
    order_id: {type: string}
    items:
      type: array
      items:
        type: object
        required: [name]
        properties:
          name: {type: string}
          qty: {type: integer}
content:
  subject: "Order [[ order_id ]]"
  sender_name: "[[ vars.brand ]]"
  body: |
    <p>Thanks!</p>
    [% for item in items %]<li>[[ item.name ]]</li>[% endfor %]
fixtures:
  - name: one
    data: {order_id: A-1, items: [{name: Mug, qty: 1}]}
""",
    "journeys/onboarding.yaml": """\
kind: Journey
key: onboarding
name: Onboarding
anchor: "2027-01-04 09:00"
timezone: Asia/Kolkata
defaults:
  labels: [onboarding]
  audience:
    did:
      - {event: App Launched, in_last: 7d}
  content:
    push: {android: {channel_id: onboarding}}
steps:
  - key: welcome
    after: 0d
    channel: push
    content: {title: Hi, body: Welcome}
  - key: day2
    after: 2d 6h
    channel: sms
    audience:
      did_not:
        - {event: Charged, in_last: 7d, count: {at_least: 1}}
    content: {body_file: day2.txt}
""",
    "journeys/day2.txt": "[# a note #]Still thinking it over? {{ Profile.Name }}\n",
    "triggers/ext.yaml": """\
kind: Trigger
key: dunning-sms
type: external
campaign_id: {production: 1700000001}
parameters:
  type: object
  required: [amount]
  properties:
    amount: {type: number}
fixtures:
  - {name: small, data: {amount: 9.5}}
""",
    "datasets/buyers.yaml": """\
kind: Dataset
key: buyers
type: events
file: buyers.csv
event: Charged
identity: customer
columns: {total: Amount}
""",
    "datasets/buyers.csv": "customer,total\nc-1,10.5\n",
    "audiences/vip.yaml": """\
kind: Audience
key: vip
name: VIP customers
members: vip.csv
""",
    "audiences/vip.csv": "identity,note\nc-1,first\nc-2,\n",
}


def write_project(root: Path, overrides: dict[str, str | None] | None = None) -> Path:
    files = {**BASE, **(overrides or {})}
    for rel, text in files.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def problems(root: Path, overrides: dict[str, str | None] | None = None) -> list[str]:
    """The problems of the base project with ``overrides``, paths relative to ``root``."""
    write_project(root, overrides)
    result = check(root)
    return [str(p).replace(f"{root}/", "") for p in result.problems]
