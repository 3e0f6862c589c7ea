"""A page's language + the theme's message catalogs → the titles the build generates: blog indexes, tag indexes and
tag pages, the further pages of a listing, the search page, a home page without a title, the 404 page.

Each title is a message of the theme's catalogs, like the templates' strings (catalogs.py): the German catalog of
the default theme translates them all, and a site's own catalog may re-word them. They are extracted together with
the templates' strings (docs/themes.md: the `translate` calls below, keyword `translate:2,3c`). A title is made when
the route table is built, so it is the same wherever the page's title shows (its `<h1>` and `<title>`, the
navigation, feeds, the admin panel's page list) and a catalog edit that changes one changes the route.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Translate = Callable[[str, str, "str | None"], str]  # (language, message, context) → text


def source_text(_lang: str, message: str, _context: str | None = None) -> str:
    """No catalogs: the message as written (English)."""
    return message


@dataclass(frozen=True)
class Titles:
    """The generated titles in a language, through `translate` (Catalogs.text)."""

    translate: Translate = source_text

    def blog(self, lang: str) -> str:
        return self.translate(lang, "Blog", None)

    def tags(self, lang: str) -> str:
        return self.translate(lang, "Tags", None)

    def tag(self, lang: str, tag: str) -> str:
        return self._fill(lang, self.translate(lang, "Tagged “%(tag)s”", None), "Tagged “%(tag)s”", tag=tag)

    def listing_page(self, lang: str, title: str, page: int) -> str:
        """Page `page` (2, 3, …) of a listing titled `title`."""
        return self._fill(lang, self.translate(lang, "%(title)s (page %(page)d)", None), "%(title)s (page %(page)d)",
                          title=title, page=page)

    def search(self, lang: str) -> str:
        return self.translate(lang, "Search", "page title")

    def home(self, lang: str) -> str:
        """A home page (`index.md`) whose front matter gives no title."""
        return self.translate(lang, "Home", None)

    def not_found(self, lang: str) -> str:
        return self.translate(lang, "Page not found", None)

    @staticmethod
    def _fill(_lang: str, text: str, source: str, **values: Any) -> str:
        """`text` with its placeholders filled; a translation whose placeholders do not fit (a site's catalog naming
        another one) gives the source text filled instead, never a failed build."""
        try:
            return text % values
        except (KeyError, ValueError, TypeError):
            return source % values


__all__ = ["Titles", "Translate", "source_text"]
