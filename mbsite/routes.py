"""Sources + packages → the route table of each tenant (first wins per path; conflicts are warnings)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .dates import local_instant
from .db.models import now_ms
from .errors import Location, MbsiteError, Problem
from .languages import strip_language
from .levels import ADMIN, GOD, SUPERGOD, clamp_level
from .menus import check_menu, navigation
from .paths import route_path, segment_problem
from .records import Query, RecordStore
from .sources import MarkdownSource, PageRow, Sources, TenantData
from .summaries import first_heading
from .titles import Titles

if TYPE_CHECKING:
    from .config import Config
    from .packages import PackageSet

_PARAM_RE = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)|\[([A-Za-z_][A-Za-z0-9_]*)\]")
GALLERY_PREFIX = "/_gallery"
PANEL_PREFIX = "/admin"   # the admin panel's pages (panel.py)
SEARCH_PATH = "/search"
SEARCH_BUNDLE = "/pagefind"  # the search index's folder (search.py): no page may live there while search is on
MEMBERS_SEARCH_BUNDLE = "/pagefind-members"  # the members' search index, answered by the gate: no page there either
SEARCH_SHARDS = "/pagefind-shards"  # the further parts of a large public search index (search.py): no page there


@dataclass(frozen=True)
class Route:
    """One page of one tenant, before rendering."""

    tenant: str
    path: str
    kind: str                     # component | markdown | blog_index | tags | tag | gallery | home_index | search
    title: str
    source: str                   # where it came from, for warnings and `mbsite why`
    level: int = 0
    requires_auth: bool = False
    package: str | None = None
    component: str | None = None
    tree: Any = None
    props: dict[str, Any] = field(default_factory=dict)
    queries: tuple[tuple[str, Query], ...] = ()
    record: tuple[str, str, str] | None = None   # (package, entity, id) of an expanded route
    params: dict[str, Any] = field(default_factory=dict)
    markdown: MarkdownSource | None = None
    description: str = ""
    date: str | None = None
    tags: tuple[str, ...] = ()
    revalidate: int | None = None
    sort_order: int = 0
    nav: bool = False
    icon: str | None = None
    template: str | None = None
    row_id: str | None = None     # page_configs.id when the route comes from a row
    aliases: tuple[str, ...] = () # earlier paths, redirected here (`_redirects` and small redirect pages)
    lang: str = ""                # the page's language ("" until the table gives it the tenant's)
    translation_key: str = ""     # pages sharing it are translations of each other ("" = the path)

    @property
    def min_level(self) -> int:
        return max(self.level, 1 if self.requires_auth else 0)


@dataclass
class RouteTable:
    tenant: TenantData
    routes: dict[str, Route] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    queries_read: set[tuple[str, str]] = field(default_factory=set)   # (package, entity) read to expand paths
    next_change: int | None = None   # epoch ms of the next scheduled publish or expiry (the table changes then)
    aliases: dict[str, str] = field(default_factory=dict)  # earlier path → the page's path
    _nav: dict[tuple[int, str], list[dict[str, Any]]] = field(default_factory=dict)
    _tag_pages: tuple[str, ...] | None = None
    memo: dict[Any, Any] = field(default_factory=dict)  # listings computed from the routes (cleared by add)
    lang: str = "en"                       # the tenant's language: of its pages that name none
    languages: tuple[str, ...] = ("en",)   # the tenant's languages, its own first (the switcher's order)
    zone: str = "UTC"                      # the IANA time zone its dates are shown in
    roots: dict[str, str] = field(default_factory=lambda: {"": "en"})  # language root ("", "/de") → its language
    search: bool = False  # `search.enabled`: the layout shows a search box that goes to SEARCH_PATH
    titles: Titles = field(default_factory=Titles)  # the generated titles, in a page's language (the theme's catalogs)

    def add(self, route: Route) -> None:
        if not route.lang or not route.translation_key:
            route = replace(route, lang=route.lang or self.lang, translation_key=route.translation_key or route.path)
        existing = self.routes.get(route.path)
        if existing is not None:
            self.problems.append(Problem(
                "warning", f"route {route.path} of tenant {route.tenant} is defined by {existing.source} "
                f"and by {route.source}; the first wins", _where(route), "route-conflict"))
            return
        self.routes[route.path] = route
        self._nav.clear()
        self._tag_pages = None
        self.memo.clear()

    def nav(self, level: int, lang: str | None = None) -> list[dict[str, Any]]:
        """Navigation entries visible at a level on a page in `lang` (default: the tenant's language), computed once
        per level and language: the tenant's configured menu (its `menu` setting, per language or for all) when it
        has one, else the pages marked `nav`, in sort order (menus.navigation)."""
        key = (level, lang or self.lang)
        found = self._nav.get(key)
        if found is None:
            found = self._nav[key] = navigation(self, level, key[1])
        return found

    def page_languages(self) -> tuple[str, ...]:
        """Every language a page of the tenant can be in: the tenant's, the site's others, then those that only
        some page's `lang` names (each has its own chrome: strings and navigation)."""
        found = self.memo.get("page-languages")
        if found is None:
            extra = sorted({r.lang for r in self.routes.values()} - set(self.languages))
            found = self.memo["page-languages"] = (*self.languages, *extra)
        return tuple(found)

    def lang_root(self, route: Route) -> str | None:
        """The language root a page stands under: "" for the tenant's language at the root of the URL space,
        "/de" for a page in German under /de/; None for a page in a language without a root of its own here."""
        for prefix, lang in self.roots.items():
            if prefix and lang == route.lang and (route.path == prefix or route.path.startswith(prefix + "/")):
                return prefix
        return "" if route.lang == self.lang else None

    def post_root(self, route: Route) -> str | None:
        """The language root of the blog a page is a post of (a Markdown page under ROOT/blog/ in the root's
        language), or None when the page is no blog post."""
        if route.kind != "markdown" or "/blog/" not in route.path:
            return None
        root = self.lang_root(route)
        return root if root is not None and route.path.startswith(root + "/blog/") else None

    def blog_neighbors(self, path: str) -> tuple["Route | None", "Route | None"]:
        """A blog post's older and newer neighbours among the posts of its blog the post's own viewers may see (so
        that every level that sees the post shows the same links)."""
        route = self.routes.get(path)
        root = self.post_root(route) if route is not None else None
        if route is None or root is None:
            return None, None
        key = ("blog-order", route.min_level, root)
        order = self.memo.get(key)
        if order is None:
            posts = sorted((r for r in self.routes.values() if self.post_root(r) == root
                            and r.min_level <= route.min_level), key=lambda r: (r.date or "", r.path))
            order = self.memo[key] = ({r.path: i for i, r in enumerate(posts)}, posts)
        index, posts = order
        i = index[path]
        return (posts[i - 1] if i > 0 else None), (posts[i + 1] if i + 1 < len(posts) else None)

    def tag_pages(self) -> tuple[str, ...]:
        """The paths of the tenant's tag pages, of every language root (computed once: every tagged page asks)."""
        if self._tag_pages is None:
            prefixes = tuple(root + "/tags/" for root in self.roots)
            self._tag_pages = tuple(sorted(p for p in self.routes if p.startswith(prefixes) and
                                           self.routes[p].params.get("page", 1) == 1))
        return self._tag_pages

    @property
    def has_blog(self) -> bool:
        return "/blog" in self.routes and self.routes["/blog"].kind == "blog_index"

    def blogs(self) -> list[str]:
        """The language roots that have a blog (and so a feed at ROOT/feed.xml)."""
        return [root for root in self.roots if (r := self.routes.get(root + "/blog")) is not None
                and r.kind == "blog_index"]


def _where(route: Route) -> Location:
    """Where a problem of a route points: its page-config row (`page_configs:<id>`, as the row's own errors say), or
    its source file (a package page's message names the entry in it)."""
    return Location(file=f"page_configs:{route.row_id}") if route.row_id else Location(file=route.source.split("#")[0])


def normalize_path(path: str, where: Location | None = None) -> str:
    """A page path in canonical form; a `.`, `..` or control-character segment is a PathError (see paths)."""
    return route_path(path, where)


def _data_queries(tenant: str, spec: Any, where: Location) -> tuple[tuple[str, Query], ...]:
    if not spec:
        return ()
    if not isinstance(spec, dict):
        raise MbsiteError("'data' must map names to queries", where)
    return tuple((str(name), Query.parse(tenant, q, Location(file=where.file, pointer=f"{where.pointer or ''}/data/{name}")))
                 for name, q in spec.items())


def _row_route(tenant: str, row: PageRow, lang: str = "") -> Route:
    where = Location(file=f"page_configs:{row.id}")
    params = row.params
    aliases = params.get("aliases", row.meta.get("aliases")) or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise MbsiteError("'aliases' must be a list of paths", Location(file=where.file, pointer="/params/aliases"))
    return Route(
        tenant=tenant, path=normalize_path(row.path, where), kind="component", title=row.title or row.path,
        source=f"page_configs row {row.id}", level=clamp_level(row.level), requires_auth=row.requires_auth,
        package=row.package, component=row.component, tree=row.tree or None,
        props=dict(params.get("props") or {}), queries=_data_queries(tenant, params.get("data"), where),
        params={"expand": params["expand"]} if params.get("expand") else {},
        description=row.description or "", revalidate=row.revalidate, tags=row.tags, sort_order=row.sort_order,
        nav=bool(params.get("nav", row.meta.get("nav", True))) and not _PARAM_RE.search(row.path),
        icon=row.icon, template=params.get("template"), row_id=row.id, aliases=tuple(aliases),
        lang=_row_lang(params.get("lang", row.meta.get("lang")), where) or lang,
    )


def _row_lang(value: Any, where: Location) -> str:
    """A page-config row's `lang` (params or meta); "" when it names none."""
    from .languages import lang_problem

    if value is None or value == "":
        return ""
    problem = lang_problem(value)
    if problem:
        raise MbsiteError(f"'lang': {problem}", Location(file=where.file, pointer="/params/lang"))
    return str(value)


def _package_route(tenant: str, page: Any, lang: str = "") -> Route:
    params = dict(page.params or {})
    where = Location(file=page.source.split("#")[0], pointer=page.source.partition("#")[2] or None)
    return Route(
        tenant=tenant, path=normalize_path(page.path, where), kind="component", title=page.title or page.path,
        source=page.source, level=page.level, requires_auth=page.requires_auth, package=page.package,
        component=page.component, tree=page.tree, props=dict(params.get("props") or {}),
        queries=_data_queries(tenant, params.get("data"), where),
        params={"expand": params["expand"]} if params.get("expand") else {},
        description=page.description or "", revalidate=page.revalidate, tags=tuple(page.tags),
        sort_order=page.sort_order, nav=bool(params.get("nav", True)) and not _PARAM_RE.search(page.path),
        icon=page.icon, template=params.get("template"), lang=lang,
    )


def _markdown_route(tenant: str, md: MarkdownSource, lang: str = "", titles: Titles | None = None) -> Route:
    fm = md.front
    where = Location(file=md.relpath)
    page_lang = fm.lang or md.lang or lang
    # Without a title: the heading that opens the page, else the file's name (not its language folder:
    # content/de/index.md is a home page too).
    name = (strip_language(md.url, md.lang) if md.lang else md.url).rsplit("/", 1)[-1]
    title = (fm.title or first_heading(md.body) or name.replace("-", " ").capitalize()
             or (titles or Titles()).home(page_lang))
    path = normalize_path(md.url, where)
    return Route(
        tenant=tenant, path=path, kind="markdown", title=title, source=md.relpath,
        level=fm.level, requires_auth=fm.requires_auth, markdown=md, description=fm.description, date=fm.date,
        tags=fm.tags, revalidate=fm.revalidate, sort_order=fm.sort_order, nav=fm.nav, icon=fm.icon,
        template=fm.template, queries=_data_queries(tenant, fm.data, where), aliases=fm.aliases,
        lang=page_lang, translation_key=fm.translation_key or (strip_language(path, md.lang) if md.lang else path),
    )


def _expand(table: RouteTable, route: Route, store: RecordStore) -> list[Route]:
    """A path with :params becomes one route per record, as the page's `expand` says; else it is skipped."""
    names = [a or b for a, b in _PARAM_RE.findall(route.path)]
    if not names:
        return [route]
    expand = route.params.get("expand") or {}
    specs = {n: expand.get(n) for n in names}
    missing = [n for n, s in specs.items() if not isinstance(s, dict)]
    if missing:
        table.problems.append(Problem("warning", f"route {route.path} has parameter(s) {', '.join(missing)} with no "
                                      f"'expand' rule in params; skipped", _where(route), "route-param"))
        return []
    if len(names) > 1:
        table.problems.append(Problem("warning", f"route {route.path}: only one expanded parameter is supported; skipped",
                                      _where(route), "route-param"))
        return []
    name = names[0]
    spec = specs[name]
    try:
        q = Query.parse(route.tenant, spec, Location(file=_where(route).file, pointer=f"/params/expand/{name}"))
    except MbsiteError as exc:
        table.problems.append(Problem.from_error(exc, "warning"))
        return []
    table.queries_read.add((q.package, q.entity))
    field_name = str((spec or {}).get("field") or "id")
    out = []
    for doc in store.run(q):
        value = doc.get(field_name)
        if value in (None, ""):
            continue
        seg = quote(str(value), safe="-_.~")
        reason = segment_problem(seg)
        if reason is not None:
            table.problems.append(Problem(
                "error", f"route {route.path}: record {doc.get('id')!r} of {q.package}/{q.entity} gives field "
                f"{field_name!r} = {str(value)[:80]!r}: {reason}; that page is skipped",
                _where(route), "path"))
            continue
        path = _PARAM_RE.sub(seg, route.path, count=1)
        out.append(replace(route, path=path, params={name: value}, record=(q.package, q.entity, str(doc.get("id"))),
                           title=str(doc.get("title") or doc.get("name") or route.title), nav=False))
    return out


def _on_schedule(table: RouteTable, window: tuple[int | None, int | None], now: int) -> bool:
    """Whether a page is published at `now` (from its publish date, until its expiry date); the next instant at
    which that changes is kept in `table.next_change`, when the route table must be built again."""
    publish, expiry = window
    upcoming = [t for t in (publish, expiry) if t is not None and t > now]
    if upcoming:
        soonest = min(upcoming)
        table.next_change = soonest if table.next_change is None else min(table.next_change, soonest)
    return (publish is None or publish <= now) and (expiry is None or expiry > now)


def row_schedule(row: PageRow, zone: Any = None) -> tuple[int | None, int | None]:
    """A page-config row's publish and expiry dates (`params` or `meta`: publishDate, expiryDate), as epoch ms; a
    date or time without an offset is in `zone` (the tenant's time zone; None: UTC)."""
    from .markdown import instant

    where = Location(file=f"page_configs:{row.id}")
    return tuple(instant(row.params.get(key, row.meta.get(key)), where, key, zone)  # type: ignore[return-value]
                 for key in ("publishDate", "expiryDate"))


def _markdown_window(md: MarkdownSource, zone: Any) -> tuple[int | None, int | None]:
    """A Markdown page's publish and expiry instants; those written without an offset are in the tenant's zone."""
    fm = md.front
    if fm.publish_date is None and fm.expiry_date is None:
        return None, None
    return tuple(local_instant(ms, zone) if ms is not None and naive and zone is not None else ms  # type: ignore[return-value]
                 for ms, naive in ((fm.publish_date, fm.publish_naive), (fm.expiry_date, fm.expiry_naive)))


def _localize(table: RouteTable, config: "Config | None") -> Any:
    """The tenant's language, languages and time zone (its `lang` and `timezone` settings over the site's); a
    setting that is not valid is a warning naming it, and the site's value is used. Returns the zone's tzinfo."""
    from .dates import get_zone, zone_problem
    from .languages import site_languages, tenant_language

    if config is None:
        return None
    where = Location(file=f"tenants:{table.tenant.slug}")
    lang, problem = tenant_language(table.tenant.settings, config)
    if problem:
        table.problems.append(Problem("warning", f"setting lang: {problem}; using {lang!r}",
                                      Location(file=where.file, pointer="/settings/lang"), "lang"))
    table.lang = lang
    table.languages = (lang, *(code for code in site_languages(config) if code != lang))
    table.roots = {"": lang, **{f"/{code}": code for code in site_languages(config)[1:]}}
    zone_name = table.tenant.settings.get("timezone", config.timezone)
    problem = zone_problem(zone_name)
    if problem:
        table.problems.append(Problem("warning", f"setting timezone: {problem}; using {config.timezone!r}",
                                      Location(file=where.file, pointer="/settings/timezone"), "timezone"))
        zone_name = config.timezone
    table.zone = str(zone_name)
    return get_zone(table.zone)


def build_route_table(tenant: TenantData, sources: Sources, packages: "PackageSet", store: RecordStore,
                      now: int | None = None, page_size: int = 0, config: "Config | None" = None,
                      search: bool = False, titles: Titles | None = None) -> RouteTable:
    """Page-config rows ∪ installed packages' pages ∪ Markdown ∪ default routes, first wins per path; only the pages
    published at `now` (epoch ms; default: the current time). `config`: the site's languages and time zone;
    `search`: add the search page (search.py); `titles`: the generated titles from the theme's catalogs (titles.py;
    default: English)."""
    table = RouteTable(tenant, search=search, titles=titles or Titles())
    zone = _localize(table, config)
    enabled = [p for p in tenant.enabled_packages() if p in packages]
    for name in tenant.enabled_packages():
        if name not in packages:
            table.problems.append(Problem("warning", f"tenant {tenant.slug}: installed package {name!r} not found",
                                          Location(package=name), "package-missing"))
    candidates: list[Route] = []
    now = now_ms() if now is None else now
    for row in tenant.pages:
        if not row.published:
            continue
        try:
            window = row_schedule(row, zone)
            if not _on_schedule(table, window, now):
                continue
            candidates.append(_row_route(tenant.slug, row, table.lang))
        except MbsiteError as exc:
            table.problems.append(Problem.from_error(exc))
    for pkg_id in enabled:
        for page in packages.get(pkg_id).pages:  # type: ignore[union-attr]
            if not page.published:
                continue
            try:
                candidates.append(_package_route(tenant.slug, page, table.lang))
            except MbsiteError as exc:
                table.problems.append(Problem.from_error(exc))
    for md in sources.markdown:
        if md.front.draft or (md.front.tenants is not None and tenant.slug not in md.front.tenants):
            continue
        if not _on_schedule(table, _markdown_window(md, zone), now):
            continue
        try:
            candidates.append(_markdown_route(tenant.slug, md, table.lang, table.titles))
        except MbsiteError as exc:
            table.problems.append(Problem.from_error(exc))
    for inst in tenant.installed:
        if not inst.enabled or inst.package not in packages:
            continue
        default = inst.config.get("defaultRoute")
        pkg = packages.get(inst.package)
        if isinstance(default, str) and pkg is not None:
            home = pkg.home_component()
            if home is not None:
                source = f"installed package {pkg.id} defaultRoute"
                try:
                    path = normalize_path(default, Location(file=source))
                except MbsiteError as exc:
                    table.problems.append(Problem.from_error(exc))
                    continue
                candidates.append(Route(tenant.slug, path, "component", pkg.name or pkg.id, source,
                                        level=pkg.min_level, package=pkg.id, component=home.id, nav=False))
    for route in candidates:
        bundle = next((b for b in (SEARCH_BUNDLE, MEMBERS_SEARCH_BUNDLE, SEARCH_SHARDS)
                       if route.path == b or route.path.startswith(b + "/")), None)
        if search and bundle is not None:
            table.problems.append(Problem("warning", f"page {route.path} of tenant {tenant.slug} ({route.source}): "
                                          f"{bundle}/ holds the search index; skipped (move the page, or set "
                                          "[search] enabled = false)", _where(route),
                                          "route-conflict"))
            continue
        if not _resolvable(table, route, packages, enabled):
            continue  # the next source of the same path may still provide the page
        for r in _expand(table, route, store):
            table.add(r)
    _merge_tags(table)
    _add_blog_routes(table, page_size)
    _add_gallery_routes(table, enabled, packages)
    _add_panel_routes(table)
    _add_home_route(table)
    if search and SEARCH_PATH not in table.routes:  # (a site's own page at /search wins: it is the search page then)
        table.add(Route(tenant.slug, SEARCH_PATH, "search", table.titles.search(table.lang), "generated search page"))
    _collect_aliases(table)
    check_menu(table)
    return table


def _collect_aliases(table: RouteTable) -> None:
    """Each page's `aliases` (earlier paths) → `table.aliases`; an alias that is a page itself, or another page's
    alias, is a warning and skipped (pages win, then the first alias)."""
    for route in sorted(table.routes.values(), key=lambda r: r.path):
        for raw in route.aliases:
            try:
                alias = route_path(raw, _where(route))
            except MbsiteError as exc:
                table.problems.append(Problem.from_error(exc, "warning"))
                continue
            other = table.routes.get(alias)
            if other is not None or alias in table.aliases:
                owner = other.source if other is not None else f"an alias of {table.aliases[alias]}"
                table.problems.append(Problem("warning", f"alias {alias} of {route.path} is already {owner}; skipped",
                                              _where(route), "route-conflict"))
                continue
            table.aliases[alias] = route.path


def _resolvable(table: RouteTable, route: Route, packages: "PackageSet", enabled: list[str]) -> bool:
    """A component page needs an inline tree, or its package enabled and its component present."""
    if route.kind != "component" or route.tree is not None:
        return True
    pkg = packages.get(route.package) if route.package else None
    reason = None
    if pkg is None or route.package not in enabled:
        reason = f"package {route.package!r} is not installed and enabled"
    elif not route.component or pkg.find_component(route.component) is None:
        reason = f"component {route.component!r} not found in package {route.package}"
    if reason is None:
        return True
    table.problems.append(Problem("warning", f"route {route.path} of tenant {route.tenant} ({route.source}): {reason}; "
                                  "skipped", _where(route), "route-unresolved"))
    return False


def _add_home_route(table: RouteTable) -> None:
    """A tenant none of whose sources gives a page at "/" (no content/index.md, no page config, no installed
    package's defaultRoute) gets a generated one listing its newest pages: the layout's brand link, the sitemap
    and a CDN's root all point there."""
    if "/" not in table.routes:
        table.add(Route(table.tenant.slug, "/", "home_index", table.tenant.name, "generated home page"))


LEVELS = range(6)


def page_count(visible: int, page_size: int) -> int:
    """How many listing pages `visible` posts fill (one, even when empty)."""
    return max(1, -(-visible // page_size)) if page_size > 0 else 1


def _add_pages(table: RouteTable, first: Route, posts: list[Route], page_size: int) -> None:
    """The listing `first` and its further pages FIRST/page/2…: page k can be seen from the lowest level that sees
    enough posts to fill k pages (members may see more pages than the public)."""
    table.add(first)
    pages = {level: page_count(sum(1 for p in posts if p.min_level <= level), page_size) for level in LEVELS}
    lang = first.lang or table.lang
    for k in range(2, pages[max(LEVELS)] + 1):
        level = min(lv for lv in LEVELS if pages[lv] >= k)
        table.add(replace(first, path=f"{first.path}/page/{k}", title=table.titles.listing_page(lang, first.title, k),
                          nav=False,
                          translation_key=f"{first.translation_key}/page/{k}" if first.translation_key else "",
                          level=max(first.level, level), requires_auth=first.requires_auth or level > 0,
                          params={**first.params, "page": k}, sort_order=0))


def _add_blog_routes(table: RouteTable, page_size: int = 0) -> None:
    """A blog for each language root with posts: ROOT/blog (paginated), ROOT/tags and ROOT/tags/<tag>, in the
    root's language (only the tenant language's blog is in the navigation, which every language shares)."""
    by_root: dict[str, list[Route]] = {}
    for r in table.routes.values():
        root = table.post_root(r)
        if root is not None:
            by_root.setdefault(root, []).append(r)
    for root, posts in sorted(by_root.items()):
        _add_blog(table, root, table.roots.get(root, table.lang), posts, page_size)


def _add_blog(table: RouteTable, root: str, lang: str, posts: list[Route], page_size: int) -> None:
    slug = table.tenant.slug
    titles = table.titles
    _add_pages(table, Route(slug, f"{root}/blog", "blog_index", titles.blog(lang), "generated blog index", nav=not root,
                            sort_order=50, lang=lang, translation_key="/blog"), posts, page_size)
    # A tag page (and the tag index) may be seen from the lowest level that may see one of its posts: a tag used
    # only by members' posts gets no public page, no sitemap entry and no public link.
    levels: dict[str, int] = {}
    for p in posts:
        for t in p.tags:
            levels[t] = min(levels.get(t, p.min_level), p.min_level)
    if levels:
        lowest = min(levels.values())
        table.add(Route(slug, f"{root}/tags", "tags", titles.tags(lang), "generated tag index", level=lowest,
                        requires_auth=lowest > 0, lang=lang, translation_key="/tags"))
    for tag in sorted(levels):
        _add_pages(table, Route(slug, f"{root}/tags/{tag_slug(tag)}", "tag", titles.tag(lang, tag), "generated tag page",
                                params={"tag": tag}, level=levels[tag], requires_auth=levels[tag] > 0, lang=lang,
                                translation_key=f"/tags/{tag_slug(tag)}"),
                   [p for p in posts if tag in p.tags], page_size)


def _merge_tags(table: RouteTable) -> None:
    """Tags that share an address (`tag_slug`: `Travel` and `travel`, `C++` and `C#`) are one tag, named as most
    pages spell it (on a tie, the first spelling in sorted order): otherwise the first would take the tag page and
    the second's links would lead to a list of other pages. Spellings that differ beyond letter case are reported."""
    spellings: dict[str, dict[str, int]] = {}
    for route in table.routes.values():
        for tag in route.tags:
            counts = spellings.setdefault(tag_slug(tag), {})
            counts[tag] = counts.get(tag, 0) + 1
    names: dict[str, str] = {}
    for slug, counts in sorted(spellings.items()):
        name = min(counts, key=lambda t: (-counts[t], t))
        names.update((t, name) for t in counts)
        if len({t.casefold() for t in counts}) > 1:
            first = next(r for r in sorted(table.routes.values(), key=lambda r: r.path)
                         if any(t != name and tag_slug(t) == slug for t in r.tags))
            table.problems.append(Problem(
                "warning", f"tags {', '.join(repr(t) for t in sorted(counts))} of tenant {table.tenant.slug} share "
                f"the address /tags/{slug}: they are one tag, {name!r} (rename one to keep them apart)",
                _where(first), "tag-conflict"))
    for path, route in list(table.routes.items()):
        if route.tags:
            merged = tuple(dict.fromkeys(names[t] for t in route.tags))
            if merged != route.tags:
                table.routes[path] = replace(route, tags=merged)
                table._nav.clear()
                table._tag_pages = None
                table.memo.clear()


def tag_slug(tag: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-") or "tag"


def _add_gallery_routes(table: RouteTable, enabled: list[str], packages: "PackageSet") -> None:
    slug = table.tenant.slug
    enabled = [p for p in enabled if packages.get(p) is not None and packages.get(p).components]  # type: ignore[union-attr]
    for pkg_id in enabled:
        table.add(Route(slug, f"{GALLERY_PREFIX}/{pkg_id}", "gallery", f"Components of {pkg_id}",
                        "generated component gallery", level=ADMIN, requires_auth=True, package=pkg_id))
    if enabled:
        table.add(Route(slug, GALLERY_PREFIX, "gallery", "Component gallery", "generated component gallery",
                        level=ADMIN, requires_auth=True))


@dataclass(frozen=True)
class Panel:
    name: str
    title: str
    tables: tuple[str, ...]   # the tables whose writes change what the page shows ("*/t": table t of any tenant)
    level: int = ADMIN


PANELS = (
    Panel("pages", "Pages", ("page_configs",)),
    Panel("packages", "Packages", ("installed_packages",)),
    Panel("users", "Users and roles", ("users", "disabled_users")),
    Panel("schemas", "Entity schemas", ("installed_packages",)),
    Panel("audit", "Audit log", ("audit_log",)),
    Panel("settings", "Tenant settings", ("tenants",), level=GOD),
    Panel("tenants", "Tenants", ("*/tenants",), level=SUPERGOD),
)


def _add_panel_routes(table: RouteTable) -> None:
    """The panel's pages for a tenant (a page the site defines at the same path wins, with a warning)."""
    for panel in PANELS:
        table.add(Route(table.tenant.slug, f"{PANEL_PREFIX}/{panel.name}", "panel", panel.title, "admin panel",
                        level=panel.level, requires_auth=True, template=f"panel/{panel.name}.html",
                        params={"panel": panel.name}))
