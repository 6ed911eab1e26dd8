"""ASGI plumbing for test middlewares that look at a request's body before the app reads it."""

from __future__ import annotations

from typing import Any


async def read_whole(receive: Any) -> tuple[bytes, Any]:
    """The request's body, read whole, and a `receive` that hands it to the app again (then
    passes on whatever comes next, e.g. a disconnect)."""
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    replayed = False

    async def replaying() -> Any:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replaying
