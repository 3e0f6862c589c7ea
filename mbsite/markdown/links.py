"""Links between Markdown files → links between their pages.

A link written as on GitHub, relative to the file and naming another Markdown file (`[setup](../guide/setup.md#install)`),
works in the repository's own view of the files; on the site it would point at a `.md` file that is not published, and
a relative URL resolves differently at `/guide/intro` and `/guide/intro/` (hosts disagree on the trailing slash). So
such a link is written as the absolute path of the page that file becomes, with its query and fragment: the page's URL
follows from the file's path alone (`content_url`, the language folders), so a body stays a function of its own file.
Whether that page exists (a draft, another tenant's, a typo) is what `mbsite check` reports, as for any internal link.
Other relative links, and every absolute or external one, are left as written."""
from __future__ import annotations

import html
import posixpath
import re
from urllib.parse import unquote, urlsplit

from ..sitefiles import url_path
from ..sources import markdown_url

_HREF = re.compile(r'<a href="([^"]*)"')


def rewrite_page_links(body: str, relpath: str, content_prefix: str, folders: frozenset[str]) -> str:
    """`body`'s links to Markdown files, relative to `relpath` (site-relative, under `content_prefix`, e.g.
    "content/"), as the absolute paths of their pages."""
    if ".md" not in body:
        return body
    folder = posixpath.dirname(relpath[len(content_prefix):]) if relpath.startswith(content_prefix) else None
    if folder is None:
        return body

    def one(m: re.Match[str]) -> str:
        href = html.unescape(m.group(1))
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/") \
                or not parts.path.endswith(".md"):  # (as is_content_markdown: `.MD` is no page)
            return m.group(0)
        target = posixpath.normpath(posixpath.join(folder, unquote(parts.path)))
        if target == ".." or target.startswith("../"):
            return m.group(0)  # (outside the content folder: no page)
        url = url_path(markdown_url(target, folders)[0])
        if parts.query:
            url += "?" + parts.query
        if parts.fragment:
            url += "#" + parts.fragment
        return f'<a href="{html.escape(url)}"'
    return _HREF.sub(one, body)


__all__ = ["rewrite_page_links"]
