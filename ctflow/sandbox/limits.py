"""The account's limits as the sandbox keeps them (§1.4): calls in flight per account and
family of endpoint, and the create rate. Standard library only.
"""

from __future__ import annotations

import threading
import time
from collections import deque

FAMILY_BY_PATH = {
    "/1/upload": "upload",
    "/1/targets/create.json": "create",
    "/1/targets/stop.json": "stop",
    "/1/targets/list.json": "list",
    "/1/targets/result.json": "report",
    "/1/send/externaltrigger.json": "external_trigger",
    "/2/send/externaltrigger.json": "external_trigger",
    "/1/events.json": "events_export",
    "/1/profiles.json": "profiles_export",
    "/1/counts/events.json": "count_events",
    "/1/counts/profiles.json": "count_profiles",
    "/1/now.json": "now",
    "/1/profile.json": "profile",
    "/1/delete/profiles.json": "delete",
    "/1/message/report.json": "message_report",
    "/getSchema": "schema",
    "/api/createSegment": "segment",
    "/api/updateSegment": "segment",
    "/get_custom_list_segment_url": "custom_list",
    "/upload_custom_list_segment_completed": "custom_list",
}


def family_of(path: str) -> str:
    if path in FAMILY_BY_PATH:
        return FAMILY_BY_PATH[path]
    return "send" if path.startswith("/1/send/") else "other"


class Limiter:
    """In-flight counters per (account, family) and the create timestamps of the last second."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inflight: dict[tuple[str, str], int] = {}
        self._creates: dict[str, deque[float]] = {}

    def acquire(self, account: str, family: str, ceiling: int) -> bool:
        with self._lock:
            busy = self._inflight.get((account, family), 0)
            if busy >= ceiling:
                return False
            self._inflight[(account, family)] = busy + 1
            return True

    def release(self, account: str, family: str) -> None:
        with self._lock:
            self._inflight[(account, family)] -= 1

    def create_allowed(self, account: str, per_second: int) -> bool:
        """§1.4: creates are limited to N per second, in any 1 s window (real time)."""
        if per_second <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            recent = self._creates.setdefault(account, deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= per_second:
                return False
            recent.append(now)
            return True
