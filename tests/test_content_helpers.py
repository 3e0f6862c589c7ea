"""Content helpers: summaries, reading time, a table of contents, older/newer post links and a feed per tag."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from support import SITES, copy_site

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.markdown import split_front_matter
from mbsite.reporter import BufferReporter
from mbsite.sources import MarkdownSource
from mbsite.summaries import first_heading, reading_minutes, summary, table_of_contents

# tests/sites/helpers: tenant t, public posts a and long (900 words in three parts), members' posts b and secret.
LONG = (SITES / "helpers" / "content" / "blog" / "long.md").read_text()


def md(text: str) -> MarkdownSource:
    front, body, line = split_front_matter(text, "content/blog/x.md")
    return MarkdownSource("content/blog/x.md", "/blog/x", "d", front, body, line)


@pytest.mark.parametrize("text,expected", [
    ("---\ntitle: X\n---\n# Title\n\nFirst **bold** [link](/a) and `code`.\n\nSecond.\n", "First bold link and code."),
    ("---\ntitle: X\ndescription: Said so.\n---\nBody text.\n", "Said so."),
    ("---\ntitle: X\nsummary: Mine.\ndescription: Said so.\n---\nBody text.\n", "Mine."),
    ("---\ntitle: X\n---\n```\ncode first\n```\n\n- a list\n\nThe paragraph.\n", "The paragraph."),
    ("---\ntitle: X\n---\nFirst para.\n\n```\ncode\n```\n\nSecond **para** and [link](/x).\n\n<!--more-->\n\nThird.\n",
     "First para. Second para and link."),
    ("---\ntitle: X\n---\n```\n<!--more-->\n```\n\nThe paragraph.\n\nMore.\n", "The paragraph."),
    ("---\ntitle: X\n---\n<!--\nTODO: a note for the author\n-->\nThe paragraph.\n", "The paragraph."),
], ids=["first-paragraph", "description", "summary-key", "skips-code-and-lists", "more-divider", "divider-in-code",
        "comment-first"])
def test_a_summary_is_plain_text(text: str, expected: str) -> None:
    assert summary(md(text)) == expected


def test_a_long_first_paragraph_is_cut_at_forty_words() -> None:
    cut = summary(md("---\ntitle: X\n---\n" + " ".join(f"w{i}" for i in range(60)) + "\n"))
    assert cut.split()[-1] == "w39…" and len(cut.split()) == 40


def test_reading_time_and_table_of_contents() -> None:
    assert reading_minutes(md(LONG)) == 4  # 900 words and three headings at 220 words a minute
    toc = table_of_contents('<h2 id="a">A &amp; B <a class="header-anchor" href="#a">#</a></h2><h3 id="c#d">C#</h3>')
    assert toc == [{"level": 2, "id": "a", "text": "A & B"}, {"level": 3, "id": "c#d", "text": "C#"}]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_site("helpers", tmp_path_factory.mktemp("helpers") / "site")
    assert Builder(load_config(root), BufferReporter()).run().ok
    return root


def doc(site: Path, rel: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring((site / "build" / "t" / rel).read_bytes())


def test_posts_show_reading_time_toc_and_their_public_neighbours(site: Path) -> None:
    long = doc(site, "public/blog/long/index.html")
    assert long.xpath("//nav[@class='toc']//a/@href") == ["#part-1", "#part-2", "#part-3"]
    assert "4 min read" in long.xpath("string(//p[@class='meta'])")
    # Public posts link public neighbours only (the members' post between them is skipped).
    assert long.xpath("//nav[@class='post-nav']/a[@rel='prev']/@href") == ["/blog/a"]
    assert long.xpath("//nav[@class='post-nav']/a[@rel='next']/@href") == []
    alpha = doc(site, "public/blog/a/index.html")
    assert alpha.xpath("//nav[@class='post-nav']/a[@rel='next']/@href") == ["/blog/long"]
    members = doc(site, "private/2/blog/b/index.html")  # a members' post links the posts members see
    assert members.xpath("//nav[@class='post-nav']/a/@href") == ["/blog/a", "/blog/long"]


def test_listings_show_summaries(site: Path) -> None:
    index = doc(site, "public/blog/index.html")
    assert "Alpha body." in index.xpath("string(//ul[@class='post-list'])")
    assert "4 min read" in index.xpath("string(//ul[@class='post-list'])")


def test_each_public_tag_has_its_own_feed(site: Path) -> None:
    feed = etree.fromstring((site / "build" / "t" / "public" / "tags" / "guides" / "feed.xml").read_bytes())
    links = [e.get("href") for e in feed.iter("{http://www.w3.org/2005/Atom}link")]
    assert links == ["https://t.example/blog/long", "https://t.example/blog/a"]  # public posts of the tag only
    assert not (site / "build" / "t" / "public" / "tags" / "club").exists()  # a members' tag: no page, no feed
    head = doc(site, "public/tags/guides/index.html").xpath("//head/link[@rel='alternate']/@href")
    assert "/tags/guides/feed.xml" in head


def test_a_tag_feed_goes_with_its_tag(tmp_path: Path, site: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    for name in ("a.md", "long.md"):
        path = copy / "content" / "blog" / name
        path.write_text(path.read_text().replace("tags: [guides]", "tags: [other]"))
    assert Builder(load_config(copy), BufferReporter()).run().ok
    assert not (copy / "build" / "t" / "public" / "tags" / "guides" / "feed.xml").exists()
    assert (copy / "build" / "t" / "public" / "tags" / "other" / "feed.xml").is_file()


@pytest.mark.parametrize("body,expected", [
    ("# About this site\n\nText.\n", "About this site"),
    ("\n\n  #  Hello *world* & `x` ##\n", "Hello world & x"),
    ("Release notes\n=============\n\nText.\n", "Release notes"),
    ("# \\#1 &amp; co\n", "#1 & co"),
    ("## A second-level heading\n", ""),
    ("Text first.\n\n# A later heading\n", ""),
    ("    # indented: code\n", ""),
    ("- a list item\n===\n", ""),
    ("#hashtag, not a heading\n", ""),
    ("", ""),
    ("<!-- a note\n-->\n# After a comment\n", "After a comment"),
], ids=["atx", "syntax-out", "setext", "escapes", "h2", "later", "code", "list", "no-space", "empty",
        "after-comment"])
def test_the_heading_that_opens_a_page(body: str, expected: str) -> None:
    assert first_heading(body) == expected


def test_a_page_that_opens_with_its_heading_gets_one_title(tmp_path: Path) -> None:
    """A Markdown page whose body opens with a level-1 heading: the default layout shows that heading and no title
    of its own (one `<h1>`); without a title in the front matter the heading is the page's title (the document's,
    the navigation's, the listings'); a page without such a heading still gets the layout's."""
    root = copy_site("helpers", tmp_path / "site")
    pages = root / "content" / "pages"
    pages.mkdir(parents=True, exist_ok=True)
    (pages / "opens.md").write_text("---\ntitle: Short\nnav: true\n---\n# The long title\n\nText.\n")
    (pages / "untitled-file.md").write_text("---\nnav: true\n---\nRelease notes\n=============\n\nText.\n")
    (pages / "plain.md").write_text("---\ntitle: Plain\n---\nNo heading here.\n\n# Later\n")
    assert Builder(load_config(root), BufferReporter()).run().ok
    opens = doc(root, "public/opens/index.html")
    assert opens.xpath("//main//h1/text()") == ["The long title"]
    assert opens.xpath("string(//title)").startswith("Short")  # the front matter's title still names the page
    untitled = doc(root, "public/untitled-file/index.html")
    assert untitled.xpath("//main//h1/text()") == ["Release notes"]
    assert untitled.xpath("string(//title)").startswith("Release notes")
    assert "Release notes" in untitled.xpath("//header//nav//a/text()")
    plain = doc(root, "public/plain/index.html")
    assert [" ".join(h.text_content().split()) for h in plain.xpath("//main//h1")] == ["Plain", "Later"]
    # A post that opens with its heading keeps its date and reading time.
    (root / "content" / "blog" / "headed.md").write_text("---\ntitle: Headed\ndate: 2024-02-01\n---\n# Headed post\n\nBody.\n")
    assert Builder(load_config(root), BufferReporter()).run().ok
    headed = doc(root, "public/blog/headed/index.html")
    assert headed.xpath("//main//h1/text()") == ["Headed post"] and headed.xpath("//main//time/@datetime")


def test_tags_that_share_an_address_are_one_tag(tmp_path: Path) -> None:
    """`Travel` and `travel` (and `C++` and `C#`, which make the same address) are one tag: one tag page listing
    every post of either spelling, and every post's tag link leads to it; spellings that differ beyond letter case
    are a located warning. (Before, the second spelling lost its tag page to the first, and its links led to a list
    of other posts.)"""
    root = copy_site("helpers", tmp_path / "site")
    blog = root / "content" / "blog"
    for name, tags in (("t1", "[travel]"), ("t2", "[travel, Travel]"), ("t3", "[travel]"), ("c1", "[C++]"),
                       ("c2", "[C#]")):
        (blog / f"{name}.md").write_text(f"---\ntitle: {name}\ndate: 2024-03-0{len(name)}\ntags: {tags}\n---\n{name}.\n")
    result = Builder(load_config(root), BufferReporter()).run()
    assert result.ok
    conflicts = [p for p in result.problems if p.code == "tag-conflict"]
    assert [p.message for p in conflicts] == [
        "tags 'C#', 'C++' of tenant t share the address /tags/c: they are one tag, 'C#' (rename one to keep them apart)"]
    assert conflicts[0].location.file == "content/blog/c1.md"
    travel = doc(root, "public/tags/travel/index.html")
    assert sorted(travel.xpath("//ul[@class='post-list']/li/a/@href")) == ["/blog/t1", "/blog/t2", "/blog/t3"]
    assert travel.xpath("string(//main//h1)") == "Tagged “travel”"  # named as most posts spell it
    c = doc(root, "public/tags/c/index.html")
    assert sorted(c.xpath("//ul[@class='post-list']/li/a/@href")) == ["/blog/c1", "/blog/c2"]
    for post in ("t1", "t2", "t3", "c1", "c2"):
        links = doc(root, f"public/blog/{post}/index.html").xpath("//main//a[@class='tag']/@href")
        assert len(links) == 1 and links[0] in ("/tags/travel", "/tags/c")


def test_a_shortcode_of_another_generator_is_a_located_warning(tmp_path: Path) -> None:
    root = copy_site("helpers", tmp_path / "site")
    (root / "content" / "blog" / "fig.md").write_text(
        "---\ntitle: Fig\ndate: 2024-03-01\n---\nText.\n\n{{< figure src=\"a.jpg\" >}}\n")
    result = Builder(load_config(root), BufferReporter()).run()
    assert result.ok
    (warning,) = [p for p in result.problems if p.code == "shortcode"]
    assert (warning.location.file, warning.location.line) == ("content/blog/fig.md", 7)
    assert "unknown shortcode 'figure' is shown as text" in warning.message
