"""Generate benchmark sites: N Markdown pages (also as a Hugo site), and T tenants × P component pages."""
from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

WORDS = ("static data tenant level page build render cache graph route change feed token theme "
         "component package entity record publish atomic incremental exact eager fast python").split()


def _para(rng: random.Random, n: int = 60) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def markdown_body(i: int, n: int, rng: random.Random) -> str:
    other = (i * 7919) % n
    return (f"{_para(rng)}\n\n## Section one of {i}\n\n{_para(rng)} See [another page](/posts/p{other}/).\n\n"
            f"- first {rng.choice(WORDS)}\n- second {rng.choice(WORDS)}\n- third **{rng.choice(WORDS)}**\n\n"
            f"### Code\n\n```python\ndef handler_{i}(request):\n    total = sum(x * {i} for x in range(10))\n"
            f"    return {{\"page\": {i}, \"total\": total}}\n```\n\n## Section two\n\n{_para(rng)}\n\n"
            f"Visit the [home](/) or an [external link](https://example.com/{i}).\n")


# The Hugo site's layout, as an mbsite theme (themes/hugo-layout/, `site.theme = "hugo-layout"`): the same markup
# per page, so that both tools do the same work on a page (the header and footer are mbsite's chrome blocks).
# Everything else (home page, 404, …) comes from the built-in theme.
HUGO_LAYOUT_THEME = "hugo-layout"
HUGO_LAYOUT = {
    "base.html": ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ page.title }}</title></head>'
                  '<body>{% block chrome_header %}<header><a href="/">Bench</a></header>{% endblock %}'
                  '<main>{% block content %}{{ content }}{% endblock %}</main>'
                  '{% block chrome_footer %}<footer>built</footer>{% endblock %}</body></html>'),
    "page.html": ('{% extends "base.html" %}{% block content %}<article><h1>{{ page.title }}</h1>'
                  '<time>{{ page.date|date }}</time>{{ content }}</article>{% endblock %}'),
}


def markdown_site(root: Path, n: int, *, hugo: bool = True) -> None:
    """An mbsite site with N posts under content/posts/ (and the same pages as a Hugo site in root/hugo), with the
    Hugo site's layout as the mbsite theme `hugo-layout` (used when mbsite.toml says `site.theme = "hugo-layout"`)."""
    rng = random.Random(42)
    if root.exists():
        shutil.rmtree(root)
    posts = root / "content" / "posts"
    posts.mkdir(parents=True)
    seed = root / "content" / "seed"
    seed.mkdir()
    (seed / "site.yaml").write_text("entity: Tenant\nrecords:\n  - {slug: bench, name: Bench}\n")
    for i in range(n):
        body = markdown_body(i, n, rng)
        fm = f"---\ntitle: Page {i}\ndate: 2024-01-{(i % 28) + 1:02d}\ntags: [t{i % 10}]\n---\n"
        (posts / f"p{i}.md").write_text(fm + body)
    layout = root / "themes" / HUGO_LAYOUT_THEME / "templates"
    layout.mkdir(parents=True)
    for name, text in HUGO_LAYOUT.items():
        (layout / name).write_text(text)
    if hugo:
        h = root / "hugo"
        (h / "content" / "posts").mkdir(parents=True)
        (h / "layouts" / "_default").mkdir(parents=True)
        (h / "hugo.toml").write_text('baseURL = "http://localhost/"\ntitle = "Bench"\n'
                                     'disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]\n')
        (h / "layouts" / "_default" / "baseof.html").write_text(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
            '<body><header><a href="/">Bench</a></header><main>{{ block "main" . }}{{ end }}</main>'
            '<footer>built</footer></body></html>')
        (h / "layouts" / "_default" / "single.html").write_text(
            '{{ define "main" }}<article><h1>{{ .Title }}</h1><time>{{ .Date.Format "2006-01-02" }}</time>'
            '{{ .Content }}</article>{{ end }}')
        (h / "layouts" / "_default" / "list.html").write_text(
            '{{ define "main" }}<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>'
            '{{ end }}</ul>{{ end }}')
        (h / "layouts" / "index.html").write_text('{{ define "main" }}<p>home</p>{{ end }}')
        for p in posts.iterdir():
            shutil.copy(p, h / "content" / "posts" / p.name)


def component_site(root: Path, tenants: int, pages: int, *, records: int = 20) -> None:
    """An mbsite site with T tenants × P component pages (page-config rows), each rendered at 6 levels."""
    if root.exists():
        shutil.rmtree(root)
    seed = root / "content" / "seed"
    seed.mkdir(parents=True)
    docs = []
    docs.append({"entity": "Tenant", "records": [{"slug": f"t{t}", "name": f"Tenant {t}"} for t in range(tenants)]})
    inst = [{"tenant": f"t{t}", "package": p, "sortOrder": i} for t in range(tenants)
            for i, p in enumerate(("mb_header", "mb_footer", "mb_nav", "mb_data_table", "mb_stats_grid"))]
    docs.append({"entity": "InstalledPackage", "records": inst})
    rows = []
    for t in range(tenants):
        for p in range(pages):
            rows.append({"tenant": f"t{t}", "path": f"/p/{p}", "title": f"Page {p}", "level": 0,
                         "packageId": "mb_data_table", "component": "data_table",
                         "params": {"nav": False, "data": {"items": {"package": "bench", "entity": "item",
                                                                     "filter": {"group": p % 10}}},
                                    "props": {"title": f"Items of page {p}", "rows": "{{records.items}}",
                                              "columns": [{"field": "name", "label": "Name"},
                                                          {"field": "price", "label": "Price"}]}}})
    docs.append({"entity": "PageConfig", "records": rows})
    recs = [{"tenant": f"t{t}", "package": "bench", "entity": "item", "id": f"i{i}",
             "data": {"name": f"Item {i}", "price": i * 3, "group": i % 10}}
            for t in range(tenants) for i in range(records)]
    docs.append({"entity": "Record", "records": recs})
    (seed / "site.yaml").write_text("\n---\n".join(json.dumps(d) for d in docs))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kind", choices=["markdown", "components"])
    ap.add_argument("dest", type=Path)
    ap.add_argument("-n", type=int, default=4000, help="Markdown pages")
    ap.add_argument("-t", type=int, default=4, help="tenants")
    ap.add_argument("-p", type=int, default=420, help="component pages per tenant")
    args = ap.parse_args()
    if args.kind == "markdown":
        markdown_site(args.dest, args.n)
    else:
        component_site(args.dest, args.t, args.p)
