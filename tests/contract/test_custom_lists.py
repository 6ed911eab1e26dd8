"""Custom lists (§9) through the client: the presigned-URL flow makes a list segment of the
members CleverTap knows, a name already taken fails duplicate_name unless replaced, an expired
URL is refused with 403 (the client asks for a new one, once), and the credentials never go to
the presigned URL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from ctflow.clevertap import AuthError, CleverTap, UploadRefusedError, ValidationError
from ctflow.errors import ExitCode
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, FAST_RETRY, NOW

TS = int(NOW.timestamp()) - 3600
WHO: dict[str, Any] = {"creator": "ana", "email": "ana@example.com"}


async def people(ct: CleverTap, n: int) -> None:
    records = [{"identity": f"u-{i}", "ts": TS, "profileData": {"Name": f"U{i}"}} for i in range(n)]
    assert (await ct.upload_profiles(records)).ok


async def test_a_list_is_made_of_the_members_the_account_knows(
    client: CleverTap, sandbox: Sandbox
) -> None:
    await people(client, 4)
    guid = sandbox.profile("u-3")
    assert guid is not None
    members: list[tuple[Any, str]] = [
        ("identity", "u-0"),
        ("identity", "u-1"),
        ("identity", "nobody"),
    ]
    members.append(("guid", guid["objectId"]))

    await client.upload_custom_list("Newsletter", members, **WHO)

    [made] = sandbox.custom_lists()
    assert (made["name"], made["members"]) == ("Newsletter", 3)
    assert sandbox.segment_members(made["id"]) == {"u-0", "u-1", "u-3"}
    assert sandbox.segments() == [], "a custom list is not an API segment"


async def test_a_member_with_a_comma_or_a_quote_is_quoted_as_csv(
    client: CleverTap, sandbox: Sandbox
) -> None:
    names = ["Smith", "Smith, J", 'O"Neil, K']
    records = [{"identity": n, "ts": TS, "profileData": {"Name": n}} for n in names]
    assert (await client.upload_profiles(records)).ok

    await client.upload_custom_list("Newsletter", [("identity", n) for n in names[1:]], **WHO)

    [made] = sandbox.custom_lists()
    assert sandbox.segment_members(made["id"]) == {"Smith, J", 'O"Neil, K'}


async def test_a_name_taken_fails_duplicate_name_unless_replaced(
    local: CleverTap, sandbox: Sandbox
) -> None:
    await people(local, 3)
    await local.upload_custom_list("Newsletter", [("identity", "u-0")], **WHO)
    with pytest.raises(ValidationError, match="duplicate_name"):
        await local.upload_custom_list("Newsletter", [("identity", "u-1")], **WHO)
    await local.upload_custom_list("Newsletter", [("identity", "u-2")], replace=True, **WHO)
    [made] = sandbox.custom_lists()
    assert sandbox.segment_members(made["id"]) == {"u-2"}


async def test_an_expired_url_is_refused_with_403(sandbox: Sandbox) -> None:
    auth = {"X-CleverTap-Account-Id": CREDS.account_id, "X-CleverTap-Passcode": CREDS.passcode}
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sb") as http:
        answer = await http.post("/get_custom_list_segment_url", json={}, headers=auth)
        url = answer.json()["presignedS3URL"]
        sandbox.clock.set(NOW + timedelta(hours=24, seconds=1))
        put = await http.put(url, content=b"Type,Identity\ni,u-0\n")
    assert put.status_code == 403
    assert b"Request has expired" in put.content


class Late(httpx.AsyncBaseTransport):
    """The sandbox, its clock two days on at each PUT: a URL is expired by the time its file
    is PUT, unless asked for after the first PUT (``late`` PUTs expire)."""

    def __init__(self, sandbox: Sandbox, late: int) -> None:
        self.inner = httpx.ASGITransport(app=sandbox.app)
        self.sandbox = sandbox
        self.late = late
        self.puts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            self.puts += 1
            if self.puts <= self.late:
                self.sandbox.clock.set(NOW + timedelta(days=2 * self.puts))
            assert "x-clevertap-passcode" not in request.headers, "no credentials to S3"
        return await self.inner.handle_async_request(request)


async def test_an_expired_url_is_replaced_by_a_new_one_once(sandbox: Sandbox) -> None:
    await people_in(sandbox, 1)
    late = Late(sandbox, late=1)
    async with CleverTap(CREDS, base_url="http://sb", transport=late, retry=FAST_RETRY) as ct:
        await ct.upload_custom_list("Newsletter", [("identity", "u-0")], **WHO)
    assert late.puts == 2
    [made] = sandbox.custom_lists()
    assert sandbox.segment_members(made["id"]) == {"u-0"}


async def test_a_url_refused_twice_fails_the_upload_not_the_credentials(sandbox: Sandbox) -> None:
    late = Late(sandbox, late=2)
    async with CleverTap(CREDS, base_url="http://sb", transport=late, retry=FAST_RETRY) as ct:
        with pytest.raises(UploadRefusedError, match="403 twice") as refused:
            await ct.upload_custom_list("Newsletter", [("identity", "u-0")], **WHO)
    assert not isinstance(refused.value, AuthError)
    assert refused.value.exit_code == ExitCode.UNAVAILABLE
    assert late.puts == 2
    assert sandbox.custom_lists() == []


async def people_in(sandbox: Sandbox, n: int) -> None:
    async with CleverTap(
        CREDS,
        base_url="http://sb",
        transport=httpx.ASGITransport(app=sandbox.app),
        retry=FAST_RETRY,
    ) as ct:
        await people(ct, n)
