"""Site folder + database → Sources: tenants, installed packages, page-config rows, Markdown files."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from .config import Config
from .db.models import InstalledPackage, PageConfig, Tenant
from .errors import MbsiteError, Problem
from .markdown import FrontMatter, split_front_matter

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


@dataclass
class Sources:
    tenants: list[TenantData]
    markdown: list[MarkdownSource]
    problems: list[Problem] = field(default_factory=list)


def load_tenants(engine: Engine) -> list[TenantData]:
    with Session(engine) as s:
        tenants = s.scalars(select(Tenant).order_by(Tenant.slug)).all()
        installed = s.scalars(select(InstalledPackage).order_by(
            InstalledPackage.tenant, InstalledPackage.sort_order, InstalledPackage.id)).all()
        pages = s.scalars(select(PageConfig).order_by(
            PageConfig.tenant, PageConfig.sort_order, PageConfig.path)).all()
        by_tenant_inst: dict[str, list[Installed]] = {}
        for ip in installed:
            by_tenant_inst.setdefault(ip.tenant, []).append(
                Installed(ip.package, bool(ip.enabled), dict(ip.config or {}) if isinstance(ip.config, dict) else {},
                          ip.sort_order))
        by_tenant_pages: dict[str, list[PageRow]] = {}
        for p in pages:
            by_tenant_pages.setdefault(p.tenant, []).append(PageRow(
                id=p.id, path=p.path, title=p.title or "", description=p.description, icon=p.icon,
                package=p.package, component=p.component, tree=p.component_tree, level=p.level,
                requires_auth=bool(p.requires_auth), published=bool(p.published), sort_order=p.sort_order or 0,
                params=dict(p.params or {}) if isinstance(p.params, dict) else {},
                meta=dict(p.meta or {}) if isinstance(p.meta, dict) else {},
                revalidate=p.revalidate, tags=tuple(p.tags or ())))
        return [TenantData(t.slug, t.name, tuple(t.domains or ()), dict(t.settings or {}),
                           tuple(by_tenant_inst.get(t.slug, ())), tuple(by_tenant_pages.get(t.slug, ())))
                for t in tenants]


def content_url(rel: Path) -> str:
    """content/pages/about.md → /about; content/blog/x.md → /blog/x; index.md → its folder."""
    parts = list(rel.with_suffix("").parts)
    if parts and parts[0] == "pages":
        parts = parts[1:]
    if parts and parts[-1] == "index":
        parts = parts[:-1]
    return "/" + "/".join(parts)


def scan_markdown(config: Config, problems: list[Problem]) -> list[MarkdownSource]:
    root = config.content_dir
    out: list[MarkdownSource] = []
    if not root.is_dir():
        return out
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root)
        if rel.parts[0] in SKIP_CONTENT or rel.name.lower() == "readme.md" or rel.parts[0].startswith("."):
            continue
        relpath = (Path(config.content_dir.name) / rel).as_posix()
        data = path.read_bytes()
        try:
            front, body, line = split_front_matter(data.decode("utf-8"), relpath)
        except UnicodeDecodeError:
            problems.append(Problem("error", "not valid UTF-8", _loc(relpath), "data"))
            continue
        except MbsiteError as exc:
            problems.append(Problem.from_error(exc))
            continue
        out.append(MarkdownSource(relpath, content_url(rel), sha256_bytes(data), front, body, line))
    return out


def _loc(relpath: str) -> Any:
    from .errors import Location

    return Location(file=relpath)


def load_sources(config: Config, engine: Engine) -> Sources:
    problems: list[Problem] = []
    return Sources(load_tenants(engine), scan_markdown(config, problems), problems)
