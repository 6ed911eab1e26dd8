"""Liquid is parsed once per distinct markup (campaigns share their personalisation and differ in
their words): what is read, and where, is exactly what parsing the whole text gives."""

from __future__ import annotations

import random
import re

from ctflow.spec import liquid
from ctflow.spec.liquid import Reading

PIECES = [
    "Hi ", "{{ Profile.Name }}", "{{ Profile.Name | default: 'x' }}", "{{ Event.Amount | upcase }}",
    "{% if Profile.Tier == 'Gold' %}", "{% endif %}", "{% raw %}", "{% endraw %}", "{{ '}}' }}",
    "{% if a == '%}' %}", "{{", "}}", "{%", "%}", "\n", "  ", "[[ vars.x ]]", "Profile.[[ v ]]",
    "{{ Profile.[[ v ]] }}", "[# c #]", "{% for x in Profile.List %}{{ x }}{% endfor %}",
    "{{ Profile['Loyalty Tier'] }}", "{{ Profile.Customer Type }}", "{{ x | nofilter }}",
    "{% comment %}{{ Profile.Z }}{% endcomment %}", "{% assign Profile = 1 %}", "{{-Profile.A-}}",
    "{%- if x -%}", "{% unless Profile.B %}", "{% endunless %}", "text }} more",
    "{{{ Profile.C }}}",
    "{% %}", "{{}}", "{% capture c %}{{ Profile.D }}{% endcapture %}{{ c }}", "é",
    '{{ Profile.E | default: "}}" }}',
]  # fmt: skip


def whole(text: str) -> Reading:
    """The text parsed whole (as before only the markup was): ctflow's code masked the same way."""
    source = liquid._CTFLOW_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m[0]), text)
    built = [(m.start(), m.end()) for m in liquid._CTFLOW_CODE.finditer(source)]
    source = liquid._CTFLOW_CODE.sub(lambda m: re.sub(r"[^\n]", "_", m[0]), source)
    found = liquid._parse(source)
    if found.error is not None:
        index, message = found.error
        return Reading(error=(index, message + liquid._spaced_hint(source, index)))
    kept = tuple(ref for ref in found.references if not liquid._built(source, ref, built))
    return Reading(kept, found.unknown_filters)


def test_reading_the_markup_alone_reads_what_the_whole_text_does() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8)))
        assert liquid.read(text) == whole(text), text


def test_texts_that_differ_in_their_words_are_parsed_once() -> None:
    liquid._parse.cache_clear()
    for n in range(50):
        reading = liquid.read(f"Deal {n}: hello {{{{ Profile.Name | default: 'friend' }}}}!")
        assert [ref.index for ref in reading.references] == [len(f"Deal {n}: hello {{{{ ")]
    assert liquid._parse.cache_info().misses == 1
