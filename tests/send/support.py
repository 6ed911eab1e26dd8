"""A small project with two triggers and :class:`SendBed`, which runs ``ctflow send`` and
``ctflow render`` in-process against an in-memory sandbox whose faults a test can set."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctflow.clevertap import CleverTap
from ctflow.commands import render as rendercmd
from ctflow.commands import send as sendcmd
from ctflow.commands.shared import Invocation
from ctflow.config import find_project, resolve_target
from ctflow.connect import sandbox_client
from ctflow.errors import CtflowError
from ctflow.journal import JOURNAL_NAME, Journal, SqliteJournal
from ctflow.sandbox import Sandbox, SandboxConfig
from tests.contract.support import CREDS, FAST_RETRY

PROJECT = """\
project: shop
timezone: Asia/Kolkata
variables:
  brand: Shop
environments:
  production:
    region: in1
"""

SHIPPED = """\
kind: Trigger
key: order-shipped
type: identity
channel: email
parameters:
  type: object
  required: [order_id, items]
  additionalProperties: false
  properties:
    order_id: {type: string, pattern: "^SO-[0-9]+$"}
    items:
      type: array
      minItems: 1
      items:
        type: object
        required: [name, qty]
        properties:
          name: {type: string}
          qty: {type: integer, minimum: 1}
content:
  subject: "Order [[ order_id ]] is on its way"
  sender_name: "[[ vars.brand ]]"
  body: |
    <p>Hello {{ Profile.Name }},</p>
    <ul>
    [% for item in items %]  <li>[[ item.qty ]] x [[ item.name ]]</li>
    [% endfor %]</ul>
fixtures:
  - name: two-items
    data:
      order_id: SO-1001
      items: [{name: Mug & Saucer, qty: 2}, {name: Tea, qty: 1}]
"""

PAYMENT = """\
kind: Trigger
key: payment-failed
type: external
campaign_id: {production: 1700104562}
parameters:
  type: object
  required: [amount, attempt]
  properties:
    amount: {type: number}
    attempt: {type: integer}
    note: {type: string}
fixtures:
  - name: first
    data: {amount: 2499.5, attempt: 1}
"""


def write_project(root: Path, **extra: str) -> Path:
    files = {"ctflow.yaml": PROJECT, "triggers/shipped.yaml": SHIPPED}
    files["triggers/payment.yaml"] = PAYMENT
    files.update(extra)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class SendBed:
    def __init__(
        self,
        root: Path,
        sb: Sandbox | None = None,
        environ: dict[str, str] | None = None,
        base_url: str | None = None,
    ) -> None:
        """``sb``: a sandbox shared with another bed (one account, two checkouts);
        ``base_url``: where ``sb`` is served, to reach it over loopback HTTP."""
        self.root = write_project(root)
        self.sb = sb or Sandbox(db=":memory:", config=SandboxConfig(timezone="Asia/Kolkata"))
        self.environ = environ or {}
        self.base_url = base_url

    def client(self) -> CleverTap:
        if self.base_url is not None:
            return CleverTap(CREDS, base_url=self.base_url, retry=FAST_RETRY)
        return sandbox_client(self.sb, retry=FAST_RETRY)

    def invocation(self) -> Invocation:
        from datetime import UTC, datetime

        return Invocation(
            directory=self.root,
            target=resolve_target(find_project(self.root), None, self.environ),
            now=datetime.now(UTC),
            user="tester",
            host="ci-1",
            command="ctflow send",
            connect=self.client,
        )

    def send(self, trigger: str, **options: Any) -> Ran:
        chosen = sendcmd.SendOptions(trigger=trigger, **options)
        return _run(lambda out, err: sendcmd.send(self.invocation(), chosen, out=out, err=err))

    def render(self, name: str, fixture: str | None = None, fmt: str = "text") -> Ran:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        return _run(
            lambda out, err: rendercmd.render(self.root, None, name, fixture, fmt, out=out, now=now)
        )

    def sent(self) -> list[dict[str, Any]]:
        """What reached the sandbox: each call's endpoint and body."""
        return self.sb.sends()

    def journal(self) -> Journal:
        return SqliteJournal.open(self.root / ".ctflow" / JOURNAL_NAME)


def _run(command: Callable[[io.StringIO, io.StringIO], int]) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = command(out, err)
    except CtflowError as exc:
        err.write(f"ctflow: {exc.message}\n")
        for problem in getattr(exc, "problems", []):
            err.write(f"  {problem}\n")
        code = exc.exit_code
    return Ran(int(code), out.getvalue(), err.getvalue())
