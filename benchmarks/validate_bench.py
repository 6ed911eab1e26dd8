"""How long `ctflow validate` takes as a project grows (it runs as a pre-commit hook).

Generates projects with N campaigns (each with an audience on declared events, templated content)
and N/10 triggers with a fixture each, then times the real command in a fresh interpreter (what a
hook pays, imports included) and the in-process check. Prints seconds and per-declaration cost.
Run: .venv/bin/python benchmarks/validate_bench.py [--sizes 10 100 1000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ctflow.spec.validate import check

PROJECT = """\
project: bench
variables: {brand: Shop}
environments:
  production: {region: eu1}
"""
TRACKING = """\
kind: EventSchema
event: Charged
version: 1
properties:
  Amount: {type: number, required: true}
  Category: {type: string, enum: [Shoes, Bags, Hats]}
---
kind: EventSchema
event: App Launched
version: 1
---
kind: ProfileSchema
key: customers
properties:
  Customer Type: {type: string, enum: [Silver, Gold]}
  Name: {type: string}
"""
CAMPAIGN = """\
kind: Campaign
key: c{n}
name: Campaign {n}
channel: push
audience:
  did: [{{event: App Launched, in_last: 30d}}]
  did_not:
    - event: Charged
      in_last: 7d
      where: {{Amount: {{greater_than: {n}}}, Category: [Shoes, Bags]}}
  profile: {{Customer Type: Gold}}
content:
  title: "[[ vars.brand ]] deal {n}"
  body: "{{{{ Profile.Name | default: 'friend' }}}}, [% if env == 'production' %]hi[% endif %]"
  android: {{channel_id: deals}}
schedule: {{at: "2027-03-01 10:00"}}
---
"""
TRIGGER = """\
kind: Trigger
key: t{n}
type: identity
channel: email
parameters:
  type: object
  required: [order_id, items]
  properties:
    order_id: {{type: string}}
    items: {{type: array, items: {{type: object, properties: {{name: {{type: string}}}}}}}}
content:
  subject: "Order [[ order_id ]]"
  sender_name: "[[ vars.brand ]]"
  body: "[% for item in items %]<li>[[ item.name ]]</li>[% endfor %]"
fixtures:
  - {{name: one, data: {{order_id: A-{n}, items: [{{name: Mug}}]}}}}
---
"""


def write(root: Path, campaigns: int) -> int:
    (root / "ctflow.yaml").write_text(PROJECT)
    (root / "tracking.yaml").write_text(TRACKING)
    (root / "campaigns.yaml").write_text("".join(CAMPAIGN.format(n=n) for n in range(campaigns)))
    triggers = max(1, campaigns // 10)
    (root / "triggers.yaml").write_text("".join(TRIGGER.format(n=n) for n in range(triggers)))
    return campaigns + triggers + 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    print(f"{'campaigns':>9} {'decls':>6} {'cli s':>7} {'check s':>8} {'ms/decl':>8}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            decls = write(root, size)
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "ctflow", "validate", "-C", str(root)],
                capture_output=True,
                text=True,
            )
            cli = time.perf_counter() - started
            assert done.returncode == 0, done.stdout + done.stderr
            started = time.perf_counter()
            result = check(root)
            inner = time.perf_counter() - started
            assert result.valid
            print(f"{size:>9} {decls:>6} {cli:>7.2f} {inner:>8.2f} {1000 * inner / decls:>8.2f}")


if __name__ == "__main__":
    main()
