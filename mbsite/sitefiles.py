"""Route table → the tenant-level files: 404, sitemap, robots, Atom feed, _headers, _redirects, routes.json."""
from __future__ import annotations

import re
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from .routes import RouteTable, tag_slug
from .sources import TenantData

ROUTES_MANIFEST = "routes.json"


_PLAIN_PATH = re.compile(r"[A-Za-z0-9/._~-]*")


def url_path(path: str) -> str:
    """A page path as it goes into a URL: percent-encoded (nothing to encode in the common case); the result
    holds no character that XML or HTML would need escaped."""
    return path if _PLAIN_PATH.fullmatch(path) else quote(path)


def tenant_base_url(tenant: TenantData, fallback: str = "") -> str:
    """The absolute address of a tenant's site, as sitemaps, feeds, robots.txt and canonical links need it: its
    `base_url` setting, else its first domain (https, or http for localhost names), else the site's
    `site.base_url`; "" when there is none (or the value is not an http(s) URL with a host)."""
    setting = tenant.settings.get("base_url") or tenant.settings.get("baseUrl")
    if isinstance(setting, str) and setting.strip():
        candidate = setting.strip()
    elif tenant.domains and isinstance(tenant.domains[0], str) and tenant.domains[0].strip():
        host = tenant.domains[0].strip().lower()
        name = re.sub(r":\d+$", "", host).strip("[]")  # without its port
        local = name == "localhost" or name.endswith(".localhost") or name in ("127.0.0.1", "::1")
        candidate = host if "://" in host else ("http://" if local else "https://") + host
    else:
        candidate = fallback
    return _http_url(candidate)


def _http_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or any(c in value for c in "\"'<> \\"):
        return ""
    return value.strip().rstrip("/")


def sitemap(table: RouteTable, base_url: str) -> str:
    """The public pages; a page with public translations lists them all (itself included) as xhtml:link
    alternates, as search engines read them."""
    from .languages import alternates

    routes = [r for r in sorted(table.routes.values(), key=lambda r: r.path) if r.min_level == 0]
    base = escape(base_url.rstrip("/"))
    rows, translated = [], False
    for r in routes:
        links = "".join(f'<xhtml:link rel="alternate" hreflang="{escape(a["hreflang"])}" href="{escape(a["href"])}"/>'
                        for a in alternates(table, r, base_url.rstrip("/"), url_path)) if base else ""
        translated = translated or bool(links)
        rows.append(f"<url><loc>{base}{url_path(r.path)}</loc>{links}</url>")
    xhtml = ' xmlns:xhtml="http://www.w3.org/1999/xhtml"' if translated else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
            f'{xhtml}>{"".join(rows)}</urlset>\n')


def robots(base_url: str) -> str:
    lines = ["User-agent: *", "Disallow: /api/", "Disallow: /_gallery/"]
    lines.append(f"Sitemap: {base_url.rstrip('/')}/sitemap.xml" if base_url else "Sitemap: /sitemap.xml")
    return "\n".join(lines) + "\n"


def feed(table: RouteTable, base_url: str, tag: str | None = None, root: str = "") -> str | None:
    """The Atom feed of the 20 newest public posts of the blog at language root `root` (of one tag, when given);
    None when there is none. Its title is the tenant's name and the title of the listing it follows (the blog, or
    the tag's page: generated titles, in the blog's language). Times are RFC 3339 in UTC, as Atom requires: a post's
    date is its midnight in the tenant's time zone."""
    from .dates import get_zone, rfc3339

    posts = sorted((r for r in table.routes.values() if r.min_level == 0 and table.post_root(r) == root
                    and (tag is None or tag in r.tags)),
                   key=lambda r: (r.date or "", r.path), reverse=True)[:20]
    if not posts:
        return None
    base = base_url.rstrip("/")
    zone = get_zone(table.zone)
    updated = rfc3339(posts[0].date, zone)
    entries = "".join(
        f"<entry><title>{escape(p.title)}</title><link href=\"{escape(base)}{url_path(p.path)}\"/>"
        f"<id>{escape(base)}{url_path(p.path)}</id><updated>{rfc3339(p.date, zone)}</updated>"
        f"<summary>{escape(p.description)}</summary></entry>" for p in posts)
    listing = table.routes.get(f"{root}/tags/{tag_slug(tag)}" if tag is not None else f"{root}/blog")
    title = f"{table.tenant.name} · {listing.title}" if listing is not None else table.tenant.name
    lang = table.roots.get(root, table.lang)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}">'
            f"<title>{escape(title)}</title><id>{escape(base + '/')}</id>"
            f"<updated>{updated}</updated>{entries}</feed>\n")


def feed_files(table: RouteTable, base_url: str) -> dict[str, str]:
    """Every feed of a tenant by its public path: ROOT/feed.xml for the blog of each language root, and a feed per
    public tag beside the tag's first page (ROOT/tags/<tag>/feed.xml)."""
    files: dict[str, str] = {}
    for root in table.roots:
        atom = feed(table, base_url, root=root)
        if atom:
            files[f"{root}/feed.xml"] = atom
    for path, route in table.routes.items():
        if route.kind == "tag" and route.min_level == 0 and route.params.get("page", 1) == 1:
            tag_feed = feed(table, base_url, str(route.params.get("tag")), table.lang_root(route) or "")
            if tag_feed:
                files[f"{path}/feed.xml"] = tag_feed
    return files


def headers(csp: str) -> str:
    """_headers for a CDN: immutable assets, and the security headers of every page (`site.content_security_policy`)."""
    policy = f"  Content-Security-Policy: {csp}\n" if csp else ""
    return ("/assets/*\n  Cache-Control: public, max-age=31536000, immutable\n"
            "/*\n  X-Content-Type-Options: nosniff\n  Referrer-Policy: strict-origin-when-cross-origin\n"
            f"{policy}  Cache-Control: public, max-age=0, must-revalidate\n")


def redirects(table: RouteTable) -> str:
    """_redirects for a CDN: a page's earlier paths (aliases) move permanently to it; without the gate, each page
    that needs a session sends to the sign-in page. Paths are percent-encoded, as requests carry them (a space
    would split the line, '&' or '#' the query)."""
    moved = [f"{url_path(old)} {url_path(new)} 301" for old, new in sorted(table.aliases.items())]
    lines = [f"{url_path(r.path)} /login?next={quote(r.path, safe='')} 302"
             for r in sorted(table.routes.values(), key=lambda r: r.path) if r.min_level > 0]
    text = "# Pages that need a session are served by the gate; a CDN without it sends visitors to sign in.\n"
    if moved:
        text = "# Earlier paths of pages (aliases) move to the page.\n" + "\n".join(moved) + "\n" + text
    return text + "\n".join(lines) + ("\n" if lines else "")


def redirect_page(target: str, icon: str = "") -> str:
    """A small HTML page at an alias for hosts that ignore _redirects: refresh to the page, canonical to it too;
    `icon`, the theme's favicon URL (so that a browser passing through asks for no /favicon.ico)."""
    url = escape(target)
    link = f'<link rel="icon" href="{escape(icon)}" type="image/svg+xml">' if icon else ""
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Moved</title>'
            f'<meta name="robots" content="noindex"><link rel="canonical" href="{url}">{link}'
            f'<meta http-equiv="refresh" content="0; url={url}"></head>'
            f'<body><p>This page has moved to <a href="{url}">{url}</a>.</p></body></html>\n')


def routes_manifest(table: RouteTable, variants: dict[str, list[int]],
                    composed: dict[str, dict[str, Any]] | None = None, images: dict[str, int] | None = None) -> str:
    """routes.json: each page's minimum level, the levels that have a file (`variants`) and, for a page the gate
    composes, the levels it composes with the chrome fragment key of each (`composed`: base level and keys); and the
    members' images (`images`: file name under private/assets/images/ → the lowest level that may see it)."""
    pages: dict[str, Any] = {}
    for path in sorted(variants):
        r = table.routes.get(path)
        if r is None:
            continue
        pages[path] = {"level": r.min_level, "requires_auth": r.requires_auth, "variants": sorted(variants[path]),
                       "title": r.title, "kind": r.kind}
        if composed and path in composed:
            pages[path]["composed"] = composed[path]
    doc = {"tenant": table.tenant.slug, "name": table.tenant.name, "domains": list(table.tenant.domains),
           "aliases": dict(sorted(table.aliases.items())),
           "login": "/login" if "/login" in table.routes else None,
           "access_denied": "/access-denied" if "/access-denied" in table.routes else None, "pages": pages}
    if images:
        doc["images"] = dict(sorted(images.items()))
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
