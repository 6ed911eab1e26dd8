"""Sandbox: one emulated CleverTap account set (:class:`~ctflow.sandbox.state.SandboxState`) and
the ASGI app that serves it.

Imports only the standard library, starlette and sandbox modules.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from ctflow.sandbox.app import build_app
from ctflow.sandbox.clock import Clock
from ctflow.sandbox.config import SandboxConfig
from ctflow.sandbox.state import SandboxState


class Sandbox(SandboxState):
    """The emulator: its state, and ``app``, the CleverTap API over it."""

    def __init__(
        self,
        db: str | os.PathLike[str] = ":memory:",
        config: SandboxConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(db, config, clock)
        self.app: Starlette = build_app(self)
