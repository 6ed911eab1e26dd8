"""Fixtures the upload tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ctflow.sandbox import Sandbox
from tests.upload.support import Calls, Served


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, Calls, Served]]:
    """A sandbox served over loopback, with every call it answered counted."""
    sb = Sandbox(db=":memory:")
    calls = Calls(sb.app)
    try:
        with Served(calls) as server:
            yield sb, calls, server
    finally:
        sb.close()
