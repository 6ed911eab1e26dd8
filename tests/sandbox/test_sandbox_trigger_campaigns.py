"""``POST /2/send/externaltrigger.json`` over loopback HTTP (clevertap-api.md §6.2): several
dashboard campaigns in one call, ``campaign_id_list`` of 1 to 5 ids, the account token in
``X-CleverTap-Token``; recorded as a send, and counted with the v1 trigger against one limit."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, DEFAULT_TOKEN, Sandbox
from tests.contract.support import LoopbackServer

pytestmark = pytest.mark.loopback

PATH = "/2/send/externaltrigger.json"
AUTH = {"X-CleverTap-Account-Id": DEFAULT_ACCOUNT_ID, "X-CleverTap-Passcode": DEFAULT_PASSCODE}
TOKEN = {"X-CleverTap-Token": DEFAULT_TOKEN}
QUEUED = {"status": "success", "message": "Added to queue for processing"}
BODY: dict[str, Any] = {
    "to": {"identity": ["C100234", "C100235"]},
    "campaign_id_list": [1700000201, 1700000202],
    "ExternalTrigger": {"points": "100", "name": "Ana"},
}


@pytest.fixture
def http(sb: Sandbox) -> Iterator[httpx.Client]:
    with LoopbackServer(sb) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as c:
        yield c


def test_several_campaigns_are_queued_and_recorded_as_one_send(
    sb: Sandbox, http: httpx.Client
) -> None:
    response = http.post(PATH, json=BODY, headers=TOKEN)
    assert (response.status_code, response.json()) == (200, QUEUED)
    wrapped = {"d": [BODY, {**BODY, "campaign_id_list": ["1700000203"]}]}
    assert http.post(PATH, json=wrapped, headers=TOKEN).json() == QUEUED
    assert [(s["endpoint"], s["body"]) for s in sb.sends()] == [(PATH, BODY), (PATH, wrapped)]
    listed = http.get("/_sandbox/sends").json()["sends"]
    assert [s["endpoint"] for s in listed] == [PATH, PATH]


@pytest.mark.parametrize(
    ("token", "error"),
    [(None, "X-CleverTap-Token is required"), ("not-the-token", "Token Invalid")],
)
def test_without_the_accounts_token_it_is_401_and_nothing_is_sent(
    sb: Sandbox, http: httpx.Client, token: str | None, error: str
) -> None:
    headers = {"X-CleverTap-Token": token} if token else {}
    response = http.post(PATH, json=BODY, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"status": "fail", "error": error, "code": 401}
    assert sb.sends() == []


def test_the_token_can_be_made_optional(sb: Sandbox, http: httpx.Client) -> None:
    """§12.6: whether CleverTap insists on the token is unconfirmed; the other reading."""
    sb.config.external_trigger_token_required = False
    assert http.post(PATH, json=BODY).json() == QUEUED
    assert http.post(PATH, json=BODY, headers={"X-CleverTap-Token": "x"}).status_code == 401


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"campaign_id_list": None}, "Field campaign_id_list is empty"),
        ({"campaign_id_list": []}, "Field campaign_id_list must be a list of campaign ids"),
        ({"campaign_id_list": 1700000201}, "Field campaign_id_list must be a list of campaign ids"),
        (
            {"campaign_id_list": [1, 2, 3, 4, 5, 6]},
            "Too many campaigns: 6 in campaign_id_list, at most 5",
        ),
        ({"campaign_id_list": [1, True]}, "Invalid campaign id in campaign_id_list: True"),
        ({"campaign_id_list": [1, "x1"]}, "Invalid campaign id in campaign_id_list: 'x1'"),
        (
            {"to": {"Identity": ["C1"]}},
            "Invalid key in to: Identity (allowed: identity, email, objectId)",
        ),
        (
            {"ExternalTrigger": {"points": 100}},
            "Only string values are supported in ExternalTrigger: points",
        ),
    ],
)
def test_invalid_bodies_get_the_fail_body_and_are_not_sent(
    sb: Sandbox, http: httpx.Client, change: dict[str, Any], error: str
) -> None:
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    response = http.post(PATH, json=body, headers=TOKEN)
    assert response.status_code == 400
    assert response.json() == {"status": "fail", "error": error, "code": 400}
    assert sb.sends() == []


def test_one_campaign_triggers_and_several_share_the_limit_of_three(
    sb: Sandbox, http: httpx.Client
) -> None:
    sb.faults.latency_ms = 400
    one = {"to": {"identity": ["C1"]}, "campaign_id": 1700000201, "ExternalTrigger": {}}
    calls = [("/1/send/externaltrigger.json", one)] * 2 + [(PATH, BODY)] * 2
    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(lambda c: http.post(c[0], json=c[1], headers=TOKEN), calls))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 429]
    assert len(sb.sends()) == 3
