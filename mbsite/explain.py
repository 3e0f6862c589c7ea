"""Stored graph + current sources → why a page was (or would be) rendered; queuing revalidations."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, insert

from .config import Config
from .db.models import Revalidation, now_ms
from .errors import MbsiteError
from .graph import dirty_keys, load_outputs
from .plan import current_digests, image_digests, read_pending, stale_reason
from .routes import normalize_path
from .site import load_model, open_site_db


def queue_revalidation(engine: Engine, tenant: str | None, path: str | None, tag: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Revalidation).values(tenant=tenant, path=normalize_path(path) if path else None, tag=tag))


def _when(ms: int | None) -> str:
    if not ms:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def explain(config: Config, tenant: str, path: str, level: int | None) -> dict[str, Any]:
    engine, _ = open_site_db(config)
    path = normalize_path(path)
    with engine.connect() as conn:
        outputs = load_outputs(conn).get((tenant, path), [])
        pending = read_pending(conn)
    problems: list[Any] = []
    model = load_model(config, engine, problems)
    table = model.tables.get(tenant)
    if table is None:
        raise MbsiteError(f"unknown tenant {tenant!r}")
    route = table.routes.get(path)
    next_reason = None
    if route is not None:
        digests = current_digests(model)
        digests.update(image_digests(model, {k for o in outputs for k in o.inputs if k.startswith("image:")}))
        next_reason = stale_reason(model, route, outputs or None, digests, dirty_keys(pending.events), now_ms(),
                                   pending.revalidations)
    rows = [o for o in outputs if level is None or o.level == level]
    lines = [f"{tenant} {path}"]
    if route is None:
        lines.append("  no such route now" + (" (its stored outputs are removed by the next build)" if outputs else ""))
    else:
        lines.append(f"  source: {route.source}; kind {route.kind}; minimum level {route.min_level}")
        lines.append(f"  next build: {'renders it (' + next_reason + ')' if next_reason else 'nothing to do'}")
    if not outputs:
        lines.append("  never built")
    for o in rows:
        lines.append(f"  level {o.level}: {o.file}")
        lines.append(f"    last rendered {_when(o.rendered_at)} because: {o.reason or 'unknown'}")
        if o.revalidate_at:
            lines.append(f"    revalidates at {_when(o.revalidate_at)}")
        if o.tags:
            lines.append(f"    tags: {', '.join(o.tags)}")
        # The chrome (header, footer, navigation of the level) and the body are explained apart: the chrome is
        # the tenant's, one render per level; the body is the page's own.
        chrome_keys = set(model.chrome(table.tenant, o.level)[3].inputs) if table is not None else set()
        body = [k for k in o.inputs if k not in chrome_keys]
        chrome = [k for k in o.inputs if k in chrome_keys]
        for title, keys in ((f"body inputs ({len(body)})", body), (f"chrome inputs of level {o.level} ({len(chrome)})",
                                                                   chrome)):
            lines.append(f"    {title}:")
            for key in keys:
                digest = o.digests.get(key)
                lines.append(f"      {key}" + (f"  sha256:{digest[:12]}" if digest else ""))
    composed = _composed(config, tenant, path)
    if composed:
        levels = [lv for lv in sorted(int(k) for k in composed.get("keys", {})) if lv != composed.get("base")]
        lines.append(f"  composed by the gate for level(s) {', '.join(map(str, levels))} from the level-"
                     f"{composed.get('base')} file and each level's chrome fragment (private/chrome/<L>.json); a "
                     "navigation change of those levels rewrites only the fragments")
    shared = [lv for lv in range(route.min_level, 6) if route and lv not in {o.level for o in outputs}
              and str(lv) not in (composed or {}).get("keys", {})] if route else []
    if shared and outputs:
        lines.append(f"  levels served by the level below: {', '.join(map(str, shared))}")
    return {"tenant": tenant, "path": path, "exists": route is not None, "next": next_reason,
            "outputs": [o.as_dict() for o in rows], "composed": composed, "text": "\n".join(lines)}


def _composed(config: Config, tenant: str, path: str) -> dict[str, Any] | None:
    """The page's `composed` entry in the published routes.json (None when the gate composes no level of it)."""
    import json

    try:
        pages = json.loads((config.out / tenant / "routes.json").read_text(encoding="utf-8")).get("pages") or {}
    except (OSError, ValueError, AttributeError):
        return None
    entry = pages.get(path)
    found = entry.get("composed") if isinstance(entry, dict) else None
    return found if isinstance(found, dict) else None


def check_revalidation(config: Config, engine: Engine, tenant: str | None, path: str | None, tag: str | None) -> None:
    """Refuse a revalidation that can match nothing: an unknown tenant, a path no route or stored output has, or
    a tag no stored output carries (a typo would otherwise be 'queued' and never happen)."""
    with engine.connect() as conn:
        outputs = load_outputs(conn)
    problems: list[Any] = []
    tables = load_model(config, engine, problems).tables
    if tenant is not None and tenant not in tables:
        raise MbsiteError(f"unknown tenant {tenant!r} (tenants: {', '.join(sorted(tables)) or 'none'})")
    if path:
        path = normalize_path(path)
        assert tenant is not None
        if path not in tables[tenant].routes and (tenant, path) not in outputs:
            raise MbsiteError(f"tenant {tenant} has no page at {path}")
    if tag:
        tagged = any(tag in row.tags for (t, _p), rows in outputs.items() if tenant in (None, t) for row in rows)
        if not tagged:
            raise MbsiteError(f"no built page carries the tag {tag!r}" + (f" in tenant {tenant}" if tenant else ""))


__all__ = ["check_revalidation", "explain", "queue_revalidation"]
