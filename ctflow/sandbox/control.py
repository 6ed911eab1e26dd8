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

from ctflow.sandbox.faults import Faults
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


def control_routes(sb: SandboxState) -> list[Route]:
    def state() -> dict[str, Any]:
        return {
            "status": "success",
            "counts": sb.counts(),
            "now": sb.clock.now().isoformat(),
            "faults": faults_dict(sb.faults),
        }

    async def get_state(request: Request) -> Response:
        return JSONResponse(state())

    async def clock(request: Request) -> Response:
        body = await _body(request)
        if "set" in body:
            try:
                sb.clock.set(str(body["set"]))
            except ValueError:
                raise fail("set must be an ISO-8601 datetime") from None
        if "advance_seconds" in body:
            seconds = body["advance_seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise fail("advance_seconds must be a number")
            sb.clock.advance(seconds=seconds)
        return JSONResponse(state())

    async def faults(request: Request) -> Response:
        body = await _body(request)
        unknown = set(body) - FAULT_FIELDS
        if unknown:
            raise fail(f"Unknown fault fields: {', '.join(sorted(unknown))}")
        for key, value in body.items():
            if key == "paths" and value is not None:
                if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
                    raise fail("paths must be a list of request paths or null")
                value = set(value)
            elif key == "seed" and value is not None and not isinstance(value, int):
                raise fail("seed must be an integer or null")
            elif key not in ("paths", "seed") and not _number(value):
                raise fail(f"{key} must be a number")
            setattr(sb.faults, key, value)
        return JSONResponse(state())

    async def reset(request: Request) -> Response:
        sb.reset()
        return JSONResponse(state())

    async def seed(request: Request) -> Response:
        body = await _body(request)
        summary = sb.seed(profiles=int(body.get("profiles", 3000)), seed=int(body.get("seed", 42)))
        return JSONResponse({"status": "success", "seeded": summary})

    async def sends(request: Request) -> Response:
        return JSONResponse({"status": "success", "sends": plain(sb.sends())})

    async def campaigns(request: Request) -> Response:
        return JSONResponse({"status": "success", "campaigns": plain(sb.campaigns())})

    return [
        Route("/_sandbox/state", get_state, methods=["GET"]),
        Route("/_sandbox/clock", clock, methods=["POST"]),
        Route("/_sandbox/faults", faults, methods=["POST"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/seed", seed, methods=["POST"]),
        Route("/_sandbox/sends", sends, methods=["GET"]),
        Route("/_sandbox/campaigns", campaigns, methods=["GET"]),
    ]
