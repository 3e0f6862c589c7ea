"""compose.py: a skeleton filled with a level's chrome, and another level's page composed from the base page and
both levels' fragments (what the gate serves), without a build."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mbsite.compose import MARKS, composable, compose, dump_fragments, fill, fragment_file, load_fragments, same_page


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


H, F = MARKS["chrome_header"], MARKS["chrome_footer"]


@pytest.mark.parametrize("skeleton,base_chrome,expected", [
    (f"<body>{H}<main>x</main>{F}</body>", ("<h>0</h>", "<f>0</f>"), True),
    (f"<title><h>0</h></title>{H}<main>x</main>{F}", ("<h>0</h>", "<f>0</f>"), False),  # header text earlier
    (f"{H}<main><f>0</f></main>{F}", ("<h>0</h>", "<f>0</f>"), False),                   # footer text in between
    (f"{F}<main>x</main>{H}", ("<h>0</h>", "<f>0</f>"), False),                          # footer marker first
    (f"{H}<main>x</main>{F}", ("", "<f>0</f>"), False),                                  # an empty block
])
def test_composable_says_whether_the_splice_lands_on_the_markers(skeleton: str, base_chrome: tuple[str, str],
                                                                  expected: bool) -> None:
    base = fill(skeleton, base_chrome)
    assert composable(skeleton, base, base_chrome) is expected
    others = [("<h>1</h>", "<f>1</f>"), ("<h>0</h>", "<f>0</f>"), ("<h>22</h>", "<f>0</f>"), ("x", "")]
    if expected:  # then the gate's composition is the filled page for any level's chrome
        assert all(compose(base, base_chrome, other) == fill(skeleton, other) for other in others)
    else:  # and some chrome shows why not
        assert any(compose(base, base_chrome, other) != fill(skeleton, other) for other in others)


@given(st.text(alphabet="ab<>", max_size=8), st.text(alphabet="ab<>", max_size=8),
       st.text(alphabet="ab<>", max_size=8), st.text(alphabet="ab<>", max_size=8), st.text(alphabet="ab<>", max_size=6))
def test_same_page_is_equality_of_the_filled_pages(h1: str, f1: str, h2: str, f2: str, middle: str) -> None:
    skeleton = f"<p>{H}{middle}{F}</p>"
    assert same_page(skeleton, (h1, f1), (h2, f2)) == (fill(skeleton, (h1, f1)) == fill(skeleton, (h2, f2)))


@given(st.text(alphabet="ab<", max_size=6), st.text(alphabet="ab<", min_size=1, max_size=4),
       st.text(alphabet="ab<", max_size=6), st.text(alphabet="ab<", min_size=1, max_size=4),
       st.text(alphabet="ab<", max_size=6), st.text(alphabet="ab<", max_size=5), st.text(alphabet="ab<", max_size=5))
def test_a_composable_page_composes_as_it_fills(before: str, h0: str, middle: str, f0: str, after: str, h: str,
                                                f: str) -> None:
    skeleton = f"{before}{H}{middle}{F}{after}"
    base = fill(skeleton, (h0, f0))
    if composable(skeleton, base, (h0, f0)):
        assert compose(base, (h0, f0), (h, f)) == fill(skeleton, (h, f))
