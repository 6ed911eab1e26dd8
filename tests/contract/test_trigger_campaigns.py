"""``CleverTap.external_trigger_campaigns``: several dashboard campaigns in one call to
``/2/send/externaltrigger.json``, with the account token; in process and over loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ctflow.clevertap import (
    AmbiguousOutcomeError,
    AuthError,
    CleverTap,
    Credentials,
    InvalidRequest,
)
from ctflow.sandbox import DEFAULT_TOKEN, Sandbox
from tests.contract.support import CREDS, FAST_RETRY, LoopbackServer

WITH_TOKEN = Credentials(CREDS.account_id, CREDS.passcode, DEFAULT_TOKEN)
PATH = "/2/send/externaltrigger.json"


Connect = Callable[[Credentials], CleverTap]


@pytest.fixture(params=["in_process", pytest.param("loopback", marks=pytest.mark.loopback)])
def connect(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[Connect]:
    """A function making a client with the given credentials, in process or over loopback."""
    if request.param == "in_process":
        yield lambda creds: CleverTap.in_process(sandbox.app, creds, retry=FAST_RETRY)
        return
    with LoopbackServer(sandbox) as server:
        yield lambda creds: CleverTap(creds, base_url=server.base_url, retry=FAST_RETRY)


async def test_several_campaigns_go_in_one_call_with_the_token(
    connect: Connect, sandbox: Sandbox
) -> None:
    async with connect(WITH_TOKEN) as ct:
        ack = await ct.external_trigger_campaigns(
            [1700000201, "1700000202"], {"identity": ["v-1", "v-2"]}, {"Points": "100"}
        )
    assert ack.message == "Added to queue for processing"
    [sent] = sandbox.sends()
    assert sent["endpoint"] == PATH
    assert sent["body"] == {
        "to": {"identity": ["v-1", "v-2"]},
        "campaign_id_list": [1700000201, "1700000202"],
        "ExternalTrigger": {"Points": "100"},
    }


async def test_without_a_token_the_refusal_says_the_token_is_missing(
    connect: Connect, sandbox: Sandbox
) -> None:
    async with connect(CREDS) as ct:
        with pytest.raises(AuthError) as caught:
            await ct.external_trigger_campaigns([1700000201], {"identity": ["v-1"]}, {})
    assert caught.value.exit_code == 4
    assert "no account token was sent (X-CleverTap-Token)" in caught.value.message
    assert sandbox.sends() == []
    sandbox.config.external_trigger_token_required = False  # the other reading of §12.6
    async with connect(CREDS) as ct:
        await ct.external_trigger_campaigns([1700000201], {"identity": ["v-1"]}, {})
    assert len(sandbox.sends()) == 1


async def test_a_wrong_token_is_refused_and_never_shown(connect: Connect, sandbox: Sandbox) -> None:
    secret = "tok-TOPSECRET-9000"
    wrong = Credentials(CREDS.account_id, CREDS.passcode, secret)
    assert secret not in repr(wrong)
    async with connect(wrong) as ct:
        with pytest.raises(AuthError) as caught:
            await ct.external_trigger_campaigns([1700000201], {"identity": ["v-1"]}, {})
    assert "Token Invalid" in str(caught.value)
    assert secret not in str(caught.value)
    assert sandbox.sends() == []


@pytest.mark.parametrize(
    ("ids", "words"),
    [
        ([], "0 campaign ids; CleverTap triggers 1 to 5 campaigns a call"),
        ([1, 2, 3, 4, 5, 6], "6 campaign ids; CleverTap triggers 1 to 5 campaigns a call"),
        ([1, 1], "a campaign id is given twice"),
        ([1, True], "True is not a campaign id"),
        ([1, -2], "-2 is not a campaign id"),
        ("17", "expected a sequence"),
    ],
)
async def test_campaign_ids_are_checked_before_sending(
    sandbox: Sandbox, ids: object, words: str
) -> None:
    async with CleverTap.in_process(sandbox.app, WITH_TOKEN, retry=FAST_RETRY) as ct:
        with pytest.raises(InvalidRequest, match=words):
            await ct.external_trigger_campaigns(ids, {"identity": ["v-1"]}, {})  # type: ignore[arg-type]
    assert sandbox.sends() == []


async def test_a_lost_answer_is_ambiguous_and_never_sent_again(sandbox: Sandbox) -> None:
    sandbox.faults.drop_next = 1
    async with CleverTap.in_process(sandbox.app, WITH_TOKEN, retry=FAST_RETRY) as ct:
        with pytest.raises(AmbiguousOutcomeError):
            await ct.external_trigger_campaigns([1, 2], {"identity": ["v-1"]}, {})
    assert len(sandbox.sends()) == 1
