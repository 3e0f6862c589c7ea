"""Sources → routes → affected (tenant, route, level) renders → staged files → published output + stored graph."""
from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import shutil
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import orjson
from sqlalchemy import Engine, delete

from . import __version__
from . import keys as input_keys
from .compose import Chrome, composable, compose, dump_fragments, fill, fragment_file, load_fragments, same_page
from .config import Config
from .context import Recorder
from .db.models import Revalidation, now_ms
from .errors import Location, MbsiteError, Problem
from .graph import (
    OutputRow,
    digest_of,
    get_state,
    load_outputs,
    route_fingerprint,
    save_outputs,
    set_state,
)
from .images import Published, published
from .pages import PageResult, chrome_is_fragment, nav_key, render_chrome, render_not_found, render_page, route_records
from .paths import IMAGES_DIR, image_file, route_path_problem
from .plan import Memory, Pending, Plan, plan_cold, plan_warm, read_pending
from .prerender import Prerenderer, body_key, start_prerender
from .procs import die_with_parent
from .reporter import BufferReporter, Reporter
from .routes import Route
from .search import BUNDLE_CACHE, ENTRY, SKELETON, Cancelled, SearchCache, search_state, update_search
from .signing import signing_key
from .site import SiteModel, load_model, open_site_db
from .sitefiles import (
    ROUTES_MANIFEST,
    feed_files,
    headers,
    redirect_page,
    redirects,
    robots,
    routes_manifest,
    sitemap,
    tenant_base_url,
    url_path,
)
from .writer import (
    MARKER,
    Stage,
    clean_stale_stages,
    clear_marker,
    page_file,
    read_marker,
    remove_output,
    staged_path,
    write_marker,
    write_new,
)

if TYPE_CHECKING:
    from .cluster import Cluster

LEVEL_MAX = 5
PARALLEL_THRESHOLD = 64   # below this many routes, forking workers costs more than it saves
SHRINK_MIN_PAGES = 20     # a build may always remove this many pages, whatever share of the site they are
MTIME_SLACK_NS = 1_000_000_000  # a published file this much newer than its render was changed by someone else


@dataclass
class RouteOutcome:
    tenant: str
    path: str
    rows: list[OutputRow] = field(default_factory=list)
    shared: int = 0
    problems: list[Problem] = field(default_factory=list)
    failed: bool = False
    files: set[str] = field(default_factory=set)


@dataclass
class BuildResult:
    summary: dict[str, Any]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.summary["errors"] == 0


# -- rendering one route at every level that may see it -------------------------------------------------------

def render_route(model: SiteModel, route: Route, stage_root: str, flat: bool = False) -> RouteOutcome:
    """Render a route at every level that may see it into the stage (`writer.Stage`: its root and layout).

    The page is rendered once, at its lowest level, around its chrome (compose.py). Each further level renders
    only its chrome: a level whose page equals the one below is shared; one that the gate can compose from the
    base file and the level's chrome fragment — checked here, byte for byte — is composed (no file); any other
    gets its own file. A page that reads the viewer outside the chrome, or a theme without chrome blocks, is
    rendered in full for each level that differs, as before."""
    outcome = RouteOutcome(route.tenant, route.path)
    memo: dict[str, Any] = {}  # shared by this route's levels (pages.render_page)
    try:
        first = render_page(model, route, route.min_level, memo, split=True)
        outcome.problems.extend(first.problems)
        if first.split is None or first.skeleton is None or first.recorder.level_sensitive:
            _render_levels(model, route, stage_root, flat, outcome, memo, first)
        else:
            _render_composed(model, route, stage_root, flat, outcome, first)
        fingerprint = route_fingerprint(route)
        for row in outcome.rows:
            row.digests["route"] = fingerprint
    except MbsiteError as exc:
        outcome.failed = True
        outcome.problems.append(Problem.from_error(exc))
    except Exception as exc:  # noqa: BLE001 - one broken page must not take the whole build down
        outcome.failed = True
        outcome.problems.append(Problem("error", f"internal error rendering {route.tenant} {route.path}: "
                                        f"{type(exc).__name__}: {exc}", Location(file=route.source), "internal"))
    return outcome


def _write(route: Route, level: int, html: str, rec: Recorder, stage_root: str, flat: bool,
           outcome: RouteOutcome) -> OutputRow:
    data = html.encode("utf-8")
    rel = page_file(route.tenant, route.path, level)
    write_new(staged_path(stage_root, rel, flat), data, make_folder=not flat)
    outcome.files.add(rel)
    row = _row(route, level, rel, data, rec)
    outcome.rows.append(row)
    return row


def _render_levels(model: SiteModel, route: Route, stage_root: str, flat: bool, outcome: RouteOutcome,
                   memo: dict[str, Any], first: PageResult) -> None:
    """Every level rendered in full; a level equal to the one below is shared (no file)."""
    prev_html: str | None = None
    prev_key: Any = None
    sensitive = True
    for level in range(route.min_level, LEVEL_MAX + 1):
        key = model.chrome_key(route.tenant, level, route.lang)
        if outcome.rows and not sensitive and key == prev_key:
            outcome.shared += 1  # same inputs as the variant below: not rendered again
            continue
        if level == route.min_level:
            result = first
        else:
            result = render_page(model, route, level, memo, split=True)
            outcome.problems.extend(result.problems)
        sensitive = result.recorder.level_sensitive
        prev_key = key
        if prev_html is not None and result.html == prev_html:
            outcome.shared += 1
            continue
        prev_html = result.html
        row = _write(route, level, result.html, result.recorder, stage_root, flat, outcome)
        if result.skeleton is not None:
            # Its page without the chrome (the file is that with this level's chrome in place): what its part of
            # the search index follows, so that a navigation change does not index it again (search.py).
            row.digests[SKELETON] = hashlib.sha256(result.skeleton.encode("utf-8")).hexdigest()


def _render_composed(model: SiteModel, route: Route, stage_root: str, flat: bool, outcome: RouteOutcome,
                     first: PageResult) -> None:
    """A split page: its base file, and for each further level its chrome, checked against the tenant's chrome
    fragments. When every level is what the gate would compose (the page meets the chrome contract: its chrome
    depends on the page only through where it stands in the navigation), the page is one file whose inputs are
    its body's and its base level's chrome; which levels the gate composes is decided with the tenant's files
    (`_composed_levels`), so a navigation change of another level rewrites no page. Otherwise each level that
    differs gets its own file and the page depends on every level's chrome."""
    assert first.split is not None and first.skeleton is not None
    table = model.tables[route.tenant]
    base_level, rec = route.min_level, first.recorder
    skeleton, template = first.skeleton, first.split.template_name
    base_key = f"{template}\t{nav_key(table, base_level, route.path)}"
    base_fragment = model.fragment(route.tenant, base_level, base_key)
    base = first.html
    # Each level as its chrome: its page is fill(skeleton, chrome), made only where a file needs it. When the base
    # level's page is its fragment's and the gate's splice lands on the markers' places (`composable`: then it gives
    # fill(skeleton, fragment) for any level's fragment), a level is composed exactly when its chrome makes the same
    # page as its fragment.
    contract = fill(skeleton, base_fragment) == base and composable(skeleton, base, base_fragment)
    levels: list[tuple[int, Chrome, Recorder]] = []
    same_as = (model.chrome_key(route.tenant, base_level, route.lang), base_key, base_fragment)
    for level in range(base_level + 1, LEVEL_MAX + 1):
        key = (model.chrome_key(route.tenant, level, route.lang), f"{template}\t{nav_key(table, level, route.path)}")
        if not first.split.chrome_reads_viewer and key == same_as[:2]:
            # The same header, footer, navigation and place in it as the level below, and a chrome that does not
            # read the viewer: the same page, already checked (its fragment is the same too).
            levels.append((level, same_as[2], model.chrome(table.tenant, level, route.lang)[3]))
            continue
        fragment = model.fragment(route.tenant, level, key[1])
        if chrome_is_fragment(model, route, level, first.split, key[1]):
            # What the chrome would read here is what the fragment's read: the chrome is the fragment.
            _h, _f, _n, chrome_rec, problems = model.chrome(table.tenant, level, route.lang)
            chrome = fragment
        else:
            chrome, chrome_rec, problems = render_chrome(model, route, level, first.split)
            if contract and not same_page(skeleton, chrome, fragment):
                contract = False
        outcome.problems.extend(problems)
        levels.append((level, chrome, chrome_rec))
        same_as = (key[0], key[1], chrome)
    own_files: list[tuple[int, str]] = []
    if contract:
        previous = base_fragment
        for _level, chrome, _chrome_rec in levels:
            if same_page(skeleton, chrome, previous):
                outcome.shared += 1
            previous = chrome
    else:
        prev_html = base
        for level, chrome, chrome_rec in levels:
            html = fill(skeleton, chrome)
            rec.merge_inputs(chrome_rec)  # the page depends on every level's chrome it is served with
            if html == prev_html:
                outcome.shared += 1
                continue
            prev_html = html
            own_files.append((level, html))
    row = _write(route, base_level, base, rec, stage_root, flat, outcome)
    if contract:
        row.digests["compose"] = json.dumps({"base": base_level, "template": template, "key": base_key},
                                            sort_keys=True)
        # The page without its chrome: a splice keeps it, and the search index is made from it (search.py).
        row.digests[SKELETON] = hashlib.sha256(skeleton.encode("utf-8")).hexdigest()
    for level, html in own_files:
        _write(route, level, html, rec, stage_root, flat, outcome)


def _row(route: Route, level: int, rel: str, data: bytes, rec: Recorder) -> OutputRow:
    now = now_ms()
    tags = set(route.tags)
    for key in rec.inputs:
        if key.startswith("query:"):
            tags.add("entity:" + key.split(":", 2)[2])
        elif key.startswith("component:"):
            tags.add("package:" + key.split(":")[1])
    return OutputRow(route.tenant, route.path, level, rel, hashlib.sha256(data).hexdigest(), sorted(rec.inputs),
                     dict(rec.digests), "", now, now + route.revalidate * 1000 if route.revalidate else None,
                     sorted(tags))


_WORKER_MODEL: SiteModel | None = None
OUTPUT_FORMAT = "v6"  # bump when a change of mbsite changes what the same sources render to (see _config_digest)


def _worker_chunk(args: tuple[list[tuple[str, str]], str, bool]) -> tuple[list[RouteOutcome], dict[Any, str]]:
    keys, stage_root, flat = args
    assert _WORKER_MODEL is not None
    model = _WORKER_MODEL
    outcomes = [render_route(model, model.tables[t].routes[p], stage_root, flat) for t, p in keys]
    return outcomes, model.bodies.take()  # (the Markdown bodies, when the builder keeps them for its next runs)


def render_all(model: SiteModel, routes: list[Route], stage: Stage, workers: int, reporter: Reporter,
               before_fork: Callable[[], None] | None = None, cluster: Cluster | None = None) -> list[RouteOutcome]:
    global _WORKER_MODEL
    outcomes: list[RouteOutcome] = []
    if cluster is not None and cluster.takes(routes):  # workers elsewhere load the model themselves (cluster.py)
        if before_fork is not None:
            before_fork()
        return cluster.render(model, routes, stage, reporter)
    if workers <= 1 or len(routes) < PARALLEL_THRESHOLD or "fork" not in multiprocessing.get_all_start_methods():
        if before_fork is not None:
            before_fork()
        for r in routes:
            outcomes.append(render_route(model, r, str(stage.root), stage.flat))
            reporter.advance()
        return outcomes
    # Warm every query and the chrome before forking, so workers never touch the database.
    for r in routes:
        route_records(model, r, Recorder())
    for table in model.tables.values():
        for level in range(LEVEL_MAX + 1):
            for lang in table.page_languages():
                model.chrome(table.tenant, level, lang)
    if before_fork is not None:
        before_fork()
    _WORKER_MODEL = model
    model.store.engine.dispose()
    size = max(8, min(200, len(routes) // (workers * 6) or 1))
    chunks = [[(r.tenant, r.path) for r in routes[i:i + size]] for i in range(0, len(routes), size)]
    ctx = multiprocessing.get_context("fork")
    # Move everything loaded so far out of the collector's reach: a collection in a worker would touch (and so
    # copy) every page of the inherited model. (A one-shot build runs without automatic collections: no need
    # to collect first.)
    if gc.isenabled():
        gc.collect()
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(os.getpid(),)) as pool:
            for chunk_out, bodies in pool.map(_worker_chunk, [(c, str(stage.root), stage.flat) for c in chunks]):
                outcomes.extend(chunk_out)
                model.bodies.note(bodies)
                reporter.advance(len(chunk_out))
    finally:
        _WORKER_MODEL = None
        gc.unfreeze()
    return outcomes


def _worker_init(parent: int) -> None:
    # A worker dies with the build (kill -9 included): an orphan would wait on its pipe forever.
    die_with_parent(parent)
    # Rendering makes little cyclic garbage; automatic collections would only walk the inherited objects.
    gc.disable()


# -- the build -----------------------------------------------------------------------------------------------

class Builder:
    """Builds a site: full, or incremental from the stored graph and the change feed.

    One Builder can run many times (the watch loop keeps one): after the first run it keeps the loaded
    sources, the dependency graph and an index from input key to outputs in memory, and each later run only
    reloads what the batch touched and renders the outputs whose inputs changed."""

    def __init__(self, config: Config, reporter: Reporter | None = None, *, full: bool = False,
                 engine: Engine | None = None, prerender: Prerenderer | None = None,
                 keep_bodies: bool = False, cluster: Cluster | None = None) -> None:
        self.config = config
        self.cluster = cluster  # render on a Dask cluster (owned by the caller: cluster.py)
        # A long-lived builder (watch, serve) keeps the Markdown bodies it rendered, by what they depend on: a
        # template, navigation or package edit then re-renders pages without running the Markdown engine.
        self.keep_bodies = keep_bodies
        self.bodies: dict[tuple[Any, ...], str] = {}
        self._composes: dict[str, dict[str, Any]] = {}  # `compose` row digests, parsed (_compose_info)
        self._early_prerender = prerender  # started by the caller before its imports (see cli.build)
        self._prerender: Prerenderer | None = None
        self.reporter = reporter or BufferReporter()
        self.full = full
        self._engine = engine
        self.model: SiteModel | None = None
        self.graph: dict[tuple[str, str], list[OutputRow]] = {}
        self.index: dict[str, set[tuple[str, str]]] = {}
        self.digests: dict[str, str] = {}
        self.cursor = -1
        self.generation = ""
        self.failed: set[tuple[str, str]] = set()  # pages whose last render failed: retried by every run
        # Source files (or package folders, "packages/p/") that have errors: pages that depend on them keep their
        # last good output until they are fixed or deleted.
        self.broken: set[str] = set()
        self._batch: set[str] | None = None  # site-relative files of this run's watch batch (None: a cold run)
        self.next_change: int | None = None   # epoch ms when a scheduled page is published or expires
        self.search_made: list[tuple[str, int]] = []  # the search bundles the last run made (tenant, level)
        self.search_reused: list[tuple[str, int]] = []  # those of them taken from the state folder
        # Asked while an incremental build indexes: True gives indexing up (mbsite watch: newer changes wait).
        self.search_cancel: Callable[[], bool] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_site_db(self.config)[0]
            self._owns_engine = True
        return self._engine

    _owns_engine = False

    def close(self) -> None:
        """Release the database connections this builder opened itself."""
        if self._owns_engine and self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._owns_engine = False

    def run(self, paths: set[str] | None = None) -> BuildResult:
        """Build; `paths` (files that changed, from a watcher) allows the warm path when state is in memory."""
        started = time.perf_counter()
        problems: list[Problem] = []
        out = self.config.out
        out.mkdir(parents=True, exist_ok=True)
        clean_stale_stages(out)
        # The helper that scans the content and renders Markdown bodies ahead (prerender.py): the caller's, or one
        # of our own for a cold run (a warm run has its sources in memory).
        early, self._early_prerender = self._early_prerender, None
        self._prerender = early or (start_prerender(self.config, full=self.full) if self.model is None else None)
        try:
            return self._run(started, problems, paths)
        finally:
            if self._prerender is not None:
                self._prerender.cancel()  # (already collected when the pages were rendered)
                self._prerender = None
            if self.model is not None:
                self.model.bodies.use(None)

    def _bodies_ready(self) -> None:
        """Right before rendering: the bodies the helper finished and, for a long-lived builder, its own."""
        bodies: dict[tuple[Any, ...], str] = {}
        if self._prerender is not None:
            bodies = self._prerender.collect()
            self._prerender = None
        if self.keep_bodies:
            self.bodies.update(bodies)
            bodies = self.bodies
        assert self.model is not None
        self.model.bodies.use(bodies, keep_rendered=self.keep_bodies)

    def _keep_bodies(self, model: SiteModel) -> None:
        """Keep the bodies of the current Markdown files only (an edited file's older bodies go)."""
        self.bodies.update(model.bodies.take())
        config = self.config
        current = {body_key(r.markdown.relpath, r.markdown.digest, r.markdown.body_line, config)
                   for table in model.tables.values() for r in table.routes.values() if r.markdown is not None}
        self.bodies = {k: v for k, v in self.bodies.items() if k in current}

    def _run(self, started: float, problems: list[Problem], paths: set[str] | None) -> BuildResult:
        self.search_made, self.search_reused = [], []
        with self.engine.connect() as conn:
            pending = read_pending(conn)
        plan: Plan | None = None
        if (self.model is not None and paths is not None and not self.full and pending.cursor == self.cursor
                and pending.generation == self.generation and read_marker(self.config.out) == pending.generation
                and (self.next_change is None or now_ms() < self.next_change)):
            if not self.index:
                self._reindex()
            memory = Memory(self.model, self.graph, self.index, self.digests, self.failed)
            plan = plan_warm(memory, self.engine, paths, pending.events, pending.revalidations, pending.high,
                             problems)
            site = str(self.config.site_dir) + os.sep
            self._batch = {p.removeprefix(site).replace(os.sep, "/") for p in paths} if plan is not None else None
        if plan is None:
            self._batch = None
            plan = self._plan_cold(pending, problems)
            if plan is None:  # strict mode and the sources have errors
                return self._finish(started, problems, Counter(), 0, 0, 0, 0, self.model)
        return self._execute(plan, problems, started)

    def _plan_cold(self, pending: Pending, problems: list[Problem]) -> Plan | None:
        with self.engine.connect() as conn:
            old = load_outputs(conn)
            config_digest = get_state(conn, "config_digest")
        scan = self._prerender.scan if self._prerender is not None else None
        model = self.model = load_model(self.config, self.engine, problems, scan=scan)
        if self.config.strict and any(p.severity == "error" for p in problems):
            return None
        # The stored graph describes the output folder only if that folder holds this build's marker: a folder
        # never built, emptied, built into by another --out, or cut short while publishing is rebuilt in full.
        marker_ok = bool(pending.generation) and read_marker(self.config.out) == pending.generation
        full = self.full or not old or not marker_ok or config_digest != self._config_digest()
        plan, self.digests = plan_cold(model, old, pending, full=full, damaged=None if full else self._damaged(old))
        if not full:
            plan.damaged_tenants = self._damaged_tenants(model, old)
        self.graph = old
        self.index = {}  # built on the first warm run that needs it
        return plan

    def _update_broken(self, problems: list[Problem], model: SiteModel) -> None:
        """The sources with errors now: those reported by this run, plus those of earlier runs of this builder that
        this run did not read again (a watch batch rereads only what changed; a reread file without errors, or a
        deleted one, is no longer broken)."""
        folders = {pkg.id: pkg.source.rsplit("/", 1)[0] + "/" for pkg in model.packages if pkg.source}
        now: set[str] = set()
        for p in problems:
            if p.severity != "error" or not p.location.file or p.code in ("shrink", "path", "symlink"):
                continue
            pkg = p.location.package
            now.add(folders.get(pkg, p.location.file) if pkg else p.location.file)
        if self._batch is None:  # a cold run read every source
            self.broken = now
            return
        reread = self._batch
        self.broken = now | {b for b in self.broken if not any(f == b or f.startswith(b) for f in reread)}

    def _depends_on_broken(self, old: dict[tuple[str, str], list[OutputRow]],
                           keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Of `keys`, the pages with a published output that read a broken source (a file, or a file of a broken
        package's folder): they keep that output rather than vanish or show what is missing."""
        broken = self.broken
        files = tuple(b for b in broken if b.endswith("/"))
        found: set[tuple[str, str]] = set()
        for key in keys:
            for row in old.get(key, ()):
                if any(inp.startswith("file:") and (inp[5:] in broken or inp[5:].startswith(files))
                       for inp in row.inputs):
                    found.add(key)
                    break
        return found

    def _splice(self, plan: Plan, stage: Stage, old: dict[tuple[str, str], list[OutputRow]],
                model: SiteModel) -> dict[tuple[str, str], list[OutputRow]]:
        """Pages whose only changed input is their base level's navigation, and that meet the chrome contract: the
        published file with the old base fragment replaced by the new one (what rendering them again would give),
        instead of a render. Anything else about them, or a fragment not where it should be, renders them."""
        out = self.config.out
        now = now_ms()
        published: dict[tuple[str, int], dict[str, Chrome]] = {}
        done: dict[tuple[str, str], list[OutputRow]] = {}
        for route in plan.todo:
            key = (route.tenant, route.path)
            rows = old.get(key)
            if plan.why.get(key) != "navigation" or not rows or len(rows) != 1 or "compose" not in rows[0].digests:
                continue
            row = rows[0]
            info = json.loads(row.digests["compose"])
            base, nav_input = int(info.get("base", -1)), input_keys.nav(route.tenant, str(info.get("base")))
            if "key" not in info or base != route.min_level or row.revalidate_at is not None and row.revalidate_at <= now:
                continue
            changed = {inp for inp in row.inputs if inp in plan.dirty or (
                inp in row.digests and not inp.startswith("query:") and self.digests.get(inp) != row.digests[inp])}
            if changed != {nav_input}:
                continue
            if (route.tenant, base) not in published:
                try:
                    published[(route.tenant, base)] = load_fragments(
                        (out / fragment_file(route.tenant, base)).read_bytes())
                except (OSError, ValueError):
                    published[(route.tenant, base)] = {}
            old_fragment = published[(route.tenant, base)].get(info["key"])
            new_key = f"{info['template']}\t{nav_key(model.tables[route.tenant], base, route.path)}"
            try:
                html = (out / row.file).read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            page = compose(html, old_fragment, model.fragment(route.tenant, base, new_key)) if old_fragment else None
            if page is None:
                continue
            data = page.encode("utf-8")
            stage.write(row.file, data)
            digests = {**row.digests, nav_input: self.digests.get(nav_input, ""),
                       "compose": json.dumps({**info, "key": new_key}, sort_keys=True)}
            done[key] = [OutputRow(**{**row.as_dict(), "digests": digests, "rendered_at": now, "reason": "splice",
                                      "html_hash": hashlib.sha256(data).hexdigest()})]
        return done

    def _damaged(self, old: dict[tuple[str, str], list[OutputRow]]) -> dict[tuple[str, str], str]:
        """Pages with a published file that is missing ("missing") or was changed after it was written
        ("changed": newer than its render). One stat per file; `--full` rewrites everything."""
        out = str(self.config.out) + "/"
        found: dict[tuple[str, str], str] = {}
        for key, rows in old.items():
            for row in rows:
                try:
                    st = os.stat(out + row.file)
                except OSError:
                    found[key] = "missing"
                    break
                if st.st_mtime_ns > row.rendered_at * 1_000_000 + MTIME_SLACK_NS:
                    found[key] = "changed"
                    break
        return found

    def _damaged_tenants(self, model: SiteModel, old: dict[tuple[str, str], list[OutputRow]]) -> set[str]:
        """Tenants one of whose tenant-level files (404 page, sitemap, robots.txt, headers, redirects, manifest,
        stylesheets) is missing, or is newer than the marker written after the build that published it."""
        out = self.config.out
        try:
            since = os.stat(out / MARKER).st_mtime_ns + MTIME_SLACK_NS
        except OSError:
            return set(model.tables)
        found: set[str] = set()
        for slug in model.tables:
            names = [f"{slug}/{ROUTES_MANIFEST}"] + [f"{slug}/public/{n}" for n in
                                                      ("404.html", "sitemap.xml", "robots.txt", "_headers", "_redirects")]
            names += [f"{slug}/public{a.url}" for a in model.theme.assets.values()]
            names += [image_file(slug, n, p.level) for n, p in _images_of(model, slug, old).items()]
            if model.tokens.get(slug):
                names.append(f"{slug}/public{model.tokens_url(slug)}")
            names += list(self._alias_pages(model.tables[slug], ""))
            names += [fragment_file(slug, level) for level in self._fragment_levels(slug)]
            for name in names:
                try:
                    if os.stat(out / name).st_mtime_ns > since:
                        found.add(slug)
                        break
                except OSError:
                    found.add(slug)
                    break
        return found

    def _restyle(self, plan: Plan, stage: Stage, final: dict[tuple[str, str], list[OutputRow]]) -> set[tuple[str, str]]:
        """Pages whose only changed input is an asset URL: the stored HTML with the URL replaced (see plan.plan_warm)."""
        done: set[tuple[str, str]] = set()
        for key, moves in plan.restyle.items():
            rows = final.get(key)
            if not rows:
                continue
            new_rows = []
            for row in rows:
                data = (self.config.out / row.file).read_bytes()
                for _asset_key, old_url, new_url in moves:
                    data = data.replace(f'="{old_url}"'.encode(), f'="{new_url}"'.encode())
                stage.write(row.file, data)
                digests = {**row.digests, **{k: new for k, _old, new in moves}}
                new_rows.append(OutputRow(**{**row.as_dict(), "digests": digests, "rendered_at": now_ms(),
                                             "html_hash": hashlib.sha256(data).hexdigest(), "reason": "asset"}))
            final[key] = new_rows
            done.add(key)
        return done

    def _reindex(self) -> None:
        index: dict[str, set[tuple[str, str]]] = {}
        for key, rows in self.graph.items():
            index.setdefault(input_keys.route(key[0], key[1]), set()).add(key)
            for row in rows:
                for inp in row.inputs:
                    index.setdefault(inp, set()).add(key)
        self.index = index

    def _index_add(self, key: tuple[str, str], rows: list[OutputRow]) -> None:
        self.index.setdefault(input_keys.route(key[0], key[1]), set()).add(key)
        for row in rows:
            for inp in row.inputs:
                self.index.setdefault(inp, set()).add(key)

    def _execute(self, plan: Plan, problems: list[Problem], started: float) -> BuildResult:
        model = self.model
        assert model is not None
        out = self.config.out
        old = self.graph
        reasons: Counter[str] = Counter(plan.why.values())
        stage = Stage(out, flat=not plan.full)
        spliced = {} if plan.full else self._splice(plan, stage, old, model)
        if spliced:
            plan.todo = [r for r in plan.todo if (r.tenant, r.path) not in spliced]
            reasons["navigation"] -= len(spliced)
            reasons["splice"] += len(spliced)
            reasons += Counter()  # (drops a count that reached zero)
        self.reporter.start(len(plan.todo))
        workers = self.config.workers or os.cpu_count() or 1
        try:
            outcomes = render_all(model, plan.todo, stage, workers, self.reporter, before_fork=self._bodies_ready,
                                  cluster=self.cluster)
        except BaseException:
            stage.discard()
            raise
        if self.keep_bodies:
            self._keep_bodies(model)
        new_rows: list[OutputRow] = []
        written = shared = 0
        failed: list[tuple[str, str]] = []
        for oc in outcomes:
            problems.extend(oc.problems)
            if oc.failed:
                failed.append((oc.tenant, oc.path))
                continue
            stage.adopt(oc.files)
            for row in oc.rows:
                row.reason = plan.why.get((oc.tenant, oc.path), "")
            new_rows.extend(oc.rows)
            for row in oc.rows:  # an image's digest as read now (the plan knows only those of earlier outputs)
                self.digests.update((k, d) for k, d in row.digests.items() if k.startswith("image:"))
            written += len(oc.rows)
            shared += oc.shared
        self._update_broken(problems, model)
        if self.broken:
            keep_last_good = self._depends_on_broken(old, [k for k in plan.removed] +
                                                     [(oc.tenant, oc.path) for oc in outcomes if not oc.failed])
            if keep_last_good:
                plan.removed = [k for k in plan.removed if k not in keep_last_good]
                for oc in outcomes:
                    if (oc.tenant, oc.path) in keep_last_good and not oc.failed:
                        oc.failed = True
                        failed.append((oc.tenant, oc.path))
                        new_rows = [r for r in new_rows if (r.tenant, r.path) != (oc.tenant, oc.path)]
                        written -= len(oc.rows)
                        stage.forget(oc.files)
                failed += [k for k in keep_last_good if k in old and k not in failed]
        errors = sum(1 for p in problems if p.severity == "error")
        if self.config.strict and errors:
            stage.discard()
            self.model = None  # nothing was published: the next run starts cold
            return self._finish(started, problems, reasons, 0, 0, 0, 0, model)

        rendered_keys = {(oc.tenant, oc.path) for oc in outcomes if not oc.failed}
        final: dict[tuple[str, str], list[OutputRow]] = {k: v for k, v in old.items() if k not in rendered_keys}
        for key in plan.removed:
            final.pop(key, None)
        for row in new_rows:
            final.setdefault((row.tenant, row.path), []).append(row)
        restyled = self._restyle(plan, stage, final)
        if restyled:
            reasons["asset"] += len(restyled)
        final.update(spliced)
        restyled |= set(spliced)
        for key in failed:  # keep the last good output of a page that failed, and retry it next time
            if key in old:
                final[key] = [OutputRow(**{**r.as_dict(), "digests": {**r.digests, "route": "failed"}})
                              for r in old[key]]
        # Files that the new variants no longer include (removed routes, levels that are now shared).
        stale_files: set[str] = set()
        for key in set(plan.removed) | rendered_keys:
            now_files = {r.file for r in final.get(key, [])}
            stale_files |= {r.file for r in old.get(key, []) if r.file not in now_files}
        # Tenants whose navigation changed at some level: their chrome fragments and composed levels change even
        # when no page is rendered (a page depends on its base level's navigation only).
        navs = self._nav_states(model)
        with self.engine.connect() as conn:
            try:
                stored = json.loads(get_state(conn, "navs", "{}") or "{}")
            except ValueError:
                stored = {}
        moved = {slug for slug, state in navs.items() if stored.get(slug) != state}
        if plan.full or plan.todo or plan.removed or plan.revalidation_ids or plan.restyle or plan.damaged_tenants \
                or moved:
            # Only tenants with rendered or removed pages can have new tenant-level files (routes.json, sitemap…).
            touched = None if plan.full else ({r.tenant for r in plan.todo} | {k[0] for k in plan.removed}
                                              | {k[0] for k in plan.restyle} | plan.damaged_tenants | moved)
            self._tenant_files(model, stage, final, force=plan.full, tenants=touched)
        refusal = self._shrink_refusal(plan, old, final, model)
        if refusal is not None:
            stage.discard()
            self.model = None  # nothing was published: the next run plans again from the stored graph
            problems.append(refusal)
            return self._finish(started, problems, reasons, 0, 0, 0, 0, model)
        # A full build swaps whole tenant folders, the search bundles with them. An incremental build publishes the
        # pages first and the search bundles right after (_publish_search): a page is live without waiting for
        # Pagefind, which indexes a whole bundle whenever one of its pages changed.
        search = self._search(model, stage, final, plan.full, problems) if plan.full else None
        clear_marker(out)
        if plan.full:
            for key in failed:
                for row in final.get(key, []):
                    stage.link_from(row.file)
            removed = self._removed_tenants(out, model) + len(stale_files)
            stage.swap(sorted(model.tables))
        else:
            stage.publish(order_last=(ROUTES_MANIFEST, ENTRY))
            removed = sum(1 for f in sorted(stale_files) if remove_output(out, f))
            removed += self._removed_tenants(out, model)
        generation = f"{os.getpid()}-{time.time_ns()}"
        saved = [r for k in set(rendered_keys) | set(failed) | restyled for r in final.get(k, [])]
        # A file is "changed by someone else" when it is newer than its row says (_damaged): date the rows by
        # their publication, which comes after every file was written, however long rendering, shipping chunks
        # back from a cluster or a loaded machine kept the files waiting.
        published_at = now_ms()
        for row in saved:
            row.rendered_at = max(row.rendered_at, published_at)
        with self.engine.begin() as conn:
            replaced = set(rendered_keys) | set(plan.removed) | set(failed) | restyled
            save_outputs(conn, replaced, saved, every=plan.full and replaced.issuperset(old))
            set_state(conn, "cursor", str(plan.high))
            set_state(conn, "config_digest", self._config_digest())
            set_state(conn, "built_at", str(now_ms()))
            set_state(conn, "generation", generation)
            next_change = min((t.next_change for t in model.tables.values() if t.next_change is not None),
                              default=None)
            set_state(conn, "next_change", "" if next_change is None else str(next_change))
            if navs != stored:
                set_state(conn, "navs", json.dumps(navs, sort_keys=True))
            if search is not None:
                set_state(conn, "search", search)
            if plan.revalidation_ids:
                conn.execute(delete(Revalidation).where(Revalidation.id.in_(plan.revalidation_ids)))
        write_marker(out, generation)
        self.graph, self.cursor, self.generation = final, plan.high, generation
        self.next_change = next_change
        self.failed = set(failed)
        for key in plan.removed:
            for inp_set in (self.index.get(input_keys.route(key[0], key[1])),):
                if inp_set is not None:
                    inp_set.discard(key)
        if self.index:
            for key in rendered_keys:
                self._index_add(key, final.get(key, []))
        if not plan.full:
            self._publish_search(model, final, problems)
        return self._finish(started, problems, reasons, written, shared, removed, len(plan.todo), model,
                            pages=sum(len(t.routes) for t in model.tables.values()))

    def _shrink_refusal(self, plan: Plan, old: dict[tuple[str, str], list[OutputRow]],
                        final: dict[tuple[str, str], list[OutputRow]], model: SiteModel) -> Problem | None:
        """A build must not publish an empty or much smaller site over a full one unless told to (--allow-shrink):
        a mistyped folder, an emptied database or a lost content checkout would otherwise go out green."""
        if self.config.allow_shrink:
            return None
        # Pages, not files: how many files a page has depends on the layout (composed levels have none).
        after = len(final)
        before = _published_pages(self.config.out) if plan.full else len(old)
        lost = before - after
        if before == 0 or lost <= 0:
            return None
        if after > 0 and (lost <= self.config.max_shrink * before or lost < SHRINK_MIN_PAGES):
            return None
        share = f"{lost / before:.0%}"
        what = "no page at all" if after == 0 else f"{after} pages"
        return Problem("error", f"refusing to publish {what} over {before} published ones (removing {lost}, "
                       f"{share}; [build] max_shrink = {self.config.max_shrink:g}); nothing was changed. Run "
                       "with --allow-shrink if the site is meant to shrink", Location(file=str(self.config.out)),
                       "shrink")

    def _publish_search(self, model: SiteModel, final: dict[tuple[str, str], list[OutputRow]],
                        problems: list[Problem]) -> None:
        """After an incremental build has published its pages: make the search bundles whose pages changed and
        publish them (each bundle's entry file last, so a reader never loads an entry naming files not yet in
        place). Cut short, the stored digests still name the old bundles and the next build makes them again."""
        stage = Stage(self.config.out, flat=True)
        try:
            search = self._search(model, stage, final, False, problems, cancel=self.search_cancel)
        except Cancelled:
            # Newer changes wait (mbsite watch): they are built first, and the build after them indexes.
            stage.discard()
            self.search_made, self.search_reused = [], []
            return
        except BaseException:
            stage.discard()
            raise
        stage.publish(order_last=(ENTRY,))
        if search is not None:
            with self.engine.begin() as conn:
                set_state(conn, "search", search)

    def _search(self, model: SiteModel, stage: Stage, final: dict[tuple[str, str], list[OutputRow]], full: bool,
                problems: list[Problem], cancel: Callable[[], bool] | None = None) -> str | None:
        """Stage the search bundles whose pages changed (search.py); the digests to store, or None if unchanged."""
        with self.engine.connect() as conn:
            raw = get_state(conn, "search")
        stored = search_state(raw)
        if not self.config.search:
            self.search_made, self.search_reused = [], []
            return None if not stored else "{}"
        key = signing_key()
        cache = SearchCache(self.config.state_dir / BUNDLE_CACHE, key) if key is not None else None
        result = update_search(self.config.out, stage, model.tables, final, stored, force=full, cancel=cancel,
                               shard_pages=self.config.search_shard_pages, cache=cache)
        problems.extend(result.problems)
        self.search_made, self.search_reused = result.made, result.reused
        return json.dumps(result.digests, sort_keys=True) if result.digests != stored else None

    # -- incremental decisions -----------------------------------------------------------------------------
    def _config_digest(self) -> str:
        """What every page depends on besides its recorded inputs: the site's configuration, and the mbsite that
        renders it (its version, and OUTPUT_FORMAT for what changed between versions): another one builds in full."""
        path = self.config.site_dir / "mbsite.toml"
        data = path.read_bytes() if path.is_file() else b""
        return digest_of([data.decode("utf-8", "replace"), self.config.highlight, self.config.strict, OUTPUT_FORMAT,
                          __version__])

    # -- tenant-level files and sweeping -------------------------------------------------------------------
    def _tenant_files(self, model: SiteModel, stage: Stage, final: dict[tuple[str, str], list[OutputRow]],
                      *, force: bool = False, tenants: set[str] | None = None) -> None:
        out = self.config.out
        for slug, table in model.tables.items():
            if tenants is not None and slug not in tenants:
                continue
            base = tenant_base_url(table.tenant, self.config.base_url)
            variants: dict[str, list[int]] = {}
            composed: dict[str, dict[str, Any]] = {}
            bases: dict[int, set[str]] = {}
            for (t, path), rows in final.items():
                if t == slug:
                    variants[path] = [r.level for r in rows]
                    contract = next((self._compose_info(r.digests["compose"]) for r in rows if "compose" in r.digests),
                                    None)
                    levels = model.composed_levels(slug, path, contract["base"], contract["template"]) \
                        if contract is not None and path in table.routes else None
                    if levels is not None:
                        composed[path] = levels
                    if contract is not None and "key" in contract:  # kept for splicing its navigation later
                        bases.setdefault(int(contract["base"]), set()).add(contract["key"])
            # The images the tenant's pages show (content-hashed, like assets): public when a public page shows
            # one, else private, listed in routes.json with the lowest level that sees it (the gate serves it then).
            shown = _images_of(model, slug, final)
            images = {image_file(slug, name, p.level): p.file for name, p in shown.items()}
            members_images = {name: p.level for name, p in shown.items() if p.level > 0}
            files: dict[str, bytes] = {
                f"{slug}/public/404.html": render_not_found(model, slug).encode(),
                f"{slug}/public/sitemap.xml": sitemap(table, base).encode(),
                f"{slug}/public/robots.txt": robots(base).encode(),
                f"{slug}/public/_headers": headers(self.config.content_security_policy).encode(),
                f"{slug}/public/_redirects": redirects(table).encode(),
                f"{slug}/{ROUTES_MANIFEST}": routes_manifest(table, variants, composed, members_images).encode(),
            }
            files.update({f"{slug}/public{path}": text.encode() for path, text in feed_files(table, base).items()})
            for root in table.roots:  # a blog or a tag that is gone: so is its feed
                if f"{slug}/public{root}/feed.xml" not in files:
                    stage.obsolete.add(f"{slug}/public{root}/feed.xml")
                tags_dir = out / slug / "public" / root.lstrip("/") / "tags"
                if tags_dir.is_dir():
                    for old_feed in tags_dir.glob("*/feed.xml"):
                        rel = old_feed.relative_to(out).as_posix()
                        if rel not in files:
                            stage.obsolete.add(rel)
            if model.tokens.get(slug):
                files[f"{slug}/public{model.tokens_url(slug)}"] = model.tokens[slug].encode()
            for asset in model.theme.assets.values():
                rel = f"{slug}/public{asset.url}"
                if force or not (out / rel).exists():
                    files[rel] = asset.source.read_bytes()
            for rel, cached in images.items():
                if force or not (out / rel).exists():
                    files[rel] = cached.read_bytes()
            favicon = model.theme.assets.get("favicon.svg")
            files.update(self._alias_pages(table, base, favicon.url if favicon is not None else ""))
            files.update(self._fragment_files(model, slug, composed, bases))
            for old in self._published_aliases(slug) - set(table.aliases):
                if (slug, old) not in final:  # (a page may have taken the path since)
                    stage.obsolete.add(page_file(slug, old, 0))
            for rel, data in files.items():
                target = out / rel
                if force or not target.is_file() or target.read_bytes() != data:
                    stage.write(rel, data)
            assets_dir = out / slug / "public" / "assets"
            if assets_dir.is_dir():  # hashed files of earlier versions of an asset (or of the tokens) go
                wanted = {rel for rel in files if rel.startswith(f"{slug}/public/assets/")}
                wanted |= {f"{slug}/public{a.url}" for a in model.theme.assets.values()} | set(images)
                for path in assets_dir.rglob("*"):
                    rel = path.relative_to(out).as_posix()
                    if path.is_file() and rel not in wanted:
                        stage.obsolete.add(rel)
            private_images = out / slug / "private" / IMAGES_DIR
            if private_images.is_dir():  # members' images no page shows any more, or that a public page now shows
                for path in private_images.iterdir():
                    rel = path.relative_to(out).as_posix()
                    if path.is_file() and rel not in images:
                        stage.obsolete.add(rel)
            for level in range(LEVEL_MAX + 1):  # fragments of levels no page is composed for any more
                rel = fragment_file(slug, level)
                if rel not in files and (out / rel).is_file():
                    stage.obsolete.add(rel)

    def _compose_info(self, raw: str) -> dict[str, Any]:
        """A row's `compose` digest, parsed once per distinct text (most pages of a tenant share a few)."""
        found = self._composes.get(raw)
        if found is None:
            if len(self._composes) > 4096:
                self._composes.clear()
            found = self._composes[raw] = json.loads(raw)
        return found

    def _nav_states(self, model: SiteModel) -> dict[str, str]:
        """Each tenant's navigation at every level, as one digest (from the current digests of the plan)."""
        return {slug: digest_of([self.digests.get(input_keys.nav(slug, level)) for level in range(LEVEL_MAX + 1)])
                for slug in model.tables}

    def _fragment_levels(self, slug: str) -> set[int]:
        """The levels whose chrome fragments the published routes.json of a tenant needs."""
        try:
            pages = orjson.loads((self.config.out / slug / ROUTES_MANIFEST).read_bytes()).get("pages") or {}
        except (OSError, orjson.JSONDecodeError, AttributeError):
            return set()
        return {int(level) for page in pages.values() if isinstance(page, dict) and isinstance(page.get("composed"), dict)
                for level in (page["composed"].get("keys") or {})}

    @staticmethod
    def _fragment_files(model: SiteModel, slug: str, composed: dict[str, dict[str, Any]],
                        bases: dict[int, set[str]]) -> dict[str, bytes]:
        """The chrome fragments the gate composes the tenant's pages with (one file per level, for the keys used),
        and the base fragment of every page that meets the chrome contract (a navigation change splices it)."""
        keys: dict[int, set[str]] = {level: set(used) for level, used in bases.items()}
        for plan_ in composed.values():
            for level, key in plan_["keys"].items():
                keys.setdefault(int(level), set()).add(key)
        return {fragment_file(slug, level): dump_fragments({k: model.fragment(slug, level, k) for k in sorted(used)})
                for level, used in sorted(keys.items())}

    @staticmethod
    def _alias_pages(table: Any, base: str, icon: str = "") -> dict[str, bytes]:
        """The redirect page of each alias of a public page (members' pages are redirected by _redirects only);
        `icon`: the theme's favicon URL."""
        pages: dict[str, bytes] = {}
        for old, new in table.aliases.items():
            route = table.routes.get(new)
            if route is not None and route.min_level == 0:
                pages[page_file(table.tenant.slug, old, 0)] = redirect_page(base + url_path(new), icon).encode()
        return pages

    def _published_aliases(self, slug: str) -> set[str]:
        """The aliases the published routes.json of a tenant lists (their redirect pages may have to go)."""
        try:
            doc = orjson.loads((self.config.out / slug / ROUTES_MANIFEST).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return set()
        aliases = doc.get("aliases") if isinstance(doc, dict) else None
        return {a for a in aliases if isinstance(a, str) and not route_path_problem(a)} if isinstance(aliases, dict) \
            else set()

    def _removed_tenants(self, out: Path, model: SiteModel) -> int:
        """Delete the output folders of tenants that no longer exist (only folders that mbsite wrote)."""
        removed = 0
        for tenant_dir in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if tenant_dir.name not in model.tables and (tenant_dir / ROUTES_MANIFEST).is_file():
                shutil.rmtree(tenant_dir)
                removed += 1
        return removed

    def _finish(self, started: float, problems: list[Problem], reasons: Counter[str], written: int, shared: int,
                removed: int, rendered: int, model: SiteModel | None, pages: int = 0) -> BuildResult:
        for p in problems:
            self.reporter.problem(p)
        summary = {
            "pages": pages, "rendered": rendered, "unchanged": max(pages - rendered, 0), "removed": removed,
            "variants_written": written, "variants_shared": shared,
            "warnings": sum(1 for p in problems if p.severity == "warning"),
            "errors": sum(1 for p in problems if p.severity == "error"),
            "seconds": round(time.perf_counter() - started, 3), "reasons": dict(reasons),
            "tenants": sorted(model.tables) if model else [],
            "search_indexes": len(self.search_made), "search_indexes_reused": len(self.search_reused),
        }
        if self.cluster is not None and self.cluster.last is not None:
            summary["cluster"] = self.cluster.last
        self.reporter.finish(summary)
        return BuildResult(summary, problems)


def _images_of(model: SiteModel, slug: str, graph: dict[tuple[str, str], list[OutputRow]]) -> dict[str, Published]:
    """The image files (output name → cached file and the lowest level of the outputs showing it) that the pages of a
    tenant recorded (images.published). An output's level is the level its file is served from: a public page's
    image is public, one that only members' pages (or only a members' level of a page) show is not."""
    return published(model.images, ((key, digest, row.level) for (tenant, _path), rows in graph.items()
                                    if tenant == slug for row in rows for key, digest in row.digests.items()))


def _published_pages(out: Path) -> int:
    """The pages published in an output folder: those the routes manifests of its tenant folders list (a folder
    without one, or with one that cannot be read, counts by its index.html files)."""
    count = 0
    if not out.is_dir():
        return 0
    for tenant_dir in out.iterdir():
        manifest = tenant_dir / ROUTES_MANIFEST
        if tenant_dir.name.startswith(".") or not manifest.is_file():
            continue
        try:
            count += len(orjson.loads(manifest.read_bytes()).get("pages") or {})
        except (OSError, orjson.JSONDecodeError, AttributeError):
            for _folder, _dirs, files in os.walk(tenant_dir):
                count += files.count("index.html")
    return count


def build(config: Config, reporter: Reporter | None = None, *, full: bool = False) -> BuildResult:
    builder = Builder(config, reporter, full=full)
    try:
        return builder.run()
    finally:
        builder.close()


__all__ = ["Builder", "BuildResult", "Plan", "build"]
