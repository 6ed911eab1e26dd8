"""The sandbox over real loopback HTTP, a project whose environment ``local`` points at it, and
a fresh database on the session's PostgreSQL server for the journal the workers share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ctflow.sandbox import Sandbox
from tests.contract.support import LoopbackServer
from tests.integrations.support import Target
from tests.upload.support import CREDENTIALS, write_project


@pytest.fixture
def target(tmp_path: Path, postgres_url: str) -> Iterator[Target]:
    sb = Sandbox(db=":memory:")
    try:
        with LoopbackServer(sb) as server:
            root = write_project(tmp_path / "shop", base_url=server.base_url)
            yield Target(sb, root, postgres_url, dict(CREDENTIALS))
    finally:
        sb.close()
