"""Site folder + database → Sources: tenants, installed packages, page-config rows, Markdown files."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config
from .errors import MbsiteError, Problem
from .languages import folder_languages
from .markdown import FrontMatter, split_front_matter
from .paths import link_problem, link_roots

if TYPE_CHECKING:
    from sqlalchemy import Engine

SKIP_CONTENT = {"seed"}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Installed:
    package: str
    enabled: bool
    config: dict[str, Any]
    sort_order: int


@dataclass(frozen=True)
class PageRow:
    id: str
    path: str
    title: str
    description: str | None
    icon: str | None
    package: str | None
    component: str | None
    tree: Any
    level: int
    requires_auth: bool
    published: bool
    sort_order: int
    params: dict[str, Any]
    meta: dict[str, Any]
    revalidate: int | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class TenantData:
    slug: str
    name: str
    domains: tuple[str, ...]
    settings: dict[str, Any]
    installed: tuple[Installed, ...]
    pages: tuple[PageRow, ...]

    def enabled_packages(self) -> list[str]:
        return [i.package for i in self.installed if i.enabled]


@dataclass(frozen=True)
class MarkdownSource:
    relpath: str            # site-relative, e.g. content/blog/hello.md
    url: str                # /blog/hello
    digest: str
    front: FrontMatter
    body: str
    body_line: int          # line of the file where the body starts
    lang: str = ""          # the language of its folder (content/<lang>/…), "" outside one

    @cached_property
    def post_text(self) -> tuple[str, int]:
        """Its summary and reading time (summaries.py), worked out once: the page and every listing that shows it
        ask, and a full build's helpers work them out while they scan (prerender.py), so they come pickled."""
        from .summaries import reading_minutes, summary

        return summary(self), reading_minutes(self)


@dataclass
class Sources:
    tenants: list[TenantData]
    markdown: list[MarkdownSource]
    problems: list[Problem] = field(default_factory=list)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def load_tenants(engine: Engine) -> list[TenantData]:
    """Tenants with their installed packages and page-config rows (Core queries: no ORM objects)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        tenants = conn.execute(text("SELECT slug, name, domains, settings FROM tenants ORDER BY slug")).all()
        installed = conn.execute(text(
            "SELECT tenant, package, enabled, config, sort_order FROM installed_packages "
            "ORDER BY tenant, sort_order, id")).all()
        pages = conn.execute(text(
            "SELECT tenant, id, path, title, description, icon, package, component, component_tree, level, "
            "requires_auth, published, sort_order, params, meta, revalidate, tags FROM page_configs "
            "ORDER BY tenant, sort_order, path")).all()
    by_tenant_inst: dict[str, list[Installed]] = {}
    for tenant, package, enabled, config, sort_order in installed:
        cfg = _json(config)
        by_tenant_inst.setdefault(tenant, []).append(
            Installed(package, bool(enabled), dict(cfg) if isinstance(cfg, dict) else {}, sort_order or 0))
    by_tenant_pages: dict[str, list[PageRow]] = {}
    for r in pages:
        params, meta, tags = _json(r[13]), _json(r[14]), _json(r[16])
        by_tenant_pages.setdefault(r[0], []).append(PageRow(
            id=r[1], path=r[2], title=r[3] or "", description=r[4], icon=r[5], package=r[6], component=r[7],
            tree=_json(r[8]), level=r[9] or 0, requires_auth=bool(r[10]), published=bool(r[11]),
            sort_order=r[12] or 0, params=dict(params) if isinstance(params, dict) else {},
            meta=dict(meta) if isinstance(meta, dict) else {}, revalidate=r[15], tags=tuple(tags or ())))
    out = []
    for slug, name, domains, settings in tenants:
        domains, settings = _json(domains), _json(settings)
        out.append(TenantData(slug, name, tuple(domains or ()), dict(settings or {}),
                              tuple(by_tenant_inst.get(slug, ())), tuple(by_tenant_pages.get(slug, ()))))
    return out


def content_url(rel: Path | str) -> str:
    """content/pages/about.md → /about; content/blog/x.md → /blog/x; index.md → its folder."""
    parts = (rel if isinstance(rel, str) else rel.as_posix()).split("/")
    name = parts[-1]
    dot = name.rfind(".")
    if dot > 0:
        parts[-1] = name[:dot]
    if parts and parts[0] == "pages":
        parts = parts[1:]
    if parts and parts[-1] == "index":
        parts = parts[:-1]
    return "/" + "/".join(parts)


def markdown_url(rel: str, folders: frozenset[str] = frozenset()) -> tuple[str, str]:
    """A Markdown page's URL and the language of its folder: content/de/about.md → (/de/about, de) when `de` is
    one of the languages with a folder (`folders`), the path mapped as content_url maps it below that folder."""
    first, _, rest = rel.partition("/")
    if rest and first in folders:
        inner = content_url(rest)
        return (f"/{first}" if inner == "/" else f"/{first}{inner}"), first
    return content_url(rel), ""


def is_content_markdown(rel: str) -> bool:
    """Whether a '/'-separated path relative to the content folder is a Markdown page: seed/, top-level
    dot-files and dot-folders and README.md files are not."""
    first, _, rest = rel.partition("/")
    if (rest and first in SKIP_CONTENT) or first.startswith("."):
        return False
    name = rel.rsplit("/", 1)[-1]
    return name.endswith(".md") and name.lower() != "readme.md"


def markdown_order(rel: str) -> list[str]:
    """Sort key of Markdown paths: folder by folder, so the order (and so which file wins a URL both claim)
    does not depend on how '.' and '/' compare."""
    return rel.split("/")


def markdown_files(root: Path) -> list[str]:
    """The Markdown pages under the content folder, as '/'-separated paths relative to it, in markdown_order."""
    found: list[str] = []
    base = str(root)
    for folder, dirs, files in os.walk(base):
        rel_folder = folder[len(base) + 1:].replace(os.sep, "/")
        if not rel_folder:
            dirs[:] = [d for d in dirs if d not in SKIP_CONTENT and not d.startswith(".")]
        for name in files:
            rel = f"{rel_folder}/{name}" if rel_folder else name
            if is_content_markdown(rel):
                found.append(rel)
    found.sort(key=markdown_order)
    return found


def scan_markdown(config: Config, problems: list[Problem], files: list[str] | None = None) -> list[MarkdownSource]:
    """Every Markdown page of the content folder (or `files`, from markdown_files), front matter parsed;
    a file that cannot be read as a page becomes a problem instead."""
    if not config.content_dir.is_dir():
        return []
    scanner = MarkdownScanner(config)
    out: list[MarkdownSource] = []
    for rel in markdown_files(config.content_dir) if files is None else files:
        found = scanner.scan(rel, problems)
        if found is not None:
            out.append(found)
    return out


class MarkdownScanner:
    """Reads one Markdown page of the content folder at a time (scan_markdown, and the build's helpers, which scan
    a share of the files each: prerender.py)."""

    def __init__(self, config: Config) -> None:
        root = config.content_dir
        self.prefix, self.base = root.name + "/", str(root) + os.sep
        self.roots = link_roots(config)
        self.folders = folder_languages(config)

    def scan(self, rel: str, problems: list[Problem]) -> MarkdownSource | None:
        """The page at `rel` (relative to the content folder), or None with a problem noted."""
        relpath = self.prefix + rel
        refused = link_problem(self.base + rel, self.roots)
        if refused is not None:
            problems.append(Problem("error", refused, _loc(relpath), "symlink"))
            return None
        with open(self.base + rel, "rb") as fh:
            data = fh.read()
        try:
            front, body, line = split_front_matter(data.decode("utf-8"), relpath)
        except UnicodeDecodeError:
            problems.append(Problem("error", "not valid UTF-8", _loc(relpath), "data"))
            return None
        except MbsiteError as exc:
            problems.append(Problem.from_error(exc))
            return None
        url, lang = markdown_url(rel, self.folders)
        return MarkdownSource(relpath, url, sha256_bytes(data), front, body, line, lang)


def _loc(relpath: str) -> Any:
    from .errors import Location

    return Location(file=relpath)


def load_sources(config: Config, engine: Engine,
                 scanned: tuple[list[MarkdownSource], list[Problem]] | None = None) -> Sources:
    """`scanned`: the content scan when it was done elsewhere (the build's helper process, prerender.py)."""
    from .db.seed import due_record_problems

    if scanned is not None:
        markdown, problems = scanned
        return Sources(load_tenants(engine), markdown, list(problems) + due_record_problems(engine, config))
    problems: list[Problem] = []
    markdown = scan_markdown(config, problems)
    return Sources(load_tenants(engine), markdown, problems + due_record_problems(engine, config))
