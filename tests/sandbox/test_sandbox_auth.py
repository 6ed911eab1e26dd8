"""Auth, routing and malformed-body failures answer with CleverTap's fail bodies (§1.2, §1.3)."""

from __future__ import annotations

import httpx
import pytest

from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "Account ID is not valid"),
        (
            {"X-CleverTap-Account-Id": "NOPE", "X-CleverTap-Passcode": DEFAULT_PASSCODE},
            "Account ID is not valid",
        ),
        (
            {"X-CleverTap-Account-Id": DEFAULT_ACCOUNT_ID, "X-CleverTap-Passcode": "wrong"},
            "Passcode Invalid",
        ),
        ({"X-CleverTap-Account-Id": DEFAULT_ACCOUNT_ID}, "Passcode Invalid"),
    ],
)
async def test_bad_credentials_get_401_and_nothing_is_processed(
    sb: Sandbox, headers: dict[str, str], error: str
) -> None:
    transport = httpx.ASGITransport(app=sb.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        body = {"d": [{"type": "event", "identity": "u1", "evtName": "Signed Up"}]}
        response = await http.post("/1/upload", json=body, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"status": "fail", "error": error, "code": 401}
    assert sb.counts()["events"] == 0


async def test_extra_accounts_from_config_are_accepted(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.config.accounts["TEAM-2"] = "pass-2"
    headers = {"X-CleverTap-Account-Id": "TEAM-2", "X-CleverTap-Passcode": "pass-2"}
    response = await client.post("/1/now.json", json={}, headers=headers)
    assert response.status_code == 200


async def test_unknown_path_is_404_fail_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/1/targets/update.json", json={})
    assert response.status_code == 404
    assert response.json() == {"status": "fail", "error": "Not Found", "code": 404}


async def test_wrong_method_is_405_fail_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/1/targets/create.json")
    assert response.status_code == 405
    assert response.json() == {"status": "fail", "error": "Method Not Allowed", "code": 405}


@pytest.mark.parametrize("path", ["/1/upload", "/1/targets/create.json", "/1/send/push.json"])
async def test_malformed_json_is_400(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(
        path, content=b'{"d": [', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"status": "fail", "error": "Malformed request", "code": 400}
