"""YAML seed files (content/seed/*.yaml) → rows, inserted once (idempotent), all or nothing.

Every row names its file and line when it is refused: an unknown tenant, a missing field, or anything the
database itself rejects. A seed runs in one transaction that also clears the database's "seed pending" mark
(db.engine), so a failed first seed leaves no rows and the next run seeds again.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import yaml
from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..entities import SERVER_FIELDS, EntityRegistry, snake_case
from ..errors import DataError, Location, MbsiteError, Problem, relpath
from ..levels import ROLE_LEVELS, clamp_level
from ..passwords import hash_password
from ..yamlload import compose_all, construct, read_text
from .engine import SEED_PENDING, database_error
from .models import BuildState, Credential, EntityRecord, InstalledPackage, PackageData, PageConfig, Tenant, User

if TYPE_CHECKING:
    from ..config import Config

# build_state key set by a seed's transaction: the next build checks the seed's records against their entity schemas.
SEED_CHECK_DUE = "seed_check_due"

# A seed document is the upstream envelope: {entity: <Kind>, records: [ {...}, ... ]}.
SEED_KINDS = ("Tenant", "User", "InstalledPackage", "PageConfig", "PackageData", "Record")


def seed_files(content_dir: Path) -> list[Path]:
    folder = content_dir / "seed"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _json_field(value: Any, where: Location) -> Any:
    """JSON columns may be given as objects or as JSON text (upstream stores strings)."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON text: {exc.msg}", where) from exc
    return value


def _stable_id(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:20]


def _need(rec: dict[str, Any], key: str, where: Location) -> Any:
    if rec.get(key) in (None, ""):
        raise DataError(f"missing required field {key!r}", where)
    return rec[key]


def _has(conn: Connection, *where: Any) -> bool:
    """Whether a row matching these conditions exists (their first column names the table)."""
    column = where[0].left
    return conn.execute(select(column).where(*where).limit(1)).first() is not None


def _tenant_of(conn: Connection, rec: dict[str, Any], where: Location) -> str:
    """The row's tenant, which an earlier Tenant record (or the database) must hold."""
    slug = str(_need(rec, "tenant", where))
    if not _has(conn, Tenant.slug == slug):
        raise DataError(f"unknown tenant {slug!r} (no Tenant record has this slug)", where)
    return slug


def _tenant(conn: Connection, rec: dict[str, Any], where: Location) -> None:
    slug = str(_need(rec, "slug", where))
    if not _has(conn, Tenant.slug == slug):
        conn.execute(insert(Tenant).values(slug=slug, name=str(rec.get("name") or slug),
                                           domains=list(rec.get("domains") or []),
                                           settings=dict(rec.get("settings") or {})))


def _user(conn: Connection, rec: dict[str, Any], where: Location) -> None:
    role = str(rec.get("role") or "user").lower()
    if role not in ROLE_LEVELS:
        raise DataError(f"unknown role {role!r} (one of {', '.join(ROLE_LEVELS)})", where)
    tenant, username = _tenant_of(conn, rec, where), str(_need(rec, "username", where))
    if _has(conn, User.tenant == tenant, User.username == username):
        return
    uid = str(rec.get("id") or _stable_id(tenant, username))
    conn.execute(insert(User).values(id=uid, tenant=tenant, username=username, email=rec.get("email"), role=role))
    stored = _password_hash(rec, where)
    if stored:
        conn.execute(insert(Credential).values(user_id=uid, password_hash=stored))


def _password_hash(rec: dict[str, Any], where: Location) -> str | None:
    """`password_hash` (an argon2 hash, so the seed need not hold the password) or `password` (hashed here)."""
    given = rec.get("password_hash")
    if given and rec.get("password"):
        raise DataError("give either 'password' or 'password_hash', not both", where)
    if given:
        if not isinstance(given, str) or not given.startswith("$argon2"):
            raise DataError("password_hash must be an argon2 hash ($argon2id$…)", where)
        return given
    return hash_password(str(rec["password"])) if rec.get("password") else None


def _installed(conn: Connection, rec: dict[str, Any], where: Location) -> None:
    tenant, package = _tenant_of(conn, rec, where), str(_need(rec, "package", where))
    if not _has(conn, InstalledPackage.tenant == tenant, InstalledPackage.package == package):
        conn.execute(insert(InstalledPackage).values(
            tenant=tenant, package=package, enabled=bool(rec.get("enabled", True)),
            version=str(rec.get("version") or ""), config=_json_field(rec.get("config"), where),
            sort_order=int(rec.get("sortOrder", rec.get("sort_order", 0)) or 0)))


def _page(conn: Connection, rec: dict[str, Any], where: Location) -> None:
    tenant, path = _tenant_of(conn, rec, where), str(_need(rec, "path", where))
    if not path.startswith("/"):
        raise DataError(f"path must start with '/': {path!r}", where)
    if _has(conn, PageConfig.tenant == tenant, PageConfig.path == path):
        return
    conn.execute(insert(PageConfig).values(
        id=str(rec.get("id") or f"page_{tenant}_{path.strip('/').replace('/', '_') or 'root'}"),
        tenant=tenant, path=path, title=str(rec.get("title") or ""), description=rec.get("description"),
        icon=rec.get("icon"), package=rec.get("packageId", rec.get("package")), component=rec.get("component"),
        component_tree=_json_field(rec.get("componentTree"), where),
        level=clamp_level(rec.get("level", 0)), requires_auth=bool(rec.get("requiresAuth", False)),
        published=bool(rec.get("isPublished", rec.get("published", True))),
        sort_order=int(rec.get("sortOrder", 0) or 0), params=_json_field(rec.get("params"), where),
        meta=_json_field(rec.get("meta"), where), revalidate=rec.get("revalidate"), tags=rec.get("tags"),
    ))


def _package_data(conn: Connection, rec: dict[str, Any], where: Location) -> None:
    tenant, package = _tenant_of(conn, rec, where), str(_need(rec, "package", where))
    if not _has(conn, PackageData.tenant == tenant, PackageData.package == package):
        conn.execute(insert(PackageData).values(tenant=tenant, package=package,
                                                data=_json_field(rec.get("data"), where)))


def _record(conn: Connection, rec: dict[str, Any], where: Location) -> None:
    tenant = _tenant_of(conn, rec, where)
    package, entity = str(_need(rec, "package", where)), snake_case(str(_need(rec, "entity", where)))
    data = rec.get("data")
    if not isinstance(data, dict):
        raise DataError("'data' must be a mapping", where)
    rid = str(rec.get("id") or data.get("id") or _stable_id(tenant, package, entity, json.dumps(data, sort_keys=True)))
    if not _has(conn, EntityRecord.tenant == tenant, EntityRecord.package == package, EntityRecord.entity == entity,
                EntityRecord.id == rid):
        conn.execute(insert(EntityRecord).values(tenant=tenant, package=package, entity=entity, id=rid,
                                                 data={**data, "id": rid}))


_LOADERS: dict[str, Callable[[Connection, dict[str, Any], Location], None]] = {
    "Tenant": _tenant, "User": _user, "InstalledPackage": _installed, "PageConfig": _page,
    "PackageData": _package_data, "Record": _record,
}


def parse_seed(path: Path, root: Path | None = None) -> list[tuple[str, dict[str, Any], Location]]:
    """Read one seed file into (kind, record, location) triples; errors name the file and line."""
    name = relpath(path, root)
    docs = compose_all(read_text(path, name), name)  # bounded: size, nesting, aliases
    out: list[tuple[str, dict[str, Any], Location]] = []
    for node in docs:
        doc = construct(node, name)  # nodes keep their line numbers for messages
        where = Location(file=name, line=node.start_mark.line + 1)
        if not isinstance(doc, dict) or "entity" not in doc:
            raise DataError("a seed document needs 'entity' and 'records'", where)
        kind = str(doc["entity"])
        if kind not in _LOADERS:
            raise DataError(f"unknown seed entity {kind!r} (one of {', '.join(SEED_KINDS)})", where)
        records = doc.get("records") or []
        if not isinstance(records, list):
            raise DataError("'records' must be a list", where)
        rec_nodes = _records_nodes(node)
        for i, rec in enumerate(records):
            line = rec_nodes[i].start_mark.line + 1 if i < len(rec_nodes) else where.line
            loc = Location(file=name, line=line, pointer=f"/records/{i}")
            if not isinstance(rec, dict):
                raise DataError("a record must be a mapping", loc)
            out.append((kind, rec, loc))
    return out


def _records_nodes(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "records" and isinstance(value, yaml.SequenceNode):
                return list(value.value)
    return []


def load_seed(engine: Engine, content_dir: Path, root: Path | None = None) -> int:
    """Insert every seed record that is missing; returns how many records were read. All or nothing."""
    entries: list[tuple[str, dict[str, Any], Location]] = []
    for path in seed_files(content_dir):
        entries.extend(parse_seed(path, root))
    order = {k: i for i, k in enumerate(SEED_KINDS)}
    entries.sort(key=lambda e: order[e[0]])
    with engine.begin() as conn:
        for kind, rec, where in entries:
            try:
                _LOADERS[kind](conn, rec, where)
            except IntegrityError as exc:  # a rule the loaders do not check themselves (unique, foreign key)
                reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
                raise DataError(f"{kind} record refused by the database: {reason}", where) from None
            except (ValueError, TypeError) as exc:  # a value of the wrong kind (`sortOrder: many`)
                raise DataError(f"{kind} record: {exc}", where) from None
            except DBAPIError as exc:
                raise database_error(exc, engine.url, "cannot seed") from None
        conn.execute(delete(BuildState).where(BuildState.key.in_((SEED_PENDING, SEED_CHECK_DUE))))
        conn.execute(insert(BuildState).values(key=SEED_CHECK_DUE, value="1"))
    return len(entries)


def record_problems(entries: list[tuple[str, dict[str, Any], Location]], registry: EntityRegistry,
                    severity: str) -> list[Problem]:
    """Record rows whose data breaks its entity's schema, by the rules the API enforces on a write, each located at
    its field. A row of an entity no schema defines is not checked."""
    from ..web.validation import check_document  # one definition of a valid record, shared with the API

    problems: list[Problem] = []
    for kind, rec, where in entries:
        data = rec.get("data")
        if kind != "Record" or not isinstance(data, dict):
            continue
        entity = registry.get(str(rec.get("package") or ""), str(rec.get("entity") or ""))
        if entity is None:
            continue
        server = {f.name for f in entity.fields if f.generated or f.primary} | SERVER_FIELDS
        errors: list[dict[str, Any]] = []
        check_document(entity.writable, {k: v for k, v in data.items() if k != "id" and k not in server}, "",
                       errors, partial=False)
        rid = rec.get("id") or data.get("id")
        name = f"{entity.package}.{entity.slug}" + (f" {str(rid)!r}" if rid else "")
        for err in errors:
            loc = Location(file=where.file, line=where.line, pointer=f"{where.pointer}/data{err['field']}")
            problems.append(Problem(severity, f"{name}: {err['message']}", loc, "seed"))
    return problems


def due_record_problems(engine: Engine, config: "Config") -> list[Problem]:
    """After a seed loaded: its records that break their entity schemas, as warnings, reported once (the build that
    follows the seed reports them; `mbsite check` reports them as errors every time)."""
    from ..entities import load_registry

    with engine.connect() as conn:
        due = conn.execute(select(BuildState.key).where(BuildState.key == SEED_CHECK_DUE)).scalar()
    if due is None:
        return []
    try:
        entries = [e for path in seed_files(config.content_dir) for e in parse_seed(path, config.site_dir)]
        problems = record_problems(entries, load_registry(config, []), "warning")
    except MbsiteError as exc:  # the seed changed since it loaded: `mbsite check` says the rest
        problems = [Problem.from_error(exc, "warning")]
    with engine.begin() as conn:
        conn.execute(delete(BuildState).where(BuildState.key == SEED_CHECK_DUE))
    return problems
