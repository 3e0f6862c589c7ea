"""Built output + functions + the rebuild loop → one live-preview ASGI app (`mbsite serve`).

Pages go through the gate, so a session sees its level's variant; HTML responses get the live script of
hub.py, which the files under the output folder never contain. Tenants are served under `/<tenant>/` and
by Host (`acme.localhost:8000`, which browsers resolve to loopback). Built pages link root-relative
(`/blog/x`): an unprefixed request is resolved against the tenant of the page it came from (Referer) or of
the last page previewed (a cookie); pages are redirected under that prefix, assets are served at once.
"""
from __future__ import annotations

import asyncio
import contextlib
import difflib
import hashlib
import html
import json
import re
import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator
from urllib.parse import parse_qs, quote, urlsplit

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Config
from ..reporter import Reporter
from ..watch import Batch
from ..web.authz import Principal
from ..web.gate import MEMBERS_SEARCH_PREFIX, PageResponse, needed_level, security_headers
from ..web.gate import serve as gate_serve
from ..web.redirects import sign_in_target
from ..web.sessions import principal_for, same_origin
from ..web.toolpages import shell, signin_form
from .hub import LIVE_JS, LIVE_JS_URL, LiveHub, PreviewWatcher, Published, Viewer, event, inject, page_path

PREVIEW_COOKIE = "mb_preview_tenant"
PING_SECONDS = 15.0
_HASHED = re.compile(r"\.[0-9a-f]{10}(\.[A-Za-z0-9]+)?$")  # content-hashed asset names never change content
IMMUTABLE = "public, max-age=31536000, immutable"
FORM_FIELDS_MAX = 16_384  # a sign-in form larger than this is handed on without reading its fields


NAV = (("/", "Preview"), ("/api/v1/docs", "API reference"))


def _shell(title: str, body: str, current: str = "") -> bytes:
    """A tool page of the preview, in the default theme's look (web/toolpages.py)."""
    return shell(title, body, nav=NAV, brand="mbsite preview", current=current)


def _tenant_of_referer(request: Request, tenants: dict[str, list[str]]) -> str | None:
    ref = request.headers.get("referer")
    if not ref:
        return None
    url = urlsplit(ref)
    if url.netloc != request.headers.get("host"):
        return None
    first = url.path.lstrip("/").split("/", 1)[0]
    return first if first in tenants else None


def _level(principal: Principal, tenant: str | None) -> int:
    """The viewer's level in `tenant`: a session of another tenant signs nobody in here."""
    return principal.level if tenant is not None and principal.tenant == tenant else 0


async def _principal(request: Request) -> Principal:
    web = request.app.state.mb
    return await principal_for(request, web.config, web.db)


async def _tenants(request: Request) -> dict[str, list[str]]:
    web = request.app.state.mb
    if web.directory.stale:
        async with web.db.read() as conn:
            await web.directory.refresh(conn)
    return web.directory.tenants  # type: ignore[no-any-return]


async def page(request: Request) -> Response:
    """Every GET that is not an API call: landing page, tenant pages through the gate, or a redirect."""
    hub: LiveHub = request.app.state.hub
    tenants = await _tenants(request)
    tenant, raw, prefix = hub.gate.tenant_of(request, tenants)
    if tenant is None:
        # A root-relative link of a page under /<tenant>/: send it under the same prefix.
        target = _tenant_of_referer(request, tenants)
        if target is None and request.url.path != "/":
            cookie = request.cookies.get(PREVIEW_COOKIE)
            target = cookie if cookie in tenants else None
        if target is not None:
            asset = _static(hub, target, request.url.path)
            if asset is not None:  # stylesheets and images load straight away; only pages move under the prefix
                return asset
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/{target}{quote(request.url.path)}{query}", status_code=302,
                                    headers={"Cache-Control": "no-store"})
        if request.url.path == "/":
            listing = landing(request, hub, tenants, await _principal(request))
            return _live(hub, _shell("Preview", listing, "/"), None, "/", 0, "")
        return HTMLResponse(_shell("Not found", not_found_body(request, tenants)), status_code=404,
                            headers={"Cache-Control": "no-store"})
    response = await gate_serve(request)
    shown: bytes | None = None
    if isinstance(response, PageResponse):
        # A panel page is personalized for the session (web/forms.py): the live script follows the page as built.
        shown = bytes(response.body)
        served = getattr(response, "built", shown)
    elif not isinstance(response, FileResponse):
        return response
    elif not str(response.path).endswith(".html"):
        if _HASHED.search(str(response.path)) and not response.headers.get("cache-control", "").startswith("private"):
            response.headers["cache-control"] = IMMUTABLE  # (a members' image stays private: the gate said so)
        return response
    else:
        served = Path(response.path).read_bytes()
    level = _level(await _principal(request), tenant)
    body = shown if shown is not None else served
    if response.status_code == 404:
        body = served.replace(b"<main", _missing_note(hub, tenant, page_path(raw), prefix, level) + b"<main", 1)
    out = _live(hub, body, tenant, page_path(raw), level, prefix, served=served, status=response.status_code)
    if "vary" in response.headers:
        out.headers["vary"] = response.headers["vary"]
    for name, value in response.raw_headers:
        if name == b"set-cookie":  # the gate clears a shown flash message
            out.raw_headers.append((name, value))
    if prefix:
        out.set_cookie(PREVIEW_COOKIE, tenant, path="/", httponly=True, samesite="lax")
    return out


def _static(hub: LiveHub, tenant: str, path: str) -> Response | None:
    """A public file of `tenant` that is not a page (assets, feeds), or None."""
    page_ = page_path(path)
    if page_ in hub.gate.routes(tenant).pages or page_.startswith(MEMBERS_SEARCH_PREFIX):
        return None  # (the members' search bundle depends on the session: the gate answers it, under the prefix)
    file = hub.gate.file_for(tenant, "public", page_)
    if file is None or file.suffix == ".html":
        return None
    cache = IMMUTABLE if _HASHED.search(file.name) else "no-cache"
    return FileResponse(file, headers={"Cache-Control": cache})


def _live(hub: LiveHub, data: bytes, tenant: str | None, page_: str, level: int, prefix: str,
          *, served: bytes | None = None, status: int = 200) -> Response:
    """`data` with the live script; the page is identified by the digest of the file as built (`served`)."""
    raw = served if served is not None else data
    digest = hashlib.sha256(raw).hexdigest()
    hub.remember(digest, raw)
    info = {"tenant": tenant, "page": page_, "level": level, "prefix": prefix, "hash": digest}
    return Response(inject(data, info), status_code=status, media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


def _missing_note(hub: LiveHub, tenant: str, page_: str, prefix: str, level: int) -> bytes:
    known = sorted(p for p, info in hub.gate.routes(tenant).pages.items() if needed_level(info) <= level)
    near = difflib.get_close_matches(page_, known, n=5, cutoff=0.5)
    links = "".join(f' <a href="{html.escape(prefix + p)}">{html.escape(prefix + p)}</a>' for p in near)
    note = (f'<div id="mbsite-missing" style="font:14px system-ui,sans-serif;background:#fff8e1;color:#3e2f00;'
            f'padding:.75rem 1rem;border-bottom:1px solid #e0c060">mbsite serve: tenant <b>{html.escape(tenant)}</b> '
            f'has no page at <code>{html.escape(page_)}</code>.{" Close matches:" + links if near else ""} '
            f'<a href="/">All tenants</a></div>')
    return note.encode()


def landing(request: Request, hub: LiveHub, tenants: dict[str, list[str]], principal: Principal) -> str:
    """Every tenant with the pages the viewer may open there (as the gate would let them), nothing more."""
    port = f":{request.url.port}" if request.url.port else ""
    parts = ["<h1>Preview</h1>"]
    last = hub.last
    if last:
        s = last.get("summary") or {}
        parts.append(f'<p class="lead">Last build: {s.get("pages", "?")} pages, {last["errors"]} errors, '
                     f"{last['ms']} ms. Pages reload by themselves when their output changes.</p>")
    else:
        parts.append('<p class="lead">Nothing is built yet.</p>')
    cards = []
    for slug in sorted(tenants):
        table = hub.gate.routes(slug)
        hosts = "".join(f' · <a href="http://{html.escape(d)}{port}/">{html.escape(d)}{port}</a>'
                        for d in tenants[slug] if d == "localhost" or d.endswith(".localhost"))
        items = []
        level = _level(principal, slug)
        visible = {path: info for path, info in table.pages.items() if needed_level(info) <= level}
        for path, info in sorted(visible.items()):
            if path.startswith(("/_gallery/", "/tags/")):
                continue
            lv = needed_level(info)
            badge = f' <span class="lv">level {lv}</span>' if lv else ""
            items.append(f'<li><a href="/{slug}{html.escape(path)}">{html.escape(path)}</a> '
                         f'{html.escape(str(info.get("title") or ""))}{badge}</li>')
        sign_in = f' · <a href="/{slug}{html.escape(table.login)}">sign in</a>' if table.pages else ""
        count = f"{len(visible)} pages" if table.pages else "no pages built yet"
        cards.append(f'<li class="tool-card"><h2><a href="/{slug}/">{html.escape(slug)}</a></h2>'
                     f'<p class="tool-meta"><code>/{slug}/</code>{hosts}{sign_in} · {count}</p>'
                     + (f'<ul>{"".join(items)}</ul>' if items else "") + "</li>")
    if cards:
        parts.append(f'<ul class="tool-cards">{"".join(cards)}</ul>')
    parts.append('<p>API: <a href="/api/v1/docs">/api/v1/docs</a></p>')
    return "".join(parts)


def not_found_body(request: Request, tenants: dict[str, list[str]]) -> str:
    links = "".join(f'<li><a href="/{s}{html.escape(request.url.path)}">/{html.escape(s)}'
                    f'{html.escape(request.url.path)}</a></li>' for s in sorted(tenants))
    return (f'<h1>Not found</h1><p class="lead"><code>{html.escape(request.url.path)}</code> belongs to no tenant. '
            f"Pages live under <code>/&lt;tenant&gt;/</code>. Try:</p><ul>{links}</ul>"
            f'<p><a href="/">All tenants</a></p>')


async def events(request: Request) -> Response:
    """Server-Sent Events for one open page: `problems`, `css` and `reload`."""
    hub: LiveHub = request.app.state.hub
    q = request.query_params
    try:
        level = min(5, max(0, int(q.get("l") or 0)))
    except ValueError:
        level = 0
    digest = q.get("h") or ""
    tenant = q.get("t") if q.get("t") in await _tenants(request) else None  # names a folder: only known tenants
    # The page says which level it shows; the session says which level it may: never hear about more.
    level = min(level, _level(await _principal(request), tenant))
    viewer = Viewer(tenant, page_path(q.get("p") or "/"), level, digest, hub.shapes.get(digest))
    check = hub.register(viewer)

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 500\n\n"
            if hub.problems:
                yield event("problems", hub.problems)
            if check:  # a batch may have been published between serving the page and this connection
                msg = await asyncio.to_thread(hub.verdict, viewer)
                if msg is not None:
                    yield msg
            while True:
                try:
                    item = await asyncio.wait_for(viewer.queue.get(), PING_SECONDS)
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                if item is None:
                    return
                yield item
        finally:
            hub.unregister(viewer)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def live_js(request: Request) -> Response:
    return Response(LIVE_JS, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})


async def status(request: Request) -> Response:
    """Counts and build errors only: no page of any level is named here."""
    hub: LiveHub = request.app.state.hub
    return JSONResponse({"last": hub.last, "problems": hub.problems, "viewers": hub.viewers},
                        headers={"Cache-Control": "no-store"})


# -- sign-in forms --------------------------------------------------------------------------------------------

class FormAuth:
    """Browser forms posting to /api/auth/login|logout land on a page instead of a JSON body.

    Login: 2xx becomes 303 to the page that asked for it (`next` of the login page's URL, through the same
    `sign_in_target` as the functions) or the tenant's home; an error becomes a short HTML page. Logout: a
    same-origin form (as the browser attests) carries no CSRF header, so it gets the session's token added."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        headers = Headers(scope=scope)
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if (scope["type"] != "http" or scope["method"] != "POST" or path not in ("/api/auth/login", "/api/auth/logout")
                or ctype not in ("application/x-www-form-urlencoded", "multipart/form-data")):
            await self.app(scope, receive, send)
            return
        referer = urlsplit(headers.get("referer", ""))
        from_here = bool(referer.netloc) and referer.netloc == headers.get("host", "")
        request = Request(scope)
        tenants = scope["app"].state.mb.directory.tenants if "app" in scope else {}
        first = referer.path.lstrip("/").split("/", 1)[0] if from_here else ""
        home = f"/{first}/" if first in tenants else "/"
        target = home
        back = sign_in_target(referer.path + (f"?{referer.query}" if referer.query else ""), home) \
            if from_here else home
        fields: dict[str, str] = {}
        if path.endswith("/login"):
            # Whether a form of another site may sign in at all is the functions' decision (login CSRF).
            # `next` of this request wins: the form a failed sign-in answers with posts it there.
            wanted = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("next") or \
                (parse_qs(referer.query).get("next") if from_here else None) or [""]
            target = sign_in_target(wanted[0], home) if from_here else home
            receive, fields = await _read_form(receive, ctype)
        elif same_origin(request):
            web = scope["app"].state.mb
            principal = await principal_for(request, web.config, web.db)
            if principal.csrf_token:
                scope = {**scope, "headers": [*scope["headers"], (b"x-csrf-token", principal.csrf_token.encode())]}
        # The functions answer a browser form with their own redirect; the preview adds the tenant prefix, so it
        # asks for the JSON answer and decides where to go itself.
        scope = {**scope, "headers": [*[(k, v) for k, v in scope["headers"] if k.lower() != b"accept"],
                                      (b"accept", b"application/json")]}
        state: dict[str, Any] = {"redirect": False, "status": 200, "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                if 200 <= message["status"] < 300:
                    state["redirect"] = True
                    kept = [(k, v) for k, v in message["headers"] if k.lower() == b"set-cookie"]
                    await send({"type": "http.response.start", "status": 303,
                                "headers": kept + [(b"location", target.encode()), (b"cache-control", b"no-store"),
                                                   (b"content-length", b"0")]})
                return
            if message["type"] == "http.response.body":
                if not state["redirect"]:
                    state["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    if state["redirect"]:
                        await send({"type": "http.response.body", "body": b""})
                    else:
                        await _form_error(send, state["status"], state["body"], back, home,
                                          path.endswith("/login"), fields, first if first in tenants else "", target)

        await self.app(scope, receive, capture)


async def _read_form(receive: Receive, ctype: str) -> tuple[Receive, dict[str, str]]:
    """The fields of a URL-encoded sign-in form (the body is read here and handed on unchanged)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    fields: dict[str, str] = {}
    if ctype == "application/x-www-form-urlencoded" and len(body) <= FORM_FIELDS_MAX:
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items() if k in ("tenant", "username")}
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay, fields


async def _form_error(send: Send, status: int, body: bytes, back: str, home: str, login: bool,
                      fields: dict[str, str], tenant: str, target: str) -> None:
    """A failed form: the sign-in form again with the message (login), or the message and a way back (logout)."""
    try:
        detail = str(json.loads(body).get("detail") or "")
    except (ValueError, AttributeError):
        detail = ""
    message = detail or f"HTTP {status}"
    if login:
        form = signin_form(message, tenant=fields.get("tenant") or tenant, username=fields.get("username", ""),
                           next_path=target)
        page_ = _shell("Sign in", form)
    else:
        page_ = _shell("Sign-out failed", f'<h1>That did not work</h1><p class="lead">{html.escape(message)}</p>'
                       f'<p><a href="{html.escape(back)}">Back</a> · <a href="{html.escape(home)}">Home</a></p>')
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page_)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": page_})


# -- the app -------------------------------------------------------------------------------------------------

class SecurityHeaders:
    """Every answer of the preview carries the security headers of the deployed gate (`security_headers`):
    the preview is never weaker than the site it previews. Headers an answer already has are kept."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.csp = csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                extra = security_headers(self.csp, ctype.startswith(b"text/html"))
                headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()
                            if k.lower().encode("latin-1") not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secured)


def create_serve_app(config: Config, hub: LiveHub | None = None) -> Starlette:
    """The live-preview app: functions under /api/, the event stream under /_mbsite/, pages everywhere else."""
    from ..web.app import create_app

    hub = hub or LiveHub(config)
    functions = create_app(config, include_gate=False)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        hub.loop = asyncio.get_running_loop()
        async with functions.router.lifespan_context(functions):
            yield
        hub.loop = None

    app = Starlette(routes=[
        Route("/_mbsite/events", events, methods=["GET"]),
        Route("/_mbsite/status", status, methods=["GET"]),
        Route(LIVE_JS_URL, live_js, methods=["GET"]),
        Route("/api/{rest:path}", FormAuth(functions)),
        Route("/{path:path}", page, methods=["GET", "HEAD"]),
    ], middleware=[Middleware(SecurityHeaders, csp=config.content_security_policy)], lifespan=lifespan)
    app.state.hub = hub
    app.state.mb = functions.state.mb
    app.state.gate = hub.gate
    return app


class Preview:
    """`mbsite serve`: the hub, the app, and the rebuild loop (or one build with watch=False)."""

    def __init__(self, config: Config, reporter: Reporter, *, watch: bool = True,
                 on_published: Callable[[Published], None] | None = None) -> None:
        self.config = config
        self.hub = LiveHub(config)
        self.watcher = PreviewWatcher(config, reporter, self.hub, on_published)  # creates and seeds a new database
        self.app = create_serve_app(config, self.hub)
        self.watch = watch
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Build what is stale (blocking), then keep rebuilding in a background thread when watching."""
        if not self.watch:
            self.watcher.build_once(Batch({"start"}))
            self.ready.set()
            return

        def loop() -> None:
            try:
                self.watcher.run(initial_build=True)
            finally:
                self.ready.set()  # never leave start() waiting, even if the loop died

        original = self.watcher.on_published

        def first(p: Published) -> None:
            if original is not None:
                original(p)
            self.ready.set()

        self.watcher.on_published = first
        self._thread = threading.Thread(target=loop, name="mbsite-serve-watch", daemon=True)
        self._thread.start()
        self.ready.wait()

    def stop(self) -> None:
        self.hub.close()
        self.watcher.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @contextlib.contextmanager
    def serving(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Build, watch and serve in background threads (tests, benchmarks); yields the base URL."""
        self.start()
        server = self.server(host, port)
        thread = threading.Thread(target=server.run, name="mbsite-serve-http", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            self.stop()
            raise RuntimeError(f"the preview server did not start on {host}:{port}")
        bound = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://{host}:{bound}"
        finally:
            self.hub.close()
            server.should_exit = True
            thread.join(timeout=5)
            self.stop()

    def urls(self, host: str, port: int) -> list[str]:
        """The landing page, then each built tenant under its prefix and its *.localhost domains."""
        base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        lines = [f"{base}/"]
        out = self.config.out
        for routes in sorted(out.glob("*/routes.json")) if out.is_dir() else []:
            try:
                domains = json.loads(routes.read_bytes()).get("domains") or []
            except ValueError:
                domains = []
            local = [f"http://{d}:{port}/" for d in domains if d == "localhost" or str(d).endswith(".localhost")]
            lines.append(f"{base}/{routes.parent.name}/" + (f"  ({', '.join(local)})" if local else ""))
        return lines

    def server(self, host: str, port: int) -> Any:
        import uvicorn

        hub = self.hub

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: Any) -> None:
                hub.close()  # end the event streams, or shutdown waits for them
                super().handle_exit(sig, frame)

        return Server(uvicorn.Config(self.app, host=host, port=port, log_level="warning", lifespan="on",
                                     timeout_graceful_shutdown=2, access_log=False))


__all__ = ["Preview", "create_serve_app"]
