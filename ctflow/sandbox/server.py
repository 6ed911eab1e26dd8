"""Serve a Sandbox over HTTP with uvicorn (the CLI's `ctflow sandbox serve` wires flags to this).

Imports only the standard library, uvicorn and sandbox modules.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn

from ctflow.sandbox.core import Sandbox
from ctflow.sandbox.faults import ResponseDropped


class QuietDrops(logging.Filter):
    """An injected lost response is expected: log one warning line instead of a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ResponseDropped):
            record.msg, record.args, record.exc_info = "%s", (error,), None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def serve(
    sandbox: Sandbox,
    host: str,
    port: int,
    *,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
    log_level: str = "warning",
    sock: socket.socket | None = None,
) -> None:
    """Block serving `sandbox`; `ready` is set once listening, setting `stop` shuts it down.

    With `sock` (already bound), uvicorn serves on it, so the caller learns about a port that is
    taken before announcing anything; `host`/`port` are then informational.
    """
    # httptools parses a 1000-record body in C: h11, in Python, costs a millisecond more a call.
    config = uvicorn.Config(
        sandbox.app, host=host, port=port, log_level=log_level, http="httptools"
    )
    server = uvicorn.Server(config)
    quiet = QuietDrops()
    logging.getLogger("uvicorn.error").addFilter(quiet)
    if ready is not None or stop is not None:

        def watch() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.01)
            if ready is not None:
                ready.set()
            if stop is not None:
                stop.wait()
                server.should_exit = True

        threading.Thread(target=watch, name="sandbox-serve-watch", daemon=True).start()
    try:
        server.run(sockets=[sock] if sock is not None else None)
    finally:
        logging.getLogger("uvicorn.error").removeFilter(quiet)
