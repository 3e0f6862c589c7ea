"""Links between Markdown files, written relative to the file as on GitHub, become links between their pages: the
absolute path of the page the named file becomes, with its query and fragment, whatever the engine; other links are
left as written, and a link to a file that makes no page is one `mbsite check` reports."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from mbsite.builder import Builder
from mbsite.check import check_output
from mbsite.config import load_config
from mbsite.markdown.links import rewrite_page_links
from mbsite.reporter import BufferReporter


@pytest.mark.parametrize("relpath,href,expected", [
    ("content/blog/trip/index.md", "../p2.md", "/blog/p2"),
    ("content/blog/p2.md", "trip/index.md#day-2", "/blog/trip#day-2"),
    ("content/blog/p2.md", "../docs/Getting%20Started/Intro.md", "/docs/Getting%20Started/Intro"),
    ("content/index.md", "pages/about.md", "/about"),
    ("content/pages/about.md", "index.md", "/"),
    ("content/de/about.md", "guide.md", "/de/guide"),
    ("content/blog/p2.md", "other.md?tab=a&b=c#x", "/blog/other?tab=a&amp;b=c#x"),
    ("content/blog/p2.md", "other.MD", "other.MD"),
    ("content/blog/p2.md", "/blog/absolute.md", "/blog/absolute.md"),
    ("content/blog/p2.md", "https://github.com/o/r/blob/main/x.md", "https://github.com/o/r/blob/main/x.md"),
    ("content/blog/p2.md", "../../outside.md", "../../outside.md"),
    ("content/blog/p2.md", "notes.txt", "notes.txt"),
    ("content/blog/p2.md", "#section", "#section"),
], ids=["up", "folder-index-fragment", "spaces", "pages-folder", "home", "language-folder", "query", "upper-case-is-no-page", "absolute",
        "external", "outside-content", "not-markdown", "fragment-only"])
def test_a_relative_link_to_a_markdown_file_becomes_its_page(relpath: str, href: str, expected: str) -> None:
    body = f'<p>See <a href="{href}">it</a>.</p>'.replace("&b", "&amp;b")
    assert rewrite_page_links(body, relpath, "content/", frozenset({"de"})) == f'<p>See <a href="{expected}">it</a>.</p>'


@pytest.mark.parametrize("engine", ["pyromark", "markdown-it"])
def test_pages_link_each_other_as_their_files_do(tmp_path: Path, engine: str) -> None:
    site = tmp_path / "site"
    (site / "content" / "seed").mkdir(parents=True)
    (site / "content" / "seed" / "site.yaml").write_text(
        'entity: Tenant\nrecords:\n  - {slug: t, name: T, domains: [t.example]}\n')
    (site / "mbsite.toml").write_text(f'[build]\nworkers = 1\nmarkdown_engine = "{engine}"\n')
    guide = site / "content" / "docs" / "Getting Started"
    guide.mkdir(parents=True)
    (guide / "Intro.md").write_text("---\ntitle: Intro\n---\n## Install\n\nBack to [the docs](../index.md).\n")
    (site / "content" / "docs" / "index.md").write_text(
        "---\ntitle: Docs\n---\nStart with [the intro](Getting%20Started/Intro.md#install), or see "
        "`[not a link](x.md)` and [a missing page](gone.md).\n")
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok, result.problems
    out = site / "build" / "t" / "public"
    docs = lxml_html.fromstring((out / "docs" / "index.html").read_bytes())
    assert docs.xpath("//main//p/a/@href") == ["/docs/Getting%20Started/Intro#install", "/docs/gone"]
    assert "[not a link](x.md)" in docs.xpath("string(//main//code)")  # code is never a link
    intro = lxml_html.fromstring((out / "docs" / "Getting Started" / "Intro" / "index.html").read_bytes())
    assert intro.xpath("//main//p/a/@href") == ["/docs"]
    problems = check_output(site / "build")
    assert [p.message for p in problems] == ["broken internal link to /docs/gone (a href)"]
