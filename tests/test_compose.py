"""compose.py: a skeleton filled with a level's chrome, and another level's page composed from the base page and
both levels' fragments (what the gate serves), without a build."""
from __future__ import annotations

import pytest

from mbsite.compose import MARKS, compose, dump_fragments, fill, fragment_file, load_fragments


def test_compose_replaces_the_base_chrome_and_refuses_when_it_cannot_find_it() -> None:
    skeleton = f"<head></head><body>{MARKS['chrome_header']}<main>x</main>{MARKS['chrome_footer']}</body>"
    base = fill(skeleton, ("<header>0</header>", "<footer>0</footer>"))
    assert compose(base, ("<header>0</header>", "<footer>0</footer>"), ("<header>3</header>", "<footer>3</footer>")) \
        == fill(skeleton, ("<header>3</header>", "<footer>3</footer>"))
    assert compose(base, ("<header>9</header>", "<footer>0</footer>"), ("<header>3</header>", "")) is None
    assert compose(base, ("", "<footer>0</footer>"), ("<header>3</header>", "")) is None  # nowhere to put it
    fragments = {"page.html\t/": ("<h>", "<f>")}
    assert load_fragments(dump_fragments(fragments)) == fragments
    with pytest.raises(ValueError):
        load_fragments(b'{"k": ["only one"]}')


def test_the_footer_is_looked_for_after_the_new_header() -> None:
    # The base footer's text also occurs inside the new header: it must not be the one replaced.
    base = "<h>0</h><main>m</main><f>0</f>"
    assert compose(base, ("<h>0</h>", "<f>0</f>"), ("<h>3 <f>0</f></h>", "<f>3</f>")) == \
        "<h>3 <f>0</f></h><main>m</main><f>3</f>"


def test_fragments_are_written_sorted_and_refused_when_malformed() -> None:
    data = dump_fragments({"b": ("h", "f"), "a": ("<ü>", "")})
    assert data == '{"a": ["<ü>", ""], "b": ["h", "f"]}\n'.encode()
    for bad in (b"[]", b'{"k": "text"}', b'{"k": [1, 2]}'):
        with pytest.raises(ValueError):
            load_fragments(bad)
    assert fragment_file("t", 3) == "t/private/chrome/3.json"
