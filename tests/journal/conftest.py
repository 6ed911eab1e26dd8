"""The journal of each kind: every contract test runs against SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.journal.support import Backend, sqlite_backend


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return sqlite_backend(tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    return Backend("postgresql", url, tmp_path)
