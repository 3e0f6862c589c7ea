"""One tenant's rows ⇄ one portable document (YAML, JSON, or a folder in the seed format): export and import.

The document holds what makes a tenant's site: the tenant row, its users (with their argon2 hashes, never a
password), installed packages, page configs, package data, entity records and media metadata (the bytes too,
base64, with `with_media`). Sessions, the audit log, the change feed and the build state stay behind: they
describe one database, not the tenant.

An import checks the whole document before it writes anything, then writes every row in one transaction, so
a bad row (or a database that refuses one) leaves the database as it was. The change-feed triggers record each
row written, so the next build renders the imported tenant. Importing under another slug (`as_slug`) renames
what is global to the database: user ids and page-config ids (globally unique keys), and domains whose first
label is the old slug (`acme.localhost` → `acme2.localhost`), so the copy builds the same pages under its own
name and does not steal the original's host names.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import JSON, Boolean, Engine, Integer, String, Text, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from .db.models import (
    AuditEntry,
    Base,
    Credential,
    DisabledUser,
    EntityRecord,
    InstalledPackage,
    JSONDocument,
    MediaAsset,
    PackageData,
    PageConfig,
    PasswordReset,
    Session,
    Tenant,
    User,
    now_ms,
)
from .errors import DataError, Location, relpath
from .levels import ROLE_LEVELS, clamp_level
from .paths import tenant_problem
from .yamlload import Limits

FORMAT = "mbsite-tenant"
FORMAT_VERSION = 1
# An export may carry media bytes: larger than a seed file may be, still bounded.
DOCUMENT_LIMITS = Limits(bytes=1024 * 1024 * 1024, depth=100, values=50_000_000)
MAX_PROBLEMS = 50  # reported per import; a document broken everywhere says so without a page per row
_MEDIA_ID = re.compile(r"^[0-9a-f]{64}(-[0-9a-f]{12})?$")


@dataclass(frozen=True)
class Section:
    """One list of the document: rows of `model` belonging to the tenant, by column name."""

    key: str
    model: type[Base]
    columns: tuple[str, ...]           # exported columns (the tenant column is implied)
    unique: tuple[tuple[str, ...], ...]  # keys no two rows of the document may share
    order: tuple[str, ...]


SECTIONS = (
    Section("users", User, ("id", "username", "email", "role", "password_hash", "created_at"),
            (("id",), ("username",)), ("username",)),
    Section("installed_packages", InstalledPackage,
            ("package", "enabled", "version", "config", "sort_order", "installed_at"), (("package",),),
            ("sort_order", "package")),
    Section("page_configs", PageConfig,
            ("id", "path", "title", "description", "icon", "package", "component", "component_tree", "level",
             "requires_auth", "published", "sort_order", "params", "meta", "revalidate", "tags", "created_at",
             "updated_at"), (("id",), ("path",)), ("sort_order", "path")),
    Section("package_data", PackageData, ("package", "data", "updated_at"), (("package",),), ("package",)),
    Section("entity_records", EntityRecord,
            ("package", "entity", "id", "data", "version", "created_by", "created_at", "updated_at"),
            (("package", "entity", "id"),), ("package", "entity", "created_at", "id")),
    Section("media", MediaAsset,
            ("id", "filename", "content_type", "size", "width", "height", "created_by", "created_at"),
            (("id",),), ("created_at", "id")),
)
TENANT_COLUMNS = ("slug", "name", "domains", "settings", "created_at")
_SECTION = {s.key: s for s in SECTIONS}
# Keys the document may hold beyond the table's columns.
_EXTRA = {"users": {"password_hash", "disabled"}, "media": {"content_base64"}}


class TransferError(DataError):
    """A document that cannot be imported: every problem found, each located (file, line, path in the document)."""

    def __init__(self, problems: list[DataError]) -> None:
        first = problems[0]
        super().__init__(first.message, first.location)
        self.problems = problems

    def __str__(self) -> str:
        lines = [DataError.__str__(p) for p in self.problems[:MAX_PROBLEMS]]
        if len(self.problems) > MAX_PROBLEMS:
            lines.append(f"… and {len(self.problems) - MAX_PROBLEMS} more problems")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- export


def export_tenant(engine: Engine, slug: str, *, media_dir: Path | None = None, with_media: bool = False
                  ) -> dict[str, Any]:
    """The tenant's rows as one document, read in one transaction (a consistent snapshot)."""
    with _snapshot(engine) as conn:
        tenant = conn.execute(select(Tenant).where(Tenant.slug == slug)).mappings().first()
        if tenant is None:
            known = conn.execute(select(Tenant.slug).order_by(Tenant.slug)).scalars().all()
            raise DataError(f"unknown tenant {slug!r} (known: {', '.join(known) or 'none'})")
        doc: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION,
                               "tenant": {c: tenant[c] for c in TENANT_COLUMNS}}
        hashes = dict(conn.execute(select(Credential.user_id, Credential.password_hash)
                                   .join(User, User.id == Credential.user_id).where(User.tenant == slug)).all())
        disabled = set(conn.execute(select(DisabledUser.user_id).where(DisabledUser.tenant == slug)).scalars())
        for section in SECTIONS:
            table = section.model.__table__
            stmt = select(table).where(table.c.tenant == slug).order_by(*(table.c[c] for c in section.order))
            rows = []
            for row in conn.execute(stmt).mappings():
                out = {c: row[c] for c in section.columns if c in row}
                if section.key == "users":
                    if row["id"] in hashes:
                        out["password_hash"] = hashes[row["id"]]
                    if row["id"] in disabled:  # a disabled account stays disabled where it is imported
                        out["disabled"] = True
                rows.append(out)
            doc[section.key] = rows
    if with_media:
        for asset in doc["media"]:
            path = (media_dir or Path()) / slug / asset["id"][:64]
            if not path.is_file():
                raise DataError(f"media {asset['id']} of tenant {slug!r}: its bytes are missing from the media store",
                                Location(file=str(path)))
            asset["content_base64"] = base64.b64encode(path.read_bytes()).decode("ascii")
    return doc


class _snapshot:
    """A read transaction: every SELECT inside sees the same committed state (SQLite's driver starts no
    transaction for reads by itself; PostgreSQL needs REPEATABLE READ for one snapshot across statements)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Any:
        self.conn = self.engine.connect()
        if self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql("BEGIN")
        else:
            self.conn = self.conn.execution_options(isolation_level="REPEATABLE READ")
        return self.conn

    def __exit__(self, *exc: Any) -> None:
        self.conn.rollback()
        self.conn.close()


def dump_document(doc: dict[str, Any], fmt: str) -> str:
    """The document as YAML or JSON text (key order kept: component trees and styles depend on it)."""
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)


def write_document(doc: dict[str, Any], target: Path, fmt: str) -> None:
    """Write YAML/JSON to a file, or the seed-format folder (`fmt` "seed"), atomically (temp then rename)."""
    if fmt == "seed":
        _write_seed_dir(doc, target)
        return
    _atomic_write(target, dump_document(doc, fmt).encode("utf-8"))


def _atomic_write(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# Seed files and their envelope kind, in load order; fields the seed spells in camelCase.
_SEED_FILES = (("01-tenants.yaml", "Tenant", "tenant"), ("02-users.yaml", "User", "users"),
               ("03-installed-packages.yaml", "InstalledPackage", "installed_packages"),
               ("04-page-configs.yaml", "PageConfig", "page_configs"),
               ("05-package-data.yaml", "PackageData", "package_data"), ("10-records.yaml", "Record", "entity_records"))
_SEED_NAMES = {"sort_order": "sortOrder", "package": "packageId", "component_tree": "componentTree",
               "requires_auth": "requiresAuth", "published": "isPublished"}
_MEDIA_INDEX = "media/media.yaml"


def _seed_name(section: str, column: str) -> str:
    if section == "page_configs" or column == "sort_order":
        return _SEED_NAMES.get(column, column)
    return column


def _write_seed_dir(doc: dict[str, Any], target: Path) -> None:
    """A folder content/seed/ could hold (the seed loader reads it as it is), plus media/ for the media."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise DataError(f"{target} exists and is not an empty folder; choose another", Location(file=str(target)))
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        slug = doc["tenant"]["slug"]
        for name, kind, key in _SEED_FILES:
            rows = [doc["tenant"]] if key == "tenant" else [
                {"tenant": slug, **{_seed_name(key, c): v for c, v in row.items()}} for row in doc[key]]
            envelope = {"entity": kind, "version": "1.0", "records": rows}
            (stage / name).write_text(dump_document(envelope, "yaml"), encoding="utf-8")
        if doc["media"]:
            (stage / "media").mkdir()
            index = []
            for asset in doc["media"]:
                asset = dict(asset)
                data = asset.pop("content_base64", None)
                if data is not None:  # the bytes beside the index, named by their hash
                    (stage / "media" / asset["id"][:64]).write_bytes(base64.b64decode(data))
                index.append(asset)
            (stage / _MEDIA_INDEX).write_text(dump_document({"entity": "MediaAsset", "records": index}, "yaml"),
                                              encoding="utf-8")
        if target.exists():
            target.rmdir()
        os.replace(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


# ---------------------------------------------------------------------------------------------------- reading


@dataclass
class Document:
    """A document read for import: the tenant and each section's rows, every row with its location."""

    source: str
    tenant: tuple[dict[str, Any], Location]
    rows: dict[str, list[tuple[dict[str, Any], Location]]]
    media_files: Path | None = None  # a seed folder's media/ (bytes named by hash)


def read_document(path: str, *, stdin: bytes | None = None, root: Path | None = None) -> Document:
    """A file (YAML or JSON by extension), `-` (stdin, JSON if it starts with `{`) or a seed-format folder."""
    if path == "-":
        return _from_mapping(_parse(stdin or b"", "<stdin>", None), "<stdin>")
    p = Path(path)
    source = relpath(p, root)
    if p.is_dir():
        return _from_seed_dir(p, root)
    if not p.is_file():
        raise DataError("no such file or folder", Location(file=source))
    size = p.stat().st_size
    if size > DOCUMENT_LIMITS.bytes:
        raise DataError(f"file of {size} bytes is over the limit of {DOCUMENT_LIMITS.bytes}", Location(file=source))
    suffix = p.suffix.lower()
    return _from_mapping(_parse(p.read_bytes(), source, "json" if suffix == ".json" else "yaml"), source)


def _parse(data: bytes, source: str, fmt: str | None) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8: {exc.reason}", Location(file=source)) from None
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "yaml"
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", Location(file=source, line=exc.lineno, column=exc.colno)
                            ) from None
        except RecursionError:
            raise DataError("JSON nested too deeply", Location(file=source)) from None
    from . import yamlload

    return yamlload.load(text, source, limits=DOCUMENT_LIMITS)


def _from_mapping(doc: Any, source: str) -> Document:
    top = Location(file=source)
    if not isinstance(doc, dict):
        raise DataError("an export document must be a mapping with 'format' and 'tenant'", top)
    problems: list[DataError] = []
    if doc.get("format") != FORMAT:
        problems.append(DataError(f"'format' must be {FORMAT!r} (is this an mbsite export?)",
                                  Location(file=source, pointer="/format")))
    elif doc.get("version") != FORMAT_VERSION:
        problems.append(DataError(f"unsupported version {doc.get('version')!r} (this mbsite reads {FORMAT_VERSION})",
                                  Location(file=source, pointer="/version")))
    for key in sorted(set(doc) - {"format", "version", "tenant", *_SECTION}):
        problems.append(DataError(f"unknown key {key!r}", Location(file=source, pointer=f"/{_escape(str(key))}")))
    tenant = doc.get("tenant")
    if not isinstance(tenant, dict):
        problems.append(DataError("'tenant' must be a mapping", Location(file=source, pointer="/tenant")))
    rows: dict[str, list[tuple[dict[str, Any], Location]]] = {}
    for section in SECTIONS:
        items = doc.get(section.key) or []
        if not isinstance(items, list):
            problems.append(DataError(f"{section.key!r} must be a list", Location(file=source, pointer=f"/{section.key}")))
            items = []
        rows[section.key] = [(item, Location(file=source, pointer=f"/{section.key}/{i}")) for i, item in enumerate(items)]
    if problems:
        raise TransferError(problems)
    assert isinstance(tenant, dict)
    return Document(source, (tenant, Location(file=source, pointer="/tenant")), rows)


def _from_seed_dir(folder: Path, root: Path | None) -> Document:
    """A seed-format folder (what `export --format seed` writes, or a hand-written one for a single tenant)."""
    from .yamlload import compose_all, construct, read_text

    source = relpath(folder, root)
    entries = _seed_entries(folder, root)
    kinds = {kind: key for _, kind, key in _SEED_FILES}
    tenants = [(rec, where) for kind, rec, where in entries if kind == "Tenant"]
    if len(tenants) != 1:
        raise DataError(f"a seed folder to import holds exactly one Tenant record; this one holds {len(tenants)}",
                        Location(file=source))
    tenant, twhere = tenants[0]
    slug = tenant.get("slug")
    rows: dict[str, list[tuple[dict[str, Any], Location]]] = {s.key: [] for s in SECTIONS}
    problems: list[DataError] = []
    for kind, rec, where in entries:
        if kind == "Tenant":
            continue
        if rec.get("tenant") != slug:
            problems.append(DataError(f"record of tenant {rec.get('tenant')!r}, not of {slug!r}",
                                      _at(where, "tenant")))
            continue
        key = kinds[kind]
        renamed = {_SEED_COLUMNS.get(k, k): v for k, v in rec.items() if k != "tenant"}
        for name in ("config", "component_tree", "params", "meta", "data"):
            if isinstance(renamed.get(name), str):  # the seed lets JSON columns be JSON text
                try:
                    renamed[name] = json.loads(renamed[name]) if renamed[name].strip() else None
                except json.JSONDecodeError as exc:
                    problems.append(DataError(f"invalid JSON text: {exc.msg}", _at(where, name)))
        if key == "page_configs" and "level" in renamed:
            renamed["level"] = clamp_level(renamed["level"])
        rows[key].append((renamed, where))
    media_index = folder / _MEDIA_INDEX
    if media_index.is_file():
        name = relpath(media_index, root)
        node = compose_all(read_text(media_index, name, DOCUMENT_LIMITS), name, limits=DOCUMENT_LIMITS)
        index = construct(node[0], name) if node else {}
        records = index.get("records") if isinstance(index, dict) else None
        if not isinstance(records, list):
            problems.append(DataError("'records' must be a list", Location(file=name, pointer="/records")))
            records = []
        rows["media"] = [(rec, Location(file=name, pointer=f"/records/{i}")) for i, rec in enumerate(records)]
    if problems:
        raise TransferError(problems)
    return Document(source, (tenant, twhere), rows, folder / "media")


_SEED_COLUMNS = {v: k for k, v in _SEED_NAMES.items()}


def _seed_entries(folder: Path, root: Path | None) -> list[tuple[str, dict[str, Any], Location]]:
    from .db.seed import parse_seed

    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise DataError("no seed files (*.yaml) in this folder", Location(file=relpath(folder, root)))
    return [e for path in files for e in parse_seed(path, root)]


# ---------------------------------------------------------------------------------------------------- checking


def _at(where: Location, *parts: str) -> Location:
    pointer = (where.pointer or "") + "".join("/" + _escape(p) for p in parts)
    return Location(file=where.file, line=where.line, pointer=pointer)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _column_problem(column: Any, value: Any) -> str | None:
    """Why `value` cannot go into `column` (by the column's own type), or None."""
    if value is None:
        required = not column.nullable and column.default is None and not column.primary_key
        return "must not be null" if required else None
    kind = column.type
    if isinstance(kind, (JSON, JSONDocument)):
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return f"not a JSON value: {exc}"
        return None
    if isinstance(kind, Boolean):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(kind, Integer):  # BigInteger is one
        return None if isinstance(value, int) and not isinstance(value, bool) else "must be an integer"
    if isinstance(kind, (String, Text)):
        if not isinstance(value, str):
            return "must be a string"
        length = getattr(kind, "length", None)
        if length and len(value) > length:
            return f"longer than {length} characters"
        return None
    return None  # pragma: no cover - every exported column has one of the types above


def _check_row(section: Section, row: Any, where: Location, problems: list[DataError]) -> None:
    if not isinstance(row, dict):
        problems.append(DataError("a row must be a mapping", where))
        return
    table = section.model.__table__
    allowed = set(section.columns) | _EXTRA.get(section.key, set())
    for key in row:
        if key not in allowed:
            problems.append(DataError(f"unknown field {key!r}", _at(where, str(key))))
    for name in section.columns:
        if name in table.c:
            problem = _column_problem(table.c[name], row.get(name))
            if problem:
                problems.append(DataError(f"{name}: {problem}", _at(where, name)))
    rule = _RULES.get(section.key)
    if rule is not None:
        for name, message in rule(row):
            problems.append(DataError(message, _at(where, name)))


def _user_rules(row: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if not row.get("username"):
        yield "username", "missing required field 'username'"
    role = row.get("role", "user")
    if role not in ROLE_LEVELS:
        yield "role", f"unknown role {role!r} (one of {', '.join(ROLE_LEVELS)})"
    stored = row.get("password_hash")
    if stored is not None and (not isinstance(stored, str) or not stored.startswith("$argon2")):
        yield "password_hash", "password_hash must be an argon2 hash ($argon2id$…)"
    if "password" in row:
        yield "password", "a document holds password hashes (password_hash), never passwords"


def _page_rules(row: dict[str, Any]) -> Iterator[tuple[str, str]]:
    path = row.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        yield "path", f"path must start with '/': {path!r}"
    level = row.get("level", 0)
    if isinstance(level, int) and not 0 <= level <= 5:
        yield "level", f"level must be 0..5, not {level}"


def _record_rules(row: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for name in ("package", "entity", "id"):
        if not row.get(name):
            yield name, f"missing required field {name!r}"
    if not isinstance(row.get("data"), dict):
        yield "data", "'data' must be a mapping"


def _package_rules(row: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if not row.get("package"):
        yield "package", "missing required field 'package'"


def _media_rules(row: dict[str, Any]) -> Iterator[tuple[str, str]]:
    mid = row.get("id")
    if not isinstance(mid, str) or not _MEDIA_ID.match(mid):
        yield "id", "a media id is the SHA-256 of its bytes (64 hex digits), optionally -<12 hex digits>"
        return
    data = row.get("content_base64")
    if data is None:
        return
    try:
        raw = base64.b64decode(data, validate=True) if isinstance(data, str) else None
    except ValueError:
        raw = None
    if raw is None:
        yield "content_base64", "not base64 text"
    elif hashlib.sha256(raw).hexdigest() != mid[:64]:
        yield "content_base64", "the bytes do not match the id (their SHA-256)"
    elif row.get("size") != len(raw):
        yield "size", f"size {row.get('size')!r} differs from the {len(raw)} bytes given"


_RULES = {"users": _user_rules, "page_configs": _page_rules, "entity_records": _record_rules,
          "installed_packages": _package_rules, "package_data": _package_rules, "media": _media_rules}


# ---------------------------------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    slug: str
    counts: dict[str, int] = field(default_factory=dict)
    replaced: bool = False


def import_tenant(engine: Engine, doc: Document, *, as_slug: str | None = None, replace: bool = False,
                  media_dir: Path | None = None) -> ImportResult:
    """Check the whole document, then write it in one transaction (all or nothing). TransferError lists what
    is wrong; an existing tenant is an error unless `replace`."""
    tenant, twhere = doc.tenant
    problems: list[DataError] = []
    for name in TENANT_COLUMNS:  # all but the slug may be left out
        problem = _column_problem(Tenant.__table__.c[name], tenant[name]) if tenant.get(name) is not None else None
        if problem:
            problems.append(DataError(f"{name}: {problem}", _at(twhere, name)))
    for key in tenant:
        if key not in TENANT_COLUMNS:
            problems.append(DataError(f"unknown field {key!r}", _at(twhere, str(key))))
    old_slug = tenant.get("slug")
    if not isinstance(old_slug, str) or not old_slug:
        problems.append(DataError("missing required field 'slug'", _at(twhere, "slug")))
        old_slug = ""
    slug = as_slug or old_slug
    if slug and tenant_problem(slug):
        problems.append(DataError(str(tenant_problem(slug)), _at(twhere, "slug") if not as_slug else Location()))
    for section in SECTIONS:
        seen: dict[tuple[str, ...], dict[tuple[Any, ...], str]] = {u: {} for u in section.unique}
        for row, where in doc.rows[section.key]:
            _check_row(section, row, where, problems)
            if not isinstance(row, dict):
                continue
            for unique, values in seen.items():
                value = tuple(json.dumps(row.get(c), sort_keys=True) for c in unique)
                if value in values:
                    problems.append(DataError(f"{'/'.join(unique)} repeats the row at {values[value]}",
                                              _at(where, unique[-1])))
                else:
                    values[value] = where.pointer or str(where)
    if problems:
        raise TransferError(problems)
    rename = _Renamer(old_slug, slug)
    tenant_row = {"slug": slug, "name": tenant.get("name") or slug,
                  "domains": [rename.domain(d) for d in tenant.get("domains") or []],
                  "settings": tenant.get("settings") or {}, "created_at": tenant.get("created_at") or now_ms()}
    plan = {s.key: [_row_for(s, row, slug, rename) for row, _ in doc.rows[s.key]] for s in SECTIONS}
    credentials = [{"user_id": rename.user(row["id"], row["username"]), "password_hash": row["password_hash"]}
                   for row, _ in doc.rows["users"] if row.get("password_hash")]
    disabled = [{"user_id": rename.user(row["id"], row["username"]), "tenant": slug, "disabled_at": now_ms()}
                for row, _ in doc.rows["users"] if row.get("disabled") is True]
    result = ImportResult(slug, {k: len(v) for k, v in plan.items()})
    try:
        with engine.connect() as conn:
            conn.begin()
            _write(conn, doc, slug, tenant_row, plan, credentials, result, replace, problems, disabled)
            written = _store_media(doc, plan["media"], old_slug, slug, media_dir)
            try:
                conn.commit()
            except BaseException:
                for path in written:
                    path.unlink(missing_ok=True)
                raise
    except DBAPIError as exc:
        from .db.engine import database_error

        raise database_error(exc, engine.url, "cannot import into") from None
    return result


def _write(conn: Any, doc: Document, slug: str, tenant_row: dict[str, Any], plan: dict[str, list[dict[str, Any]]],
           credentials: list[dict[str, Any]], result: ImportResult, replace: bool, problems: list[DataError],
           disabled: list[dict[str, Any]] | None = None) -> None:
    """Every row of the document, inside the caller's transaction."""
    existing = conn.execute(select(Tenant.slug).where(Tenant.slug == slug)).first()
    if existing and not replace:
        raise DataError(f"tenant {slug!r} exists; give --replace to overwrite it, or --as NEW_SLUG to import a copy",
                        Location(file=doc.source))
    _check_global_keys(conn, slug, plan, doc, problems)
    if problems:
        raise TransferError(problems)
    if existing:
        result.replaced = True
        _clear_tenant(conn, slug)
        conn.execute(update(Tenant).where(Tenant.slug == slug).values(**tenant_row))
    else:
        conn.execute(insert(Tenant), [tenant_row])
    for section in SECTIONS:
        if plan[section.key]:
            _insert(conn, section, plan[section.key], doc)
    if credentials:
        conn.execute(insert(Credential), [{**c, "changed_at": now_ms()} for c in credentials])
    if disabled:
        conn.execute(insert(DisabledUser), disabled)
    conn.execute(insert(AuditEntry), [{"tenant": slug, "actor": None, "action": "import", "target": f"tenant:{slug}",
                                       "before": None, "after": {"source": doc.source, "counts": result.counts}}])


class _Renamer:
    """What changes with the slug: globally keyed ids (users, page configs) and domains named after the tenant."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def _id(self, value: str, limit: int) -> str:
        if self.old == self.new:
            return value
        renamed = value.replace(self.old, self.new) if self.old and self.old in value else ""
        if not renamed or len(renamed) > limit:
            renamed = hashlib.sha1(f"{self.new}\x1f{value}".encode()).hexdigest()[:20]
        return renamed

    def user(self, uid: Any, username: str) -> str:
        return self._id(str(uid) if uid else _stable_user_id(self.old, username), 64)

    def page(self, pid: Any, path: str) -> str:
        base = str(pid) if pid else f"page_{self.old}_{path.strip('/').replace('/', '_') or 'root'}"
        return self._id(base, 128)

    def domain(self, domain: Any) -> Any:
        if self.old == self.new or not isinstance(domain, str):
            return domain
        first, dot, rest = domain.partition(".")
        return f"{self.new}{dot}{rest}" if first.lower() == self.old.lower() else domain


def _stable_user_id(tenant: str, username: str) -> str:
    return hashlib.sha1(f"{tenant}\x1f{username}".encode()).hexdigest()[:20]  # the seed's rule


def _row_for(section: Section, row: dict[str, Any], slug: str, rename: _Renamer) -> dict[str, Any]:
    table = section.model.__table__
    out: dict[str, Any] = {"tenant": slug}
    for name in section.columns:
        if name not in table.c:
            continue
        value = row.get(name)
        column = table.c[name]
        if value is None and column.default is not None and not column.nullable:
            default: Any = column.default
            value = default.arg(None) if default.is_callable else default.arg
        out[name] = value
    if section.key == "users":
        out["id"] = rename.user(row.get("id"), str(row["username"]))
        out["role"] = row.get("role") or "user"
    elif section.key == "page_configs":
        out["id"] = rename.page(row.get("id"), str(row["path"]))
    if "created_by" in out and out["created_by"]:
        out["created_by"] = rename.user(out["created_by"], "")
    if section.key == "entity_records":
        out["data"] = {**row["data"], "id": row["id"]}
    return out


def _check_global_keys(conn: Any, slug: str, plan: dict[str, list[dict[str, Any]]], doc: Document,
                       problems: list[DataError]) -> None:
    """User and page-config ids are unique across tenants: one another tenant holds is a located problem."""
    for key, model in (("users", User), ("page_configs", PageConfig)):
        ids = [row["id"] for row in plan[key]]
        held = dict(conn.execute(select(model.id, model.tenant).where(model.id.in_(ids), model.tenant != slug)).all()
                    ) if ids else {}
        for row, (_, where) in zip(plan[key], doc.rows[key], strict=False):
            if row["id"] in held:
                problems.append(DataError(f"id {row['id']!r} belongs to tenant {held[row['id']]!r}; import with "
                                          "--as to get ids of its own", _at(where, "id")))


def _clear_tenant(conn: Any, slug: str) -> None:
    """Every row of the tenant, children first (foreign keys hold on every database, cascades or not)."""
    users = select(User.id).where(User.tenant == slug).scalar_subquery()
    conn.execute(delete(Session).where(Session.tenant == slug))
    conn.execute(delete(Credential).where(Credential.user_id.in_(users)))
    conn.execute(delete(DisabledUser).where(DisabledUser.user_id.in_(users)))
    conn.execute(delete(PasswordReset).where(PasswordReset.user_id.in_(users)))
    for model in (EntityRecord, MediaAsset, PackageData, PageConfig, InstalledPackage, User):
        conn.execute(delete(model).where(model.tenant == slug))


def _insert(conn: Any, section: Section, rows: list[dict[str, Any]], doc: Document) -> None:
    try:
        with conn.begin_nested():
            conn.execute(insert(section.model), rows)
    except IntegrityError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        raise DataError(f"{section.key}: refused by the database: {reason}",
                        Location(file=doc.source, pointer=f"/{section.key}")) from None


def _store_media(doc: Document, assets: list[dict[str, Any]], old_slug: str, slug: str,
                 media_dir: Path | None) -> list[Path]:
    """Put each asset's bytes in the media store (from the document, the seed folder, or the source tenant's
    folder of this store); the files created, so a failed commit can take them back."""
    if media_dir is None or not assets:
        return []
    given = {row["id"][:64]: row["content_base64"] for row, _ in doc.rows["media"] if row.get("content_base64")}
    folder = media_dir / slug
    written: list[Path] = []
    for asset in assets:
        digest = asset["id"][:64]
        target = folder / digest
        if target.exists():
            continue
        if digest in given:
            data = base64.b64decode(given[digest])
        elif doc.media_files is not None and (doc.media_files / digest).is_file():
            data = (doc.media_files / digest).read_bytes()
        elif (media_dir / old_slug / digest).is_file():
            data = (media_dir / old_slug / digest).read_bytes()
        else:
            continue  # metadata only: the bytes travel separately
        if hashlib.sha256(data).hexdigest() != digest:
            raise DataError(f"media {asset['id']}: the bytes do not match the id", Location(file=doc.source))
        folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(target, data)
        written.append(target)
    return written
