"""Faults: injected latency, 429s, 5xx and lost responses, decided per request (at random, or
the next few in order), and whether a 5xx comes before or after the request was processed.

Imports only the standard library.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Literal


class ResponseDropped(ConnectionResetError):
    """The request was committed, then the response was lost after its headers."""


@dataclass
class Faults:
    latency_ms: int = 0
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    drop_response: float = 0.0
    drop_next: int = 0
    fail_next: list[int] = field(default_factory=list)
    """Statuses (429 or 5xx) the next requests are answered with, one each, in order."""
    commit_5xx: bool = False
    """A 5xx is answered after the request was processed (CleverTap never says it was not)."""
    paths: set[str] | None = None
    seed: int | None = None


Outcome = Literal["ok", "429", "500", "502", "503", "504", "drop"]
FAILURES: dict[int, Outcome] = {429: "429", 500: "500", 502: "502", 503: "503", 504: "504"}


class FaultPicker:
    """Owns the random source for `Faults`, re-seeded whenever `Faults.seed` changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seed: int | None = None
        self._rng = random.Random()

    def applies(self, faults: Faults, path: str) -> bool:
        return faults.paths is None or path in faults.paths

    def pick(self, faults: Faults) -> Outcome:
        """Decide one request's fate; the caller has checked `applies`."""
        with self._lock:
            if faults.fail_next:
                return FAILURES[faults.fail_next.pop(0)]
            if faults.seed != self._seed:
                self._seed = faults.seed
                self._rng = random.Random(faults.seed)
            if faults.rate_429 > 0 and self._rng.random() < faults.rate_429:
                return "429"
            if faults.rate_5xx > 0 and self._rng.random() < faults.rate_5xx:
                choice: Outcome = self._rng.choice(("500", "502", "503", "504"))
                return choice
            if faults.drop_next > 0:
                faults.drop_next -= 1
                return "drop"
            if faults.drop_response > 0 and self._rng.random() < faults.drop_response:
                return "drop"
            return "ok"
