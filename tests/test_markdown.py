"""Front matter, Markdown rendering, shortcodes, and literal template-like text."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from lxml import html as lxml_html

from mbsite.errors import ConfigError, DataError
from mbsite.markdown import ENGINES, parse_shortcode_args, render_markdown, split_front_matter

REPO = Path(__file__).resolve().parent.parent
_ENGINE_MODULES = {"markdown-it": "markdown_it", "pyromark": "pyromark"}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Every Markdown engine (`build.markdown_engine`); an optional one is skipped when not installed."""
    name = request.param
    if importlib.util.find_spec(_ENGINE_MODULES[name]) is None:
        pytest.skip(f"Markdown engine {name!r}: package {_ENGINE_MODULES[name]!r} not installed "
                    f"(pip install -e '.[fast]')")
    return name


def test_front_matter_fields_and_body_line() -> None:
    fm, body, line = split_front_matter(
        "---\ntitle: Hi\ndate: 2025-02-03\ntags: [a, b]\nlevel: 7\ndraft: true\nrevalidate: 60\n---\nBody\n", "x.md")
    assert (fm.title, fm.date, fm.tags, fm.level, fm.draft, fm.revalidate) == ("Hi", "2025-02-03", ("a", "b"), 5, True, 60)
    assert body == "Body\n"
    assert line == 9


@pytest.mark.parametrize("text, message, line", [
    ("---\ntitle: [unclosed\n---\n", "front matter", 2),
    ("---\ntitle: x\n", "no closing '---'", 1),
    ("---\ntitle: x\ntags: nope\n---\n", "'tags' must be a list", 3),
    ("---\n- a\n- b\n---\n", "expected a mapping", 2),
], ids=["yaml", "unclosed", "type", "not-mapping"])
def test_front_matter_errors_have_lines(text: str, message: str, line: int) -> None:
    with pytest.raises(DataError) as info:
        split_front_matter(text, "content/blog/x.md")
    assert message in str(info.value)
    assert info.value.location.file == "content/blog/x.md"
    assert info.value.location.line == line


def test_tables_footnotes_anchors_and_highlighting(engine: str) -> None:
    html = render_markdown("## A heading\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nNote[^1].\n\n[^1]: Here.\n\n"
                           "```python\nx = 1\n```\n", engine=engine)
    doc = lxml_html.fromstring(f"<div>{html}</div>")
    assert doc.xpath("//h2/@id") == ["a-heading"]
    assert doc.xpath("//td/text()") == ["1", "2"]
    assert doc.xpath("//section[@class='footnotes']//li/@id") == ["fn1"]
    assert doc.xpath("//pre[@class='highlight']//span[@class='n']/text()") == ["x"]


def test_highlighting_can_be_switched_off(engine: str) -> None:
    html = render_markdown("```python\nx = 1\n```\n", highlight_code=False, engine=engine)
    assert '<code class="language-python">x = 1\n</code>' in html


def test_template_like_text_stays_literal(engine: str) -> None:
    src = ("Use `{{ title }}` and `{% raw %}` here.\n\n```jinja\n{{ page.title }} {% if x %}\n"
           "{{< component a:b >}}\n```\n\nPlain {{ not_a_template }} text.\n")
    calls: list[str] = []
    html = render_markdown(src, shortcode=lambda p, c, a, line: calls.append(f"{p}:{c}") or "X", engine=engine)
    assert calls == []
    text = lxml_html.fromstring(f"<div>{html}</div>").text_content()
    for literal in ("{{ title }}", "{% raw %}", "{{ page.title }}", "{{< component a:b >}}", "{{ not_a_template }}"):
        assert literal in text


def test_shortcodes_block_and_inline_with_lines(engine: str) -> None:
    seen: list[tuple[str, str, dict, int | None]] = []

    def handler(pkg: str, comp: str, args: dict, line: int | None) -> str:
        seen.append((pkg, comp, args, line))
        return "<aside>sc</aside>"

    html = render_markdown('Intro\n\n{{< component mb_blog_widgets:callout title="Hi there" n=3 ok=true >}}\n\n'
                           'Inline {{< component p:c x=\'y\' >}} end.\n', shortcode=handler, line_offset=4,
                           engine=engine)
    assert seen == [("mb_blog_widgets", "callout", {"title": "Hi there", "n": 3, "ok": True}, 7),
                    ("p", "c", {"x": "y"}, None)]
    assert html.count("<aside>sc</aside>") == 2


def test_raw_html_in_markdown_is_escaped(engine: str) -> None:
    html = render_markdown('<script>alert(1)</script>\n\n[x](javascript:alert(1))\n', engine=engine)
    assert "<script>" not in html
    assert 'href="javascript' not in html


COMMENTED = """Intro.

<!--more-->

<!-- a note
   over two lines -->
Next paragraph.

```html
<!-- shown: this is code -->
```

<!-- followed --> by text
Inline <!-- kept escaped --> here.
<!-- never closed
"""


def test_html_comment_blocks_print_nothing(engine: str) -> None:
    """A comment that starts and ends lines (a note, Hugo's `<!--more-->`) prints nothing in any engine; one in code
    is code; one followed by text on its line, one inside a line and one never closed stay as text, escaped."""
    html = render_markdown(COMMENTED, engine=engine, highlight_code=False)
    assert "more--" not in html and "a note" not in html and "over two lines" not in html
    assert "<p>Intro.</p>" in html and "<p>Next paragraph.</p>" in html
    assert "&lt;!-- shown: this is code --&gt;" in html
    assert "&lt;!-- followed --&gt; by text" in html and "&lt;!-- kept escaped --&gt;" in html
    assert "&lt;!-- never closed" in html
    assert "<!--" not in html  # (nothing raw, whatever is kept)


def test_both_engines_drop_the_same_comments() -> None:
    if any(importlib.util.find_spec(m) is None for m in _ENGINE_MODULES.values()):
        pytest.skip("both engines are needed (pip install -e '.[fast]')")
    dropped = COMMENTED.split("<!-- followed")[0]  # (what is left of raw HTML blocks is a known difference)
    assert render_markdown(dropped, engine="pyromark", highlight_code=False) == \
        render_markdown(dropped, engine="markdown-it", highlight_code=False)


def test_dropped_comments_keep_the_line_numbers() -> None:
    from mbsite.markdown.syntax import drop_comments

    assert drop_comments("a\n<!-- x\ny -->\nb\n") == "a\n\n\nb\n"
    assert drop_comments(COMMENTED).count("\n") == COMMENTED.count("\n")


@pytest.mark.parametrize("text, expected", [
    ('a="b c" n=2', {"a": "b c", "n": 2}),
    ("flag=false x='q'", {"flag": False, "x": "q"}),
    ('s="with \\"quote\\""', {"s": 'with "quote"'}),
    ("word=plain", {"word": "plain"}),
], ids=["string-number", "bool-single", "escaped", "bare"])
def test_shortcode_args(text: str, expected: dict) -> None:
    assert parse_shortcode_args(text) == expected


def test_shortcodes_in_code_and_escaped_are_not_recognised(engine: str) -> None:
    calls: list[str] = []
    src = ("`{{< component a:b >}}`\n\n    {{< component c:d >}}\n\n~~~\n{{< component e:f >}}\n~~~\n\n"
           "\\{{< component g:h >}}\n\nx {{< component i:j t=\"*not em*\" >}} y\n\n- {{< component k:l >}}\n")
    html = render_markdown(src, shortcode=lambda p, c, a, line: calls.append(f"{p}:{c}:{a}:{line}") or "<b>X</b>",
                           engine=engine)
    assert calls == ["i:j:{'t': '*not em*'}:None", "k:l:{}:13"]
    assert html.count("<b>X</b>") == 2
    assert "<em>" not in html


def test_unknown_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        render_markdown("x", engine="no-such-engine")
    assert "build.markdown_engine" in str(info.value)
    assert "no-such-engine" in str(info.value)


def test_engines_write_the_same_html(engine: str) -> None:
    """The demo content, rendered by every engine, with and without highlighting: the same HTML."""
    files = sorted((REPO / "content").rglob("*.md"))
    assert files
    samples = [split_front_matter(f.read_text(), str(f))[1] for f in files] + [
        "# H1\n\n## Dup\n\n## Dup\n\n### A `code` & more!\n\nRef[^a] and again[^a].\n\n[^a]: First.\n\n"
        "| a | b |\n|:--|--:|\n| 1 |\n\n1. a\n   - b\n2. c\n\n5. five\n\n- x\n\n- y\n\n> quote\n\n---\n\n"
        "![img *alt*](/i.png \"T\") [l](/ü?a=1&b=2 'tt') <https://a.b/c> <a@b.c> line  \nbreak ~~s~~ &copy;\n\n"
        "    indented\n\n```unknownlang\nx < y\n```\n\nText <span>inline</span>\n",
    ]
    for body in samples:
        for highlight in (True, False):
            assert render_markdown(body, highlight_code=highlight, engine=engine) == \
                render_markdown(body, highlight_code=highlight), body[:60]


STRAY = """Hugo's figure:

{{< figure src="a.jpg" >}} and {{% note %}}careful{{% /note %}}

`{{< youtube id >}}` in code, and:

```
{{< gist x >}}
```

{{< component not-well-formed >}}
"""


def test_shortcodes_of_other_generators_are_found_outside_code(engine: str) -> None:
    from mbsite.markdown.syntax import stray_shortcodes

    html = render_markdown(STRAY, engine=engine, highlight_code=False)
    assert stray_shortcodes(html, STRAY) == [("figure", 3), ("note", 3), ("component", 11)]
    assert stray_shortcodes(render_markdown("Plain `{{< x >}}`.\n", engine=engine), "Plain `{{< x >}}`.\n") == []
