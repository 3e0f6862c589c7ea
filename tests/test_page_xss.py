"""Hostile Markdown, front matter, shortcode arguments and page-config rows never become markup or script."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

from mbsite.builder import Builder
from mbsite.config import load_config

PAYLOADS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
            "</style><script>alert(2)</script>", "{{ 7*7 }}", "'\"><svg onload=alert(3)>"]

SEED = """
entity: Tenant
records:
  - {slug: x, name: "X <script>alert(9)</script>"}
---
entity: InstalledPackage
records:
  - {tenant: x, package: mb_blog_widgets}
  - {tenant: x, package: mb_nav}
---
entity: PageConfig
records:
  - tenant: x
    path: /evil
    title: "<img src=x onerror=alert(5)>"
    description: "\\"><script>alert(6)</script>"
    packageId: mb_blog_widgets
    component: callout
    params:
      props: {title: "<script>alert(7)</script>", body: "javascript:alert(8)"}
"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("xss")
    (site / "content/seed").mkdir(parents=True)
    (site / "content/seed/site.yaml").write_text(SEED)
    blog = site / "content/blog"
    blog.mkdir()
    for i, payload in enumerate(PAYLOADS):
        quoted = payload.replace("\\", "\\\\").replace('"', '\\"')
        (blog / f"p{i}.md").write_text(
            f'---\ntitle: "{quoted}"\ndescription: "{quoted}"\ntags: ["{quoted}"]\ndate: 2024-01-0{i + 1}\n---\n'
            f"{payload}\n\n[link]({payload}) and [js](javascript:alert(1)) and ![img]({payload})\n\n"
            f'<div onclick="alert(1)">raw</div>\n\n{{{{< component mb_blog_widgets:callout title="{quoted}" >}}}}\n')
    result = Builder(load_config(site)).run()
    assert result.summary["errors"] == 0, [str(p) for p in result.problems]
    return site


def pages(site: Path) -> list[Path]:
    return sorted((site / "build").rglob("*.html"))


def test_no_script_or_handlers_anywhere(hostile_site: Path) -> None:
    found = pages(hostile_site)
    assert len(found) > len(PAYLOADS)
    for page in found:
        doc = lxml_html.fromstring(page.read_bytes())
        # The only scripts are the theme's own (the account toggle, the panel's, the search page's), hashed files of
        # the site, and on the search page Pagefind's interface from the search index: files, never inline.
        scripts = [(el.get("src") or "", el.text) for el in doc.xpath("//script")]
        assert all((re.fullmatch(r"/assets/(account|panel|search)\.[0-9a-f]+\.js", src)
                    or src == "/pagefind/pagefind-ui.js") and text is None for src, text in scripts), (page, scripts)
        for el in doc.iter():
            for name, value in el.attrib.items():
                assert not name.lower().startswith("on"), (page, el.tag, name)
                if name in ("href", "src", "action"):
                    assert not value.strip().lower().startswith(("javascript:", "vbscript:", "data:text")), (page, value)
        for style in doc.xpath("//style/text()"):
            assert "<" not in style and "javascript" not in style.lower()


def test_payload_text_is_shown_escaped(hostile_site: Path) -> None:
    page = (hostile_site / "build/x/public/blog/p0/index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in (hostile_site / "build/x/public/blog/p4/index.html").read_text()
    evil = lxml_html.fromstring((hostile_site / "build/x/public/evil/index.html").read_bytes())
    assert "<img src=x onerror=alert(5)>" in evil.xpath("string(//title)")
