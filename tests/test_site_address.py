"""Each tenant's own address in sitemap.xml, robots.txt, the feed and canonical links; members-only tags stay private."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from support import copy_site

from mbsite.builder import Builder
from mbsite.cli import main
from mbsite.config import load_config
from mbsite.reporter import BufferReporter
from mbsite.sitefiles import tenant_base_url
from mbsite.sources import TenantData


def make_site(root: Path, toml: str = "") -> Path:
    """tests/sites/addresses: four tenants (a domain, a localhost domain, a base_url setting, nothing), a public post
    and a members' one sharing a tag; `toml` is added to its mbsite.toml."""
    site = copy_site("addresses", root)
    (site / "mbsite.toml").write_text((site / "mbsite.toml").read_text() + toml)
    return site


def build(site: Path):
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.summary["errors"] == 0, [str(p) for p in result.problems]
    return result


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_site(tmp_path_factory.mktemp("address") / "site", '[site]\nbase_url = "https://fallback.example"\n')
    build(root)
    return root


def locs(path: Path) -> list[str]:
    doc = etree.fromstring(path.read_bytes())
    return [e.text for e in doc.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]


@pytest.mark.parametrize("tenant,base", [("shop", "https://shop.example"), ("local", "http://local.localhost"),
                                         ("own", "https://www.own.example/site"), ("bare", "https://fallback.example")])
def test_each_tenant_uses_its_own_address(site: Path, tenant: str, base: str) -> None:
    public = site / "build" / tenant / "public"
    assert locs(public / "sitemap.xml") and all(loc.startswith(base + "/") for loc in locs(public / "sitemap.xml"))
    assert f"Sitemap: {base}/sitemap.xml" in (public / "robots.txt").read_text()
    feed = etree.fromstring((public / "feed.xml").read_bytes())
    links = [e.get("href") for e in feed.iter("{http://www.w3.org/2005/Atom}link")]
    assert links == [f"{base}/blog/open"]
    assert f'<link rel="canonical" href="{base}/blog/open">' in (public / "blog" / "open" / "index.html").read_text()


def test_a_tag_of_members_posts_only_has_no_public_page_link_or_sitemap_entry(site: Path) -> None:
    public = site / "build" / "shop" / "public"
    assert not (public / "tags" / "inner-circle").exists()
    assert (public / "tags" / "shared" / "index.html").is_file()
    assert not any("inner-circle" in loc for loc in locs(public / "sitemap.xml"))
    assert "inner-circle" not in (public / "tags" / "index.html").read_text()
    members = site / "build" / "shop" / "private" / "2"
    assert "Club" in (members / "tags" / "inner-circle" / "index.html").read_text()
    assert 'href="/tags/inner-circle"' in (members / "blog" / "club" / "index.html").read_text()


@pytest.mark.parametrize("value", ['javascript:alert(1)', 'https://x.example/"><script>', "ftp://x.example",
                                   "https://", "https://x.example/?q=1"])
def test_an_address_that_is_not_a_plain_http_url_is_not_used(value: str) -> None:
    tenant = TenantData("t", "T", (), {"base_url": value}, (), ())
    assert tenant_base_url(tenant) == ""


def test_check_errors_for_a_tenant_without_an_address(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    build(site)
    result = CliRunner().invoke(main, ["check", "--site", str(site)])
    assert result.exit_code == 1
    assert "tenant bare has no address" in result.output and "tenant shop" not in result.output
    (site / "mbsite.toml").write_text('[build]\nworkers = 1\n[site]\nbase_url = "https://x.example"\n')
    assert CliRunner().invoke(main, ["check", "--site", str(site)]).exit_code == 0


def test_a_new_domain_rewrites_the_tenant_files_and_canonical_links(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", '[site]\nbase_url = "https://fallback.example"\n')
    build(site)
    with sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3") as conn:
        conn.execute("UPDATE tenants SET domains = '[\"new.example\"]' WHERE slug = 'shop'")
    build(site)
    public = site / "build" / "shop" / "public"
    assert all(loc.startswith("https://new.example/") for loc in locs(public / "sitemap.xml"))
    assert 'href="https://new.example/blog/open"' in (public / "blog" / "open" / "index.html").read_text()
