"""``CleverTap``: one async method per API call, all through one request path.

operation → its family's slot → retry (stamina, by the operation's row of ``retry.RETRIES``) →
transport → error mapping → typed parse. Knows HTTP and CleverTap's API, nothing of
campaigns-as-code; never imports httpx (``_http`` does).
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, datetime
from importlib import metadata
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from ctflow.clevertap import checks, polling
from ctflow.clevertap._http import ASGIApp, AsyncTransport, QueryParams, Transport, asgi_transport
from ctflow.clevertap.credentials import Credentials
from ctflow.clevertap.errors import (
    AuthError,
    CleverTapError,
    InvalidRequest,
    MethodNotAllowedError,
    NotFoundError,
    ServerError,
    UnexpectedResponseError,
    UploadRefusedError,
    ValidationError,
    check_response,
    error_from_response,
)
from ctflow.clevertap.generic import ApiAnswer, check_path, operation_of
from ctflow.clevertap.limits import FAMILY_OF, AccountSlots, Clock, Gate, Limits, Sleep
from ctflow.clevertap.models import (
    CampaignReport,
    CampaignSummary,
    CreatedCampaign,
    Estimates,
    MessageReport,
    MessageReportRow,
    Profile,
    RealtimeCounts,
    Schema,
    Segment,
    SegmentUpdate,
    SendAck,
    UploadResult,
    as_int,
    yyyymmdd,
)
from ctflow.clevertap.polling import MAX_EXPORT_BATCH, Pacing
from ctflow.clevertap.regions import REGIONS, base_url_for
from ctflow.clevertap.retry import (
    Operation,
    RetryPolicy,
    call_with_retry,
    server_error,
    upload_operation,
)

logger = logging.getLogger("ctflow.clevertap")

Channel = Literal["push", "email", "sms", "webpush", "whatsapp"]
SEND_CHANNELS: tuple[str, ...] = get_args(Channel)
SANDBOX_BASE_URL = "http://sandbox.ctflow.invalid"
DEFAULT_LIMITS = Limits()
DEFAULT_RETRY = RetryPolicy()
_NOT_FOUND_WORDS = ("not found", "no such", "does not exist", "doesn't exist", "no profile")


class CleverTap:
    """Async client of one CleverTap account; use as ``async with CleverTap(...) as ct:``."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        region: str | None = None,
        base_url: str | None = None,
        transport: AsyncTransport | None = None,
        limits: Limits = DEFAULT_LIMITS,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: float = 30.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        shared: AccountSlots | None = None,
        account_timezone: str | None = None,
    ) -> None:
        """``base_url`` wins over ``region``; with neither, CleverTap's default region eu1.

        ``clock``/``sleep`` pace polling and the create rate; tests inject fakes. ``shared``:
        the account's slots, counted with other processes (besides this one's ``limits``).
        ``account_timezone``: the timezone the caller takes the account's to be (its YYYYMMDD
        dates are the account's days, §1.6); a refusal of a date in the future names it.
        """
        self.account_timezone = account_timezone
        self._credentials = credentials
        self._passcode_bytes = credentials.passcode.encode()
        self.base_url = base_url or (base_url_for(region) if region else REGIONS["eu1"])
        self._transport = Transport(
            self.base_url,
            headers={**credentials.headers(), "User-Agent": _user_agent()},
            transport=transport,
            timeout=timeout,
        )
        self._gate = Gate(limits, clock=clock, sleep=sleep, shared=shared)
        self._retry = retry
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def in_process(cls, app: ASGIApp, credentials: Credentials, **kw: Any) -> CleverTap:
        """A client whose requests are handled by ``app`` in this process (the sandbox)."""
        kw.setdefault("base_url", SANDBOX_BASE_URL)
        return cls(credentials, transport=asgi_transport(app), **kw)

    def __repr__(self) -> str:
        return f"CleverTap(account_id={self._credentials.account_id!r}, base_url={self.base_url!r})"

    async def __aenter__(self) -> CleverTap:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    # --- the one request path ---------------------------------------------------------------

    async def _call(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        raw_query: str | None = None,
        content: bytes | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        endpoint = f"{method} {path}"
        family = FAMILY_OF[operation]

        async def attempt() -> dict[str, Any]:
            try:
                async with self._gate.slot(family):
                    started = time.perf_counter()
                    raw = await self._transport.request(
                        method,
                        path,
                        params=params,
                        json=json,
                        raw_query=raw_query,
                        content=content,
                        headers=headers,
                    )
                elapsed = time.perf_counter() - started
                logger.debug("%s -> %d in %.3fs", endpoint, raw.status, elapsed)
                # Scrub before anything parses or cuts the body: an echoed passcode cut in half
                # by a message snippet could no longer be found and masked afterwards.
                body = raw.body.replace(self._passcode_bytes, b"***")
                try:
                    return check_response(raw.status, body, endpoint=endpoint)
                except ServerError as exc:
                    raise server_error(exc, operation) from None
            except CleverTapError as exc:
                exc.redact(self._credentials.passcode)
                if isinstance(exc, ValidationError):
                    _hint_the_timezone(exc, self.account_timezone)
                logger.debug("%s failed: %s", endpoint, type(exc).__name__)
                raise

        return await call_with_retry(retry or self._retry, attempt, operation=operation)

    # --- upload and profile mutation --------------------------------------------------------

    async def upload(
        self, records: Sequence[Mapping[str, Any]], *, dry_run: bool = False
    ) -> UploadResult:
        """Upload 1..1000 records (≤100 tokens). A 5xx or a lost answer is retried only when
        every record is a profile upsert or a token (``retry.upload_operation``)."""
        batch = checks.upload_batch("upload", records)
        doc = await self._call(
            upload_operation(batch),
            "POST",
            "/1/upload",
            params={"dryRun": 1} if dry_run else None,
            json={"d": batch},
        )
        return UploadResult.from_api(doc)

    async def upload_encoded(
        self, body: bytes, *, upserts: bool = False, retry: RetryPolicy | None = None
    ) -> UploadResult:
        """Upload a body already encoded as ``{"d": [...]}`` (the caller keeps CleverTap's
        per-call limits: 1..1000 records, at most 100 tokens).

        For bulk uploaders that encode faster than the stdlib and pace retries themselves:
        ``upserts`` says the body holds only profile upserts (no ``$incr``/``$decr``) and
        tokens, so sending it twice is harmless and a 5xx or a lost answer is retried too;
        ``retry`` replaces the client's policy for this call.
        """
        operation: Operation = "upload_profiles" if upserts else "upload_events"
        doc = await self._call(operation, "POST", "/1/upload", content=body, retry=retry)
        return UploadResult.from_api(doc)

    async def upload_events(
        self, records: Sequence[Mapping[str, Any]], *, dry_run: bool = False
    ) -> UploadResult:
        return await self.upload(checks.typed("upload_events", records, "event"), dry_run=dry_run)

    async def upload_profiles(
        self, records: Sequence[Mapping[str, Any]], *, dry_run: bool = False
    ) -> UploadResult:
        return await self.upload(
            checks.typed("upload_profiles", records, "profile"), dry_run=dry_run
        )

    async def upload_tokens(
        self, records: Sequence[Mapping[str, Any]], *, dry_run: bool = False
    ) -> UploadResult:
        return await self.upload(checks.typed("upload_tokens", records, "token"), dry_run=dry_run)

    async def delete_profiles(
        self, *, identities: Sequence[str] = (), guids: Sequence[str] = ()
    ) -> None:
        """Delete profiles by identity and/or GUID, 100 values per call."""
        batches = [
            *({"identity": c} for c in checks.chunks("delete_profiles", "identities", identities)),
            *({"guid": c} for c in checks.chunks("delete_profiles", "guids", guids)),
        ]
        if not batches:
            raise InvalidRequest("delete_profiles: give identities or guids")
        for body in batches:
            await self._call("delete_profiles", "POST", "/1/delete/profiles.json", json=body)

    # --- campaigns --------------------------------------------------------------------------

    async def create_campaign(self, payload: Mapping[str, Any]) -> CreatedCampaign:
        """Create a campaign. Never retried once it may have been processed (a 5xx, a lost
        answer): on ``AmbiguousOutcomeError`` the caller lists campaigns to find out."""
        if payload.get("estimate_only"):
            raise InvalidRequest("create_campaign: use estimate_campaign for estimate_only")
        endpoint = "POST /1/targets/create.json"
        doc = await self._call(
            "create_campaign", "POST", "/1/targets/create.json", json=dict(payload)
        )
        campaign_id = as_int(doc.get("id"))
        if campaign_id is None:
            raise UnexpectedResponseError(
                f"{endpoint}: success without a campaign id; the campaign may exist",
                endpoint=endpoint,
            )
        return CreatedCampaign(id=campaign_id, estimates=Estimates.from_api(doc.get("estimates")))

    async def estimate_campaign(self, payload: Mapping[str, Any]) -> Estimates:
        """Reach per device; ``create.json`` with ``estimate_only`` (creates nothing)."""
        body = {**payload, "estimate_only": True}
        doc = await self._call("estimate_campaign", "POST", "/1/targets/create.json", json=body)
        return Estimates.from_api(doc.get("estimates"))

    async def list_campaigns(self, from_date: date, to_date: date) -> list[CampaignSummary]:
        """API-created campaigns scheduled in ``[from_date, to_date]``."""
        checks.date_range("list_campaigns", from_date, to_date)
        doc = await self._call(
            "list_campaigns",
            "POST",
            "/1/targets/list.json",
            json={"from": yyyymmdd(from_date), "to": yyyymmdd(to_date)},
        )
        summaries = []
        for item in _list(doc.get("targets")):
            summary = CampaignSummary.from_api(item) if isinstance(item, Mapping) else None
            if summary is None:
                logger.warning("/1/targets/list.json: skipped an entry without an id: %r", item)
            else:
                summaries.append(summary)
        return summaries

    async def stop_campaign(self, campaign_id: int) -> None:
        """Stop a scheduled or running campaign; stopping a stopped one succeeds."""
        await self._call("stop_campaign", "POST", "/1/targets/stop.json", json={"id": campaign_id})

    async def campaign_report(self, campaign_id: int) -> CampaignReport:
        """Metrics of a finished campaign; ``CampaignNotCompleted`` while it is not."""
        body = {"id": campaign_id}
        doc = await self._call("campaign_report", "POST", "/1/targets/result.json", json=body)
        return CampaignReport.from_api(campaign_id, doc)

    async def message_report(
        self,
        from_date: date,
        to_date: date,
        *,
        status: str | Sequence[str] | None = None,
        channel: str | Sequence[str] | None = None,
        label: str | Sequence[str] | None = None,
    ) -> list[MessageReportRow]:
        """All campaigns (dashboard-built too) started in the range; filters are sent as arrays."""
        found = await self.message_report_window(
            from_date, to_date, status=status, channel=channel, label=label
        )
        return found.rows

    async def message_report_window(
        self,
        from_date: date,
        to_date: date,
        *,
        status: str | Sequence[str] | None = None,
        channel: str | Sequence[str] | None = None,
        label: str | Sequence[str] | None = None,
    ) -> MessageReport:
        """:meth:`message_report` with ``total_results``, the number of campaigns that matched."""
        checks.date_range("message_report", from_date, to_date)
        body: dict[str, Any] = {"from": f"{yyyymmdd(from_date)}", "to": f"{yyyymmdd(to_date)}"}
        for key, value in (("status", status), ("channel", channel), ("label", label)):
            if value is not None:
                body[key] = [value] if isinstance(value, str) else list(value)
        doc = await self._call("message_report", "POST", "/1/message/report.json", json=body)
        return MessageReport.from_api(doc)

    # --- API segments (§9) ------------------------------------------------------------------

    async def create_segment(self, name: str, customer_segment_id: str) -> Segment:
        """Create an empty API segment, or find the one made with ``customer_segment_id`` before:
        the id is the client's idempotency key, so a lost answer is repaired by asking again."""
        endpoint = "POST /api/createSegment"
        body = [{"segment_name": name, "customer_segment_id": customer_segment_id}]
        doc = await self._call("create_segment", "POST", "/api/createSegment", json=body)
        for item in _list(doc.get("segments")):
            found = _dict_of(item)
            ct_id = as_int(found.get("ct_segment_id"))
            if ct_id is not None and str(found.get("customer_segment_id")) == customer_segment_id:
                return Segment(ct_id=ct_id, customer_id=customer_segment_id, name=name)
        raise UnexpectedResponseError(
            f"{endpoint}: success without the segment's id; asking again finds it",
            endpoint=endpoint,
        )

    async def update_segment(
        self,
        customer_segment_id: str,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        key: Literal["identity", "guid"] = "identity",
    ) -> SegmentUpdate:
        """Add and remove 1..100 profiles (by identity or GUID) in one call; CleverTap applies
        what it can and lists the rest (unknown profiles) as unprocessed."""
        checks.segment_profiles("update_segment", add, remove)
        bulk = [
            {
                "user_profiles": [{key: value} for value in values],
                "segments": [{"customer_segment_id": customer_segment_id, "action": action}],
            }
            for action, values in (("ADD", add), ("REMOVE", remove))
            if values
        ]
        doc = await self._call(
            "update_segment", "POST", "/api/updateSegment", json={"bulk_profiles": bulk}
        )
        return SegmentUpdate.from_api(doc)

    # --- custom lists (§9) -------------------------------------------------------------------

    async def upload_custom_list(
        self,
        name: str,
        members: Sequence[tuple[Literal["identity", "guid"], str]],
        *,
        creator: str,
        email: str,
        filename: str = "members.csv",
        replace: bool = False,
    ) -> None:
        """A custom list segment ``name`` of ``members`` (identities or GUIDs): a presigned
        URL, the CSV (``Type,Identity``) PUT there, then the completion. CleverTap e-mails the
        result. A name already taken fails ``duplicate_name`` (a ``ValidationError``) unless
        ``replace``."""
        url = await self._custom_list_url()
        content = custom_list_csv(members)
        put = await self._transport.put_elsewhere(url, content, "text/csv")
        if put.status == 403:  # expired or refused: a new URL, once (§9)
            url = await self._custom_list_url()
            put = await self._transport.put_elsewhere(url, content, "text/csv")
            if put.status == 403:
                raise UploadRefusedError(
                    "PUT (presigned URL): 403 twice, a new URL the second time (expired or "
                    "refused); the custom list was not uploaded",
                    endpoint="PUT (presigned URL)",
                    status=403,
                )
        if not 200 <= put.status < 300:
            raise ServerError(
                f"PUT (presigned URL): HTTP {put.status}",
                endpoint="PUT (presigned URL)",
                status=put.status,
            )
        body = {
            "name": name,
            "creator": creator,
            "filename": filename,
            "email": email,
            "url": url,
            "replace": replace,
        }
        await self._call(
            "custom_list_completed", "POST", "/upload_custom_list_segment_completed", json=body
        )

    async def _custom_list_url(self) -> str:
        """A presigned URL to PUT a custom list's CSV to."""
        doc = await self._call("custom_list_url", "POST", "/get_custom_list_segment_url", json={})
        url = doc.get("presignedS3URL") or doc.get("url")
        if not isinstance(url, str) or not url:
            endpoint = "POST /get_custom_list_segment_url"
            raise UnexpectedResponseError(f"{endpoint}: no presigned URL", endpoint=endpoint)
        return url

    # --- sends ------------------------------------------------------------------------------

    async def send(
        self,
        channel: Channel,
        to: Mapping[str, Sequence[str]],
        content: Mapping[str, Any],
        **extra: Any,
    ) -> SendAck:
        """Queue a message to ≤1000 identities; never deduplicated, so never retried after a
        5xx or a lost answer (``AmbiguousOutcomeError``)."""
        if channel not in SEND_CHANNELS:
            raise InvalidRequest(f"send: channel {channel!r} is not one of {SEND_CHANNELS}")
        body = {"to": checks.recipients("send", to), "content": dict(content), **extra}
        path = f"/1/send/{channel}.json"
        doc = await self._call("send", "POST", path, json=body)
        return SendAck.from_api(doc)

    async def external_trigger(
        self, campaign_id: int | str, to: Mapping[str, Sequence[str]], data: Mapping[str, Any]
    ) -> SendAck:
        """Fire a dashboard-built external-trigger campaign with ``data`` as ExternalTrigger."""
        body = {
            "to": checks.recipients("external_trigger", to),
            "campaign_id": campaign_id,
            "ExternalTrigger": dict(data),
        }
        doc = await self._call(
            "external_trigger", "POST", "/1/send/externaltrigger.json", json=body
        )
        return SendAck.from_api(doc)

    async def external_trigger_campaigns(
        self,
        campaign_ids: Sequence[int | str],
        to: Mapping[str, Sequence[str]],
        data: Mapping[str, Any],
    ) -> SendAck:
        """Fire 1..5 dashboard-built external-trigger campaigns for the same recipients in one
        call (``/2/send/externaltrigger.json``, ``campaign_id_list``), with the account token
        of the credentials as ``X-CleverTap-Token``. Without a token the call is still made
        (whether CleverTap insists is unconfirmed); a refusal then says the token is missing."""
        what = "external_trigger_campaigns"
        body = {
            "to": checks.recipients(what, to),
            "campaign_id_list": checks.campaign_ids(what, campaign_ids),
            "ExternalTrigger": dict(data),
        }
        token = self._credentials.token
        try:
            doc = await self._call(
                "external_trigger",
                "POST",
                "/2/send/externaltrigger.json",
                json=body,
                headers={"X-CleverTap-Token": token} if token else None,
            )
        except CleverTapError as exc:
            if token:
                exc.redact(token)
            elif isinstance(exc, AuthError):
                exc.message += (
                    "; no account token was sent (X-CleverTap-Token): CleverTap asks for it to "
                    "trigger several campaigns in one call"
                )
                exc.args = (exc.message,)
            raise
        return SendAck.from_api(doc)

    # --- reads ------------------------------------------------------------------------------

    def export_events(
        self,
        query: Mapping[str, Any],
        *,
        batch_size: int = MAX_EXPORT_BATCH,
        budget_seconds: float = 120.0,
        poll_interval: float = 2.0,
        **flags: bool,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every event record matching ``query``, page by page (flags: app, events, profile).

        A page still in progress is asked again every ``poll_interval`` for ``budget_seconds``.
        """
        pacing = Pacing(self._clock, self._sleep, budget_seconds, poll_interval)
        return polling.export(
            self._call,
            "export_events",
            "/1/events.json",
            query,
            batch_size=batch_size,
            flags=flags,
            pacing=pacing,
        )

    def export_profiles(
        self,
        query: Mapping[str, Any],
        *,
        batch_size: int = MAX_EXPORT_BATCH,
        budget_seconds: float = 120.0,
        poll_interval: float = 2.0,
        **flags: bool,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every profile matching ``query``, page by page."""
        pacing = Pacing(self._clock, self._sleep, budget_seconds, poll_interval)
        return polling.export(
            self._call,
            "export_profiles",
            "/1/profiles.json",
            query,
            batch_size=batch_size,
            flags=flags,
            pacing=pacing,
        )

    async def get_profile(
        self,
        *,
        identity: str | None = None,
        email: str | None = None,
        object_id: str | None = None,
    ) -> Profile | None:
        """One profile by exactly one key; ``None`` when CleverTap has no such profile."""
        keys = {"identity": identity, "email": email, "objectId": object_id}
        given = {k: v for k, v in keys.items() if v is not None}
        if len(given) != 1:
            raise InvalidRequest("get_profile: give exactly one of identity, email, object_id")
        try:
            doc = await self._call("get_profile", "GET", "/1/profile.json", params=given)
        except NotFoundError:
            return None
        except ValidationError as exc:
            if any(word in (exc.detail or "").lower() for word in _NOT_FOUND_WORDS):
                return None
            raise
        record = doc.get("record")
        return Profile.from_api(record) if isinstance(record, Mapping) and record else None

    async def count_events(
        self, query: Mapping[str, Any], *, budget_seconds: float = 60.0, poll_interval: float = 1.0
    ) -> int:
        """Events matching ``query``; polls while CleverTap answers ``partial``."""
        pacing = Pacing(self._clock, self._sleep, budget_seconds, poll_interval)
        path = "/1/counts/events.json"
        return await polling.count(self._call, "count_events", path, query, pacing=pacing)

    async def count_profiles(
        self, query: Mapping[str, Any], *, budget_seconds: float = 60.0, poll_interval: float = 1.0
    ) -> int:
        """Profiles matching ``query``; polls while CleverTap answers ``partial``."""
        pacing = Pacing(self._clock, self._sleep, budget_seconds, poll_interval)
        path = "/1/counts/profiles.json"
        return await polling.count(self._call, "count_profiles", path, query, pacing=pacing)

    async def now(self, **flags: bool) -> RealtimeCounts:
        """Users active right now; each true flag (user_type, os, …) adds a breakdown."""
        body = {k: bool(v) for k, v in flags.items()}
        return RealtimeCounts.from_api(await self._call("now", "POST", "/1/now.json", json=body))

    async def get_schema(self, type: str = "events") -> Schema:
        """``/getSchema?type=…`` at the host root; GET, or POST if GET answers 405."""
        try:
            doc = await self._call("get_schema", "GET", "/getSchema", params={"type": type})
        except MethodNotAllowedError:
            params = {"type": type}
            doc = await self._call("get_schema", "POST", "/getSchema", params=params, json={})
        return Schema(raw=doc)

    # --- any endpoint -----------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        content: bytes | None = None,
    ) -> ApiAnswer:
        """One call to any endpoint of the account (``ctflow api``), with the slots and retry
        row of its operation (``generic.operation_of``). ``content`` is sent as JSON as given.

        Returns the answer as it came, the passcode scrubbed, whatever its status; a failure
        carries the error it means in ``error``. Raises only when no answer was read (no
        connection, a lost answer) or the path is refused before sending.
        """
        method = method.upper()
        bare, query = check_path(method, path)
        operation = operation_of(method, bare)
        endpoint = f"{method} {bare}"
        family = FAMILY_OF[operation]
        answers: list[ApiAnswer] = []

        async def attempt() -> ApiAnswer:
            try:
                async with self._gate.slot(family):
                    raw = await self._transport.request(
                        method, bare, params=params, raw_query=query, content=content
                    )
                body = raw.body.replace(self._passcode_bytes, b"***")
                error = error_from_response(raw.status, body, endpoint=endpoint)
                if isinstance(error, ServerError):
                    error = server_error(error, operation)
                if error is not None:
                    error.redact(self._credentials.passcode)
                answers.append(ApiAnswer(raw.status, body, error))
                if error is not None:
                    raise error
                return answers[-1]
            except CleverTapError as exc:
                exc.redact(self._credentials.passcode)
                raise

        try:
            return await call_with_retry(self._retry, attempt, operation=operation)
        except CleverTapError as exc:
            if answers and answers[-1].error is exc:
                return answers[-1]  # an answer, if a failure: the caller shows it
            raise


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict_of(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def _user_agent() -> str:
    try:
        return f"ctflow/{metadata.version('ctflow')}"
    except metadata.PackageNotFoundError:
        return "ctflow"


def custom_list_csv(members: Sequence[tuple[Literal["identity", "guid"], str]]) -> bytes:
    """A custom list's file: the header ``Type,Identity``, then ``i`` (identity) or ``g`` (GUID)
    and the member on each CRLF-ended row, quoted as CSV where a member needs it (``"Smith, J"``).
    """
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["Type", "Identity"])
    writer.writerows(("i" if by == "identity" else "g", value) for by, value in members)
    return text.getvalue().encode("utf-8")


FUTURE_DATE = "cannot be in the future"
"""In CleverTap's refusal of a query whose last day is after the account's today (§4.2)."""


def _hint_the_timezone(exc: ValidationError, timezone: str | None) -> None:
    """A date refused as in the future, near midnight, is a timezone other than the account's:
    say which day it is where the caller counted."""
    if timezone is None or FUTURE_DATE not in exc.message:
        return
    try:
        today = datetime.now(ZoneInfo(timezone)).date()
    except (ValueError, KeyError):
        return
    exc.message += (
        f"; ctflow counted days in {timezone}, where today is {today}: if the account's "
        "timezone is another, set ctflow.yaml's timezone: to the account's"
    )
    exc.args = (exc.message,)
