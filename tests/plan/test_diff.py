"""The per-field diff of two create bodies: what changed, what is masked, long-text diffs."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest

from ctflow.masking import SENSITIVE, is_sensitive
from ctflow.plan.diff import field_changes, is_long, text_diff
from ctflow.plan.model import FieldChange as F

PUSH = {
    "name": "Welcome [ctflow:shop/welcome@1a2b3c4d]",
    "content": {
        "title": "Hi",
        "platform_specific": {"android": {"deep_link": "shop://home", "wzrk_cid": "news"}},
    },
    "where": {"event_name": "App Launched", "from": 20261115, "to": 20261122},
    "labels": ["ctflow", "ctflow:shop"],
}


def edit(body: dict[str, Any], path: str, value: Any = ...) -> dict[str, Any]:
    """A copy of ``body`` with the dotted ``path`` set to ``value`` (deleted without one)."""
    copy = deepcopy(body)
    *parents, last = path.split(".")
    node = copy
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return copy


CASES = [
    pytest.param(PUSH, PUSH, (), id="same"),
    pytest.param(
        PUSH,
        edit(PUSH, "content.platform_specific.android.deep_link", "shop://sale"),
        (F("content.platform_specific.android.deep_link", "shop://home", "shop://sale"),),
        id="nested-dict-becomes-a-dotted-path",
    ),
    pytest.param(
        PUSH,
        edit(PUSH, "labels", ["ctflow", "ctflow:shop", "growth"]),
        (F("labels", ["ctflow", "ctflow:shop"], ["ctflow", "ctflow:shop", "growth"]),),
        id="a-list-is-one-value",
    ),
    pytest.param(
        PUSH,
        edit(PUSH, "where.from", 20261116),
        (F("where.from", 20261115, 20261116),),
        id="where-is-flattened",
    ),
    pytest.param(
        PUSH,
        edit(edit(PUSH, "content.body", "Welcome"), "content.title", ...),
        (F("content.body", None, "Welcome"), F("content.title", "Hi", None)),
        id="added-and-removed-sorted-by-path",
    ),
    pytest.param(
        PUSH,
        edit(PUSH, "where", {}),
        (
            F("where", None, {}),
            F("where.event_name", "App Launched", None),
            F("where.from", 20261115, None),
            F("where.to", 20261122, None),
        ),
        id="an-emptied-mapping-is-a-value",
    ),
    pytest.param(
        {"respect_frequency_caps": 1},
        {"respect_frequency_caps": True},
        (F("respect_frequency_caps", 1, True),),
        id="compared-as-json-1-is-not-true",
    ),
    pytest.param(
        {"where": {"a": 1, "b": 2}},
        {"where": {"b": 2, "a": 1}},
        (),
        id="key-order-is-not-a-change",
    ),
    pytest.param(
        None,
        {"name": "N", "content": {"title": "Hi"}},
        (F("content.title", None, "Hi"), F("name", None, "N")),
        id="unknown-before-lists-everything-as-added",
    ),
    pytest.param(
        {"name": "N"},
        None,
        (F("name", "N", None),),
        id="no-after-lists-everything-as-removed",
    ),
    pytest.param(
        {"content": {"api_token": "abc", "title": "Hi"}},
        {"content": {"api_token": "xyz", "title": "Hi"}},
        (F("content.api_token", SENSITIVE, SENSITIVE),),
        id="a-changed-secret-is-reported-masked",
    ),
    pytest.param(
        {"content": {"api_token": "abc"}},
        {"content": {"api_token": "abc"}},
        (),
        id="an-unchanged-secret-is-not-reported",
    ),
    pytest.param(
        {"webhook": {"headers": {"Authorization": "Bearer a"}}},
        {"webhook": {}},
        (F("webhook", None, {}), F("webhook.headers.Authorization", SENSITIVE, None)),
        id="a-removed-secret-is-masked-and-stays-removed",
    ),
]


@pytest.mark.parametrize(("before", "after", "expected"), CASES)
def test_field_changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None, expected: tuple[F, ...]
) -> None:
    assert field_changes(before, after) == expected


@pytest.mark.parametrize(
    ("path", "sensitive"),
    [
        ("content.title", False),
        ("labels", False),
        ("provider_nick_name", False),
        ("content.api_token", True),
        ("webhook.headers.Authorization", True),
        ("content.PASSCODE", True),
        ("x.client_secret.value", True),
        ("x.APIKey", True),
        ("x.private_key_pem", True),
        ("x.auth_key", True),
        ("x.password_hint", True),
    ],
)
def test_is_sensitive(path: str, sensitive: bool) -> None:
    assert is_sensitive(path) is sensitive


def test_is_long() -> None:
    assert not is_long("x" * 80)
    assert is_long("x" * 81)
    assert is_long("a\nb")
    assert not is_long(["x" * 100])
    assert not is_long(None)


def test_text_diff_is_a_unified_diff_with_two_lines_of_context() -> None:
    before = "\n".join(f"line {i}" for i in range(1, 9))
    after = before.replace("line 5", "line five")
    assert text_diff(before, after, path="content.body") == [
        "--- content.body (before)",
        "+++ content.body (after)",
        "@@ -3,5 +3,5 @@",
        " line 3",
        " line 4",
        "-line 5",
        "+line five",
        " line 6",
        " line 7",
    ]


def test_text_diff_of_equal_texts_is_empty() -> None:
    assert text_diff("a\nb", "a\nb", path="content.body") == []
