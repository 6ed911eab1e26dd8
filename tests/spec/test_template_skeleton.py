"""Texts that only substitute names are checked through their skeleton (the text around the
substitutions reduced to its line breaks): the same problems, each skeleton checked once."""

from __future__ import annotations

from typing import Any

import pytest

from ctflow.spec import templates

CONTEXT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "vars": {
            "type": "object",
            "properties": {"brand": {"type": "string"}, "n": {"type": "integer"}},
            "additionalProperties": False,
        },
        "env": {"type": "string"},
    },
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Deal [[ vars.brand ]] 12", "[[ vars.brand ]]"),
        ("a\nb [[ vars.brand ]]\r\nc [[ missing ]] d\re", "\n[[ vars.brand ]]\n[[ missing ]]\n"),
        ("Hello {{ Profile.Name }}, no ctflow here\n", "\n"),
        ("[[\n  vars.brand\n]] x", "[[\n  vars.brand\n]]"),
    ],
)
def test_skeleton_keeps_substitutions_and_line_breaks(source: str, expected: str) -> None:
    assert templates.skeleton(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "[[[ vars.brand ]]",  # Jinja starts at the first "[[": a list
        "a [[ vars.brand | upper ]]",
        "[% if env %]x[% endif %]",
        "[# note #] [[ vars.brand ]]",
        "[[- vars.brand ]]",
        "[[ vars.brand ]] and [[ 1 +",
    ],
)
def test_any_other_template_is_its_own_skeleton(source: str) -> None:
    assert templates.skeleton(source) == source


@pytest.mark.parametrize(
    "source",
    [
        "Deal [[ vars.brand ]] 12",
        "line\n\nthree [[ nope ]]\r\nfour [[ vars.brand.x ]] [[ vars.n ]]",
        "[[ env.x ]]\n[[ env ]] [[ vars ]]",
        "[[ vars.brand ]]]] %] #] {% raw %}",
    ],
)
def test_skeleton_has_the_same_problems(source: str) -> None:
    assert templates.check(templates.skeleton(source), CONTEXT) == templates.check(source, CONTEXT)
    if "nope" in source:
        assert templates.check(source, CONTEXT)


def test_thousands_of_texts_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from ctflow.spec import templating

    templating._check.cache_clear()
    checked: list[str] = []
    real = templates.check

    def counting(source: str, context: Any) -> Any:
        checked.append(source)
        return real(source, context)

    monkeypatch.setattr(templates, "check", counting)
    schema = templating._freeze(CONTEXT)
    for n in range(2000):
        skeleton = templates.skeleton(f"Deal number {n}: [[ vars.brand ]] [[ nope ]]")
        problems = templating._check(skeleton, schema)
        assert [(p.line, p.message) for p in problems] == [(1, "'nope' is not declared")]
    assert len(checked) == 1
