"""The JSON plan (docs/plan-format.md): printed by ``ctflow plan --format json``, and the saved
plan file of ``--out FILE`` that ``ctflow apply`` reads back. Pure: standard library and
``ctflow.plan.model`` only."""

from __future__ import annotations

import json

from ctflow.plan.model import Plan, PlanFormatError, from_dict, to_dict


def render_json(plan: Plan) -> str:
    """The printed plan: no create bodies; sensitive field values are already masked."""
    return json.dumps(to_dict(plan, payloads=False), indent=2, ensure_ascii=False) + "\n"


def save(plan: Plan) -> str:
    """The saved plan file: the printed plan plus each change's exact create body."""
    return json.dumps(to_dict(plan, payloads=True), indent=2, ensure_ascii=False) + "\n"


def load(text: str) -> Plan:
    """A saved plan; :class:`PlanFormatError` when the text is not one this ctflow reads."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFormatError(
            f"not a ctflow plan: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return from_dict(raw)
