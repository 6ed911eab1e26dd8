"""The transport seam: the only module of ctflow that imports httpx.

Sends one request and returns status, body and headers; every httpx (or in-process app) exception
is translated here, once, into ``TransportError`` (provably not sent) or ``AmbiguousOutcomeError``.
"""

from __future__ import annotations

import importlib.util
import json as jsonlib
import ssl
import sys
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
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
        if transport is None and not urllib.request.getproxies():
            # With a proxy in the environment, httpx's own transport (which honours it).
            transport = _PoolPerCall()
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

    async def put_elsewhere(self, url: str, content: bytes, content_type: str) -> RawResponse:
        """PUT ``content`` to an absolute ``url`` that is not CleverTap's (a presigned upload
        URL): none of the default headers (the credentials) go with it."""
        endpoint = "PUT (presigned URL)"
        request = httpx.Request("PUT", url, content=content, headers={"Content-Type": content_type})
        try:
            response = await self._client.send(request)
        except _NOT_SENT as exc:
            raise TransportError(
                f"{endpoint}: could not connect: {_describe(exc)}", endpoint=endpoint
            ) from None
        except (httpx.HTTPError, ConnectionError, TimeoutError) as exc:
            raise AmbiguousOutcomeError(
                f"{endpoint}: no answer was read ({_describe(exc)})", endpoint=endpoint
            ) from None
        return RawResponse(response.status_code, response.content, dict(response.headers))

    async def aclose(self) -> None:
        await self._client.aclose()


class _PoolPerCall(httpx.AsyncBaseTransport):
    """httpx's transport, with a connection pool for each call in flight.

    httpcore's pool looks over every connection it holds several times a call, and over all of
    them again for each idle one: with the 15 connections of an upload, about 0.6 ms of CPU a
    call, as much as the rest of the call. Here a call takes a pool no other call is using (a
    new one when all are busy), so each pool keeps one connection and its looks are short.
    """

    def __init__(self) -> None:
        self._idle: dict[str, list[httpx.AsyncHTTPTransport]] = {"http": [], "https": []}
        self._every: list[httpx.AsyncHTTPTransport] = []
        self._tls: ssl.SSLContext | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        idle = self._idle.setdefault(request.url.scheme, [])
        pool = idle.pop() if idle else self._new(request.url.scheme == "https")
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            idle.append(pool)
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _GivenBack(response.stream, pool, idle)
        return response

    def _new(self, tls: bool) -> httpx.AsyncHTTPTransport:
        verify: ssl.SSLContext | bool = False  # plain HTTP: no TLS context is made
        if tls:
            if self._tls is None:  # made once, when needed: it costs ~20 ms of CPU
                self._tls = httpx.create_ssl_context()
            verify = self._tls
        pool = httpx.AsyncHTTPTransport(
            verify=verify,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self._every.append(pool)
        return pool

    async def aclose(self) -> None:
        for pool in self._every:
            await pool.aclose()


class _GivenBack(httpx.AsyncByteStream):
    """A response's body; once it is closed, its pool is free for another call."""

    def __init__(
        self,
        stream: httpx.AsyncByteStream,
        pool: httpx.AsyncHTTPTransport,
        idle: list[httpx.AsyncHTTPTransport],
    ) -> None:
        self._stream = stream
        self._pool: httpx.AsyncHTTPTransport | None = pool
        self._idle = idle

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._pool is not None:
                self._idle.append(self._pool)
                self._pool = None


def _known_missing(name: str) -> None:
    """httpcore imports sniffio on every call to learn which event loop runs it, and takes
    asyncio when there is none; a failed import searches the whole path each time (~0.7 ms of
    CPU a call). A module recorded as None in ``sys.modules`` fails to import at once, so a
    module that is not installed is recorded so; an installed one is left alone."""
    if name not in sys.modules and importlib.util.find_spec(name) is None:
        sys.modules[name] = None  # type: ignore[assignment]


_known_missing("sniffio")


def _encode(payload: Any, endpoint: str) -> bytes:
    try:
        return jsonlib.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"{endpoint}: payload is not JSON: {exc}", endpoint=endpoint) from None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
