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
from mbsite.summaries import reading_minutes, summary, table_of_contents

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
], ids=["first-paragraph", "description", "summary-key", "skips-code-and-lists"])
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
