"""The transport seam: the only module of ctflow that imports httpx.

Sends one request and returns status, body and headers; every httpx (or in-process app) exception
is translated here, once, into ``TransportError`` (provably not sent) or ``AmbiguousOutcomeError``.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import httpx

from ctflow.clevertap.errors import (
    AmbiguousOutcomeError,
    CleverTapError,
    InvalidRequest,
    TransportError,
)

AsyncTransport: TypeAlias = httpx.AsyncBaseTransport
"""Anything httpx can send through: ``httpx.MockTransport``, ``httpx.ASGITransport``, …"""

ASGIApp: TypeAlias = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]
QueryParams: TypeAlias = Mapping[str, str | int]


@dataclass(frozen=True)
class RawResponse:
    status: int
    body: bytes
    headers: Mapping[str, str]


def asgi_transport(app: ASGIApp) -> AsyncTransport:
    """An in-process transport: requests are handed to ``app`` with no socket involved."""
    return httpx.ASGITransport(app=app)


# Raised before a byte of the request left this process.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
)
# Connection or config problems that no retry can fix.
_UNUSABLE: tuple[type[Exception], ...] = (httpx.UnsupportedProtocol, httpx.InvalidURL)


class Transport:
    """Wraps one ``httpx.AsyncClient``; default headers are sent on every request."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        transport: AsyncTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=dict(headers),
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        raw_query: str | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """Send one request. ``raw_query`` is appended as is (already percent-encoded);
        ``content`` is a body already encoded as JSON (instead of ``json``); ``headers`` are
        sent besides the default ones."""
        endpoint = f"{method} {path}"
        url = path if raw_query is None else f"{path}?{raw_query}"
        headers = dict(headers or {})
        if json is not None:
            content = _encode(json, endpoint)
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = await self._client.request(
                method,
                url,
                params=dict(params) if params else None,
                content=content,
                headers=headers,
            )
        except _NOT_SENT as exc:
            raise TransportError(
                f"{endpoint}: could not connect to {self.base_url}: {_describe(exc)}",
                endpoint=endpoint,
            ) from None
        except _UNUSABLE as exc:
            raise CleverTapError(
                f"{endpoint}: cannot send to {self.base_url}: {_describe(exc)}",
                endpoint=endpoint,
            ) from None
        except (httpx.HTTPError, ConnectionError, TimeoutError) as exc:
            # read/write timeouts, dropped connections, protocol errors, an in-process app that
            # raised ConnectionError: the request may have been received and processed.
            raise AmbiguousOutcomeError(
                f"{endpoint}: the request may have been processed but no answer was read "
                f"({_describe(exc)})",
                endpoint=endpoint,
            ) from None
        return RawResponse(
            status=response.status_code,
            body=response.content,
            headers=dict(response.headers),
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def _encode(payload: Any, endpoint: str) -> bytes:
    try:
        return jsonlib.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"{endpoint}: payload is not JSON: {exc}", endpoint=endpoint) from None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
