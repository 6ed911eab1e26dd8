"""The Starlette app: the CleverTap routes, their JSON plumbing, and the 404/405/400 fail bodies.

Imports only the standard library, starlette, orjson and sandbox modules.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ctflow.sandbox import (
    campaigns,
    custom_lists,
    exports,
    reads,
    reports,
    segments,
    sends,
    upload,
)
from ctflow.sandbox.control import control_routes
from ctflow.sandbox.gate import GateMiddleware
from ctflow.sandbox.replies import ApiError, Json, fail_body, malformed
from ctflow.sandbox.state import SandboxState

Endpoint = Callable[[Request], Awaitable[Response]]


# orjson reads what json.loads reads except integers of 19 digits or more (it makes some floats),
# NaN/Infinity, lone surrogates and non-UTF-8 encodings: those bodies go to json.loads.
DIGITS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
LONG_NUMBER = b"0" * 19


def parse_json(raw: bytes) -> Any:
    if raw.translate(DIGITS).find(LONG_NUMBER) < 0:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(raw)
    except ValueError:
        raise malformed() from None


async def read_json(request: Request) -> Any:
    return parse_json(await request.body())


async def answer(work: Callable[[], Json]) -> Response:
    """`work` (SQLite, JSON) and its reply's encoding on a worker thread, so the event loop goes
    on reading and answering other calls meanwhile, as CleverTap serves many at once."""
    return await run_in_threadpool(lambda: JSONResponse(work()))


def raw_query_value(request: Request, name: str) -> str | None:
    """A query parameter exactly as sent, still percent-encoded (cursors must be verbatim, §8.1)."""
    for part in request.scope["query_string"].decode("latin-1").split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return str(value)
    return None


async def on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body, status_code=exc.status)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # §1.3: {"status":"fail","error":"Method Not Allowed","code":405}; 404 in the same shape.
    return JSONResponse(fail_body(exc.detail, exc.status_code), status_code=exc.status_code)


class _Api:
    """The CleverTap API's endpoints over one sandbox."""

    def __init__(self, sb: SandboxState) -> None:
        self.sb = sb
        # Checking a call's records is pure Python: more threads at it than cores would only
        # trade the GIL back and forth. The others wait asleep (still counted in flight).
        self.checking = threading.BoundedSemaphore(os.cpu_count() or 2)

    def now(self) -> float:
        return self.sb.clock.timestamp()

    async def upload_records(self, request: Request) -> Response:
        raw = await request.body()
        dry_run = request.query_params.get("dryRun") in ("1", "true")
        sb, now = self.sb, int(self.now())

        def work() -> Json:
            with self.checking:
                records, outcomes = upload.check_call(
                    parse_json(raw), sb.config.discarded_events, sb.config.event_properties
                )
            return upload.apply_call(sb.store, records, outcomes, now, dry_run)

        return await answer(work)  # §2.2: HTTP 200 even when every record fails

    def post(self, handler: Callable[[Any], Json]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            return await answer(lambda: handler(parse_json(raw)))

        return endpoint

    def send(self, channel: str) -> Endpoint:
        sb = self.sb

        async def endpoint(request: Request) -> Response:
            raw, path, now = await request.body(), request.url.path, self.now()
            return await answer(
                lambda: sends.identity_send(
                    sb.store, channel, parse_json(raw), sb.config, now, path
                )
            )

        return endpoint

    def export(self, kind: str) -> Endpoint:
        sb = self.sb

        async def endpoint(request: Request) -> Response:
            size = request.query_params.get("batch_size")
            if request.method == "POST":
                body = await read_json(request)
            elif "query" in request.query_params:  # §8.1 legacy: GET ?batch_size=&query=<json>
                try:
                    body = json.loads(request.query_params["query"])
                except ValueError:
                    raise malformed() from None
            else:
                cursor = raw_query_value(request, "cursor")
                return await answer(lambda: exports.page(sb.store, kind, cursor, sb.config))
            now = self.now()
            return await answer(
                lambda: exports.start_export(sb.store, kind, body, size, sb.config, now)
            )

        return endpoint

    def count(self, kind: str) -> Endpoint:
        sb = self.sb

        async def endpoint(request: Request) -> Response:
            req_id = request.query_params.get("req_id")
            if req_id is not None or request.method == "GET":
                return await answer(lambda: exports.poll_count(sb.store, kind, req_id or ""))
            body, now = await read_json(request), self.now()
            return await answer(lambda: exports.start_count(sb.store, kind, body, sb.config, now))

        return endpoint

    async def profile(self, request: Request) -> Response:
        store, params = self.sb.store, dict(request.query_params)
        return await answer(lambda: reads.profile(store, params))

    async def now_counts(self, request: Request) -> Response:
        raw, store, now = await request.body(), self.sb.store, self.now()
        return await answer(
            lambda: reads.now_counts(store, parse_json(raw) if raw.strip() else {}, now)
        )

    async def trigger_campaigns(self, request: Request) -> Response:
        """§6.2: several external-trigger campaigns a call, with the account's token."""
        sb = self.sb
        account = request.headers.get("x-clevertap-account-id", "")
        sends.check_token(sb.config, account, request.headers.get("x-clevertap-token"))
        raw, path, now = await request.body(), request.url.path, self.now()
        return await answer(
            lambda: sends.external_trigger(
                sb.store, parse_json(raw), sb.config, now, path, several=True
            )
        )

    async def custom_list_url(self, request: Request) -> Response:
        """§9: a presigned URL for one CSV, on this sandbox (S3's place)."""
        store, now = self.sb.store, self.now()
        base = str(request.base_url).rstrip("/")
        return await answer(lambda: custom_lists.presigned_url(store, base, now))

    async def presigned_put(self, request: Request) -> Response:
        """The PUT to a presigned URL: 200, or 403 with S3's body once it expired (§9)."""
        body, sb = await request.body(), self.sb
        token = request.path_params["token"]
        stored = await run_in_threadpool(
            lambda: custom_lists.put_file(
                sb.store, token, body, self.now(), sb.config.custom_list_url_seconds
            )
        )
        if not stored:
            return Response(custom_lists.EXPIRED, status_code=403, media_type="application/xml")
        return Response(b"", status_code=200)

    async def schema(self, request: Request) -> Response:
        # §9: documented as GET, the docs' own curl uses POST; both are accepted [?].
        store, kind = self.sb.store, request.query_params.get("type")
        return await answer(lambda: reads.schema(store, kind))


def api_routes(sb: SandboxState) -> list[Route]:
    api = _Api(sb)
    trigger = "/1/send/externaltrigger.json"
    # The sandbox's store, config and clock are read per request: tests may swap them.
    posts: dict[str, Callable[[Any], Json]] = {
        "/1/delete/profiles.json": lambda b: reads.delete_profiles(sb.store, b),
        "/1/targets/create.json": lambda b: campaigns.create(sb.store, b, sb.config, api.now()),
        "/1/targets/list.json": lambda b: reports.list_targets(sb.store, b, sb.config, api.now()),
        "/1/targets/stop.json": lambda b: reports.stop(sb.store, b, sb.config, api.now()),
        "/1/targets/result.json": lambda b: reports.result(sb.store, b, sb.config, api.now()),
        "/1/message/report.json": lambda b: reports.message_report(
            sb.store, b, sb.config, api.now()
        ),
        trigger: lambda b: sends.external_trigger(sb.store, b, sb.config, api.now(), trigger),
        "/api/createSegment": lambda b: segments.create(sb.store, b, api.now()),
        "/api/updateSegment": lambda b: segments.update(sb.store, b, sb.config),
        "/upload_custom_list_segment_completed": lambda b: custom_lists.completed(
            sb.store, b, api.now()
        ),
    }
    return [
        Route("/1/upload", api.upload_records, methods=["POST"]),
        *(Route(path, api.post(handler), methods=["POST"]) for path, handler in posts.items()),
        *(Route(f"/1/send/{c}.json", api.send(c), methods=["POST"]) for c in sends.SEND_CHANNELS),
        Route("/1/events.json", api.export("events"), methods=["GET", "POST"]),
        Route("/1/profiles.json", api.export("profiles"), methods=["GET", "POST"]),
        Route("/1/counts/events.json", api.count("events"), methods=["GET", "POST"]),
        Route("/1/counts/profiles.json", api.count("profiles"), methods=["GET", "POST"]),
        Route("/2/send/externaltrigger.json", api.trigger_campaigns, methods=["POST"]),
        Route("/1/now.json", api.now_counts, methods=["POST"]),
        Route("/1/profile.json", api.profile, methods=["GET"]),
        Route("/getSchema", api.schema, methods=["GET", "POST"]),
        Route("/get_custom_list_segment_url", api.custom_list_url, methods=["POST"]),
        Route(custom_lists.PRESIGNED_PREFIX + "{token}", api.presigned_put, methods=["PUT"]),
    ]


def build_app(sb: SandboxState) -> Starlette:
    return Starlette(
        routes=[*api_routes(sb), *control_routes(sb)],
        middleware=[Middleware(GateMiddleware, sandbox=sb)],
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error},
    )
