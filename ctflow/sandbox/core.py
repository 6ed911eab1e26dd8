"""Sandbox: one emulated CleverTap account set (:class:`~ctflow.sandbox.state.SandboxState`) and
the ASGI app that serves it.

Imports only the standard library, starlette and sandbox modules.
"""

from __future__ import annotations

from functools import cached_property

from starlette.applications import Starlette

from ctflow.sandbox.app import build_app
from ctflow.sandbox.state import SandboxState


class Sandbox(SandboxState):
    """The emulator: its state, and ``app``, the CleverTap API over it."""

    @cached_property
    def app(self) -> Starlette:
        return build_app(self)
