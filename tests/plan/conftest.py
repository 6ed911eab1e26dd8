"""The fixtures of the apply tests: a frozen in-memory sandbox, and a project bed on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ctflow.sandbox import Sandbox
from tests.plan.support import Bed, sandbox, write_project


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    made = sandbox()
    yield made
    made.close()


@pytest.fixture
def bed(tmp_path: Path, sb: Sandbox) -> Bed:
    return Bed(write_project(tmp_path), sb)
