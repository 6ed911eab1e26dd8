"""The served sandbox over real loopback HTTP, including the /_sandbox/ control endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ctflow.sandbox import Sandbox

from .conftest import AUTH, campaign, serving


@pytest.fixture
def served(sb: Sandbox) -> Iterator[httpx.Client]:
    with serving(sb) as url, httpx.Client(base_url=url, headers=AUTH, timeout=10) as http:
        yield http


@pytest.mark.loopback
def test_api_and_control_endpoints_over_http(sb: Sandbox, served: httpx.Client) -> None:
    seeded = served.post("/_sandbox/seed", json={"profiles": 40, "seed": 5})
    assert seeded.json()["seeded"]["profiles"] == 40
    created = served.post("/1/targets/create.json", json=campaign(when="20261122 11:00"))
    assert created.status_code == 200
    campaign_id = created.json()["id"]

    served.post("/_sandbox/clock", json={"advance_seconds": 3600})
    listed = served.post("/1/targets/list.json", json={"from": 20261122, "to": 20261122})
    assert listed.json()["targets"][0]["status"] == "running"
    served.post("/_sandbox/clock", json={"set": "2026-11-23T00:00:00+00:00"})
    campaigns = served.get("/_sandbox/campaigns").json()["campaigns"]
    assert [(c["id"], c["status"]) for c in campaigns] == [(campaign_id, "completed")]

    served.post("/1/send/sms.json", json={"to": {"Identity": ["u"]}, "content": {"body": "b"}})
    assert served.get("/_sandbox/sends").json()["sends"][0]["endpoint"] == "/1/send/sms.json"

    state = served.get("/_sandbox/state").json()
    assert state["counts"]["profiles"] == 40
    assert state["now"] == "2026-11-23T00:00:00+00:00"

    assert served.get("/_sandbox/state", headers={"X-CleverTap-Passcode": "x"}).status_code == 401
    served.post("/_sandbox/reset")
    assert served.get("/_sandbox/state").json()["counts"] == {
        "profiles": 0,
        "events": 0,
        "campaigns": 0,
        "sends": 0,
    }


@pytest.mark.loopback
def test_dropped_response_closes_the_connection(sb: Sandbox, served: httpx.Client) -> None:
    faults = served.post(
        "/_sandbox/faults", json={"drop_next": 1, "paths": ["/1/targets/create.json"]}
    )
    assert faults.json()["faults"]["drop_next"] == 1
    with pytest.raises(httpx.TransportError):
        served.post("/1/targets/create.json", json=campaign(name="lost"))
    assert [c["name"] for c in sb.campaigns()] == ["lost"]
    assert served.post("/_sandbox/faults", json={"bogus": 1}).status_code == 400


@pytest.mark.loopback
def test_the_next_answers_can_be_chosen_and_a_5xx_can_come_after_processing(
    sb: Sandbox, served: httpx.Client
) -> None:
    chosen = {"fail_next": [503, 500], "commit_5xx": True, "paths": ["/1/targets/create.json"]}
    faults = served.post("/_sandbox/faults", json=chosen).json()["faults"]
    assert (faults["fail_next"], faults["commit_5xx"]) == ([503, 500], True)
    answers = [served.post("/1/targets/create.json", json=campaign(name=f"c{i}")) for i in range(3)]
    assert [a.status_code for a in answers] == [503, 500, 200]
    assert answers[0].json() == {"status": "fail", "error": "Service Unavailable", "code": 503}
    assert [c["name"] for c in sb.campaigns()] == ["c0", "c1", "c2"], "made, then answered 5xx"

    served.post("/_sandbox/faults", json={"fail_next": [502], "commit_5xx": False})
    assert served.post("/1/targets/create.json", json=campaign(name="c3")).status_code == 502
    assert len(sb.campaigns()) == 3, "refused before it was made"


@pytest.mark.loopback
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"fail_next": 503},
            "fail_next must be a list of statuses among [429, 500, 502, 503, 504]",
        ),
        ({"fail_next": [404]}, "fail_next must be a list of statuses among"),
        ({"fail_next": [True]}, "fail_next must be a list of statuses among"),
        ({"commit_5xx": 1}, "commit_5xx must be true or false"),
    ],
)
def test_chosen_answers_are_checked(
    served: httpx.Client, fields: dict[str, object], message: str
) -> None:
    answer = served.post("/_sandbox/faults", json=fields)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert served.get("/_sandbox/state").json()["faults"]["fail_next"] == []
