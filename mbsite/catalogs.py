"""Theme message catalogs (`locale/<lang>/LC_MESSAGES/messages.po`) → gettext translations per language, compiled
in memory with Babel, and the Jinja i18n callables that pick the catalog of the page being rendered.

Catalogs are read from the .po files themselves (no compiled .mo is shipped or needed): a theme edits its text
and the next build uses it. The site's theme comes first, the built-in default theme after, so a site may
translate or re-word some strings and keep the rest. A language without a catalog shows the source strings; a
regional tag (`pt-BR`) falls back to its language's catalog (`pt`).
"""
from __future__ import annotations

import gettext
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, pass_context
from markupsafe import Markup

from .errors import Location, TemplateError
from .graph import digest_of

DOMAIN = "messages"


@dataclass
class Catalogs:
    """The catalog files of a theme by language, and the translations compiled from them (on first use)."""

    files: dict[str, list[tuple[str, str, Path]]] = field(default_factory=dict)  # lang → [(key, sha256, path)]
    _compiled: dict[str, gettext.NullTranslations] = field(default_factory=dict)
    _digests: dict[str, str] = field(default_factory=dict)

    def add_theme_dir(self, theme_dir: Path, key_of: Any) -> None:
        """The catalogs of one theme folder (call in priority order: the site's theme first)."""
        locale = theme_dir / "locale"
        if not locale.is_dir():
            return
        for lang_dir in sorted(p for p in locale.iterdir() if p.is_dir()):
            po = lang_dir / "LC_MESSAGES" / f"{DOMAIN}.po"
            if po.is_file():
                lang = lang_dir.name.replace("_", "-")
                self.files.setdefault(lang, []).append((key_of(po), hashlib.sha256(po.read_bytes()).hexdigest(), po))
                self._digests.clear()

    def chain(self, lang: str) -> list[str]:
        """The catalog languages a page in `lang` reads, most specific first (pt-BR, then pt)."""
        parts = lang.split("-")
        return [c for c in ("-".join(parts[:n]) for n in range(len(parts), 0, -1)) if c in self.files]

    def digest(self, lang: str) -> str:
        """What the catalogs of a language are (their files and contents): an input of the pages in it (worked out
        once per language: every page asks)."""
        found = self._digests.get(lang)
        if found is None:
            found = self._digests[lang] = digest_of([(key, sha) for c in self.chain(lang) for key, sha, _ in self.files[c]])
        return found

    def signature(self) -> str:
        """What every catalog is (languages, files, contents): the route table's generated titles depend on it."""
        return digest_of(sorted((lang, [(key, sha) for key, sha, _ in found]) for lang, found in self.files.items()))

    def text(self, lang: str, message: str, context: str | None = None) -> str:
        """One message in `lang` (titles.Titles): its translation, or the message itself when no catalog has it. A
        catalog that cannot be read leaves the message as it is here; the pages in its language report the error."""
        try:
            found = self.translations(lang)
        except TemplateError:
            return message
        return found.pgettext(context, message) if context else found.gettext(message)

    def translations(self, lang: str) -> gettext.NullTranslations:
        found = self._compiled.get(lang)
        if found is None:
            found = gettext.NullTranslations()
            for code in reversed(self.chain(lang)):          # the least specific at the bottom of the fallbacks
                for _key, _sha, path in reversed(self.files[code]):  # the built-in theme under the site's
                    compiled = _compile(path, code)
                    compiled.add_fallback(found)
                    found = compiled
            self._compiled[lang] = found
        return found

    def install(self, env: Environment, default_lang: str = "en") -> None:
        """Jinja's i18n extension with gettext callables that follow `page.lang` of the render."""
        env.add_extension("jinja2.ext.i18n")

        def lang_of(context: Any) -> str:
            page = context.get("page")
            lang = page.get("lang") if isinstance(page, dict) else None
            return lang if isinstance(lang, str) and lang else default_lang

        @pass_context
        def _gettext(context: Any, message: str) -> str:
            return self.translations(lang_of(context)).gettext(message)

        @pass_context
        def _ngettext(context: Any, singular: str, plural: str, n: int) -> str:
            return self.translations(lang_of(context)).ngettext(singular, plural, n)

        @pass_context
        def _pgettext(context: Any, ctx: str, message: str) -> str:
            return self.translations(lang_of(context)).pgettext(ctx, message)

        @pass_context
        def _npgettext(context: Any, ctx: str, singular: str, plural: str, n: int) -> str:
            return self.translations(lang_of(context)).npgettext(ctx, singular, plural, n)

        env.install_gettext_callables(_gettext, _ngettext, newstyle=True, pgettext=_pgettext,  # type: ignore[attr-defined]
                                      npgettext=_npgettext)

        @pass_context
        def _newstyle_gettext(context: Any, message: str, **variables: Any) -> str:
            # What Jinja's newstyle `gettext` (and its `_`, which looks `gettext` up) do, in one call instead of three
            # nested `Context.call`s: a layout says `_()` a dozen times per page. The result is always a format
            # string (`%%` is a percent sign), escaped when autoescaping; one without a `%` formats to itself.
            rv = self.translations(lang_of(context)).gettext(message)
            if context.eval_ctx.autoescape:
                rv = Markup(rv)
            if not variables and "%" not in rv:
                return rv
            return rv % variables

        env.globals["gettext"] = env.globals["_"] = _newstyle_gettext


def _compile(path: Path, lang: str) -> gettext.GNUTranslations:
    """A .po file → gettext translations (through an in-memory .mo); a broken file is a located TemplateError."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import PoFileError, read_po

    try:
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang.replace("-", "_"), abort_invalid=True)
    except PoFileError as exc:
        raise TemplateError(f"message catalog: {exc}", Location(file=str(path))) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise TemplateError(f"message catalog: {exc}", Location(file=str(path))) from exc
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


__all__ = ["Catalogs", "DOMAIN"]
