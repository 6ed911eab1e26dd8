"""Documents of text, lists, mappings and core scalars are built without PyYAML's constructor
(the cost of reading thousands of declarations), with the same data, errors and positions."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import yaml

from ctflow import yamlio
from ctflow.yamlio import YamlError, load_documents

PLAIN = """\
kind: Campaign
key: c1
count: 42
ratio: -1.5e3
on: yes
flag: true
nothing: ~
empty:
when: 10:00
day: 2026-12-01
list: [a, "b", 'c', {d: [1, 2.0, .inf]}]
text: |
  line one
  line two
---
- just
- a list
"""


def _slow(monkeypatch: pytest.MonkeyPatch, path: Path, **kw: Any) -> Any:
    """What PyYAML's constructor alone gives (the reading before the direct build existed)."""
    with monkeypatch.context() as m:
        m.setattr(yamlio, "_plain_data", _always_unusual)
        try:
            return [doc.data for doc in load_documents(path, **kw)]
        except YamlError as exc:
            return str(exc)


def _always_unusual(loader: Any, node: Any) -> Any:
    raise yamlio._Unusual


def _fast(path: Path, **kw: Any) -> Any:
    try:
        return [doc.data for doc in load_documents(path, **kw)]
    except YamlError as exc:
        return str(exc)


def test_plain_documents_skip_pyyaml_constructor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(PLAIN)
    expected = _slow(monkeypatch, path)

    def refused(self: Any, node: Any) -> Any:
        raise AssertionError("PyYAML's constructor was asked for a plain document")

    monkeypatch.setattr(yamlio._StrictLoader, "construct_document", refused)
    docs = load_documents(path)
    assert [doc.data for doc in docs] == expected
    first = docs[0].data
    assert (first["count"], first["on"], first["nothing"]) == (42, "yes", None)
    assert (first["when"], first["empty"]) == ("10:00", None)
    assert docs[0].where(["list", 3, "d", 1]) == f"{path}:11:29"
    assert all(doc.text_keys for doc in docs)


def test_a_key_that_is_not_text_is_left_to_pyyaml(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text("a: {1: one, ~: none}\n---\nb: {c: d}\n")
    docs = load_documents(path)
    assert docs[0].data == {"a": {1: "one", None: "none"}}
    assert [doc.text_keys for doc in docs] == [False, True]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key
        "a: {b: 1, b: 2}\n",
        "1: x\ntrue: y\n",  # keys 1 and True are the same dict key
        'a: "\\ud800"\n',  # lone surrogate
        "a: !!int x\n",
        "a: !!int 0x10\nb: !!str 3\nc: !!float 1\n",
        "a: !!timestamp 2001-12-14\n",
        "a: !!map x\n",
        "a: !!str [1]\n",
        "a: !custom x\n",
        "? [1, 2]\n: x\n",  # a list as a key
        "? {a: 1}\n: x\n",
        "base: &b {x: 1}\nuse: *b\n",  # aliases
        "<<: {x: 1}\ny: 2\n",
        "a: !!merge x\n",
        "a: " + "[" * 300 + "]" * 300 + "\n",  # deep nesting
        "a: 99999999999999999999\nb: .NaN\nc: -.Inf\nd: 0o17\ne: +5\n",
        'a: 1\n---\na: 1\na: 1\n---\nb: "\\udfff"\n',
    ],
)
def test_same_data_and_errors_as_pyyaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(text)
    assert repr(_fast(path)) == repr(_slow(monkeypatch, path))  # repr: nan == nan
    fast_found: list[YamlError] = []
    slow_found: list[YamlError] = []
    fast = _fast(path, duplicates=fast_found)
    assert repr(fast) == repr(_slow(monkeypatch, path, duplicates=slow_found))
    assert [str(e) for e in fast_found] == [str(e) for e in slow_found]


def test_collector_paused_while_reading_and_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file's nodes would otherwise trigger full garbage collections (most of the
    time of reading thousands of declarations); the collector is back on afterwards, errors too."""
    seen: list[bool] = []
    compose = yamlio._compose

    def spying(text: str) -> Any:
        seen.append(gc.isenabled())
        return compose(text)

    monkeypatch.setattr(yamlio, "_compose", spying)
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(PLAIN)
    bad.write_text("a: [1\n")
    assert gc.isenabled()
    load_documents(good)
    with pytest.raises(YamlError):
        load_documents(bad)
    assert seen == [False, False]
    assert gc.isenabled()


TAGGED = """\
plain: [yes, no, on, true, False, ~, null, NULL, "", '', 0, -1, +5, 0o17, 0x1F, 1_000, 1.5,
  .5, 1e3, -.inf, .NaN, 2026-12-01, "10:00", 10:00, '1', "true", !!str 7, text, 'text']
"": x
? [a]
: {b: c}
"""


@pytest.mark.skipif(yamlio._FastComposer is None, reason="PyYAML without libyaml")
def test_libyaml_composer_resolves_every_tag_as_pyyaml_does() -> None:
    """libyaml composes with the tags of the YAML 1.2 core schema, remembered by text: the same
    tags PyYAML's own composer gives, the first time a text is seen and every time after."""

    def tags(node: Any) -> Any:
        if isinstance(node.value, list):
            return [
                node.tag,
                [tags(n) if not isinstance(n, tuple) else tuple(map(tags, n)) for n in node.value],
            ]
        return (node.tag, node.value)

    slow = [tags(n) for n in yaml.compose_all(TAGGED, Loader=yamlio._StrictLoader)]
    for _ in range(2):  # the second time every plain scalar's tag is a remembered one
        assert [tags(n) for n in yamlio._compose(TAGGED)] == slow
    assert slow[0][1][0][1][1][0] == ("tag:yaml.org,2002:str", "yes")  # YAML 1.2: text
