"""templates.py: the theme's Jinja environment answers `x.name` on a plain dict without a failed attribute lookup
first, and says exactly what Jinja's own environment says."""
from __future__ import annotations

import jinja2
import pytest

from mbsite.chrome_reads import ReadDict
from mbsite.templates import ThemeEnvironment

CASES = [
    "{{ d.title }}|{{ d.path }}",
    "{{ d.items is callable }}|{{ d['items'] }}",     # a dict method's name: the method, as Jinja gives it
    "{{ d.missing is defined }}|{{ d.missing | default('none') }}",
    "{{ d.nested.inner }}|{{ d.nested.items is callable }}",
    "{% for k, v in d.nested.items() %}{{ k }}={{ v }};{% endfor %}",
    "{{ d.__class__ is defined }}",
    "{{ d.get('title') }}|{{ d.keys() | list | length }}",
    "{{ r.title }}",
]


@pytest.mark.parametrize("source", CASES)
def test_dict_attributes_read_as_in_jinja(source: str) -> None:
    values = {"d": {"title": "<T>", "path": "/p", "items": [1, 2], "nested": {"inner": 3}},
              "r": ReadDict({"title": "read"})}
    ours = ThemeEnvironment(autoescape=True).from_string(source).render(**values)
    theirs = jinja2.Environment(autoescape=True).from_string(source).render(**values)
    assert ours == theirs


def test_a_missing_name_is_still_an_error_under_strict_undefined() -> None:
    env = ThemeEnvironment(undefined=jinja2.StrictUndefined)
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ d.missing }}").render(d={"title": 1})


def test_a_read_dict_still_notes_what_is_read() -> None:
    page = ReadDict({"title": "t", "path": "/p"})
    ThemeEnvironment().from_string("{{ page.title }}").render(page=page)
    assert page.read == {"title"}
