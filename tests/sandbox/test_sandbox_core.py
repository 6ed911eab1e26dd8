"""The Python surface: file-backed persistence, deterministic seeding, reset."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from ctflow.sandbox import Clock, Sandbox

from .conftest import AUTH, NOW, campaign


async def test_file_database_survives_reopening(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    first = Sandbox(db, clock=Clock(NOW))
    transport = httpx.ASGITransport(app=first.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://s", headers=AUTH) as http:
        created = await http.post("/1/targets/create.json", json=campaign(name="kept"))
    first.close()
    second = Sandbox(str(db), clock=Clock(NOW))
    assert [(c["id"], c["name"]) for c in second.campaigns()] == [(created.json()["id"], "kept")]
    second.close()


def test_seed_is_fast_deterministic_and_realistic() -> None:
    one, two = Sandbox(clock=Clock(NOW)), Sandbox(clock=Clock(NOW))
    started = time.perf_counter()
    summary = one.seed(profiles=3000, seed=42)
    assert time.perf_counter() - started < 2.0
    assert two.seed(profiles=3000, seed=42) == summary
    assert summary["profiles"] == 3000
    assert one.profile("user-00042") == two.profile("user-00042")
    person = one.profile("user-00042")
    assert person is not None
    data = person["profileData"]
    assert data["Phone"].startswith("+91")
    assert data["Customer Type"] in ("Silver", "Gold", "Platinum")
    assert data["Gender"] in ("M", "F")
    names = {e["name"] for e in one.events()}
    assert {"App Launched", "Product Viewed", "Charged", "Signed Up", "Added To Cart"} <= names
    oldest = min(e["ts"] for e in one.events())
    assert NOW.timestamp() - oldest <= 60 * 86400
    with_tokens = sum(1 for p in one.store.profiles() if p.platform)
    assert 0.8 * 3000 < with_tokens < 3000
    assert one.seed(profiles=10, seed=1)["profiles"] == one.counts()["profiles"] == 10
    one.close()
    two.close()


def test_reset_empties_everything() -> None:
    sb = Sandbox(clock=Clock(NOW))
    sb.seed(profiles=20)
    sb.reset()
    assert sb.counts() == {"profiles": 0, "events": 0, "campaigns": 0, "sends": 0}
    sb.close()
