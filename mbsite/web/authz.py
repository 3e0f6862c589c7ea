"""Who may do what: THE one place tenant isolation, package levels and entity ACLs are decided.

Rules, in order:
1. The tenant, the entity and (unless the site declares the entity) an enabled installed package must
   exist for the tenant — otherwise 404.
2. Tenant isolation: a signed-in user of another tenant gets 404 (existence does not leak), except
   god/supergod on an entity whose schema says `crossTenant: true`. Anonymous callers are level 0 anywhere.
3. Package minLevel (installed package config first, then package.json): below it, 401 anonymous / 403.
4. The entity ACL for the operation: level ≥ the rule's level grants every row; an owner rule (`self` +
   `row_level: "field = $user.id"`) grants only the caller's rows (lists are filtered, single rows
   outside it are 404 for reads and 403 for writes). A rule written as a list of conditions grants through
   any condition the caller meets; conditions on fields (`uploaderId: "{{ currentUserId }}"`,
   `published: true`) limit the rows the same way, a row passing when it meets one of them.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from ..config import Config
from ..entities import Condition, Entity, EntityRegistry
from ..levels import ADMIN, GOD, PUBLIC, SUPERGOD, USER, clamp_level
from .problems import ApiError


@dataclass(frozen=True)
class Principal:
    """The caller: a signed-in user (from a session) or anonymous."""

    user_id: str | None = None
    tenant: str | None = None
    username: str | None = None
    role: str = "public"
    level: int = PUBLIC
    session_id: str | None = None
    csrf_token: str | None = None
    via: str = "anonymous"              # "cookie" | "bearer" | "anonymous"

    @property
    def anonymous(self) -> bool:
        return self.user_id is None


ANONYMOUS = Principal()


@dataclass(frozen=True)
class Scope:
    """An authorized (principal, tenant, entity) triple; `owner_only` restricts rows to the caller's."""

    principal: Principal
    tenant: str
    entity: Entity
    op: str
    owner_field: str | None = None     # set when only the caller's own rows are allowed
    rows: tuple[Condition, ...] = ()   # set when only rows meeting one of these conditions are allowed

    @property
    def limited(self) -> bool:
        return self.owner_field is not None or bool(self.rows)

    def owns(self, data: dict[str, Any], created_by: str | None) -> bool:
        return owner_of(self.owner_field or "createdBy", data, created_by) == self.principal.user_id

    def admits(self, data: dict[str, Any], created_by: str | None) -> bool:
        """Whether a row is within this scope (always, for a scope that limits no rows)."""
        if self.rows:
            uid = self.principal.user_id
            return any(c.matches(data, owner_of(c.owner_field, data, created_by) if c.owner_field else None, uid)
                       for c in self.rows)
        return self.owner_field is None or self.owns(data, created_by)


def owner_of(field: str, data: dict[str, Any], created_by: str | None) -> Any:
    """The owner value of a row: the data field, or the row's created_by column for `createdBy`."""
    if field in data:
        return data[field]
    return created_by if field == "createdBy" else None


def deny(principal: Principal, detail: str) -> ApiError:
    if principal.anonymous:
        return ApiError(401, "sign in required: " + detail, headers={"WWW-Authenticate": 'Cookie realm="mbsite"'})
    return ApiError(403, detail)


def package_min_levels(config: Config) -> dict[str, int]:
    """package id → minLevel from each package.json (site packages first)."""
    levels: dict[str, int] = {}
    for folder in config.package_dirs():
        for meta in folder.glob("*/package.json"):
            pkg = meta.parent.name
            if pkg in levels:
                continue
            try:
                data = json.loads(meta.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and "minLevel" in data:
                levels[pkg] = clamp_level(data.get("minLevel"))
    return levels


class TenantDirectory:
    """Tenants and their installed packages, cached for a few seconds (they change rarely)."""

    TTL = 5.0

    def __init__(self) -> None:
        self._at = 0.0
        self.tenants: dict[str, list[str]] = {}                  # slug → domains
        self.installed: dict[tuple[str, str], dict[str, Any]] = {}  # (tenant, package) → config (enabled only)

    @property
    def stale(self) -> bool:
        return time.monotonic() - self._at >= self.TTL

    async def refresh(self, conn: Any, force: bool = False) -> None:
        if not force and not self.stale:
            return
        tenants: dict[str, list[str]] = {}
        for slug, domains in (await conn.execute(text("SELECT slug, domains FROM tenants"))).all():
            if isinstance(domains, str):
                domains = json.loads(domains or "[]")
            tenants[slug] = [str(d).lower() for d in (domains or [])]
        installed: dict[tuple[str, str], dict[str, Any]] = {}
        rows = await conn.execute(text("SELECT tenant, package, config FROM installed_packages WHERE enabled"
                                       if conn.dialect.name == "postgresql" else
                                       "SELECT tenant, package, config FROM installed_packages WHERE enabled = 1"))
        for tenant, package, cfg in rows.all():
            if isinstance(cfg, str):
                try:
                    cfg = json.loads(cfg)
                except ValueError:
                    cfg = {}
            installed[(tenant, package)] = cfg if isinstance(cfg, dict) else {}
        self.tenants, self.installed, self._at = tenants, installed, time.monotonic()

    def tenant_for_host(self, host: str) -> str | None:
        host = host.split(":", 1)[0].lower()
        for slug, domains in self.tenants.items():
            if host in domains:
                return slug
        return None


class Authorizer:
    """Decides every access of the functions; constructed once per app."""

    def __init__(self, registry: EntityRegistry, min_levels: dict[str, int], directory: TenantDirectory) -> None:
        self.registry = registry
        self.min_levels = min_levels
        self.directory = directory

    def check_tenant(self, principal: Principal, tenant: str, *, cross_ok: bool = False) -> None:
        """404 unless the tenant exists and the caller may act in it (isolation)."""
        if tenant not in self.directory.tenants:
            raise ApiError(404, "no such tenant")
        if principal.anonymous or principal.tenant == tenant:
            return
        if cross_ok and principal.level >= GOD:
            return
        raise ApiError(404, "not found")

    def entity(self, principal: Principal, tenant: str, package: str, name: str) -> Entity:
        """Resolve the URL's package/entity for the tenant; 404 for anything unknown or not installed."""
        entity = self.registry.get(package, name)
        if entity is None:
            raise ApiError(404, "no such entity")
        self.check_tenant(principal, tenant, cross_ok=entity.cross_tenant)
        installed = self.directory.installed.get((tenant, package))
        if installed is None and not self.registry.is_site_declared(entity):
            raise ApiError(404, "package not installed for this tenant")
        min_level = clamp_level((installed or {}).get("minLevel"), self.min_levels.get(package, PUBLIC))
        if principal.level < min_level:
            raise deny(principal, f"package {package} needs level {min_level}")
        return entity

    def scope(self, principal: Principal, tenant: str, package: str, name: str, op: str) -> Scope:
        """Authorize `op` on the entity; rows may still be limited to the caller's (see Scope.owner_field)."""
        entity = self.entity(principal, tenant, package, name)
        acl = entity.acl.get(op)
        if acl is None or acl.system_only:
            raise deny(principal, f"{op} is not allowed through the API")
        if acl.level is not None and principal.level >= acl.level:
            return Scope(principal, tenant, entity, op)
        if acl.owner_field and not principal.anonymous and principal.level >= USER:
            return Scope(principal, tenant, entity, op, owner_field=acl.owner_field)
        rows = tuple(c for c in acl.conditions if principal.level >= c.level
                     and (c.owner_field is None or not principal.anonymous))
        if rows:
            return Scope(principal, tenant, entity, op, rows=rows)
        raise deny(principal, f"{op} on {entity.name} needs a higher level")

    def check_row(self, scope: Scope, data: dict[str, Any], created_by: str | None) -> None:
        """For row-limited scopes: reads of other rows are 404, writes 403."""
        if scope.admits(data, created_by):
            return
        if scope.op == "read":
            raise ApiError(404, "not found")
        raise ApiError(403, f"{scope.op} is limited to your own records")

    def claim_owner(self, scope: Scope, doc: dict[str, Any]) -> None:
        """On create: owner fields the ACL uses are filled with the caller's id when absent, and on an
        owner-limited create the new row must belong to the caller."""
        self.fill_owners(scope, doc)
        if scope.rows and not scope.admits(doc, scope.principal.user_id):
            raise ApiError(403, f"{scope.op} is limited to records you may {scope.op}")
        field = scope.owner_field
        if field is None or field == "createdBy" and scope.entity.field(field) is None:
            return
        if doc.get(field) in (None, ""):
            doc[field] = scope.principal.user_id
        elif doc[field] != scope.principal.user_id:
            raise ApiError(403, f"{field} must be your own id")

    def fill_owners(self, scope: Scope, doc: dict[str, Any]) -> None:
        """Owner fields the ACL uses, absent from a new record, become the caller's id (before validation, so a
        required owner field needs no client to send it)."""
        if scope.principal.anonymous:
            return
        for acl in scope.entity.acl.values():
            for f in (acl.owner_field, *(c.owner_field for c in acl.conditions)):
                if f and scope.entity.field(f) is not None and doc.get(f) in (None, ""):
                    doc[f] = scope.principal.user_id

    def admin_of(self, principal: Principal, tenant: str, level: int = 3) -> None:
        """Tenant administration (audit log, media deletes by others): level ≥ admin in the same tenant."""
        self.check_tenant(principal, tenant)
        if principal.level < level or principal.anonymous:
            raise deny(principal, "administrators only")

    def manager_of(self, principal: Principal, tenant: str, level: int = ADMIN) -> None:
        """Management of a tenant (pages, packages, users, schemas at admin; settings at god): a member of the
        tenant at `level` or above, or a supergod of any tenant (who manages tenants themselves). Another
        tenant's members get 404, as everywhere."""
        if tenant not in self.directory.tenants:
            raise ApiError(404, "no such tenant")
        if principal.anonymous:
            raise deny(principal, "administrators only")
        if principal.tenant != tenant and principal.level < SUPERGOD:
            raise ApiError(404, "not found")
        if principal.level < level:
            raise deny(principal, f"level {level} or above only")

    def supergod(self, principal: Principal) -> None:
        """Tenants themselves: supergods only."""
        if principal.anonymous or principal.level < SUPERGOD:
            raise deny(principal, "supergods only")

    def member_of(self, principal: Principal, tenant: str) -> None:
        """A signed-in user of the tenant (uploads, media listing)."""
        self.check_tenant(principal, tenant)
        if principal.anonymous:
            raise deny(principal, "members only")
