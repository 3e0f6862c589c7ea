"""Site + built output → problems: packages, content, seed, templates, then internal links and assets (lxml)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import jinja2
from lxml import html as lxml_html

from .config import Config
from .db.seed import parse_seed, record_problems, seed_files
from .errors import Location, MbsiteError, Problem
from .images import URL_PREFIX
from .paths import image_file, link_roots
from .sitefiles import ROUTES_MANIFEST
from .writer import MARKER, read_marker

if TYPE_CHECKING:
    from .packages import PackageSet
    from .pages import SiteModel


def check_seed(config: Config) -> list[Problem]:
    """Seed files parse, and their records hold what their entity schemas allow."""
    from .entities import load_registry

    problems = []
    entries = []
    for path in seed_files(config.content_dir):
        try:
            entries.extend(parse_seed(path, config.site_dir))
        except MbsiteError as exc:
            problems.append(Problem.from_error(exc))
    problems.extend(record_problems(entries, load_registry(config, []), "error"))  # (broken schemas: check_entities)
    return problems


def check_component_types(config: Config, packages: PackageSet) -> list[Problem]:
    """Every element type of every package component is one something renders: a registry entry, a theme template
    (components/<type>.html) or a component of the same package. A build only warns: it publishes an empty box."""
    from .components import ComponentRenderer
    from .templates import load_theme

    theme = load_theme(config)
    renderer = ComponentRenderer(packages, type_template=lambda t: theme.has(f"components/{t}.html") or None)
    problems = []
    for pkg in packages:
        for comp in pkg.components:
            for el in renderer.unknown_elements(pkg, renderer.compiled(comp)):
                problems.append(_unknown(el.type, Location(file=comp.source, pointer=comp.pointer + "/render/template"
                                                           + el.pointer, package=pkg.id, node=comp.id)))
    return problems


def check_page_trees(model: SiteModel) -> list[Problem]:
    """The same for the component trees of page configs (database rows and packages' page files)."""
    from .components.compiler import compile_children

    problems = []
    for table in model.tables.values():
        for route in table.routes.values():
            if route.tree is None:
                continue
            pkg = model.packages.get(route.package or "")
            tree, prefix = route.tree, ""
            if isinstance(tree, dict) and isinstance(tree.get("render"), dict):
                # A whole component definition stored as the tree: the renderer draws its render.template.
                tree, prefix = tree["render"].get("template"), "/render/template"
            for el in model.renderer.unknown_elements(pkg, compile_children(tree, prefix)):
                problems.append(_unknown(el.type, Location(file=route.source, pointer=el.pointer or None,
                                                           package=route.package)))
    return problems


def _unknown(type_: str, where: Location) -> Problem:
    return Problem("error", f"unknown component type {type_!r}: it would be published as an empty container", where,
                   "render")


def check_templates(config: Config) -> list[Problem]:
    from .templates import load_theme

    problems = []
    theme = load_theme(config)
    for name, (key, _) in sorted(theme.template_files.items()):
        try:
            theme.env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Problem("error", f"template syntax: {exc.message}", Location(file=key, line=exc.lineno),
                                    "template"))
    return problems


def check_output(out: Path) -> list[Problem]:
    """Every internal href/src of every built page must resolve to a page or file of the same tenant."""
    problems: list[Problem] = []
    where = Location(file=str(out))
    if not out.is_dir() or not any(p for p in out.iterdir() if not p.name.startswith(".")):
        return [Problem("error", "the output folder has not been built (run mbsite build)", where, "output")]
    if read_marker(out) is None:
        problems.append(Problem("error", f"the output folder holds no complete build (no {MARKER} marker: never "
                                "built, or a build was cut short); the next mbsite build repairs it", where, "output"))
    for tenant_dir in sorted(p for p in out.iterdir() if (p / ROUTES_MANIFEST).is_file()):
        import json

        manifest = json.loads((tenant_dir / ROUTES_MANIFEST).read_text())
        pages = set(manifest.get("pages", {}))
        public = tenant_dir / "public"
        members_images = manifest.get("images") or {}  # (served by the gate, to members' pages only)
        for page in sorted(tenant_dir.rglob("*.html")):
            rel = page.relative_to(out).as_posix()
            private = rel.startswith(f"{tenant_dir.name}/private/")
            try:
                doc = lxml_html.fromstring(page.read_bytes())
            except Exception as exc:  # noqa: BLE001 - lxml raises several types for unparsable files
                problems.append(Problem("error", f"unparsable HTML: {exc}", Location(file=rel), "output"))
                continue
            for el in doc.iter():
                for attr in ("href", "src"):
                    target = el.get(attr)
                    if not target:
                        continue
                    parts = urlsplit(target)
                    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                        continue
                    path = unquote(parts.path)
                    if path.startswith(("/api/", "/pagefind/", "/pagefind-members/", "/pagefind-shards/")):
                        # (the search indexes: the build makes them, or warns that it could not; a tenant with no
                        # page to search has none, and the search page then says search is unavailable)
                        continue
                    norm = "/" + path.strip("/")
                    if private and _members_image(out, tenant_dir.name, path, members_images):
                        continue
                    if norm in pages or norm == "/login" or (public / path.lstrip("/")).is_file() or \
                            (public / path.lstrip("/") / "index.html").is_file():
                        continue
                    problems.append(Problem("error", f"broken internal link to {target} ({el.tag} {attr})",
                                            Location(file=rel), "broken-link"))
    return problems


def _members_image(out: Path, tenant: str, path: str, listed: dict[str, Any]) -> bool:
    """Whether `path` is a members' image that the tenant's routes.json lists and the build wrote under private/."""
    name = path[len(URL_PREFIX):] if path.startswith(URL_PREFIX) else ""
    return bool(name) and "/" not in name and name in listed and (out / image_file(tenant, name, 1)).is_file()


def check_addresses(model: SiteModel) -> list[Problem]:
    """Every tenant needs an absolute address: sitemaps, feeds, robots.txt and canonical links are absolute."""
    from .sitefiles import tenant_base_url

    return [Problem("error", f"tenant {slug} has no address: give it a domain or a base_url setting, or set "
                    "site.base_url (sitemap.xml, feeds and canonical links need absolute URLs)",
                    Location(file=f"tenants:{slug}"), "address")
            for slug, table in sorted(model.tables.items()) if not tenant_base_url(table.tenant, model.config.base_url)]


def check_published(config: Config) -> list[Problem]:
    """Every file the stored graph says the last build published is there (a deleted page is an error until
    the next build restores it)."""
    from sqlalchemy import inspect

    from .db.engine import open_engine, resolve_url
    from .graph import load_outputs

    if read_marker(config.out) is None:
        return []
    engine = open_engine(resolve_url(config.site_dir, config.database_url))
    try:
        if not inspect(engine).has_table("build_outputs"):
            return []
        with engine.connect() as conn:
            outputs = load_outputs(conn)
    finally:
        engine.dispose()
    return [Problem("error", f"published file {row.file} of {tenant} {path} is missing; the next mbsite build "
                    "restores it", Location(file=str(config.out / row.file)), "output")
            for (tenant, path), rows in sorted(outputs.items()) for row in rows
            if not (config.out / row.file).is_file()]


def check_entities(config: Config) -> list[Problem]:
    """Entity definitions (site schemas/entities and packages' entities/) load, or say where they are broken."""
    from .entities import load_registry

    broken: list[Any] = []
    registry = load_registry(config, broken)
    problems = [Problem.from_error(exc) for exc in broken]
    # A permission mbsite cannot read grants nothing: say so, or an entity is silently shut to everyone.
    problems.extend(Problem("warning", f"entity {entity.name}: acl {note}", Location(file=entity.source), "data")
                    for entity in registry for note in entity.acl_notes)
    return problems


def run_check(config: Config) -> list[Problem]:
    from .jsonload import SchemaResults
    from .packages import load_packages
    from .sources import scan_markdown

    problems: list[Problem] = []
    schemas = SchemaResults(config.state_dir / "schema-results.json")  # shared with load_model below
    packages = load_packages(config.package_dirs(), root=config.site_dir, links=link_roots(config),
                             schemas=schemas)
    problems.extend(packages.problems)
    problems.extend(check_component_types(config, packages))
    scan_markdown(config, problems)
    problems.extend(check_seed(config))
    problems.extend(check_entities(config))
    problems.extend(check_templates(config))
    if not any(p.severity == "error" for p in problems):
        from .site import load_model, open_site_db

        engine, _ = open_site_db(config)
        model = load_model(config, engine, problems, schemas=schemas)
        problems.extend(check_page_trees(model))
        problems.extend(check_addresses(model))
    problems.extend(check_output(config.out))
    problems.extend(check_published(config))
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for p in problems:
        key = (p.severity, p.message, str(p.location))
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique
