"""ctflow templates: the static check (golden messages, both directions), rendering, names."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctflow.spec import templates
from ctflow.spec.templates import (
    TemplateProblem,
    TemplateRenderError,
    check,
    is_template,
    names,
    render,
)

CONTEXT: dict[str, Any] = {
    "type": "object",
    "$defs": {
        "customer": {"type": "object", "properties": {"name": {"type": "string"}}},
    },
    "properties": {
        "order_id": {"type": "string"},
        "total": {"type": "number"},
        "paid": {"type": "boolean"},
        "note": {"type": ["string", "null"]},
        "status": {"enum": ["new", "shipped"]},
        "order": {
            "type": "object",
            "properties": {
                "total": {"type": "number"},
                "items": {"type": "array"},
                "coupon": {"type": "string"},
            },
        },
        "customer": {"$ref": "#/$defs/customer"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "qty"],
                "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
            },
        },
        "meta": {"type": "object", "additionalProperties": True},
        "anything": {},
        "either": {"anyOf": [{"type": "string"}, {"type": "object"}]},
        "vars": {"type": "object", "properties": {"support_email": {"type": "string"}}},
        "env": {"type": "string"},
    },
}


def _problems(source: str) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in check(source, CONTEXT)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # undeclared names
        ("[[ order_idd ]]", "'order_idd' is not declared (did you mean 'order_id'?)"),
        ("[[ zebra ]]", "'zebra' is not declared"),
        ("[% for it in items %][% endfor %][[ it ]]", "'it' is not declared"),
        ("[[ later ]][% set later = 1 %]", "'later' is not declared"),
        ("[% with a = 1 %][% endwith %][[ a ]]", "'a' is not declared"),
        ("[[ loop.index ]]", "'loop' is not declared"),
        # attributes, properties, indexes
        ("[[ order_id.total ]]", "'order_id' is a string; it has no attribute 'total'"),
        ("[[ items.first ]]", "'items' is an array; it has no attribute 'first'"),
        ("[[ order.totl ]]", "'order' has no property 'totl' (did you mean 'total'?)"),
        ("[[ order['totl'] ]]", "'order' has no property 'totl' (did you mean 'total'?)"),
        ("[[ customer.nmae ]]", "'customer' has no property 'nmae' (did you mean 'name'?)"),
        ("[[ vars.support ]]", "'vars' has no property 'support' (did you mean 'support_email'?)"),
        ("[[ items[0].nam ]]", "'items[0]' has no property 'nam' (did you mean 'name'?)"),
        ("[[ total[0] ]]", "'total' is a number; it cannot be indexed"),
        ("[[ paid[1:] ]]", "'paid' is a boolean; it cannot be sliced"),
        (
            "[[ order.items ]]",
            "'order.items' is the method items() of a mapping, not the property 'items';"
            " write order['items']",
        ),
        # loops
        ("[% for x in total %][% endfor %]", "'total' is a number; it cannot be looped over"),
        (
            "[% for it in items %][[ it.nam ]][% endfor %]",
            "'it' has no property 'nam' (did you mean 'name'?)",
        ),
        (
            "[% for it in items %][[ it.qty.x ]][% endfor %]",
            "'it.qty' is an integer; it has no attribute 'x'",
        ),
        (
            "[% for it in items %][[ loop.idx ]][% endfor %]",
            "'loop' has no property 'idx' (did you mean 'index'?)",
        ),
        # arithmetic and comparisons
        ("[[ order_id + 1 ]]", "cannot apply '+' to 'order_id' (a string) and 1 (an integer)"),
        ("[[ order_id - 'A' ]]", "cannot apply '-' to 'order_id' (a string) and \"A\" (a string)"),
        ("[[ total / items ]]", "cannot apply '/' to 'total' (a number) and 'items' (an array)"),
        ("[[ note / 2.5 ]]", "cannot apply '/' to 'note' (a string or null) and 2.5 (a number)"),
        ("[[ status - 1 ]]", "cannot apply '-' to 'status' (a string) and 1 (an integer)"),
        ("[[ -order_id ]]", "cannot apply '-' to 'order_id' (a string)"),
        ("[% set n = items | length %][[ n ~ n.x ]]", "'n' is an integer; it has no attribute 'x'"),
        ("[[ total > '5' ]]", "cannot compare 'total' (a number) with \"5\" (a string) using '>'"),
        # filters and tests
        ("[[ items | upper ]]", "'items' is an array; filter 'upper' needs a string"),
        ("[[ order | truncate(5) ]]", "'order' is an object; filter 'truncate' needs a string"),
        (
            "[[ items | first | title ]]",
            "'items | first' is an object; filter 'title' needs a string",
        ),
        ("[[ order_id | round ]]", "'order_id' is a string; filter 'round' needs a number"),
        ("[[ order | sum ]]", "'order' is an object; filter 'sum' needs an array"),
        (
            "[[ total | join(', ') ]]",
            "'total' is a number; filter 'join' needs an array, an object or a string",
        ),
        (
            "[[ paid | length ]]",
            "'paid' is a boolean; filter 'length' needs an array, an object or a string",
        ),
        ("[[ items | dictsort ]]", "'items' is an array; filter 'dictsort' needs an object"),
        ("[[ order_id | uper ]]", "no filter named 'uper' (did you mean 'upper'?)"),
        ("[[ order_id is strng ]]", "no test named 'strng' (did you mean 'string'?)"),
        # what ctflow templates cannot do
        (
            "[% include 'footer.html' %]",
            "'include' is not available: ctflow templates cannot load other files",
        ),
        ("[% block a %][% endblock %][% block a %][% endblock %]", "block 'a' defined twice"),
    ],
)
def test_check_reports_each_problem_with_its_message(source: str, expected: str) -> None:
    assert _problems(source) == [(1, expected)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "[[ undeclared ]]\n[% for x in items %]\n[[ x.name ]]",
            (3, "unexpected end of template, expected 'endfor' or 'else' (in block 'for')"),
        ),
        ("Hi\n[% endfor %]\n[[ undeclared ]]", (2, "encountered unknown tag 'endfor'")),
        ("Hi\n[[ order_id ]\n[[ undeclared ]]", (2, "unexpected ']'")),
        (
            "Hi\n[% if %]yes[% endif %][[ undeclared ]]",
            (2, "expected an expression, got 'end of statement block'"),
        ),
    ],
)
def test_a_syntax_error_is_reported_alone_at_its_line(
    source: str, expected: tuple[int, str]
) -> None:
    assert _problems(source) == [expected]


def test_every_problem_is_reported_sorted_by_line() -> None:
    source = (
        "Dear [[ customer.nmae ]],\n"
        "[% for it in items %]\n"
        "  [[ it.qty + it.name ]] x [[ it.nam ]]\n"
        "[% endfor %]\n"
        "Total: [[ totl ]] [[ order_id | round ]] [[ total | uper ]]\n"
        "[% block a %][% endblock %][[ zebra ]][% block a %][% endblock %]"
    )
    assert check(source, CONTEXT) == [
        TemplateProblem(1, 1, "'customer' has no property 'nmae' (did you mean 'name'?)"),
        TemplateProblem(3, 1, "cannot apply '+' to 'it.qty' (an integer) and 'it.name' (a string)"),
        TemplateProblem(3, 1, "'it' has no property 'nam' (did you mean 'name'?)"),
        TemplateProblem(5, 1, "'totl' is not declared (did you mean 'total'?)"),
        TemplateProblem(5, 1, "'order_id' is a string; filter 'round' needs a number"),
        TemplateProblem(5, 1, "no filter named 'uper' (did you mean 'upper'?)"),
        TemplateProblem(6, 1, "'zebra' is not declared"),
        TemplateProblem(6, 1, "block 'a' defined twice"),
    ]


@pytest.mark.parametrize(
    "source",
    [
        # Liquid is plain text
        '{{ Profile.Name | default: "friend" }}, {% if Profile.City %}hi{% endif %}',
        "{{ ExternalTrigger.order_id }} {{ undeclared.x + 1 }}",
        # values used the way their types allow
        "[[ order_id ~ total ~ paid ]] [[ order_id + '-x' ]] [[ order_id * 2 ]]",
        "[[ total * 2 ]] [[ total // 3 ]] [[ paid + 1 ]] [[ '%s items' % total ]] [[ -total ]]",
        "[[ order_id.upper() ]] [[ order_id[0] ]] [[ order_id[1:] ]] [[ items[-1].name ]]",
        "[[ order['items'] | length ]] [[ order.total | round(2) ]] [[ order['get'] ]]",
        "[[ items | map(attribute='name') | join(', ') ]] [[ items | sum(attribute='qty') ]]",
        "[[ items | selectattr('qty', 'gt', 1) | list | length ]] [[ order_id | length ]]",
        "[[ total | int ]] [[ order_id | int ]] [[ total | upper ]] [[ note | upper ]]",
        "[[ '%.2f' | format(total) ]] [[ order | tojson ]] [[ order | dictsort | first ]]",
        "[[ vars.support_email ]] [[ env | upper ]] [[ status ~ '!' ]] [[ total < 10 ]]",
        "[% for k, v in vars.items() %][[ k ]]=[[ v ]][% endfor %]",
        "[% for key in order %][[ key | upper ]][% endfor %]",
        "[% for c in order_id %][[ c ]][% endfor %]",
        # optional values and types nobody declared
        "[[ order.coupon | default('none') ]] [% if order.coupon is defined %]x[% endif %]",
        "[[ (note or '') | upper ]]",
        "[[ meta.whatever.deeper + 1 ]] [[ anything.foo - 1 ]] [[ either.x ]] [[ either + 1 ]]",
        # names bound inside the template
        "[% set n = items | length %][[ n + 1 ]] [% set s %]x[% endset %][[ s | upper ]]",
        "[% for it in items %][[ loop.index ]]/[[ loop.length ]]: [[ it.name ]][% endfor %]",
        "[% if total > 0 %][% set x = 1 %][% else %][% set x = 'a' %][% endif %][[ x + 1 ]]",
        "[% with a = total %][[ a + 1 ]][% endwith %]",
        "[% set ns = namespace(n=0) %][% for it in items %][% set ns.n = ns.n + it.qty %]"
        "[% endfor %][[ ns.n ]]",
        "[% macro m(a) %][[ a ]][[ later ]][[ caller() ]][% endmacro %][% set later = 1 %]"
        "[% call m(1) %]inner[% endcall %]",
        "[% for it in anything recursive %][[ loop(it.children) ]][% endfor %]",
        "[% set t = 1 %][% block b %][[ t ]][% endblock %] [[ range(3) | join ]]",
        "[% if 'markdown' is filter %][[ order_id | markdown ]][% endif %]",
        "[# a comment with [[ nothing ]] #][% raw %][[ not_a_name ]][% endraw %]",
    ],
)
def test_check_accepts_valid_uses_and_what_it_cannot_know(source: str) -> None:
    assert _problems(source) == []


def test_a_context_without_types_only_checks_names() -> None:
    untyped = {"type": "object", "properties": {"order_id": {}, "items": True}}
    assert check("[[ order_id.x + items[0] ]] [[ order_idx ]]", untyped) == [
        TemplateProblem(1, 1, "'order_idx' is not declared (did you mean 'order_id'?)")
    ]


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["[[", "]]", "[%", "%]", "[#", "#]", "{{", "}}", "{%", "%}"]),
            st.sampled_from(["for", "in", "endfor", "if", "endif", "set", "=", "|", ".", "("]),
            st.sampled_from(["order_id", "items", "total", "x", "loop", "upper", "1", "'a'"]),
            st.text(max_size=5),
        ),
        max_size=30,
    ).map(" ".join)
)
@settings(max_examples=300, deadline=None)
def test_check_never_raises(source: str) -> None:
    problems = check(source, CONTEXT)
    assert all(p.line >= 1 and p.column == 1 and "\n" not in p.message for p in problems)


# rendering ------------------------------------------------------------------------------------

ORDER = {
    "order_id": "A-1001",
    "items": [{"name": "Mug", "qty": 2}, {"name": "Tea", "qty": 1}],
    "vars": {"support_email": "help@shop.example"},
    "env": "staging",
}


def test_render_substitutes_values_and_loops_over_items() -> None:
    source = (
        "Order [[ order_id ]] ([[ env ]]):\n"
        "[% for it in items %]- [[ it.qty ]] x [[ it.name ]]\n[% endfor %]"
        "Questions? [[ vars.support_email ]]\n"
    )
    assert render(source, ORDER) == (
        "Order A-1001 (staging):\n- 2 x Mug\n- 1 x Tea\nQuestions? help@shop.example\n"
    )


def test_render_leaves_liquid_untouched() -> None:
    source = '{{ Profile.Name | default: "friend" }} {% if x %}[[ order_id ]]{% endif %}'
    assert (
        render(source, ORDER)
        == '{{ Profile.Name | default: "friend" }} {% if x %}A-1001{% endif %}'
    )


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("Hi\n\n[[ order_idd ]]", 3, "'order_idd' is undefined"),
        ("Hi\n[[ items[0].price ]]", 2, "'dict object' has no attribute 'price'"),
        (
            "[[ ''.__class__.__mro__ ]]",
            1,
            "access to attribute '__class__' of 'str' object is unsafe",
        ),
        ("[[ items.append(1) ]]", 1, "access to attribute 'append' of 'list' object is unsafe"),
        ("a\nb\n[[ order_id - 1 ]]", 3, "unsupported operand type(s) for -: 'str' and 'int'"),
        (
            "a\n[% for x in items %]",
            2,
            "unexpected end of template, expected 'endfor' or 'else' (in block 'for')",
        ),
        ("[[ order_id | uper ]]", 1, "no filter named 'uper'"),
        ("[% include 'x.html' %]", 1, "no loader for this environment specified"),
    ],
)
def test_render_failures_carry_the_template_line(source: str, line: int, message: str) -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render(source, ORDER)
    assert (caught.value.line, caught.value.message, str(caught.value)) == (line, message, message)


def test_autoescape_escapes_values_but_not_the_templates_markup() -> None:
    data = {"name": "<b>Tom & Jerry</b>"}
    source = "<p>Hi [[ name ]]</p>"
    assert render(source, data, autoescape=True) == "<p>Hi &lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>"
    assert render(source, data) == "<p>Hi <b>Tom & Jerry</b></p>"


def test_render_keeps_the_trailing_newline_and_drops_comments() -> None:
    assert render("[# internal #]Hello [[ env ]]\n", ORDER) == "Hello staging\n"


# names and is_template ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("[[ order_id ]] [[ vars.support_email ]] {{ Profile.Name }}", {"order_id", "vars"}),
        ("[% for it in items %][[ it.name ]][[ loop.index ]][% endfor %]", {"items"}),
        ("[% set n = 1 %][[ n ]][% for i in range(n) %][[ env ]][% endfor %]", {"env"}),
        ("[% for x in %]", set()),
    ],
)
def test_names_lists_what_a_template_reads_from_its_context(
    source: str, expected: set[str]
) -> None:
    assert names(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Hello [[ name ]]", True),
        ("[% if x %]y[% endif %]", True),
        ("[# note #]", True),
        ("Hello {{ Profile.Name }} {% if x %}y{% endif %}", False),
        ("a]] b %]", False),
    ],
)
def test_is_template_looks_for_ctflow_delimiters_only(source: str, expected: bool) -> None:
    assert is_template(source) is expected


@pytest.mark.parametrize("autoescape", [False, True])
@pytest.mark.parametrize(
    "source",
    [
        "Hello [[ vars.brand ]]!",
        "[[vars.brand]][[ vars.count ]] and [[ vars.ratio ]]",
        "<b>[[ vars.html ]]</b>\n",
        "no template at all, {{ Profile.Name }} is Liquid",
        "[[ vars.brand | upper ]] needs Jinja",
        "[[ vars.flag ]] is a boolean",
        "[[ vars.keys ]] is a dict method name",
        "[% if vars.flag %]yes[% endif %] [[ vars.brand ]]",
        "[[ vars.brand ]] [[ 'x' ]] [[ vars.brand ]]",
        "line one\r\n[[ vars.brand ]]",
    ],
)
def test_plain_substitution_renders_exactly_as_jinja_does(source: str, autoescape: bool) -> None:
    """Name-only templates skip compiling (plans render thousands); the text must not differ."""
    context = {
        "vars": {"brand": "Shop & Co", "count": 3, "ratio": 0.5, "html": "<i>", "flag": True}
    }
    expected = templates._compiled(source, autoescape).render(context)
    assert templates.render(source, context, autoescape=autoescape) == expected


def test_a_missing_name_in_a_plain_template_still_gets_jinjas_error() -> None:
    with pytest.raises(templates.TemplateRenderError, match="nope"):
        templates.render("Hi [[ vars.nope ]]", {"vars": {}})
