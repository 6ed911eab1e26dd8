"""The CleverTap API emulator (ctflow's test bed and `ctflow sandbox serve`).

Imports nothing from the rest of ctflow: only the standard library, starlette, uvicorn, orjson
and itself.
"""

from __future__ import annotations

from ctflow.sandbox.clock import Clock
from ctflow.sandbox.config import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_PASSCODE,
    DEFAULT_TOKEN,
    SandboxConfig,
)
from ctflow.sandbox.core import Sandbox
from ctflow.sandbox.faults import Faults, ResponseDropped

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_PASSCODE",
    "DEFAULT_TOKEN",
    "Clock",
    "Faults",
    "ResponseDropped",
    "Sandbox",
    "SandboxConfig",
]
