"""Theme folders → a Jinja2 environment (site theme first, built-in default after) and hashed static assets."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes

from .catalogs import Catalogs
from .config import Config
from .errors import Location, TemplateError
from .paths import SymlinkError, link_problem, link_roots
from .signing import sign, signed, signing_key


@dataclass
class Asset:
    name: str           # style.css
    url: str            # /assets/style.3f2a9c1d.css
    source: Path
    digest: str


@dataclass
class Theme:
    """The loaded theme: Jinja environment, template file digests and the static assets."""

    env: jinja2.Environment
    dirs: list[Path]
    site_dir: Path
    template_files: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (source key, sha256)
    assets: dict[str, Asset] = field(default_factory=dict)
    _deps: dict[str, set[str]] = field(default_factory=dict)
    _blocks: dict[str, dict[str, list[Any]] | None] = field(default_factory=dict)
    _trees: dict[str, Any] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # what callers derive from this theme (replaced with it)
    catalogs: Catalogs = field(default_factory=Catalogs)  # the theme's translated strings (catalogs.py)

    def template(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"template syntax: {exc.message}", Location(file=self._key(exc.name or name),
                                                                            line=exc.lineno)) from exc
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template not found: {exc.name}", Location(file=f"themes/{name}")) from exc

    def _key(self, name: str) -> str:
        return self.template_files.get(name, (f"themes/{name}", ""))[0]

    def dependencies(self, name: str) -> set[str]:
        """Every template a template may load (extends/include/import), itself included."""
        if name in self._deps:
            return self._deps[name]
        seen: set[str] = set()
        stack = [name]
        while stack:
            current = stack.pop()
            if current in seen or current not in self.template_files:
                continue
            seen.add(current)
            try:
                refs = meta.find_referenced_templates(self._tree(current))
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(f"template syntax: {exc.message}",
                                    Location(file=self._key(current), line=exc.lineno)) from exc
            stack.extend(r for r in refs if r)
        self._deps[name] = seen
        return seen

    def record(self, name: str, recorder: Any) -> None:
        for dep in self.dependencies(name):
            key, digest = self.template_files[dep]
            recorder.file(key, digest)

    def asset_url(self, name: str) -> str:
        asset = self.assets.get(name)
        if asset is None:
            raise TemplateError(f"unknown asset {name!r}", Location(file="themes/static/" + name))
        return asset.url

    def has(self, name: str) -> bool:
        return name in self.template_files

    def block_chain(self, name: str) -> dict[str, list[Any]] | None:
        """Every block a template renders, as Jinja chains them (the template's own first, then its parents'), or
        None when a template of the chain extends a name that is only known at render time."""
        if name in self._blocks:
            return self._blocks[name]
        chain: dict[str, list[Any]] | None = {}
        current: str | None = name
        seen: set[str] = set()
        while current is not None and chain is not None:
            if current in seen:
                chain = None
                break
            seen.add(current)
            template = self.template(current)
            for block, func in template.blocks.items():
                chain.setdefault(block, []).append(func)
            current, dynamic = self._parent(current)
            if dynamic:
                chain = None
        self._blocks[name] = chain
        return chain

    def _tree(self, name: str) -> Any:
        """A template's syntax tree, parsed once (its dependencies and its parent are both read from it)."""
        found = self._trees.get(name)
        if found is None:
            src = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
            found = self._trees[name] = self.env.parse(src)
        return found

    def _parent(self, name: str) -> tuple[str | None, bool]:
        """The template `name` extends (None if none), and whether it extends one chosen at render time."""
        for node in self._tree(name).find_all(nodes.Extends):
            if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str):
                return node.template.value, False
            return None, True
        return None, False


def _source_key(path: Path, site_dir: Path) -> str:
    try:
        return path.resolve().relative_to(site_dir.resolve()).as_posix()
    except ValueError:
        parts = path.resolve().parts
        i = len(parts) - 1 - list(reversed(parts)).index("themes") if "themes" in parts else 0
        return "builtin:" + "/".join(parts[i:])


def _refuse_link(path: Path, roots: tuple[str, ...], config: Config) -> None:
    """A theme file that links out of the site would be published (static) or can read anything (templates)."""
    refused = link_problem(path, roots)
    if refused is not None:
        raise SymlinkError(refused, Location(file=os.path.relpath(path, config.site_dir)))


_DICT_ATTRIBUTES = frozenset(dir(dict))


class ThemeEnvironment(jinja2.Environment):
    """Jinja's environment, with `x.name` on a plain dict answered without a failed attribute lookup first.

    Jinja's `getattr` prefers the attribute, then the item; for the dicts a layout reads (the page, the site, the
    posts, the navigation entries) every `page.title` first raises an AttributeError internally — a tenth of a
    page's render. A name that is no attribute of dict gives the item here, exactly what Jinja's order gives;
    anything else goes Jinja's way."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


CODE_FORMAT = 1  # bump when a change of mbsite makes the same template source compile to different code
CODE_DIR = "templates"  # the compiled templates' folder in the state folder (.mbsite/templates/<signature>/)
_SIGNATURE = re.compile(r"[0-9a-f]{20}")  # a folder of compiled templates (code_signature)


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates kept in the site's state folder, so that a build (and each of its worker
    processes) loads a template's code instead of parsing and compiling it again: about 45 ms for the default
    theme, in every process that renders. Jinja keys an entry by the template's file and checks its source digest;
    the folder is named by everything else the code depends on (`signature`), so code compiled by another Jinja,
    Python or set of filters and extensions is never loaded.

    An entry is code, and the state folder travels with the site (a folder copied in, or committed by mistake): each
    entry is signed with a key of this user's that never lives in the site (`signing_key`), and an entry whose
    signature does not match is not even read (Jinja's entries hold a pickle), so only code compiled here runs. A
    cache that cannot be written (a read-only site), an entry that cannot be read (cut short) or no key is no error:
    the template is compiled as without a cache."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory, self.key = directory, key

    def load_bytecode(self, bucket: Any) -> None:
        try:
            data = (self.directory / f"{bucket.key}.code").read_bytes()
        except OSError:
            return
        payload = signed(self.key, _PURPOSE, data)
        if payload is None:
            return  # not compiled here (or damaged): compiled again, and replaced
        try:
            bucket.bytecode_from_string(payload)
        except Exception:  # noqa: BLE001 - signed but unreadable (another Python wrote it): compile again
            bucket.reset()

    def dump_bytecode(self, bucket: Any) -> None:
        try:
            if not self.directory.is_dir():
                _start_code_dir(self.directory)
            payload = bucket.bytecode_to_string()
            with tempfile.NamedTemporaryFile(dir=self.directory, prefix=f"{bucket.key}.", suffix=".tmp",
                                             delete=False) as fh:
                try:
                    fh.write(sign(self.key, _PURPOSE, payload) + payload)
                except OSError:
                    fh.close()
                    os.unlink(fh.name)  # (a full disk: no half-written file left behind)
                    raise
            os.replace(fh.name, self.directory / f"{bucket.key}.code")
        except OSError:
            pass


_PURPOSE = b"compiled-template"


def _start_code_dir(folder: Path) -> None:
    """Create a new signature's folder and remove the others (compiled by an older mbsite, Jinja or Python): only
    folders named like a signature, never through a symbolic link, so nothing but this cache is ever deleted."""
    folder.mkdir(parents=True, exist_ok=True)
    if folder.parent.is_symlink():
        return
    for other in folder.parent.iterdir():
        if (other != folder and _SIGNATURE.fullmatch(other.name) and other.is_dir()
                and not other.is_symlink()):
            shutil.rmtree(other, ignore_errors=True)


def code_signature(env: jinja2.Environment) -> str:
    """What a template's compiled code depends on besides its source: the versions of Jinja and Python, and the
    environment's syntax, options, extensions, filters and tests (Jinja resolves those when it compiles)."""
    parts = (CODE_FORMAT, jinja2.__version__, sys.version, sorted(env.extensions), env.autoescape, env.trim_blocks,
             env.lstrip_blocks, env.keep_trailing_newline, env.block_start_string, env.block_end_string,
             env.variable_start_string, env.variable_end_string, env.comment_start_string,
             env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix, env.newline_sequence,
             getattr(env, "newstyle_gettext", None), env.undefined.__name__, env.optimized, env.is_async,
             sorted(env.filters), sorted(env.tests), type(env).__qualname__)
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:20]


def load_theme(config: Config) -> Theme:
    dirs = config.theme_dirs()
    if not dirs:
        raise TemplateError("no theme found (themes/default)", Location(file="themes/"))
    template_dirs = [d / "templates" for d in dirs if (d / "templates").is_dir()]
    env = ThemeEnvironment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in template_dirs]),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        auto_reload=False, cache_size=-1,
    )
    theme = Theme(env, dirs, config.site_dir)
    for d in dirs:  # the site's theme first: its catalogs come before the built-in ones
        theme.catalogs.add_theme_dir(d, lambda p: _source_key(p, config.site_dir))
    theme.catalogs.install(env, config.default_language)
    env.filters["date"] = _date_filter
    roots = link_roots(config)
    for d in reversed(template_dirs):  # earlier dirs win
        for path in d.rglob("*"):
            _refuse_link(path, roots, config)
            if path.is_file():
                name = path.relative_to(d).as_posix()
                theme.template_files[name] = (_source_key(path, config.site_dir),
                                              hashlib.sha256(path.read_bytes()).hexdigest())
    for d in reversed(dirs):
        static = d / "static"
        if not static.is_dir():
            continue
        for path in static.rglob("*"):
            _refuse_link(path, roots, config)
            if path.is_file():
                name = path.relative_to(static).as_posix()
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                stem, dot, ext = name.rpartition(".")
                hashed = f"{stem}.{digest[:10]}.{ext}" if dot else f"{name}.{digest[:10]}"
                theme.assets[name] = Asset(name, f"/assets/{hashed}", path, digest)
    env.globals["asset"] = theme.asset_url
    key = signing_key()
    if key is not None:
        env.bytecode_cache = CompiledTemplates(config.state_dir / CODE_DIR / code_signature(env), key)
    return theme


@jinja2.pass_context
def _date_filter(context: Any, value: Any, fmt: str = "date") -> Any:
    """`{{ page.date|date }}`: a date as the page shows it, in the tenant's time zone and the page's language
    (dates.show names the formats)."""
    from .dates import get_zone, show

    site, page = context.get("site"), context.get("page")
    zone = site.get("timezone") if isinstance(site, dict) else None
    lang = page.get("lang") if isinstance(page, dict) else None
    return show(value, get_zone(zone) if isinstance(zone, str) and zone else get_zone("UTC"), fmt,
                lang if isinstance(lang, str) and lang else "en")


def template_error(exc: Exception, theme: Theme, fallback: str) -> TemplateError:
    """Turn a Jinja runtime error into a TemplateError naming the template file and line.

    Jinja rewrites tracebacks so that frames of templates carry the template's filename and line."""
    by_path = {str(d / "templates" / name): key for d in theme.dirs
               for name, (key, _) in theme.template_files.items()}
    tb = exc.__traceback__
    where = Location(file=theme._key(fallback))
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in by_path:
            where = Location(file=by_path[filename], line=tb.tb_lineno)
        tb = tb.tb_next
    return TemplateError(f"template: {exc}", where)


__all__ = ["Theme", "Asset", "load_theme", "template_error"]
