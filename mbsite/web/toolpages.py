"""A title and body HTML → a tool page (preview landing, API reference, sign-in form) in the default theme's look.

Tool pages are not built per tenant, so they cannot link a tenant's content-hashed assets: the functions serve
the theme's own stylesheet, with the few rules of the tool pages after it, at STYLESHEET_URL (deployed
functions too, since it sits under /api/). The pages hold no inline script or style, so any
Content-Security-Policy the site sends (script-src 'self', even style-src 'self') leaves them intact.
"""
from __future__ import annotations

import hashlib
import html
from typing import Iterable

from starlette.requests import Request
from starlette.responses import Response

from ..config import Config

STYLESHEET_URL = "/api/v1/docs.css"

# The tool pages' own rules, in the theme's custom properties so a site theme that changes them is followed.
TOOL_CSS = """
/* mbsite tool pages (preview landing, API reference, sign-in form) */
.tool-page h1 { margin: 0 0 .5rem; font-size: 1.9rem; line-height: 1.25; }
.tool-page .lead { color: var(--mb-muted); margin: 0 0 1.5rem; }
.tool-cards { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); padding: 0;
              margin: 0 0 1.5rem; list-style: none; }
.tool-card { border: 1px solid var(--mb-border); border-radius: var(--mb-radius); background: var(--mb-surface);
             padding: 1rem 1.25rem; }
.tool-card h2 { margin: 0 0 .25rem; font-size: 1.2rem; }
.tool-card ul { list-style: none; margin: .75rem 0 0; padding: 0; }
.tool-card li { margin: .2rem 0; }
.tool-meta, .lv { color: var(--mb-muted); font-size: .85em; }
.lv { border: 1px solid var(--mb-border); border-radius: 999px; padding: 0 .5rem; margin-left: .25rem; }
.tool-table { border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }
.tool-table th, .tool-table td { border-bottom: 1px solid var(--mb-border); padding: .45rem .6rem; text-align: left;
                                 vertical-align: top; }
.tool-table th { color: var(--mb-muted); font-weight: 600; font-size: .9rem; }
.method { display: inline-block; min-width: 4.2rem; text-align: center; border-radius: 6px; padding: 0 .4rem;
          font-weight: 600; font-size: .8rem; background: var(--mb-surface); border: 1px solid var(--mb-border); }
.method-get { color: var(--mb-info-main); } .method-post { color: var(--mb-success-main); }
.method-delete { color: var(--mb-error-main); } .method-patch, .method-put { color: var(--mb-warning-main); }
.tool-page details { border: 1px solid var(--mb-border); border-radius: var(--mb-radius); margin: .5rem 0;
                     padding: .4rem .8rem; }
.tool-page details pre { background: var(--mb-surface); border-radius: var(--mb-radius); padding: .75rem 1rem;
                         overflow-x: auto; font-size: .85rem; }
.signin-card { max-width: 26rem; margin: 2rem auto; border: 1px solid var(--mb-border); border-radius: var(--mb-radius);
               background: var(--mb-bg); padding: 2rem; }
.signin-card h1 { text-align: center; }
.signin-card form { display: grid; gap: .9rem; }
.signin-card label { display: grid; gap: .3rem; font-weight: 600; font-size: .95rem; }
.signin-card input { width: 100%; }
.signin-error { border: 1px solid var(--mb-error-main); border-left-width: 4px; border-radius: var(--mb-radius);
                color: var(--mb-fg); padding: .6rem .9rem; margin: 0 0 1rem; }
"""


def theme_stylesheet(config: Config) -> str:
    """The theme's style.css (the site's theme folder first, then the built-in default)."""
    for folder in config.theme_dirs():
        path = folder / "static" / "style.css"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


async def stylesheet(request: Request) -> Response:
    """The theme's stylesheet plus the tool pages' rules (read per request: a theme edit shows at once)."""
    data = (theme_stylesheet(request.app.state.mb.config) + TOOL_CSS).encode()
    tag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(data, media_type="text/css; charset=utf-8", headers={"ETag": tag, "Cache-Control": "no-cache"})


def shell(title: str, body: str, *, nav: Iterable[tuple[str, str]] = (), brand: str = "mbsite",
          current: str = "") -> bytes:
    """A whole tool page: the theme's header bar (brand and `nav` links), `body` in its content area, a footer."""
    links = "".join(f'<li><a href="{html.escape(href)}"{" aria-current=page" if href == current else ""}>'
                    f"{html.escape(label)}</a></li>" for href, label in nav)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · {html.escape(brand)}</title>"
        f'<link rel="stylesheet" href="{STYLESHEET_URL}"></head>'
        '<body class="kind-tool"><a class="skip-link" href="#main">Skip to content</a>'
        f'<header class="site-header" role="banner"><div class="bar"><a class="brand" href="/">{html.escape(brand)}</a>'
        f'<nav aria-label="Main"><ul class="nav">{links}</ul></nav></div></header>'
        f'<main id="main" class="content tool-page">{body}</main>'
        '<footer class="site-footer" role="contentinfo"><p>mbsite</p></footer></body></html>'
    ).encode()


def signin_form(message: str, *, tenant: str, username: str = "", next_path: str = "") -> str:
    """The sign-in form again, with what went wrong above it (the body of a failed form sign-in's answer)."""
    action = "/api/auth/login" + (f"?next={html.escape(next_path)}" if next_path else "")
    return (
        '<div class="signin-card"><h1>Sign in</h1>'
        f'<p class="signin-error" role="alert">{html.escape(message)}</p>'
        f'<form method="post" action="{action}">'
        f'<input type="hidden" name="tenant" value="{html.escape(tenant)}">'
        + (f'<input type="hidden" name="next" value="{html.escape(next_path)}">' if next_path else "")
        + f'<label>Username <input name="username" autocomplete="username" required value="{html.escape(username)}"'
        f'{"" if username else " autofocus"}></label>'
        f'<label>Password <input type="password" name="password" autocomplete="current-password" required'
        f'{" autofocus" if username else ""}></label>'
        '<button type="submit">Sign in</button></form></div>'
    )
