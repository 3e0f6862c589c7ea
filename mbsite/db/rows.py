"""The management rows (page configs, installed packages, users, tenants) as the management API and the admin panel
both read them, and the version tag (ETag) of each: a digest of what is stored in the row, nothing derived from
elsewhere (a page's addresses, a package's manifest), so that the panel, which is built, can put the same tag into
its forms that the API checks when the form is sent (`If-Match`): an edit made from a page older than the row is
refused instead of overwriting what someone saved since.

Only standard-library and orjson imports: the build reads these without the web stack.
"""
from __future__ import annotations

import hashlib
from typing import Any

import orjson

from ..levels import role_level

PAGE_SELECT = ("SELECT id, path, title, description, icon, package, component, component_tree, level, requires_auth, "
               "published, sort_order, params, meta, revalidate, tags, created_at, updated_at FROM page_configs")
PACKAGE_SELECT = "SELECT package, enabled, version, config, sort_order, installed_at FROM installed_packages"
USER_SELECT = ("SELECT u.id, u.username, u.email, u.role, u.created_at, d.user_id AS disabled FROM users u "
               "LEFT JOIN disabled_users d ON d.user_id = u.id")
TENANT_SELECT = "SELECT slug, name, domains, settings, created_at FROM tenants"


def json_value(value: Any) -> Any:
    """A JSON column as read: text on SQLite, decoded already on PostgreSQL (None when the text is not JSON)."""
    if isinstance(value, (str, bytes)):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


def row_etag(doc: dict[str, Any]) -> str:
    """The version tag of a row: a digest of its stored values (`page_doc`, `package_row`, `user_doc`,
    `tenant_doc`)."""
    return '"' + hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:20] + '"'


def page_doc(row: Any) -> dict[str, Any]:
    """A page config row (PAGE_SELECT) as the API shows it, before its addresses are added."""
    return {"id": row.id, "path": row.path, "title": row.title or "", "description": row.description,
            "icon": row.icon, "package": row.package, "component": row.component,
            "componentTree": json_value(row.component_tree), "level": row.level or 0,
            "requiresAuth": bool(row.requires_auth), "published": bool(row.published),
            "sortOrder": row.sort_order or 0, "params": json_value(row.params), "meta": json_value(row.meta),
            "revalidate": row.revalidate, "tags": json_value(row.tags), "createdAt": row.created_at,
            "updatedAt": row.updated_at}


def package_row(row: Any) -> dict[str, Any]:
    """What an installed-package row (PACKAGE_SELECT) stores (its version tag is of this; the API's document adds
    what the package's manifest says)."""
    config = json_value(row.config)
    return {"package": row.package, "enabled": bool(row.enabled), "version": row.version or "",
            "config": config if isinstance(config, dict) else {}, "sortOrder": row.sort_order or 0,
            "installedAt": row.installed_at}


def user_doc(row: Any) -> dict[str, Any]:
    """A user row (USER_SELECT) as the API shows it."""
    return {"id": row.id, "username": row.username, "email": row.email, "role": row.role,
            "level": role_level(row.role), "disabled": row.disabled is not None, "createdAt": row.created_at}


def tenant_doc(row: Any) -> dict[str, Any]:
    """A tenant row (TENANT_SELECT) as the API shows it."""
    settings = json_value(row.settings)
    return {"slug": row.slug, "name": row.name, "domains": list(json_value(row.domains) or []),
            "settings": settings if isinstance(settings, dict) else {}, "createdAt": row.created_at}


__all__ = ["PACKAGE_SELECT", "PAGE_SELECT", "TENANT_SELECT", "USER_SELECT", "json_value", "package_row", "page_doc",
           "row_etag", "tenant_doc", "user_doc"]
