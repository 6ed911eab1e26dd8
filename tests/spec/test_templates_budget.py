"""The template budget (docs/declarations.md "Template limits"): every way a template can make
a render run long or build too much stops at once, at its line, and real messages are untouched.
Durations are processor time, so a busy machine does not make them fail.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ctflow.spec.templates import TemplateRenderError, check, render
from ctflow.spec.templates_budget import LIMITS, Budget

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = {"name": "Ann", "count": 3, "items": [{"name": "Tea", "qty": 2}]}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "count": {"type": "integer"}},
}

ABUSES = [
    # the issue's own
    (
        "[% for i in range(100000) %]\n[% for j in range(100000) %]x[% endfor %][% endfor %]",
        2,
        "loops run more than 100,000 times in all",
    ),
    ("[[ ('x ' * 10000000)|wordwrap(1) ]]", 1, "'*' makes more than 1,000,000 characters"),
    ("<p>\n[[ 'x' * 10**9 ]]", 2, "'*' makes more than 1,000,000 characters"),
    ("[[ name * 1000000000 ]]", 1, "'*' makes more than 1,000,000 characters"),
    ("a\nb\n[[ name|center(10**9) ]]", 3, "center makes more than 1,000,000 characters"),
    # output, streamed or gathered in a block
    ("[% for i in range(99999) %]0123456789 0123456789[% endfor %]", 1, "renders more than"),
    ("[% set x %][% for i in range(99999) %]0123456789 0123[% endfor %][% endset %]", 1, "block"),
    ("[% macro m() %][[ 'y' * 900000 ]][% endmacro %][[ m() ]][[ m() ]]", 1, "renders more"),
    # widths, counts and separators that multiply what they are given
    ("[[ '%1000000000s' % name ]]", 1, "'%' makes more than"),
    ("[[ '%*d'|format(10**9, 1) ]]", 1, "format makes more than"),
    ("[[ '{:>1000000000}'.format(name) ]]", 1, "format() makes more than"),
    ("[[ name.ljust(10**9) ]]", 1, "ljust() makes more than"),
    ("[[ name.zfill(10**9) ]]", 1, "zfill() makes more than"),
    ("[[ ('\t' * 1000).expandtabs(10**6) ]]", 1, "expandtabs() makes more than"),
    ("[[ ('x' * 1000)|replace('x', 'y' * 10000) ]]", 1, "replace makes more than"),
    ("[[ ('x' * 1000).replace('', 'y' * 10000) ]]", 1, "replace() makes more than"),
    ("[[ range(100000)|join('x' * 100) ]]", 1, "join makes more than"),
    ("[[ ('a\\n' * 1000)|indent(10**6) ]]", 1, "indent makes more than"),
    ("[[ ('x x ' * 1000)|wordwrap(1, wrapstring='y' * 10000) ]]", 1, "wordwrap makes more"),
    ("[[ [1]|batch(10**9, 'x')|list ]]", 1, "batch makes more than"),
    ("[[ [1]|slice(10**9)|list ]]", 1, "slice makes more than"),
    ("[[ [[[[[1]]]]]|tojson(indent=10**6) ]]", 1, "tojson makes more than"),
    ("[[ lipsum(100000) ]]", 1, "lipsum() makes more than"),
    ("[[ range(10**9)|length ]]", 1, "range() makes more than 100,000 numbers"),
    # values that grow by doubling, and values printed whole
    (
        "[% set ns = namespace(s='x') %][% for i in range(60) %]"
        "[% set ns.s = ns.s ~ ns.s %][% endfor %]",
        1,
        "'~' makes more than",
    ),
    (
        "[% set ns = namespace(s=[1]) %][% for i in range(60) %]"
        "[% set ns.s = [ns.s, ns.s] %][% endfor %]",
        1,
        "a list or mapping makes more than",
    ),
    (
        "[% set ns = namespace(s='x') %][% for i in range(60) %]"
        "[% set ns.s = ns.s + ns.s %][% endfor %]",
        1,
        "'+' makes more than",
    ),
    ("[% set big = 'x' * 900000 %][[ [big] * 1000 ]]", 1, "'*' makes more than"),
    ("[% set big = 'x' * 900000 %][[ [big, big] ]]", 1, "a list or mapping makes more"),
    ("[% set big = 'x' * 900000 %][[ dict(a=big, b=big) ]]", 1, "dict() makes more"),
    ("[[ 2 ** 100000 ]]", 1, "'**' makes a number of more than 4,300 digits"),
    (
        "[% set ns = namespace(n=3) %][% for i in range(40) %]"
        "[% set ns.n = ns.n * ns.n %][% endfor %]",
        1,
        "'*' makes a number of more than",
    ),
    (
        "[% set ns = namespace(x=1) %][% for i in range(300) %][% set ns.x = [ns.x] %][% endfor %]",
        1,
        "nests lists or mappings more than 200 deep",
    ),
    # time without any loop: calls that recurse and branch
    (
        "[% macro f(n) %][% if n %][[ f(n - 1) ]][[ f(n - 1) ]][% endif %][% endmacro %]\n"
        "[[ f(40) ]]",
        1,
        "macros and blocks are called more than 10,000 times",
    ),
    (
        "[% for i in range(10) %]\n[% for j in range(100000) if j < 0 %][% endfor %][% endfor %]",
        2,
        "loops run more than 100,000 times in all",
    ),
]


@pytest.mark.parametrize(("source", "line", "message"), ABUSES)
def test_every_abuse_stops_at_once_at_its_line(source: str, line: int, message: str) -> None:
    started = time.thread_time()
    with pytest.raises(TemplateRenderError) as raised:
        render(source, CONTEXT)
    assert time.thread_time() - started < 1.0
    assert message in raised.value.message
    assert raised.value.line == line


@pytest.mark.parametrize(("source", "line", "message"), ABUSES)
def test_the_static_check_never_builds_what_a_template_asks_for(
    source: str, line: int, message: str
) -> None:
    started = time.thread_time()
    check(source, SCHEMA)  # Jinja folds constants while it compiles: that too is in budget
    assert time.thread_time() - started < 1.0


def test_a_recursive_loop_counts_every_iteration_at_every_depth() -> None:
    source = (
        "[% for i in [1, 2, 3] recursive %][% if loop.depth < 30 %][[ loop([1, 2, 3]) ]]"
        "[% endif %][% endfor %]"
    )
    with pytest.raises(TemplateRenderError, match="loops run more than 1,000 times in all"):
        render(source, {}, budget=Budget(loop_iterations=1000))


def test_the_time_limit_stops_a_render_that_stays_under_every_other_limit() -> None:
    budget = Budget(seconds=0.05)
    source = "[% for i in range(300) %][% for j in range(300) %][[ (i * j)|string|center(9) ]]"
    source += "[% endfor %][% endfor %]"
    started = time.thread_time()
    with pytest.raises(TemplateRenderError, match=r"takes more than 0\.05 s of processor time"):
        render(source, {}, budget=budget)
    assert time.thread_time() - started < 1.0


def test_a_budget_counts_one_render_not_a_thread_or_a_process() -> None:
    """Renders in parallel (a Dask or Spark worker's threads) each have their own budget, and
    one render's count does not carry over to the next."""
    source = "[% for i in range(60000) %][% endfor %]done"
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: render(source, {}), range(8)))
    assert results == ["done"] * 8


def test_a_big_real_email_renders_whole_and_escaped() -> None:
    items = [
        {"name": f"Stainless Steel Water Bottle <{n}> 1 L", "qty": n % 7 + 1, "price": 399.5}
        for n in range(1000)
    ]
    source = (ROOT / "examples" / "journeys" / "templates" / "order-shipped.html").read_text()
    data = {
        "order_id": "SO-2026-004388",
        "customer_name": "Rohan & Co",
        "carrier": "Blue Dart",
        "tracking_url": "https://www.bluedart.com/tracking/81234567890",
        "expected_delivery": "2026-11-27",
        "currency": "INR",
        "items": items,
        "vars": {"brand": "Shop", "app_url": "https://shop.example", "support_email": "s@x.in"},
        "env": "production",
    }
    started = time.thread_time()
    html = render(source, data, autoescape=True)
    assert time.thread_time() - started < 1.0
    assert 300_000 < len(html) < LIMITS.characters
    assert html.count("Stainless Steel Water Bottle &lt;999&gt; 1 L") == 1
    assert "Rohan &amp; Co" in html


def test_real_templates_still_render_as_before() -> None:
    source = (
        "[% macro row(i) %]<li>[[ i.name ]] x[[ i.qty ]]</li>[% endmacro %]"
        "[% for i in items %][[ row(i) ]][% endfor %]|[[ [1, 2]|join(',') ]]|[[ 'a' ~ name ]]"
        "|[[ '%05d'|format(count) ]]|[[ '{:>5}'.format(name) ]]|[[ name * 2 ]]"
        "|[[ [[1], [2]]|sum(start=[]) ]]|[[ (items|map(attribute='qty')|sum) ** 2 ]]"
        "|[[ range(3)|list + [3] ]]|[[ {'a': count}|tojson ]]|[[ name|center(7) ]]"
    )
    assert render(source, CONTEXT) == (
        '<li>Tea x2</li>|1,2|aAnn|00003|  Ann|AnnAnn|[1, 2]|4|[0, 1, 2, 3]|{"a": 3}|  Ann  '
    )


def test_the_sandbox_still_refuses_escapes() -> None:
    with pytest.raises(TemplateRenderError, match="unsafe"):
        render("[[ ''.__class__.__mro__ ]]", {})


def test_the_limits_documented_are_the_limits_enforced() -> None:
    text = (ROOT / "docs" / "declarations.md").read_text(encoding="utf-8")
    section = text.split("### Template limits", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|", section, flags=re.MULTILINE))
    assert rows["output of one template"] == f"{LIMITS.characters:,} characters"
    assert (
        rows[
            "loop iterations, all loops of one render together (a loop's `if` counts "
            "each item it looks at)"
        ]
        == f"{LIMITS.loop_iterations:,}"
    )
    assert rows["macro, call-block and block calls"] == f"{LIMITS.calls:,}"
    assert rows["digits of a number (`*`, `**`)"] == f"{LIMITS.digits:,}"
    assert rows["lists and mappings inside each other"] == f"{LIMITS.nesting} deep"
    assert rows["processor time of one render"] == f"{LIMITS.seconds:g} s"


def test_a_value_too_long_to_print_is_refused_even_in_a_plain_substitution() -> None:
    with pytest.raises(TemplateRenderError, match="printed value makes more than 1,000,000"):
        render("Dear\n[[ name ]]", {"name": "x" * 1_500_000})
    assert render("Dear [[ name ]]", {"name": "x" * 900_000}) == "Dear " + "x" * 900_000
