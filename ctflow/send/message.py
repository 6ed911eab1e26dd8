"""One send of a declared Trigger as the exact request CleverTap gets: the data checked against
the trigger's ``parameters``, its templates rendered with that data, CleverTap's rules applied.

Owns the request bodies of ``/1/send/<channel>.json`` (clevertap-api.md §5),
``/1/send/externaltrigger.json`` (§6.1) and ``/2/send/externaltrigger.json`` (§6.2, a trigger
with ``campaign_ids``), and the idempotency key of a send. No HTTP, no journal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from ctflow.config import SANDBOX, Environment, Project
from ctflow.errors import InvalidInput
from ctflow.problems import LONE_SURROGATE, Problems, lone_surrogates, suggest
from ctflow.spec import templates, templating, triggers
from ctflow.spec.model import Decl, Declarations
from ctflow.spec.payload import CONTENT

MAX_VALUE_BYTES = 512  # §1.5: a property value
TRIGGER_CAMPAIGNS = "/2/send/externaltrigger.json"  # §6.2: several campaigns in one call
MAX_KEY_CHARS = 120
# The campaign id sent to the sandbox (which accepts any) when a trigger names none for it.
SANDBOX_STAND_IN = 1
RECIPIENT_KEYS = {  # recipient: → the key of "to" (§5 capitalised, §6.1 lower-case)
    "identity": {"identity": "Identity", "external": "identity"},
    "email": {"identity": "Email", "external": "email"},
    # CleverTap's `to` has no phone key: a phone number reaches the profile whose Identity it is
    "phone": {"identity": "Identity", "external": "identity"},
    "object_id": {"identity": "objectId", "external": "objectId"},
}
REQUIRED_CONTENT = {  # §4.3: what CleverTap refuses a message without, after rendering
    "push": ("title", "body"),
    "email": ("subject", "body", "sender_name"),
    "sms": ("body",),
    "webpush": ("title", "body"),
}


@dataclass(frozen=True)
class Message:
    """What one send asks of CleverTap, except its recipients (``request`` adds them)."""

    trigger: str
    type: str
    """``identity`` or ``external``."""
    endpoint: str
    to_key: str
    """The key of ``to`` the recipients go under (``Identity``, ``email``, …)."""
    body: Mapping[str, Any]

    def request(self, recipients: Sequence[str]) -> dict[str, Any]:
        return {"to": {self.to_key: list(recipients)}, **self.body}

    @property
    def fingerprint(self) -> str:
        """Equal for two sends whose requests differ only in their recipients."""
        return _digest({"endpoint": self.endpoint, "to": self.to_key, "body": self.body})


def trigger(declarations: Declarations, key: str) -> Decl:
    """The Trigger declared as ``key``; exit 3 naming the declared ones otherwise."""
    found = declarations.triggers.get(key)
    if found is None:
        known = sorted(declarations.triggers)
        listed = ", ".join(known) if known else "none"
        raise InvalidInput(f"no Trigger {key!r}{suggest(key, known)}; declared: {listed}")
    return found


def fixture_data(decl: Decl, name: str) -> Any:
    """The data of fixture ``name`` (inline, or its file), as ``ctflow validate`` read it."""
    fixtures = decl.data.get("fixtures") or []
    for fixture in fixtures:
        if fixture["name"] == name:
            return triggers.fixture_data(decl, fixture)
    names = [f["name"] for f in fixtures]
    listed = ", ".join(names) if names else "none"
    raise InvalidInput(
        f"trigger {decl.key!r} has no fixture {name!r}{suggest(name, names)}; fixtures: {listed}"
    )


def with_fixture(decl: Decl, project: Project, env: Environment, fixture: str) -> Message:
    """The send of ``decl`` with the data of its fixture ``fixture``, checked; exit 3 naming
    the fixture when the data does not fit or does not render."""
    data = fixture_data(decl, fixture)
    check_data(decl, data, where=f"fixture {fixture!r}")
    return build(decl, project, env, data)


def check_data(
    decl: Decl, data: Any, where: str = "data", validator: Draft202012Validator | None = None
) -> None:
    """Exit 3 listing every way ``data`` breaks the trigger's ``parameters``, each at its path.
    ``validator``: :func:`parameters_validator`'s, kept by a caller that checks many."""
    validator = validator or parameters_validator(decl)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.path)), e.message))
    lines = [f"{_path(where, error.absolute_path)}: {error.message}" for error in errors]
    lines.extend(f"{_path(where, keys)}: {LONE_SURROGATE}" for keys in lone_surrogates(data))
    if lines:
        raise InvalidInput(
            f"the data does not fit the parameters of trigger {decl.key!r}: "
            f"{len(lines)} problem(s)",
            lines,
        )


def parameters_validator(decl: Decl) -> Draft202012Validator:
    """The trigger's ``parameters``, compiled."""
    checker = Draft202012Validator.FORMAT_CHECKER
    return Draft202012Validator(decl.data["parameters"], format_checker=checker)


def build(decl: Decl, project: Project, env: Environment, data: Mapping[str, Any]) -> Message:
    """The send of ``decl`` with ``data`` (already checked) in ``env``; exit 3 when a template
    does not render with it or the result breaks CleverTap's rules."""
    kind = decl.data["type"]
    recipient = decl.data.get("recipient", "identity")
    rendered = _rendered(decl, project, env, data)
    if kind == "external" and "campaign_ids" in decl.data:
        body: dict[str, Any] = {
            "campaign_id_list": campaign_ids(decl, env),
            "ExternalTrigger": _external_values(decl, rendered, data),
        }
        endpoint = TRIGGER_CAMPAIGNS
    elif kind == "external":
        body = {
            "campaign_id": campaign_id(decl, env),
            "ExternalTrigger": _external_values(decl, rendered, data),
        }
        endpoint = "/1/send/externaltrigger.json"
    else:
        channel = decl.data["channel"]
        body = CONTENT[channel](rendered)
        _check_content(decl, channel, body.get("content") or {})
        body["respect_frequency_caps"] = decl.data.get("respect_frequency_caps", False)
        if "tag_group" in decl.data:
            body["tag_group"] = decl.data["tag_group"]
        if "provider" in decl.data:
            body["provider_nick_name"] = decl.data["provider"]
        if "campaign_id" in decl.data:
            body["campaign_id"] = campaign_id(decl, env)
        endpoint = f"/1/send/{channel}.json"
    return Message(decl.key, kind, endpoint, RECIPIENT_KEYS[recipient][kind], body)


def campaign_id(decl: Decl, env: Environment) -> int:
    """The dashboard campaign of ``env``. The sandbox takes any id: unless one is named for it,
    it gets :data:`SANDBOX_STAND_IN`, never another environment's campaign."""
    ids = decl.data["campaign_id"]
    if not isinstance(ids, Mapping):
        return int(ids)
    if env.name in ids:
        return int(ids[env.name])
    if env.name == SANDBOX:
        return SANDBOX_STAND_IN
    raise InvalidInput(f"trigger {decl.key!r} has no campaign_id for environment {env.name!r}")


def campaign_ids(decl: Decl, env: Environment) -> list[int]:
    """The dashboard campaigns ``campaign_ids`` names for ``env``; for the sandbox without its
    own, as many stand-ins (1, 2, …) as the other environments name."""
    ids = decl.data["campaign_ids"]
    if not isinstance(ids, Mapping):
        return [int(i) for i in ids]
    if env.name in ids:
        return [int(i) for i in ids[env.name]]
    if env.name == SANDBOX:
        count = len(next(iter(ids.values()), [SANDBOX_STAND_IN]))
        return list(range(SANDBOX_STAND_IN, SANDBOX_STAND_IN + count))
    raise InvalidInput(f"trigger {decl.key!r} has no campaign_ids for environment {env.name!r}")


def send_key(trigger_key: str, recipient: str, data: Any) -> str:
    """The idempotency key of sending ``data`` through ``trigger_key`` to ``recipient``, when
    the caller gives none: the same message to the same person is the same send."""
    digest = _digest({"trigger": trigger_key, "to": recipient, "data": data})
    return f"{trigger_key}:{digest[:24]}"


def data_digest(trigger_key: str, data: Any) -> str:
    """What a given idempotency key stands for: a key reused with other data is refused."""
    return _digest({"trigger": trigger_key, "data": data})


def _rendered(
    decl: Decl, project: Project, env: Environment, data: Mapping[str, Any]
) -> dict[str, Any]:
    """``decl.data`` with every template rendered and a ``body_file`` read into ``body``."""
    problems = Problems()

    def failed(field: templating.Field, exc: templates.TemplateRenderError) -> None:
        field.report(problems, exc.line, 1, f"does not render with this data: {exc}")

    values = templating.context(project, env, data)
    out = templating.rendered(decl, values, problems, failed)
    if problems:
        failures = [str(problem) for problem in problems.sorted()]
        raise InvalidInput(f"trigger {decl.key!r} cannot be rendered", failures)
    return out


def _external_values(
    decl: Decl, rendered: Mapping[str, Any], data: Mapping[str, Any]
) -> dict[str, str]:
    """The ``ExternalTrigger`` object: the rendered ``values``, or the data itself, as text
    (CleverTap supports only string values there, §6.1)."""
    source = rendered["values"] if "values" in decl.data else data
    values = {str(key): _text(value) for key, value in source.items() if value is not None}
    problems = []
    for key, value in values.items():
        if len(key) > MAX_KEY_CHARS:
            problems.append(f"{key[:40]}…: {len(key)} characters; CleverTap allows 120")
        size = len(value.encode("utf-8"))
        if size > MAX_VALUE_BYTES:
            problems.append(f"{key}: {size} bytes; CleverTap allows {MAX_VALUE_BYTES} a value")
    if problems:
        raise InvalidInput(f"trigger {decl.key!r}: the values break CleverTap's limits", problems)
    return values


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    raise InvalidInput(
        f"{value!r} is not text: CleverTap takes only strings in an external trigger; "
        "declare 'values' to flatten it"
    )


def _check_content(decl: Decl, channel: str, content: Mapping[str, Any]) -> None:
    empty = [
        f"content.{name}: renders empty; CleverTap refuses a {channel} message without it"
        for name in REQUIRED_CONTENT.get(channel, ())
        if not str(content.get(name, "")).strip()
    ]
    if empty:
        raise InvalidInput(f"trigger {decl.key!r}: the rendered message is incomplete", empty)


def _path(where: str, path: Sequence[str | int]) -> str:
    text = where
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
