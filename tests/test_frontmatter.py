"""The flat front-matter reader must type every value exactly as PyYAML does, or hand the text to PyYAML."""
from __future__ import annotations

import datetime as dt
import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mbsite.errors import DataError
from mbsite.markdown import split_front_matter
from mbsite.markdown.frontmatter_yaml import simple_yaml

SCALARS = [
    "Page 2727", "It's here", "a, b", "a: b", "a:b", "a #b", "a#b", "http://x.y/z?q=1#frag", "2024-01-12",
    "2024-01-12 10:00:00", "2024-1-2", "12:30", "1_000", "0x1F", "0o17", "017", "+5", "-5", "1.5", "1e3", ".inf",
    "-.inf", ".nan", "~", "null", "Null", "NULL", "true", "True", "yes", "No", "on", "OFF", "y", "n", "=", "<<",
    "[a, b]", "[]", "[a,]", "[a, , b]", "[1, 2.5, null, x y]", "['a', \"b\"]", "[\"a, b\"]", "[[a]]", "{a: 1}",
    "'quoted'", "'it''s'", "\"double\"", "\"esc\\n\"", "'a' # c", "\"a\" b", "|", ">", "&anchor x", "*alias",
    "!tag x", "%x", "@x", "`x`", "?x", "-x", "- x", ", x", "x ", "  x", "\tx", "x\ty", "x\r", "é ü 中", "\u2028x",
    "\x85x", "\ufeffx", "",
]
KEYS = ["title", "date", "tags", "level", "draft", "yes", "null", "a-b", "_x", "on", "Title", "k1"]


def _reference(text: str):
    try:
        return ("ok", yaml.safe_load(text))
    except yaml.YAMLError:
        return ("error", None)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


lines = st.one_of(
    st.builds(lambda k, v, sp: f"{k}:{sp}{v}", st.sampled_from(KEYS), st.sampled_from(SCALARS),
              st.sampled_from([" ", "  ", ""])),
    st.builds(lambda k, v: f"{k}: {v}", st.sampled_from(KEYS),
              st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=12)),
    st.sampled_from(["", "   ", "# comment", " # indented comment", "  - item", "- item", "  nested: 1", "x"]),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(lines, max_size=6))
def test_flat_reader_agrees_with_pyyaml(sample: list[str]) -> None:
    fast = simple_yaml(sample)
    if fast is None:
        return  # handed to PyYAML: nothing to compare
    kind, expected = _reference("\n".join(sample))
    assert kind == "ok", f"fast reader accepted what YAML refuses: {sample!r}"
    assert _same(fast, expected or {}), (sample, fast, expected)


@pytest.mark.parametrize("value", SCALARS)
def test_each_scalar_agrees_or_falls_back(value: str) -> None:
    text = f"title: {value}"
    fast = simple_yaml([text])
    if fast is not None:
        kind, expected = _reference(text)
        assert kind == "ok" and _same(fast, expected), (value, fast, expected)


def test_common_front_matter_takes_the_fast_path() -> None:
    data = simple_yaml(["title: Hello, world", "date: 2024-01-12", "tags: [a, b c]", "level: 2", "draft: false",
                        "", "# a note", "description: 'Quoted: text'"])
    assert data == {"title": "Hello, world", "date": dt.date(2024, 1, 12), "tags": ["a", "b c"], "level": 2,
                    "draft": False, "description": "Quoted: text"}


@pytest.mark.parametrize("lines", [["tags:", "  - a"], ["a: 1", "a: 2"], ["title: &x a"], ["data: {a: 1}"],
                                   ["title: x # comment"], ["yes: 1"], ["x: ="]])
def test_other_yaml_goes_to_pyyaml(lines: list[str]) -> None:
    assert simple_yaml(lines) is None


def test_split_front_matter_same_result_either_way() -> None:
    flat = "---\ntitle: T\ntags: [x, y]\ndate: 2024-02-03\n---\nBody {{ literal }}\n"
    nested = "---\ntitle: T\ntags:\n  - x\n  - y\ndate: 2024-02-03\n---\nBody {{ literal }}\n"
    a, b = split_front_matter(flat, "a.md"), split_front_matter(nested, "b.md")
    assert a[0] == b[0] and a[0].tags == ("x", "y") and a[0].date == "2024-02-03"
    assert a[1] == b[1] == "Body {{ literal }}\n"
    assert (a[2], b[2]) == (6, 8)


def test_toml_front_matter_as_hugo_writes_it() -> None:
    """`+++` TOML front matter (Hugo's) gives the same front matter as the YAML that says the same; its errors are
    located at their line in the file, as YAML's are."""
    toml = ('+++\ntitle = "T"\ntags = ["x", "y"]\ndate = 2024-02-03\ndraft = false\nlevel = 2\n'
            'publishDate = 2024-02-01T08:00:00Z\n[data]\nproducts = "p"\n+++\nBody {{ literal }}\n')
    yaml = ('---\ntitle: T\ntags: [x, y]\ndate: 2024-02-03\ndraft: false\nlevel: 2\n'
            'publishDate: 2024-02-01T08:00:00Z\ndata: {products: p}\n---\nBody {{ literal }}\n')
    a, b = split_front_matter(toml, "a.md"), split_front_matter(yaml, "b.md")
    assert a[0] == b[0] and a[0].tags == ("x", "y") and a[0].level == 2 and a[0].data == {"products": "p"}
    assert a[1] == b[1] == "Body {{ literal }}\n" and a[2] == 11
    with pytest.raises(DataError) as bad:
        split_front_matter('+++\ntitle = "T"\nlevel = "high"\n+++\nx\n', "c.md")
    assert bad.value.location.line == 3 and "'level' must be a int" in bad.value.message
    with pytest.raises(DataError) as broken:
        split_front_matter('+++\ntitle = "T\n+++\nx\n', "d.md")
    assert broken.value.location.line == 2
    with pytest.raises(DataError) as open_:
        split_front_matter('+++\ntitle = "T"\n', "e.md")
    assert "no closing '+++'" in open_.value.message
    # A body that merely starts with a line of `+` signs (no closing one) is an error too, as for `---`; a `+++`
    # that is not alone on its line is body text.
    assert split_front_matter("+++ not front matter\n", "f.md")[1] == "+++ not front matter\n"
