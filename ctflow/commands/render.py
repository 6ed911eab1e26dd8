"""``ctflow render TRIGGER|CAMPAIGN``: the final content people will read, rendered offline.

A trigger renders with each of its fixtures (or the one ``--fixture`` names) as the request
``ctflow send`` would make; a campaign renders as its create body for the environment. A plain
function returning an exit code; ``ctflow.cli`` parses the flags.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ctflow.config import CONFIG_NAME, find_project
from ctflow.errors import ConfigError, InvalidInput
from ctflow.masking import mask
from ctflow.plan.desired import desired_state
from ctflow.problems import suggest
from ctflow.send import message
from ctflow.send.text import as_text
from ctflow.spec.validate import load


def render(
    directory: Path,
    env_name: str | None,
    name: str,
    fixture: str | None,
    fmt: str,
    *,
    out: TextIO,
    now: datetime,
) -> int:
    """Offline: the environment gives the variables, no credentials are needed. ``now`` fixes
    a campaign's audience windows, as in a plan made at that moment."""
    project = find_project(directory)
    if not project.found:
        raise ConfigError(f"no {CONFIG_NAME} in {directory.resolve()} or any directory above it")
    secrets = project.secret_values()
    decls = load(project.root)
    env = project.environment(env_name)
    if name in decls.triggers:
        decl = decls.triggers[name]
        names = [fixture] if fixture else [f["name"] for f in decl.data.get("fixtures") or []]
        if not names:
            raise InvalidInput(
                f"trigger {name!r} has no fixtures to render with; add one under fixtures:"
            )
        renders = []
        for each in names:
            built = message.with_fixture(decl, project, env, each)
            renders.append({"fixture": each, "endpoint": built.endpoint, "body": dict(built.body)})
        result: dict[str, Any] = {"kind": "Trigger", "key": name, "environment": env.name}
        result["renders"] = renders
    else:
        if fixture is not None and name in decls.campaigns:
            raise InvalidInput(f"{name!r} is a campaign: it has no fixtures (drop --fixture)")
        today = now.astimezone(ZoneInfo(project.timezone_for(env))).date()
        if name not in decls.campaigns:
            raise InvalidInput(_unknown(name, sorted(decls.triggers), sorted(decls.campaigns)))
        (desired,) = desired_state(decls, env, today, only=name)  # another's failure is not its
        payload = dict(desired.payload)
        body = {k: v for k, v in payload.items() if k not in ("where", "when", "labels")}
        result = {"kind": "Campaign", "key": name, "environment": env.name}
        result["renders"] = [{"fixture": None, "endpoint": "/1/targets/create.json", "body": body}]
    text = json.dumps(result, indent=2, ensure_ascii=False) if fmt == "json" else as_text(result)
    out.write(mask(text, secrets) + "\n")
    return 0


def _unknown(name: str, triggers: list[str], campaigns: list[str]) -> str:
    """Why ``name`` renders nothing, and what would: a journey's steps, the closest key (a
    journey step by its own key too), or every key there is."""
    steps = [key for key in campaigns if key.startswith(f"{name}.")]
    if steps:
        return f"{name!r} is a journey: render one of its steps ({', '.join(steps)})"
    by_step = [key for key in campaigns if key.rsplit(".", 1)[-1] == name]
    hint = f" (did you mean {by_step[0]!r}?)" if len(by_step) == 1 else ""
    hint = hint or suggest(name, [*triggers, *campaigns])
    if hint:
        return f"no Trigger or Campaign {name!r}{hint}"
    return (
        f"no Trigger or Campaign {name!r}; triggers: {', '.join(triggers) or 'none'}; "
        f"campaigns: {', '.join(campaigns) or 'none'}"
    )
