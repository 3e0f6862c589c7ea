"""Scheduled and expiring pages (publishDate / expiryDate) and aliases (earlier paths redirected to a page)."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from support import copy_site
from support import output_tree as tree

from mbsite import routes
from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.errors import DataError
from mbsite.markdown import split_front_matter
from mbsite.reporter import BufferReporter
from mbsite.watch import Watcher


def make_site(root: Path, posts: dict[str, str]) -> Path:
    """tests/sites/schedules (tenant t and a post that is always there) with content files of the given front matter."""
    return copy_site("schedules", root, {f"content/{name}": f"---\n{front}\n---\nBody of {name}.\n"
                                         for name, front in posts.items()})


def iso(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(site: Path):
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.summary["errors"] == 0, [str(p) for p in result.problems]
    return result




def published(site: Path) -> str:
    """Everything public about the blog: the listing, the feed, the sitemap and the tag page."""
    pub = site / "build" / "t" / "public"
    return "".join((pub / rel).read_text() for rel in ("blog/index.html", "feed.xml", "sitemap.xml",
                                                       "tags/news/index.html"))


def test_a_future_post_is_not_published_anywhere(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {"blog/later.md": f"title: Later\ndate: 2024-02-01\ntags: [news]\n"
                                                          f"publishDate: {iso(timedelta(days=30))}",
                                         "blog/gone.md": "title: Gone\ndate: 2024-02-01\ntags: [news]\n"
                                                         "expiryDate: 2020-01-01"})
    build(site)
    pub = site / "build" / "t" / "public"
    assert not (pub / "blog" / "later").exists() and not (pub / "blog" / "gone").exists()
    assert "Later" not in published(site) and "Gone" not in published(site) and "Always" in published(site)
    assert not (site / "build" / "t" / "private" / "3" / "blog" / "later").exists()


def test_a_scheduled_post_appears_and_an_expiring_one_goes_by_themselves_in_watch(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {
        "blog/soon.md": f"title: Soon\ndate: 2024-02-01\ntags: [news]\npublishDate: {iso(timedelta(seconds=2))}",
        "blog/brief.md": f"title: Brief\ndate: 2024-02-02\ntags: [news]\nexpiryDate: {iso(timedelta(seconds=3))}"})
    watcher = Watcher(load_config(site), BufferReporter())
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        soon = site / "build" / "t" / "public" / "blog" / "soon" / "index.html"
        brief = site / "build" / "t" / "public" / "blog" / "brief" / "index.html"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (soon.is_file() and not brief.exists()):
            time.sleep(0.05)
        assert soon.is_file() and not brief.exists(), "the watch loop did not publish/expire on schedule"
        assert "Soon" in published(site) and "Brief" not in published(site)
    finally:
        watcher.stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    reference = tmp_path / "ref"
    shutil.copytree(site, reference, ignore=shutil.ignore_patterns("build"))
    Builder(load_config(reference), BufferReporter(), full=True).run()
    assert tree(site / "build") == tree(reference / "build")


def test_dates_mean_the_same_instant_in_every_time_zone() -> None:
    text = "---\ntitle: X\npublishDate: 2024-03-01T10:00:00\nexpiryDate: 2024-04-01\n---\nx\n"
    seen = set()
    previous = os.environ.get("TZ")
    try:
        for zone in ("UTC", "America/Los_Angeles", "Asia/Tokyo"):
            os.environ["TZ"] = zone
            time.tzset()
            front, _, _ = split_front_matter(text, "x.md")
            seen.add((front.publish_date, front.expiry_date))
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()
    assert seen == {(1709287200000, 1711929600000)}


def test_a_bad_date_names_its_file_and_line() -> None:
    with pytest.raises(DataError) as err:
        split_front_matter("---\ntitle: X\npublishDate: next tuesday\n---\nx\n", "content/blog/x.md")
    assert str(err.value).startswith("content/blog/x.md:3: publishDate")


def test_page_config_rows_are_scheduled_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path / "site", {})
    build(site)
    tree_json = json.dumps({"type": "Typography", "props": {"text": "Sale!"}})
    with sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3") as conn:
        conn.execute("INSERT INTO page_configs (id, tenant, path, title, component_tree, level, requires_auth, "
                     "published, sort_order, params, created_at, updated_at) VALUES ('sale', 't', '/sale', 'Sale', ?, "
                     "0, 0, 1, 0, ?, 0, 0)", (tree_json, json.dumps({"publishDate": "2031-01-01"})))
    build(site)
    assert not (site / "build" / "t" / "public" / "sale").exists()
    later = datetime(2031, 1, 2, tzinfo=timezone.utc).timestamp() * 1000
    monkeypatch.setattr(routes, "now_ms", lambda: int(later))
    build(site)
    assert (site / "build" / "t" / "public" / "sale" / "index.html").is_file()


def test_aliases_redirect_to_the_page_and_go_when_removed(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", {
        "pages/about.md": "title: About\naliases: [/old-about, /company/about/, /blog/always, /../x]",
        "pages/club.md": "title: Club\nlevel: 2\naliases: [/old-club]"})
    result = build(site)
    pub = site / "build" / "t" / "public"
    redirects = (pub / "_redirects").read_text()
    assert "/old-about /about 301\n" in redirects and "/company/about /about 301\n" in redirects
    assert "/old-club /club 301\n" in redirects
    page = (pub / "old-about" / "index.html").read_text()
    assert 'http-equiv="refresh" content="0; url=https://t.example/about"' in page
    assert not (pub / "old-club").exists()  # a members' page: _redirects only, no public page at the old path
    warnings = [p.message for p in result.problems if p.severity == "warning"]
    assert any("alias /blog/always of /about" in w for w in warnings)  # a page wins over an alias
    assert any("'/../x'" in w for w in warnings)
    assert "Always" in (pub / "blog" / "always" / "index.html").read_text()
    about = site / "content" / "pages" / "about.md"
    about.write_text("---\ntitle: About\n---\nBody.\n")
    build(site)
    assert not (pub / "old-about").exists() and not (pub / "company").exists()
    assert "/old-about" not in (pub / "_redirects").read_text()
