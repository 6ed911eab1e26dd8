"""The `/_sandbox/` control endpoints of a served sandbox: state, clock, faults, reset, seed, and
the recorded sends and campaigns. Imports only the standard library, starlette and sandbox modules.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ctflow.sandbox.faults import FAILURES, Faults
from ctflow.sandbox.replies import fail, malformed
from ctflow.sandbox.state import SandboxState

FAULT_FIELDS = {f.name for f in dataclasses.fields(Faults)}


def plain(value: Any) -> Any:
    """Datetimes and sets as JSON-friendly values."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return value


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise malformed() from None
    if not isinstance(body, dict):
        raise malformed()
    return body


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def faults_dict(faults: Faults) -> dict[str, Any]:
    return plain(dataclasses.asdict(faults))  # type: ignore[no-any-return]


class _Control:
    """The control endpoints over one sandbox."""

    def __init__(self, sb: SandboxState) -> None:
        self.sb = sb

    def state(self) -> dict[str, Any]:
        sb = self.sb
        return {
            "status": "success",
            "counts": sb.counts(),
            "now": sb.clock.now().isoformat(),
            "faults": faults_dict(sb.faults),
        }

    async def get_state(self, request: Request) -> Response:
        return JSONResponse(self.state())

    async def clock(self, request: Request) -> Response:
        body = await _body(request)
        if "set" in body:
            try:
                self.sb.clock.set(str(body["set"]))
            except ValueError:
                raise fail("set must be an ISO-8601 datetime") from None
        if "advance_seconds" in body:
            seconds = body["advance_seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise fail("advance_seconds must be a number")
            self.sb.clock.advance(seconds=seconds)
        return JSONResponse(self.state())

    async def faults(self, request: Request) -> Response:
        body = await _body(request)
        unknown = set(body) - FAULT_FIELDS
        if unknown:
            raise fail(f"Unknown fault fields: {', '.join(sorted(unknown))}")
        for key, value in body.items():
            setattr(self.sb.faults, key, _fault_value(key, value))
        return JSONResponse(self.state())

    async def reset(self, request: Request) -> Response:
        self.sb.reset()
        return JSONResponse(self.state())

    async def seed(self, request: Request) -> Response:
        body = await _body(request)
        profiles, seed = int(body.get("profiles", 3000)), int(body.get("seed", 42))
        return JSONResponse({"status": "success", "seeded": self.sb.seed(profiles, seed)})

    async def sends(self, request: Request) -> Response:
        return JSONResponse({"status": "success", "sends": plain(self.sb.sends())})

    async def campaigns(self, request: Request) -> Response:
        return JSONResponse({"status": "success", "campaigns": plain(self.sb.campaigns())})

    async def messages(self, request: Request) -> Response:
        raw = request.path_params["campaign_id"]
        if not raw.isdecimal() or self.sb.store.campaign(int(raw)) is None:
            raise fail(f"no campaign {raw}", 404, 404)
        return JSONResponse({"status": "success", "messages": plain(self.sb.messages(int(raw)))})

    async def dashboard_campaign(self, request: Request) -> Response:
        """Add a dashboard-built campaign: ``name``, optional ``channel``, ``start`` (ISO-8601),
        ``sent``, ``labels``."""
        body = await _body(request)
        name, sent = body.get("name"), body.get("sent", 1000)
        if not isinstance(name, str) or not name.strip():
            raise fail("name must be non-empty text")
        if isinstance(sent, bool) or not isinstance(sent, int) or sent < 0:
            raise fail("sent must be a whole number, 0 or more")
        try:
            start = datetime.fromisoformat(body["start"]) if "start" in body else None
        except (TypeError, ValueError):
            raise fail("start must be an ISO-8601 datetime") from None
        if start is not None and start.tzinfo is None:
            raise fail("start must name its timezone (e.g. 2026-11-20T10:00:00+05:30)")
        labels = body.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise fail("labels must be a list of text")
        channel = body.get("channel", "push")
        if not isinstance(channel, str):
            raise fail("channel must be text")
        made = self.sb.add_dashboard_campaign(
            name, channel=channel, start=start, sent=sent, labels=labels
        )
        return JSONResponse({"status": "success", "id": made})


def _fault_value(key: str, value: Any) -> Any:
    """A fault field's new value, checked: ``paths`` a list of paths (kept as a set) or null,
    ``seed`` an integer or null, ``fail_next`` a list of statuses, ``commit_5xx`` a boolean,
    the others numbers."""
    if key == "fail_next":
        if not isinstance(value, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s in FAILURES for s in value
        ):
            raise fail(f"fail_next must be a list of statuses among {sorted(FAILURES)}")
        return list(value)
    if key == "commit_5xx":
        if not isinstance(value, bool):
            raise fail("commit_5xx must be true or false")
        return value
    if key == "paths" and value is not None:
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            raise fail("paths must be a list of request paths or null")
        return set(value)
    if key == "seed" and value is not None and not isinstance(value, int):
        raise fail("seed must be an integer or null")
    if key not in ("paths", "seed") and not _number(value):
        raise fail(f"{key} must be a number")
    return value


def control_routes(sb: SandboxState) -> list[Route]:
    control = _Control(sb)
    return [
        Route("/_sandbox/state", control.get_state, methods=["GET"]),
        Route("/_sandbox/clock", control.clock, methods=["POST"]),
        Route("/_sandbox/faults", control.faults, methods=["POST"]),
        Route("/_sandbox/reset", control.reset, methods=["POST"]),
        Route("/_sandbox/seed", control.seed, methods=["POST"]),
        Route("/_sandbox/sends", control.sends, methods=["GET"]),
        Route("/_sandbox/campaigns", control.campaigns, methods=["GET"]),
        Route("/_sandbox/campaigns/{campaign_id}/messages", control.messages, methods=["GET"]),
        Route("/_sandbox/dashboard-campaigns", control.dashboard_campaign, methods=["POST"]),
    ]
