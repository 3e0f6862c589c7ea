"""GET/HEAD of a page path + the session → the public page, the variant the user may see, 403 or a login redirect.

Layout (written by the builder): `<out>/<tenant>/public/…/index.html`, `<out>/<tenant>/private/<L>/…/index.html`,
`<out>/<tenant>/private/chrome/<L>.json` and `<out>/<tenant>/routes.json`; the search bundles: the public one,
`public/pagefind/` (`/pagefind/…`, a static file like any other), and the members' ones, `private/pagefind/<L>/`
(`/pagefind-members/…` is answered from the viewer's level's, `members_search_file`); and the
images that only members' pages show, `private/assets/images/`, listed in routes.json with the lowest level that
may see each (`/assets/images/…` is answered from there when public/ has no such file, `image_choice`).

For a user at level U the gate answers with the highest level not above U that the page has — a file (`variants`)
or a composition (`composed`: the base level's file with its chrome fragment replaced by level U's, compose.py) —
and only when U ≥ the page's minimum level. It never serves a level above U and fails closed: any error is a 500
problem or a 404, never a private file; a composition that cannot be made falls back to the base file, which shows
less (a lower level), never more.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from ..compose import Chrome, compose, load_fragments
from ..errors import MbsiteError
from ..paths import IMAGES_DIR, image_file
from .forms import FLASH_COOKIE, personalize
from .problems import problem
from .sessions import principal_for

log = logging.getLogger("mbsite.gate")
PUBLIC_CACHE = "public, max-age=0, must-revalidate"
PRIVATE_CACHE = "private, no-store"


@dataclass
class RouteTable:
    """One tenant's routes.json, reloaded when its mtime changes."""

    mtime: float = -1.0
    login: str = "/login"
    access_denied: str = "/access-denied"
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[str, int] = field(default_factory=dict)  # members' image file name → the lowest level that sees it


class Gate:
    """Finds the tenant and the file for a request; holds the routes.json cache."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._tables: dict[str, RouteTable] = {}
        self._fragments: dict[tuple[str, int], tuple[float, dict[str, Chrome]]] = {}

    def fragments(self, tenant: str, level: int) -> dict[str, Chrome]:
        """A tenant's chrome fragments for one level (private/chrome/<L>.json), reloaded when the file changes."""
        path = self.out / tenant / "private" / "chrome" / f"{level}.json"
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return {}
        cached = self._fragments.get((tenant, level))
        if cached is None or cached[0] != mtime:
            cached = (mtime, load_fragments(path.read_bytes()))
            self._fragments[(tenant, level)] = cached
        return cached[1]

    def routes(self, tenant: str) -> RouteTable:
        path = self.out / tenant / "routes.json"
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return RouteTable()
        table = self._tables.get(tenant)
        if table is None or table.mtime != mtime:
            data = orjson.loads(path.read_bytes())  # a broken file raises: the request fails closed (500)
            table = RouteTable(mtime, str(data.get("login") or "/login"),
                               str(data.get("access_denied") or "/access-denied"),
                               {str(k): v for k, v in (data.get("pages") or {}).items() if isinstance(v, dict)},
                               {str(k): int(v) for k, v in (data.get("images") or {}).items()})
            self._tables[tenant] = table
        return table

    def tenant_of(self, request: Request, tenants: dict[str, list[str]]) -> tuple[str | None, str, str]:
        """(tenant, page path, URL prefix): by Host first, then by a /<tenant>/ path prefix (local serving)."""
        path = request.url.path
        host = (request.headers.get("host") or "").split(":", 1)[0].lower()
        for slug, domains in tenants.items():
            if host in domains:
                return slug, path, ""
        first, _, rest = path.lstrip("/").partition("/")
        if first in tenants and (self.out / first).is_dir():
            return first, "/" + rest, "/" + first
        return None, path, ""

    def file_for(self, tenant: str, area: str, page: str) -> Path | None:
        """The index.html (or asset) of `page` under public/ or private/<L>/, refusing traversal."""
        root = (self.out / tenant / area).resolve()
        rel = page.strip("/")
        target = (root / rel).resolve()
        if target != root and root not in target.parents:
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None


@dataclass(frozen=True)
class Choice:
    """What the gate answers for a page and a viewer level (the one place that decides it)."""

    kind: str                 # "file" | "compose" | "login" (anonymous below the page's level) | "denied" | "missing"
    file: Path | None = None  # the file to send (for "denied"/"missing": the access-denied or 404 page, if any;
                              # for "compose": the base level's file)
    cache: str = PRIVATE_CACHE
    status: int = 200
    chrome: tuple[Chrome, Chrome] | None = None  # "compose": the base level's chrome and the viewer level's
    level: int = 0            # the level answered (for "compose", the level composed)

    def body(self) -> bytes | None:
        """What to send for "compose": the composed page, or None when it cannot be made (then send `file`)."""
        if self.kind != "compose" or self.file is None or self.chrome is None:
            return None
        page = compose(self.file.read_bytes().decode("utf-8"), *self.chrome)
        return None if page is None else page.encode("utf-8")


def choose(gate: Gate, tenant: str, page: str, level: int) -> Choice:
    """The variant of `page` a viewer at `level` gets: the highest one not above the level, never more."""
    table = gate.routes(tenant)
    route = table.pages.get(page) or table.pages.get(page.rstrip("/") or "/")
    if route is None:
        static = gate.file_for(tenant, "public", page)
        return Choice("file", static, PUBLIC_CACHE) if static is not None else _missing(gate, tenant)
    needed = needed_level(route)
    if level < needed:
        if level == 0:
            return Choice("login")
        return Choice("denied", gate.file_for(tenant, "public", table.access_denied), PRIVATE_CACHE, 403)
    variants = sorted(int(v) for v in route.get("variants") or [0] if 0 <= int(v) <= level)
    found = route.get("composed")
    composed: dict[str, Any] = found if isinstance(found, dict) else {}
    found = composed.get("keys")
    keys: dict[str, Any] = found if isinstance(found, dict) else {}
    levels = sorted({int(v) for v in keys if 0 <= int(v) <= level} - set(variants))
    if levels and (not variants or levels[-1] > variants[-1]):
        return _composed(gate, tenant, page, route, int(composed.get("base", 0)), levels[-1], keys)
    if not variants:
        return _missing(gate, tenant)
    best = variants[-1]
    file = gate.file_for(tenant, "public" if best == 0 else f"private/{best}", page)
    if file is None:
        log.warning("gate: %s %s variant %s listed in routes.json but missing", tenant, page, best)
        return _missing(gate, tenant)
    # Pages with a minimum level or a per-level variant depend on the session: never cache them shared.
    cache = PUBLIC_CACHE if best == 0 and needed == 0 and route.get("variants", [0]) == [0] else PRIVATE_CACHE
    return Choice("file", file, cache)


def _composed(gate: Gate, tenant: str, page: str, route: dict[str, Any], base: int, level: int,
              keys: dict[str, Any]) -> Choice:
    """A composed level: the base level's file and both levels' chrome fragments. When a fragment is missing (a
    build publishing at this moment), the base file alone: a lower level's page, never a higher one."""
    if base not in [int(v) for v in route.get("variants") or [0]] or base > level:
        return _missing(gate, tenant)
    file = gate.file_for(tenant, "public" if base == 0 else f"private/{base}", page)
    if file is None:
        log.warning("gate: %s %s base %s listed in routes.json but missing", tenant, page, base)
        return _missing(gate, tenant)
    base_chrome = gate.fragments(tenant, base).get(str(keys.get(str(base))))
    chrome = gate.fragments(tenant, level).get(str(keys.get(str(level))))
    if base_chrome is None or chrome is None:
        log.warning("gate: %s %s chrome fragment of level %s missing; serving level %s", tenant, page, level, base)
        return Choice("file", file, PRIVATE_CACHE, level=base)
    return Choice("compose", file, PRIVATE_CACHE, chrome=(base_chrome, chrome), level=level)


MEMBERS_SEARCH_PREFIX = "/pagefind-members/"  # the members' search bundles (search.py); /pagefind/ is public/'s


def members_search_file(gate: Gate, tenant: str, page: str, level: int) -> Choice:
    """A file of the members' search bundle (`/pagefind-members/…`) for a viewer at `level`: from the bundle of the
    highest level not above theirs that has one (search.py writes `private/pagefind/<L>/` only for a level whose
    members' pages differ from the level below's). Never a higher level's; only an existing file, found without
    traversal. Everyone else (anonymous, a level with no bundle) gets what a missing file gets, but never cached
    shared: the same URL answers a member."""
    rest = page[len(MEMBERS_SEARCH_PREFIX):]
    for lv in range(min(max(level, 0), 5), 0, -1):
        if (gate.out / tenant / "private" / "pagefind" / str(lv) / "pagefind-entry.json").is_file():
            file = gate.file_for(tenant, f"private/pagefind/{lv}", rest)
            if file is not None:
                return Choice("file", file, PRIVATE_CACHE, level=lv)
            break
    return replace(_missing(gate, tenant), cache=PRIVATE_CACHE)


IMAGE_PREFIX = f"/{IMAGES_DIR}/"


def members_image(gate: Gate, tenant: str, page: str) -> str | None:
    """The file name of a members' image (one that routes.json lists) when `page` asks for one, else None."""
    if not page.startswith(IMAGE_PREFIX):
        return None
    name = page[len(IMAGE_PREFIX):]
    return name if name in gate.routes(tenant).images else None


def image_choice(gate: Gate, tenant: str, page: str, level: int) -> Choice:
    """`/assets/images/<name>` for a viewer at `level`: the public file when there is one; a members' image only when
    the viewer's level is at least the lowest level of the pages that show it. Anyone else gets what a file that
    does not exist gets (a 404, the same page and headers), so the answer does not even tell that it exists."""
    public = gate.file_for(tenant, "public", page)
    if public is not None:
        return Choice("file", public, PUBLIC_CACHE)
    name = members_image(gate, tenant, page)
    needed = gate.routes(tenant).images.get(name, 0) if name is not None else 0
    if name is None or needed < 1 or level < needed:
        return _missing(gate, tenant)
    try:
        file = gate.out / image_file(tenant, name, needed)
    except MbsiteError:  # (a name no output path may hold: nothing the build wrote)
        return _missing(gate, tenant)
    return Choice("file", file, PRIVATE_CACHE, level=needed) if file.is_file() else _missing(gate, tenant)


def needed_level(route: dict[str, Any]) -> int:
    """The lowest viewer level that may open a page of routes.json."""
    return max(int(route.get("level") or 0), 1 if route.get("requires_auth") else 0)


def _missing(gate: Gate, tenant: str) -> Choice:
    return Choice("missing", gate.file_for(tenant, "public", "404.html"), PUBLIC_CACHE, 404)


def is_page(gate: Gate, tenant: str, page: str) -> bool:
    """Whether `page` is a page of the tenant (answering it needs the session) rather than a static file."""
    pages = gate.routes(tenant).pages
    return page in pages or (page.rstrip("/") or "/") in pages


def _normalize(page: str) -> str | None:
    if "\x00" in page or "\\" in page:
        return None
    parts = [p for p in page.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/" + "/".join(parts)


def security_headers(csp: str, html: bool) -> dict[str, str]:
    """The headers every page gets, as the static output's _headers gives them to a CDN (and `mbsite serve`
    to its own answers): no type sniffing, no full URLs in Referer to other sites, the site's policy on HTML."""
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}
    if html and csp:
        headers["Content-Security-Policy"] = csp
    return headers


class PageResponse(Response):
    """A page the gate answers with from memory (a page file read at once, or a composed level): the live preview
    adds its script to `body`."""

    media_type = "text/html; charset=utf-8"


PAGE_READ_LIMIT = 1 << 20  # pages up to this size are read at once: a page is small, and FileResponse's threaded
                           # streaming made the gate serve 4x fewer pages per second (benchmarks/bench_gate.py)


def _page_response(path: Path, cache: str, status: int = 200, csp: str = "") -> Response:
    response: Response
    if path.suffix == ".html":
        st = path.stat()
        if st.st_size <= PAGE_READ_LIMIT:
            response = PageResponse(path.read_bytes(), status_code=status)
            tag = hashlib.md5(f"{st.st_mtime}-{st.st_size}".encode(), usedforsecurity=False).hexdigest()
            response.headers["ETag"] = f'"{tag}"'
            response.headers["Last-Modified"] = formatdate(st.st_mtime, usegmt=True)
        else:
            response = FileResponse(path, status_code=status, media_type="text/html; charset=utf-8")
    else:
        response = FileResponse(path, status_code=status)
    response.headers["Cache-Control"] = cache
    response.headers.update(security_headers(csp, path.suffix == ".html"))
    if cache == PRIVATE_CACHE:
        response.headers["Vary"] = "Cookie"
    return response


def _composed_response(body: bytes, cache: str, csp: str = "") -> Response:
    response = PageResponse(body)
    response.headers["Cache-Control"] = cache
    response.headers.update(security_headers(csp, True))
    if cache == PRIVATE_CACHE:
        response.headers["Vary"] = "Cookie"
    return response


def _panel_response(request: Request, path: Path, csrf_token: str, csp: str) -> Response:
    """A panel page for the signed-in viewer: the session's CSRF token in its forms and the result of the last form
    it sent (web/forms.py); never stored by any cache."""
    built = path.read_bytes()
    body, clear = personalize(built, csrf_token, request.cookies.get(FLASH_COOKIE))
    response = _composed_response(body, PRIVATE_CACHE, csp)
    response.built = built  # type: ignore[attr-defined]  # what the live preview compares with the next build
    if clear:
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _not_found(gate: Gate, tenant: str | None, csp: str = "") -> Response:
    page = gate.file_for(tenant, "public", "404.html") if tenant else None
    if page is not None:
        return _page_response(page, PUBLIC_CACHE, status=404, csp=csp)
    return problem(404, "no such page")


async def serve(request: Request) -> Response:
    web = request.app.state.mb
    gate: Gate = request.app.state.gate
    try:
        if web.directory.stale:
            async with web.db.read() as conn:
                await web.directory.refresh(conn)
        tenant, raw_page, prefix = gate.tenant_of(request, web.directory.tenants)
        page = _normalize(raw_page)
        if tenant is None or page is None:
            return _not_found(gate, tenant, web.config.content_security_policy)
        level = 0
        principal = None
        members_search = page.startswith(MEMBERS_SEARCH_PREFIX)
        image = members_image(gate, tenant, page) is not None
        # Static files (the public search bundle among them) are answered without looking up the session; pages,
        # the members' search bundles and members' images depend on it.
        if members_search or image or is_page(gate, tenant, page):
            principal = await principal_for(request, web.config, web.db)
            # A session of another tenant does not sign anyone in here.
            level = principal.level if principal.tenant == tenant else 0
        if members_search:
            choice = members_search_file(gate, tenant, page, level)
        else:
            choice = image_choice(gate, tenant, page, level) if image else choose(gate, tenant, page, level)
        if level > 0 and principal is not None and choice.file is not None and choice.kind == "file" and \
                gate.routes(tenant).pages.get(page, {}).get("kind") == "panel":
            return _panel_response(request, choice.file, principal.csrf_token or "", web.config.content_security_policy)
        if choice.kind == "login":
            target = f"{prefix}{gate.routes(tenant).login}?next={quote(prefix + page)}"
            return RedirectResponse(target, status_code=302, headers={"Cache-Control": PRIVATE_CACHE})
        if choice.kind == "compose":
            body = choice.body()
            if body is not None:
                return _composed_response(body, choice.cache, csp=web.config.content_security_policy)
            log.warning("gate: %s %s could not be composed for level %s; serving the base file", tenant, page,
                        choice.level)
        if choice.file is not None:
            return _page_response(choice.file, choice.cache, status=choice.status,
                                  csp=web.config.content_security_policy)
        if choice.kind == "denied":
            return problem(403, "you may not see this page", headers={"Cache-Control": PRIVATE_CACHE})
        return problem(404, "no such page", headers={"Cache-Control": PRIVATE_CACHE, "Vary": "Cookie"}
                       if choice.cache == PRIVATE_CACHE else None)
    except Exception:  # fail closed: whatever broke, no page is served
        log.exception("gate failed for %s", request.url.path)
        return problem(500, "the page could not be served", headers={"Cache-Control": PRIVATE_CACHE})


routes = [Route("/{path:path}", serve, methods=["GET"])]


def attach(app: Any, out: Path) -> None:
    app.state.gate = Gate(Path(os.fspath(out)))
