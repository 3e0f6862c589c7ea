"""(route, level) → page HTML, rendered inside a Recorder that notes every input it reads."""
from __future__ import annotations

import re
from collections import ChainMap
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from markupsafe import Markup, escape

from . import keys
from .chrome_reads import ChromeTrace, ReadDict
from .compose import BLOCKS, FOOTER, HEADER, MARKS, NO_KEY, Chrome, fill
from .context import PageScope, Recorder
from .errors import Location, MbsiteError, Problem, RenderError
from .graph import digest_of, listing_digest, neighbors_digest, tag_pages_digest
from .images import render_reference, rewrite_markdown
from .languages import folder_languages, page_language
from .levels import role_name
from .markdown import render_markdown
from .markdown.links import rewrite_page_links
from .markdown.syntax import stray_shortcodes
from .panel import panel_context
from .prerender import body_key
from .routes import SEARCH_PATH, Route, RouteTable, page_count, tag_slug
from .sitefiles import tenant_base_url, url_path
from .summaries import table_of_contents
from .templates import template_error

if TYPE_CHECKING:
    from .site import SiteModel

KIND_TEMPLATES = {"markdown": "page.html", "component": "component.html", "blog_index": "blog_index.html",
                  "tags": "tags.html", "tag": "tag.html", "gallery": "gallery.html", "notfound": "404.html",
                  "home_index": "home.html", "search": "search.html"}
HOME_PAGES = 20   # newest pages listed by a generated home page
_OPENS_WITH_H1 = re.compile(r"\s*<h1[\s>]")


class Viewer:
    """`viewer` in templates: reading its level or role makes the page level-sensitive (no variant sharing)."""

    def __init__(self, level: int, recorder: Recorder) -> None:
        self._level, self._recorder = level, recorder

    @property
    def level(self) -> int:
        self._recorder.read_level()
        return self._level

    @property
    def role(self) -> str:
        self._recorder.read_level()
        return role_name(self._level)


@dataclass
class PageResult:
    html: str
    recorder: Recorder
    problems: list[Problem] = field(default_factory=list)
    # A split render (the theme has chrome blocks and the page outside them did not read the viewer): the page with
    # markers where the chrome goes, and what rendering the chrome of another level needs.
    skeleton: str | None = None
    split: "Split | None" = None


@dataclass
class Split:
    """What a page's chrome is rendered from, for any level: its template, that template's blocks, and the page's
    own template variables (everything but the level-dependent ones)."""

    template_name: str
    template: Any
    blocks: dict[str, list[Any]]
    values: dict[str, Any]
    chrome_reads_viewer: bool = False  # the chrome blocks read `viewer` (then every level's chrome is rendered)


class _LevelBound:
    """A level-dependent value (the header, the footer) handed to the parts of a page outside the chrome blocks:
    using it there makes the page level-sensitive, so every level gets its own render."""

    def __init__(self, value: Markup, recorder: Recorder) -> None:
        self._value, self._recorder = value, recorder

    def __html__(self) -> str:
        self._recorder.read_level()
        return str(self._value)

    def __str__(self) -> str:
        return self.__html__()

    def __bool__(self) -> bool:
        self._recorder.read_level()
        return bool(self._value)


class _LevelBoundList(list):  # type: ignore[type-arg]
    """The navigation outside the chrome blocks: reading it makes the page level-sensitive."""

    def __init__(self, items: list[Any], recorder: Recorder) -> None:
        super().__init__(items)
        self._recorder = recorder

    def __iter__(self) -> Any:
        self._recorder.read_level()
        return super().__iter__()

    def __len__(self) -> int:
        self._recorder.read_level()
        return super().__len__()

    def __getitem__(self, index: Any) -> Any:
        self._recorder.read_level()
        return super().__getitem__(index)

    def __bool__(self) -> bool:
        self._recorder.read_level()
        return super().__len__() > 0


def route_records(model: SiteModel, route: Route, recorder: Recorder) -> dict[str, Any]:
    """Run the route's declared queries; each entity read is recorded with a digest of what it returned."""
    records: dict[str, Any] = {}
    seen: dict[str, list[Any]] = {}
    for name, q in route.queries:
        recorder.query(q.tenant, q.package, q.entity)
        records[name] = model.store.run(q)
        seen.setdefault(keys.query(q.tenant, q.package, q.entity), []).append([name, records[name]])
    if route.record is not None:
        pkg, entity, rid = route.record
        recorder.query(route.tenant, pkg, entity)
        records["record"] = next((d for d in model.store.all(route.tenant, pkg, entity) if str(d.get("id")) == rid), None)
        seen.setdefault(keys.query(route.tenant, pkg, entity), []).append(["record", records["record"]])
    for key, results in seen.items():
        recorder.digests[key] = digest_of(results)
    return records


@dataclass
class BodyJob:
    """What rendering a page's body may read and add to: the page, its level and scope, its recorder, problems,
    component stylesheets and the template context."""

    model: SiteModel
    route: Route
    level: int
    scope: PageScope
    rec: Recorder
    problems: list[Problem]
    css_parts: list[str]
    context: dict[str, Any]
    memo: dict[str, Any] | None


_BODIES: dict[str, Callable[[BodyJob], Markup]] = {}


def renders(*kinds: str) -> Callable[[Callable[[BodyJob], Markup]], Callable[[BodyJob], Markup]]:
    """Register the body renderer of route kinds (a new kind of page is one decorated function)."""
    def register(func: Callable[[BodyJob], Markup]) -> Callable[[BodyJob], Markup]:
        for kind in kinds:
            _BODIES[kind] = func
        return func
    return register


@renders("markdown")
def _markdown_page(job: BodyJob) -> Markup:
    md = job.route.markdown
    if md is None:
        return Markup("")
    job.rec.file(md.relpath, md.digest)
    table = job.model.tables[job.route.tenant]
    job.context["summary"], job.context["reading_time"] = md.post_text
    if table.post_root(job.route) is not None:  # its older and newer posts: an input of its own (only they matter)
        key = keys.nearby(table.tenant.slug, job.route.path)
        job.rec.inputs.add(key)
        job.rec.digests[key] = neighbors_digest(table, job.route.path)
        older, newer = table.blog_neighbors(job.route.path)
        job.context["older"] = {"path": older.path, "title": older.title} if older else None
        job.context["newer"] = {"path": newer.path, "title": newer.title} if newer else None

    def shortcode(pkg: str, comp: str, args: dict[str, Any], line: int | None) -> str:
        try:
            res = job.model.renderer.render_component(pkg, comp, args, scope=job.scope, recorder=job.rec,
                                                      id_prefix=f"mb-s{len(job.css_parts) + 1}-")
        except MbsiteError as exc:
            raise RenderError(f"shortcode {pkg}:{comp}: {exc.message}", Location(file=md.relpath, line=line)) from exc
        job.problems.extend(_relocate(res.warnings, md.relpath, line))
        job.css_parts.append(res.css)
        return res.html

    body = _markdown_body(job.model, md, shortcode)
    for name, line in stray_shortcodes(body, md.body):
        what = "a component shortcode that is not well formed" if name == "component" else f"unknown shortcode {name!r}"
        job.problems.append(Problem(
            "warning", f"{what} is shown as text (a component is embedded with "
            "{{< component PACKAGE:COMPONENT key=value >}}; docs/content.md)",
            Location(file=md.relpath, line=md.body_line + line - 1 if line else None), "shortcode"))
    # Images after the body cache: the body depends on the file alone, its images on their own files.
    body = rewrite_markdown(job.model.images, body, md.relpath, job.rec, job.problems)
    config = job.model.config
    body = rewrite_page_links(body, md.relpath, config.content_dir.name + "/", folder_languages(config))
    job.context["toc"] = table_of_contents(body)
    job.context["body_has_title"] = _OPENS_WITH_H1.match(body) is not None  # (the layout shows no title of its own)
    return Markup(body)


@renders("component")
def _component_page(job: BodyJob) -> Markup:
    res = _component_body(job.model, job.route, job.scope, job.rec, job.memo)
    job.problems.extend(res.warnings)
    job.css_parts.append(res.css)
    return Markup(res.html)


@renders("blog_index", "tag", "tags")
def _listing_page(job: BodyJob) -> Markup:
    route, table = job.route, job.model.tables[job.route.tenant]
    root = table.lang_root(route) or ""
    posts = _listed(job.rec, table, job.level, blog_only=True, lang=route.lang, root=root)
    tag = route.params.get("tag") if route.kind == "tag" else None
    # A paginated listing has a page per ten posts, each showing the same tag counts: worked out once per table,
    # level, language and tag (the table's memo is cleared whenever its routes change).
    key = ("listing", job.level, route.lang, root, tag)
    cached = table.memo.get(key)
    if cached is None:
        if tag is not None:
            posts = [p for p in posts if tag in p.tags]
        counts: dict[str, int] = {}
        for p in posts:
            for t in p.tags:
                counts[t] = counts.get(t, 0) + 1
        cached = table.memo[key] = (posts, [{"name": t, "slug": tag_slug(t), "count": n,
                                             "url": f"{root}/tags/{tag_slug(t)}"} for t, n in sorted(counts.items())])
    posts = list(cached[0])
    job.context["tags"] = [dict(t) for t in cached[1]]
    if route.kind != "tags":
        posts, job.context["pagination"] = _paginate(posts, route, job.model.config.page_size)
        job.context["posts"] = [_post(p, table, job.rec) for p in posts]
    else:
        job.context["posts"] = [_post(p, table) for p in posts]
    return Markup("")


@renders("home_index")
def _home_page(job: BodyJob) -> Markup:
    table = job.model.tables[job.route.tenant]
    job.context["posts"] = [_post(p, table, job.rec) for p in
                            _listed(job.rec, table, job.level, blog_only=False, lang=job.route.lang)[:HOME_PAGES]]
    return Markup("")


@renders("panel")
def _panel_page(job: BodyJob) -> Markup:
    job.context["panel"] = panel_context(job.model, job.route, job.level, job.rec, job.memo)
    return Markup("")


@renders("gallery")
def _gallery_page(job: BodyJob) -> Markup:
    return Markup(_gallery(job.model, job.route, job.scope, job.rec, job.problems, job.css_parts))


def render_page(model: SiteModel, route: Route, level: int, memo: dict[str, Any] | None = None, *,
                split: bool = False) -> PageResult:
    """Render one route for one viewer level. Raises MbsiteError (with a location) when the page cannot render.

    `memo` is shared by the renders of one route for its levels (one after the other, within one build): a
    component body that did not look at the viewer is rendered once and reused for the next levels. `split`: when
    the theme's layout has the chrome blocks, render the page around them (compose.py) so that other levels need
    only their chrome (`render_chrome`)."""
    rec = Recorder()
    problems: list[Problem] = []
    table = model.tables[route.tenant]
    tenant = table.tenant
    if route.row_id:
        rec.row("page_configs", route.row_id)
    records = route_records(model, route, rec)
    scope = model.scope(route, level, records)
    scope.images = partial(render_reference, model.images)  # the body's component images (not the chrome's)
    css_parts: list[str] = []
    context: dict[str, Any] = {"posts": [], "tags": [], "pagination": None, "toc": [], "reading_time": None,
                               "summary": route.description, "older": None, "newer": None, "body_has_title": False}

    job = BodyJob(model, route, level, scope, rec, problems, css_parts, context, memo)
    body = _BODIES.get(route.kind)
    content = body(job) if body is not None else Markup("")

    header, footer, _, chrome_rec, chrome_problems = model.chrome(tenant, level, route.lang)
    rec.merge_inputs(chrome_rec)
    problems.extend(chrome_problems)
    template_name = route.template or KIND_TEMPLATES.get(route.kind, "page.html")
    if route.template and not model.theme.has(route.template):
        raise RenderError(f"unknown template {route.template!r}", Location(file=route.source))
    rec.merge_inputs(_layout_inputs(model, table, template_name))
    template = model.theme.template(template_name)
    base = tenant_base_url(tenant, model.config.base_url)
    page = {"title": route.title, "description": route.description, "path": route.path, "kind": route.kind,
            "level": route.min_level,
            "date": route.date, "tags": _tags(route.tags, table, rec, route.min_level, table.lang_root(route) or ""),
            "url": base + url_path(route.path) if base else "", **page_language(table, route, base, rec, model.theme.catalogs, url_path)}
    values = dict(page=page, content=content, css=Markup("".join(css_parts)), tokens_href=model.tokens_url(tenant.slug),
                  **context)
    blocks = model.theme.block_chain(template_name) if split else None
    try:
        if blocks is not None and all(b in blocks for b in BLOCKS):
            # The page around its chrome: the level-dependent values are bound to the recorder, so that using
            # them outside the chrome blocks makes the page level-sensitive.
            ctx = template.new_context(dict(
                values, site=_site(tenant, table, _LevelBoundList(table.nav(level, route.lang), rec)),
                header=_LevelBound(Markup(header), rec), footer=_LevelBound(Markup(footer), rec),
                viewer=Viewer(level, rec)))
            for block in BLOCKS:
                ctx.blocks.setdefault(block, []).insert(0, _marker(block))
            skeleton = _run_template(template, lambda: template.root_render_func(ctx))
            if all(skeleton.count(MARKS[b]) == 1 for b in BLOCKS):
                cut = Split(template_name, template, blocks, values)
                key = f"{template_name}\t{nav_key(table, level, route.path)}"
                if chrome_is_fragment(model, route, level, cut, key):
                    # What the chrome would read here is what its fragment's render read: the fragment, rendered
                    # once per level and key, is this page's chrome. (Whether it reads the viewer: whether that
                    # render looked the name up at all.)
                    chrome = model.fragment(route.tenant, level, key)
                    cut.chrome_reads_viewer = model.fragment_trace(route.tenant, level, key).reads("viewer")
                else:
                    reads = Recorder()
                    chrome = _chrome_blocks(cut, table, level, page, header, footer, reads)
                    cut.chrome_reads_viewer = reads.level_sensitive
                return PageResult(fill(skeleton, chrome), rec, problems, skeleton, cut)
        html = template.render(
            site=_site(tenant, table, table.nav(level, route.lang)), header=Markup(header), footer=Markup(footer),
            viewer=Viewer(level, rec), **values)
    except MbsiteError:
        raise
    except Exception as exc:  # noqa: BLE001 - any template runtime error becomes a located TemplateError
        raise template_error(exc, model.theme, template_name) from exc
    return PageResult(html, rec, problems)


def _layout_inputs(model: SiteModel, table: RouteTable, template_name: str) -> Recorder:
    """What every page of a tenant drawn with `template_name` reads of the theme and the tenant: the template files
    it may load, the tokens stylesheet, whether the tenant has a feed (`site.feed`) and the assets (`asset('…')`
    puts each one's content-hashed URL into the HTML). Made once per theme and values (the theme is replaced when a
    file of it changes)."""
    slug = table.tenant.slug
    tokens, feed = model.tokens_url(slug), str(table.has_blog)
    memo_key = ("layout inputs", slug, template_name, tokens, feed)
    found: Recorder | None = model.theme.memo.get(memo_key)
    if found is None:
        found = Recorder()
        model.theme.record(template_name, found)
        found.inputs.add(keys.tokens(slug))
        found.digests[keys.tokens(slug)] = tokens
        found.inputs.add(keys.feed(slug))
        found.digests[keys.feed(slug)] = feed
        for name, asset in model.theme.assets.items():
            found.inputs.add(keys.asset(name))
            found.digests[keys.asset(name)] = asset.url
        model.theme.memo[memo_key] = found
    return found


def _site(tenant: Any, table: RouteTable, nav: list[dict[str, Any]]) -> dict[str, Any]:
    return {"title": tenant.name, "tenant": tenant.slug, "nav": nav, "lang": table.lang, "feed": table.has_blog,
            "languages": list(table.languages), "timezone": table.zone,
            "search": SEARCH_PATH if table.search else ""}


def _marker(block: str) -> Callable[[Any], Any]:
    def render(_context: Any) -> Any:
        yield MARKS[block]
    return render


def _level_values(table: RouteTable, level: int, lang: str | None, header: str, footer: str) -> dict[str, Any]:
    """The level's part of a page's chrome variables: the site with the navigation of `lang`, header, footer."""
    return {"site": _site(table.tenant, table, table.nav(level, lang)), "header": Markup(header),
            "footer": Markup(footer)}


def _chrome_values(cut: Split, table: RouteTable, level: int, page: dict[str, Any], header: str, footer: str,
                   reads: Recorder | None = None) -> dict[str, Any]:
    """The template variables of a page's chrome blocks for one level (the navigation of the page's language)."""
    return dict(cut.values, page=page, **_level_values(table, level, page.get("lang") or None, header, footer),
                viewer=Viewer(level, reads if reads is not None else Recorder()))


def _chrome_blocks(cut: Split, table: RouteTable, level: int, page: dict[str, Any], header: str, footer: str,
                   reads: Recorder | None = None) -> Chrome:
    """The chrome blocks of a page for one level, with the navigation of the page's language (reading the viewer
    there is the chrome's business: `reads` notes whether it did)."""
    ctx = cut.template.new_context(_chrome_values(cut, table, level, page, header, footer, reads))
    return _run_blocks(cut, ctx)


def _run_blocks(cut: Split, ctx: Any) -> Chrome:
    ctx.blocks = {name: list(funcs) for name, funcs in cut.blocks.items()}
    return (_run_template(cut.template, lambda: cut.blocks[HEADER][0](ctx)),
            _run_template(cut.template, lambda: cut.blocks[FOOTER][0](ctx)))


def _run_template(template: Any, parts: Callable[[], Any]) -> str:
    """Render a template's root or one of its blocks directly; an error comes out as `Template.render` raises it
    (its traceback rewritten to name the template file and line)."""
    try:
        return "".join(parts())
    except Exception:  # noqa: BLE001 - re-raised by Jinja, with the template frames rewritten
        template.environment.handle_exception()
        raise


def render_chrome(model: SiteModel, route: Route, level: int, cut: Split) -> tuple[Chrome, Recorder, list[Problem]]:
    """A split page's chrome for another level, with what it read (the level's navigation, header, footer)."""
    table = model.tables[route.tenant]
    header, footer, _, chrome_rec, problems = model.chrome(table.tenant, level, route.lang)
    try:
        chrome = _chrome_blocks(cut, table, level, cut.values["page"], header, footer)
    except MbsiteError:
        raise
    except Exception as exc:  # noqa: BLE001 - any template runtime error becomes a located TemplateError
        raise template_error(exc, model.theme, cut.template_name) from exc
    return chrome, chrome_rec, list(problems)


def nav_key(table: RouteTable, level: int, path: str) -> str:
    """Which navigation entry a page is at this level (its own path), or NO_KEY, and its language when it is not
    the tenant's (after a TAB; the chrome's strings and its navigation are those of the page's language): the
    chrome of two pages with the same key and template is the same, so one fragment serves them all."""
    def entries(items: list[dict[str, Any]]) -> Any:
        for item in items:
            yield item
            yield from entries(item.get("children") or [])
    route = table.routes.get(path)
    lang = route.lang if route is not None else table.lang
    memo_key = ("nav paths", level, lang)  # asked once per page and level: the table's memo resets with its routes
    paths = table.memo.get(memo_key)
    if paths is None:
        paths = table.memo[memo_key] = frozenset(item["path"] for item in entries(table.nav(level, lang)))
    key = path if path in paths else NO_KEY
    return key if lang == table.lang else f"{key}\t{lang}"


def _fragment_cut(model: SiteModel, tenant_slug: str, level: int, key: str) -> tuple[Split, RouteTable, str, str]:
    """What the chrome fragment of a key is rendered from: a page that shows nothing of its own but where it is
    in the navigation (and its language), and the level's header and footer."""
    template_name, _, rest = key.partition("\t")
    path, _, lang = rest.partition("\t")
    table = model.tables[tenant_slug]
    header, footer, _, _, _ = model.chrome(table.tenant, level, lang or table.lang)
    blocks = model.theme.block_chain(template_name)
    if blocks is None:
        raise RenderError(f"template {template_name!r} has no chrome blocks", Location(file=template_name))
    page = {"title": "", "description": "", "path": path, "kind": "", "level": level, "date": None, "tags": [],
            "url": "", "lang": lang or table.lang, "translations": [], "alternates": [], "lang_root": "",
            "feed": None}
    values = {"page": page, "content": Markup(""), "css": Markup(""), "tokens_href": model.tokens_url(tenant_slug),
              "posts": [], "tags": [], "pagination": None}
    return Split(template_name, model.theme.template(template_name), blocks, values), table, header, footer


def chrome_fragment(model: SiteModel, tenant_slug: str, level: int, key: str) -> Chrome:
    """The chrome fragment of a tenant for one level and fragment key (template TAB navigation key): the chrome
    blocks rendered for a page that shows nothing of its own but where it is in the navigation."""
    cut, table, header, footer = _fragment_cut(model, tenant_slug, level, key)
    return _chrome_blocks(cut, table, level, cut.values["page"], header, footer)


def chrome_fragment_trace(model: SiteModel, tenant_slug: str, level: int, key: str, plain: Chrome) -> ChromeTrace:
    """The fragment's chrome rendered once more with every read noted (chrome_reads.py); opaque when that render
    fails or differs from `plain`, the fragment."""
    cut, table, header, footer = _fragment_cut(model, tenant_slug, level, key)
    values = _chrome_values(cut, table, level, cut.values["page"], header, footer)
    page, probe = ChromeTrace.traced_page(cut.values["page"])
    values["page"] = page
    ctx = cut.template.new_context(values)
    context = ctx.parent = ReadDict(ctx.parent)
    try:
        traced = _run_blocks(cut, ctx)
    except Exception:  # noqa: BLE001 - the probe met a use only a string allows: the chrome is rendered per page
        return ChromeTrace()
    return ChromeTrace.of(context, page, probe, traced == plain)


def chrome_is_fragment(model: SiteModel, route: Route, level: int, cut: Split, key: str) -> bool:
    """Whether the page's chrome for `level` is the fragment of `key` without rendering it: the fragment's traced
    render read nothing that differs for this page (chrome_reads.py)."""
    trace = model.fragment_trace(route.tenant, level, key)
    if trace.opaque:
        return False
    level_values = model.chrome_values(route.tenant, level, cut.values["page"].get("lang") or None, route.lang)
    return trace.matches(ChainMap(level_values, cut.values), cut.template.globals)


def level_chrome_values(model: SiteModel, tenant_slug: str, level: int, lang: str | None,
                        chrome_lang: str | None) -> dict[str, Any]:
    """The level's part of a page's chrome variables, as `_chrome_values` makes them: the navigation of `lang`, and
    the header and footer of `chrome_lang`."""
    table = model.tables[tenant_slug]
    header, footer, _, _, _ = model.chrome(table.tenant, level, chrome_lang)
    return _level_values(table, level, lang, header, footer)


class BodyCache:
    """The Markdown bodies a model reuses, by `prerender.body_key` (everything a body's HTML depends on, shortcodes
    aside). Owned by the SiteModel, so worker processes inherit it with the model and nothing lives in module state.

    - `last`: the last body rendered without shortcodes (the variants of one page for several levels are rendered
      one after the other, and such a body does not look at the viewer);
    - `ready`: bodies rendered earlier, by the build's helper process (prerender.py) or by earlier runs of a
      long-lived builder (watch, serve), so that a template or navigation edit does not run the Markdown engine
      again for bodies that did not change;
    - `rendered`: bodies rendered since the last `take()`, when the builder keeps them (None: not kept)."""

    def __init__(self) -> None:
        self.last: tuple[tuple[Any, ...], str] | None = None
        self.ready: dict[tuple[Any, ...], str] = {}
        self.rendered: dict[tuple[Any, ...], str] | None = None

    def use(self, bodies: dict[tuple[Any, ...], str] | None, *, keep_rendered: bool = False) -> None:
        """Bodies to reuse by key; `keep_rendered`: also remember the bodies rendered from now on (take)."""
        self.ready = bodies or {}
        self.rendered = {} if keep_rendered else None

    def take(self) -> dict[tuple[Any, ...], str]:
        """The bodies rendered (without shortcodes) since the last call, when kept; empty otherwise."""
        got = self.rendered or {}
        if self.rendered is not None:
            self.rendered = {}
        return got

    def note(self, bodies: dict[tuple[Any, ...], str]) -> None:
        """Bodies a worker process rendered, kept as if rendered here (when kept at all)."""
        if self.rendered is not None:
            self.rendered.update(bodies)


def _markdown_body(model: SiteModel, md: Any, shortcode: Any) -> str:
    cache = model.bodies
    key = body_key(md.relpath, md.digest, md.body_line, model.config)
    if cache.last is not None and cache.last[0] == key:
        return cache.last[1]
    ready = cache.ready.get(key)
    if ready is not None:
        return ready
    called = False

    def counted(*args: Any) -> str:
        nonlocal called
        called = True
        return shortcode(*args)

    body = render_markdown(md.body, highlight_code=model.config.highlight, shortcode=counted,
                           line_offset=md.body_line - 1, engine=model.config.markdown_engine)
    cache.last = None if called else (key, body)
    if cache.rendered is not None and not called:
        cache.rendered[key] = body
    return body


def _component_body(model: SiteModel, route: Route, scope: PageScope, rec: Recorder,
                    memo: dict[str, Any] | None) -> Any:
    """The component body of a page, reused from the level below when it read neither the viewer (level, role,
    user: the recorder says) nor a navigation that differs; its recorded inputs are merged either way."""
    nav = scope.site.get("nav")
    hit = memo.get("component") if memo is not None else None
    if hit is not None and hit[0] == nav:
        res, body_rec = hit[1], hit[2]
    else:
        body_rec = Recorder()
        if route.tree is not None:
            res = model.renderer.render_tree(route.package or "", route.tree, route.props, scope=scope,
                                             recorder=body_rec)
        else:
            res = model.renderer.render_component(route.package or "", route.component or "", route.props,
                                                  scope=scope, recorder=body_rec)
        if memo is not None:
            memo["component"] = None if body_rec.level_sensitive else (nav, res, body_rec)
    rec.merge(body_rec)
    return res


def render_not_found(model: SiteModel, tenant: str) -> str:
    table = model.tables[tenant]
    route = Route(tenant, "/404", "notfound", table.titles.not_found(table.lang), "generated 404 page", lang=table.lang,
                  translation_key="/404")
    return render_page(model, route, 0).html


def _listed(rec: Recorder, table: RouteTable, level: int, *, blog_only: bool, lang: str,
            root: str = "") -> list[Route]:
    """The Markdown pages in `lang` a listing shows to a viewer at `level` (the posts of the blog at language root
    `root`, or every page), newest first. When some candidate needs a level above 0, the listing differs by level:
    the recorder is told, so each level's variant is rendered. (Sorted once per table, level, language and kind: a
    paginated blog has a listing page per ten posts.)"""
    _record_listing(rec, table, blog_only, lang)
    key = ("listed", blog_only, level, lang, root)
    cached = table.memo.get(key)
    if cached is None:
        candidates = [r for r in table.routes.values() if r.kind == "markdown" and r.lang == lang and
                      (not blog_only or table.post_root(r) == root)]
        members = any(r.min_level > 0 for r in candidates)
        cached = table.memo[key] = (members, sorted((r for r in candidates if r.min_level <= level),
                                                    key=lambda r: (r.date or "", r.path), reverse=True))
    if cached[0]:
        rec.read_level()
    return list(cached[1])


def _paginate(posts: list[Route], route: Route, page_size: int) -> tuple[list[Route], dict[str, Any] | None]:
    """The posts of one listing page and its links: page 1 is the listing's own path, page k is PATH/page/k."""
    if page_size <= 0:
        return posts, None
    page = int(route.params.get("page", 1))
    pages = page_count(len(posts), page_size)
    first = route.path.rsplit("/page/", 1)[0] if page > 1 else route.path

    def url(k: int) -> str:
        return first if k == 1 else f"{first}/page/{k}"

    return posts[(page - 1) * page_size:page * page_size], {
        "page": page, "pages": pages, "size": page_size, "first": first,
        "prev": url(page - 1) if page > 1 else None, "next": url(page + 1) if page < pages else None}


def _record_listing(rec: Recorder, table: RouteTable, blog_only: bool, lang: str) -> None:
    """A listing's input: every page of its language a listing could show, or the blog's posts only (`posts:`)."""
    key = (keys.posts if blog_only else keys.routes)(table.tenant.slug, lang)
    rec.inputs.add(key)
    rec.digests[key] = listing_digest(table, blog_only, lang)


def _post(r: Route, table: RouteTable, rec: Recorder | None = None) -> dict[str, Any]:
    """A listed page for the template. With `rec` (a listing that shows the post's summary), the post's file is
    an input of the listing page: editing a post renders the listing pages that show it, not the others."""
    # (which tag pages exist follows from the listed pages: the listing's digest covers it)
    post = {"path": r.path, "title": r.title, "date": r.date, "description": r.description,
            "tags": [_tag(t, table, r.min_level, table.lang_root(r) or "") for t in r.tags], "summary": r.description,
            "reading_time": None}
    if rec is not None and r.markdown is not None:
        rec.file(r.markdown.relpath, r.markdown.digest)
        post["summary"], post["reading_time"] = r.markdown.post_text
    return post


def _tag(name: str, table: RouteTable, level: int, root: str = "") -> dict[str, Any]:
    """A tag for the template; linked when its page (in the blog of the page's language root) exists for viewers at
    `level` (the lowest level that sees the page showing it, so that every variant of that page links alike)."""
    url = f"{root}/tags/{tag_slug(name)}"
    page = table.routes.get(url)
    return {"name": name, "slug": tag_slug(name), "url": url if page is not None and page.min_level <= level else None}


def _tags(tags: tuple[str, ...], table: RouteTable, rec: Recorder, level: int, root: str) -> list[dict[str, Any]]:
    """A page's tags for the template: `url` is the tag's page, or None when the site has none for it (tag pages
    list blog posts: a tag used only outside /blog/ has no page). Which tag pages exist is an input."""
    if not tags:
        return []
    key = keys.tags(table.tenant.slug)
    rec.inputs.add(key)
    rec.digests[key] = tag_pages_digest(table)
    return [_tag(t, table, level, root) for t in tags]


def _relocate(problems: list[Problem], file: str, line: int | None) -> list[Problem]:
    return [Problem(p.severity, p.message, Location(file=file, line=line, pointer=p.location.pointer,
                                                    package=p.location.package), p.code) for p in problems]


def _gallery(model: SiteModel, route: Route, scope: PageScope, rec: Recorder, problems: list[Problem],
             css_parts: list[str]) -> str:
    from .gallery import gallery_page

    table = model.tables[route.tenant]
    if route.package is None:
        _record_listing(rec, table, False, route.lang)
        cards = []
        for r in sorted((r for r in table.routes.values() if r.kind == "gallery" and r.package),
                        key=lambda r: r.path):
            pkg = model.packages.get(r.package or "")
            if pkg is None:
                continue
            for key, digest in pkg.files.items():  # its name, version, description and component count
                rec.file(key, digest)
            count = len(pkg.components)
            cards.append(f'<li class="gallery-card"><a href="{escape(r.path)}"><strong>{escape(pkg.name)}</strong> '
                         f'<code>{escape(pkg.id)}</code></a><span class="gallery-count">{count} component'
                         f'{"s" if count != 1 else ""} · {escape(pkg.version)}</span>'
                         + (f"<p>{escape(pkg.description)}</p>" if pkg.description else "") + "</li>")
        return f'<ul class="gallery-index">{"".join(cards)}</ul>'
    pkg = model.packages.get(route.package)
    if pkg is None:
        raise RenderError(f"gallery: package {route.package!r} not found", Location(package=route.package))
    for key, digest in pkg.files.items():  # (its storybook files among them: the props it shows)
        rec.file(key, digest)
    # Rendered for the viewer's level (a god sees what a level-4 package draws, and components may show the
    # viewer's role), with its components' CSS: a gallery page is drawn for each level that opens it.
    rec.read_level()
    html, css = gallery_page(pkg, model.renderer, level=scope.level)
    css_parts.append(css)
    return html
