"""Listings (blog index, tag pages) in pages of `site.page_size` posts, per level, kept incremental."""
from __future__ import annotations

import shutil
from pathlib import Path

from lxml import html as lxml_html
from support import output_tree as tree

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.reporter import BufferReporter

SEED = "entity: Tenant\nrecords:\n  - {slug: t, name: T, domains: [t.example]}\n"


def make_site(root: Path, public: int, members: int = 0, page_size: int | None = 10) -> Path:
    (root / "content" / "seed").mkdir(parents=True)
    (root / "content" / "seed" / "site.yaml").write_text(SEED)
    blog = root / "content" / "blog"
    blog.mkdir()
    for i in range(public):
        (blog / f"p{i:02}.md").write_text(f"---\ntitle: Post {i}\ndate: 2024-01-{i + 1:02}\ntags: [all]\n---\nx\n")
    for i in range(members):
        (blog / f"m{i:02}.md").write_text(f"---\ntitle: Member {i}\ndate: 2024-03-{i + 1:02}\nlevel: 2\n"
                                          f"tags: [all]\n---\nx\n")
    toml = "[build]\nworkers = 1\nhighlight = false\n"
    if page_size is not None:
        toml += f"[site]\npage_size = {page_size}\n"
    (root / "mbsite.toml").write_text(toml)
    return root


def build(site: Path):
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.summary["errors"] == 0, [str(p) for p in result.problems]
    return result


def listing(path: Path) -> tuple[list[str], str | None, str | None]:
    doc = lxml_html.fromstring(path.read_bytes())
    titles = doc.xpath("//ul[@class='post-list']/li/a/text()")
    prev = doc.xpath("//nav[@class='pagination']/a[@rel='prev']/@href")
    nxt = doc.xpath("//nav[@class='pagination']/a[@rel='next']/@href")
    head_prev = doc.xpath("//head/link[@rel='prev']/@href")
    assert head_prev == prev  # the head announces the same neighbours as the page shows
    return titles, (prev or [None])[0], (nxt or [None])[0]




def test_a_listing_is_split_into_pages_newest_first(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 25)
    build(site)
    pub = site / "build" / "t" / "public"
    first, prev, nxt = listing(pub / "blog" / "index.html")
    assert first == [f"Post {i}" for i in range(24, 14, -1)] and prev is None and nxt == "/blog/page/2"
    second, prev, nxt = listing(pub / "blog" / "page" / "2" / "index.html")
    assert second == [f"Post {i}" for i in range(14, 4, -1)] and prev == "/blog" and nxt == "/blog/page/3"
    third, prev, nxt = listing(pub / "blog" / "page" / "3" / "index.html")
    assert third == [f"Post {i}" for i in range(4, -1, -1)] and prev == "/blog/page/2" and nxt is None
    assert not (pub / "blog" / "page" / "4").exists()
    assert (pub / "tags" / "all" / "page" / "3" / "index.html").is_file()
    sitemap = (pub / "sitemap.xml").read_text()
    assert "https://t.example/blog/page/3</loc>" in sitemap


def test_members_see_more_pages_than_the_public(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 20, members=3)
    build(site)
    out = site / "build" / "t"
    titles, _, nxt = listing(out / "public" / "blog" / "page" / "2" / "index.html")
    assert nxt is None and not any(t.startswith("Member") for t in titles)
    assert not (out / "public" / "blog" / "page" / "3").exists()
    assert "/blog/page/3" not in (out / "public" / "sitemap.xml").read_text()
    first, _, _ = listing(out / "private" / "2" / "blog" / "index.html")
    assert first[:3] == ["Member 2", "Member 1", "Member 0"]
    _, _, nxt = listing(out / "private" / "2" / "blog" / "page" / "2" / "index.html")
    assert nxt == "/blog/page/3"
    third, _, _ = listing(out / "private" / "2" / "blog" / "page" / "3" / "index.html")
    assert third == ["Post 2", "Post 1", "Post 0"]


def test_page_size_zero_lists_everything_on_one_page(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 25, page_size=0)
    build(site)
    titles, prev, nxt = listing(site / "build" / "t" / "public" / "blog" / "index.html")
    assert len(titles) == 25 and prev is None and nxt is None
    assert not (site / "build" / "t" / "public" / "blog" / "page").exists()


def test_new_and_deleted_posts_move_the_pages_as_a_full_build_would(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 20)
    build(site)
    blog = site / "content" / "blog"
    (blog / "new.md").write_text("---\ntitle: Newest\ndate: 2025-01-01\ntags: [all]\n---\nx\n")
    result = build(site)
    # the post and the third pages of the blog and its tag are new; the listings move (the blog and tag pages
    # 1-2, the tag index and the generated home page), and of the posts only the one that gains a newer neighbour;
    # and the admin panel's list of every route
    assert result.summary["reasons"] == {"new": 3, "navigation": 8}
    pub = site / "build" / "t" / "public"
    assert listing(pub / "blog" / "page" / "3" / "index.html")[0] == ["Post 0"]
    for name in ("new.md", "p19.md", "p18.md"):
        (blog / name).unlink()
    build(site)
    assert not (pub / "blog" / "page" / "3").exists()
    reference = tmp_path / "ref"
    shutil.copytree(site, reference, ignore=shutil.ignore_patterns("build"))
    Builder(load_config(reference), BufferReporter(), full=True).run()
    assert tree(site / "build") == tree(reference / "build")


def test_a_post_date_is_set_apart_from_its_tags(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 1)
    build(site)
    doc = lxml_html.fromstring((site / "build" / "t" / "public" / "blog" / "p00" / "index.html").read_bytes())
    meta = doc.xpath("string(//p[@class='meta'])")
    assert "2024-01-01#" not in meta and "2024-01-01 · #all" in " ".join(meta.split())
