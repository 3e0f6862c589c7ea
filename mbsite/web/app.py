"""A site's Config → one Starlette app: CRUD, auth, media, OpenAPI, revalidate and (optionally) the gate.

`create_app(config)` composes Mounts; the lifespan owns the database engines, the rate limiter and the
webhook dispatcher, shared by every part through `app.state.mb`. Each file in functions/ builds the
same app restricted to its part, so every function also runs alone under uvicorn.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount

from ..config import Config
from ..entities import EntityRegistry, load_registry
from .authz import Authorizer, TenantDirectory, package_min_levels
from .backends import AnyDatabase, Database
from .forms import FormPosts
from .middleware import BodyLimitMiddleware, ClientAddressMiddleware, RateLimitMiddleware, parse_proxies
from .problems import EXCEPTION_HANDLERS, CatchAllMiddleware
from .ratelimit import RateLimiter
from .webhooks import Dispatcher, parse_hooks

PARTS = ("crud", "auth", "media", "revalidate", "gate")


@dataclass
class WebState:
    """Everything the endpoints share; built once per app."""

    config: Config
    db: AnyDatabase
    registry: EntityRegistry
    directory: TenantDirectory
    authz: Authorizer
    limiter: RateLimiter
    webhooks: Dispatcher
    openapi_cache: dict[str, bytes]
    memo: dict[str, Any] = field(default_factory=dict)   # slow-to-load site files (packages), with their age


def build_state(config: Config, *, registry: EntityRegistry | None = None, webhook_transport: Any = None) -> WebState:
    registry = registry if registry is not None else load_registry(config)
    directory = TenantDirectory()
    return WebState(
        config=config, db=Database.from_config(config), registry=registry, directory=directory,
        authz=Authorizer(registry, package_min_levels(config), directory),
        limiter=RateLimiter(config.rate_limits, config.redis_url),
        webhooks=Dispatcher(parse_hooks(config.webhooks), transport=webhook_transport),
        openapi_cache={},
    )


def _routes(parts: set[str]) -> list[BaseRoute]:
    from . import auth, crud, manage_packages, manage_pages, manage_tenants, manage_users, media, openapi, revalidate

    routes: list[BaseRoute] = []
    if "crud" in parts:
        routes += openapi.routes
        # Management first: `/{tenant}/_pages/{id}` would otherwise match an entity's collection.
        manage = [*manage_tenants.routes, *manage_pages.routes, *manage_packages.routes, *manage_users.routes]
        routes.append(Mount("/api/v1", routes=manage + crud.routes))
    if "auth" in parts:
        routes.append(Mount("/api/auth", routes=auth.routes))
    if "media" in parts:
        routes += media.routes
    if "revalidate" in parts:
        routes += revalidate.routes
    if "gate" in parts:
        from . import gate

        routes += gate.routes
    return routes


def create_app(config: Config, *, include_gate: bool = True, parts: Iterable[str] | None = None,
               state: WebState | None = None) -> Starlette:
    """The functions of one site as a single ASGI app (all parts, or the ones named)."""
    selected = set(parts) if parts is not None else {p for p in PARTS if include_gate or p != "gate"}
    unknown = selected - set(PARTS)
    if unknown:
        raise ValueError(f"unknown function parts: {', '.join(sorted(unknown))}")
    web = state or build_state(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await web.db.prepare(f for ent in web.registry for f in ent.indexed)
        async with web.db.read() as conn:
            await web.directory.refresh(conn, force=True)
        try:
            yield
        finally:
            await web.webhooks.close()
            await web.limiter.close()
            await web.db.dispose()

    proxies = parse_proxies(config.trusted_proxies)
    app = Starlette(
        routes=_routes(selected),
        middleware=[
            *([Middleware(ClientAddressMiddleware, networks=proxies)] if proxies else []),
            Middleware(RateLimitMiddleware, limiter=web.limiter),
            Middleware(BodyLimitMiddleware, max_bytes=config.body_max_bytes, media_max_bytes=config.media_max_bytes),
            Middleware(CatchAllMiddleware),
            *([Middleware(FormPosts)] if "crud" in selected else []),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.mb = web
    if "gate" in selected:
        from .gate import attach

        attach(app, config.out)
    return app


def function_app(*parts: str) -> Starlette:
    """One function as a standalone ASGI app, configured from MBSITE_SITE (or the cwd) and its mbsite.toml."""
    import os

    from ..config import load_config

    return create_app(load_config(os.environ.get("MBSITE_SITE") or "."), parts=parts)
