"""The whole database and the media store → one backup archive, and an archive → the database and media again.

A backup is a tar file (gzip-compressed when its name ends in .gz or .tgz) holding `manifest.json` (format,
schema version, row counts, the SHA-256 of every media file), the database (`mbsite.sqlite3`, or `database.pgdump`
from pg_dump) and `media/<tenant>/<sha256>`.

SQLite is copied with its online backup API in one step: the copy is one consistent state of the database, taken
while builds and functions go on writing (WAL mode lets them). Media files are immutable (named by their hash),
so they are copied before the snapshot and completed after it with the bytes of assets uploaded meanwhile.

A restore never leaves a half-restored database: the archive is unpacked into a temporary folder beside the
database and checked (integrity, schema version, row counts, media hashes) before anything live is touched; the
database is then replaced in one transaction (SQLite's backup API again, into the live file, so open
connections see the old or the new database, never a mix), and the media folder by a rename. On PostgreSQL the
dump is pg_dump's custom format and pg_restore replays it in a single transaction, after the schema version
recorded in the dump itself has been read and checked.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from ..errors import DatabaseError, DataError, Location
from .engine import SCHEMA_VERSION, ensure_schema, open_engine, safe_url
from .models import Base, now_ms

FORMAT = "mbsite-backup"
FORMAT_VERSION = 1
SQLITE_NAME = "mbsite.sqlite3"
PG_NAME = "database.pgdump"
_MEDIA_NAME = re.compile(r"^media/[A-Za-z0-9][A-Za-z0-9._-]{0,62}/[0-9a-f]{64}$")  # a tenant slug, a hash


@dataclass
class BackupResult:
    path: Path
    schema_version: int
    tables: dict[str, int]
    media_files: int
    warnings: list[str] = field(default_factory=list)


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise DatabaseError(f"cannot back up or restore {safe_url(url)}: not a SQLite file")
    return Path(database)


def _dialect(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise DatabaseError(f"backups of {name} databases are not supported ({safe_url(url)})")
    return name


# ---------------------------------------------------------------------------------------------------- backup


def backup(url: str, media_dir: Path, target: Path) -> BackupResult:
    """Write a consistent snapshot of the database at `url` and the media store to the archive `target`."""
    dialect = _dialect(url)
    target = target.resolve()
    if not target.parent.is_dir():
        raise DataError("the folder of the backup file does not exist", Location(file=str(target)))
    stage = Path(tempfile.mkdtemp(prefix=".mbsite-backup-", dir=target.parent))
    try:
        copied = _copy_media(media_dir, stage / "media")  # before the snapshot: see the module docstring
        if dialect == "sqlite":
            db_name = SQLITE_NAME
            _sqlite_snapshot(_sqlite_file(url), stage / db_name)
            version, tables, assets = _sqlite_facts(stage / db_name)
        else:
            db_name = PG_NAME
            version, tables, assets = _pg_snapshot(url, stage / db_name)
        warnings = []
        for tenant, digest in assets:  # uploaded while the media were being copied
            rel = f"media/{tenant}/{digest}"
            if rel not in copied:
                source = media_dir / tenant / digest
                if source.is_file():
                    copied[rel] = _copy_file(source, stage / rel)
                else:
                    warnings.append(f"media {tenant}/{digest}: no bytes in the media store")
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "dialect": dialect, "database": db_name,
                    "schema_version": version, "created_at": now_ms(), "tables": tables, "media": copied}
        _write_archive(stage, db_name, manifest, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return BackupResult(target, version, tables, len(copied), warnings)


def _sqlite_snapshot(source: Path, dest: Path) -> None:
    if not source.is_file():
        raise DatabaseError(f"no database at {source}")
    src = sqlite3.connect(source, timeout=30)  # not read-only: a WAL reader may need to create the -shm file
    out = sqlite3.connect(dest)
    try:
        src.backup(out)  # all pages in one step: one read transaction, one consistent state
        out.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot back up {source}: {exc}") from None
    finally:
        out.close()
        src.close()


def _read_only(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"  # percent-encoded: a folder named `a?b#c` stays a path


def _sqlite_facts(path: Path) -> tuple[int, dict[str, int], list[tuple[str, str]]]:
    """Schema version, row count per table and media assets (tenant, sha256) of a SQLite file."""
    con = sqlite3.connect(_read_only(path), uri=True)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = sorted(set(Base.metadata.tables) - names)
        if missing:
            raise DataError(f"not an mbsite database: tables missing: {', '.join(missing)}")
        row = con.execute("SELECT value FROM build_state WHERE key = 'schema_version'").fetchone()
        tables = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in sorted(Base.metadata.tables)}
        assets = sorted({(t, i[:64]) for t, i in con.execute("SELECT tenant, id FROM media_assets")})
    except sqlite3.DatabaseError as exc:
        raise DataError(f"not a readable SQLite database: {exc}") from None
    finally:
        con.close()
    return int(row[0]) if row else 0, tables, assets


def _copy_media(media_dir: Path, dest: Path) -> dict[str, str]:
    copied: dict[str, str] = {}
    if not media_dir.is_dir():
        return copied
    for tenant in sorted(p for p in media_dir.iterdir() if p.is_dir() and not p.is_symlink()):
        for path in sorted(tenant.iterdir()):
            rel = f"media/{tenant.name}/{path.name}"
            if _MEDIA_NAME.match(rel) and path.is_file() and not path.is_symlink():
                copied[rel] = _copy_file(path, dest / tenant.name / path.name)
    return copied


def _copy_file(source: Path, dest: Path) -> str:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    return hashlib.sha256(dest.read_bytes()).hexdigest()


def _write_archive(stage: Path, db_name: str, manifest: dict[str, Any], target: Path) -> None:
    mode = "w:gz" if target.name.endswith((".gz", ".tgz")) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, mode) as tar:  # type: ignore[call-overload]
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime = len(data), manifest["created_at"] // 1000
            tar.addfile(info, io.BytesIO(data))
            tar.add(stage / db_name, db_name)
            for rel in sorted(manifest["media"]):
                tar.add(stage / rel, rel)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------------- restore


def restore(url: str, media_dir: Path, archive: Path) -> BackupResult:
    """Replace the database at `url` and the media store with the archive's, after checking all of it."""
    dialect = _dialect(url)
    source = str(archive)
    if not archive.is_file():
        raise DataError("no such backup file", Location(file=source))
    base = _sqlite_file(url).parent if dialect == "sqlite" else media_dir.parent
    if base.name == ".mbsite":  # the site's own state folder, as opening the database would make it
        base.mkdir(parents=True, exist_ok=True)
    if not base.is_dir():
        raise DatabaseError(f"the folder of the database {safe_url(url)} does not exist")
    stage = Path(tempfile.mkdtemp(prefix=".mbsite-restore-", dir=base))
    try:
        manifest = _unpack(archive, stage, source)
        if manifest["dialect"] != dialect:
            raise DataError(f"a {manifest['dialect']} backup cannot be restored into a {dialect} database",
                            Location(file=source, pointer="/dialect"))
        _check_schema_version(manifest["schema_version"], source)
        db_file = stage / manifest["database"]
        if dialect == "sqlite":
            _check_sqlite_copy(db_file, manifest, source)
        else:
            found = _pg_dump_version(db_file)
            if found != manifest["schema_version"]:
                raise DataError(f"the dump holds schema version {found}, the manifest says "
                                f"{manifest['schema_version']}", Location(file=source))
        _swap(url, dialect, db_file, stage / "media", media_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return BackupResult(archive, SCHEMA_VERSION, manifest["tables"], len(manifest["media"]))


def _unpack(archive: Path, stage: Path, source: str) -> dict[str, Any]:
    """Only the names a backup holds, as regular files, inside the stage (no links, no `..`)."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            names = {m.name for m in members}
            if "manifest.json" not in names:
                raise DataError("not an mbsite backup (no manifest.json)", Location(file=source))
            for m in members:
                if m.isdir():
                    continue
                if not m.isfile() or not (m.name in ("manifest.json", SQLITE_NAME, PG_NAME) or _MEDIA_NAME.match(m.name)):
                    raise DataError(f"unexpected entry {m.name!r} in the backup", Location(file=source))
                handle = tar.extractfile(m)
                assert handle is not None
                dest = stage / m.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                with handle, open(dest, "wb") as out:
                    shutil.copyfileobj(handle, out)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"not a readable backup archive: {exc}", Location(file=source)) from None
    try:
        manifest = json.loads((stage / "manifest.json").read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"manifest.json: invalid JSON: {exc}", Location(file=source)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DataError("not an mbsite backup (manifest format)", Location(file=source, pointer="/format"))
    if manifest.get("version") != FORMAT_VERSION:
        raise DataError(f"unsupported backup version {manifest.get('version')!r}",
                        Location(file=source, pointer="/version"))
    for key, kind in (("dialect", str), ("database", str), ("schema_version", int), ("tables", dict),
                      ("media", dict)):
        if not isinstance(manifest.get(key), kind):
            raise DataError(f"manifest: {key!r} missing or of the wrong type", Location(file=source, pointer=f"/{key}"))
    if manifest["database"] not in names:
        raise DataError(f"the backup lacks its database file {manifest['database']!r}", Location(file=source))
    for rel, digest in manifest["media"].items():
        path = stage / rel
        if not _MEDIA_NAME.match(rel) or not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise DataError(f"media file {rel} is missing or damaged", Location(file=source, pointer="/media"))
    return manifest


def _check_schema_version(version: int, source: str) -> None:
    if version > SCHEMA_VERSION:
        raise DataError(f"the backup has schema version {version}; this mbsite knows up to {SCHEMA_VERSION} "
                        "(restore it with a newer mbsite)", Location(file=source, pointer="/schema_version"))
    if version < 1:
        raise DataError("the backup holds no schema version", Location(file=source, pointer="/schema_version"))


def _check_sqlite_copy(path: Path, manifest: dict[str, Any], source: str) -> None:
    try:
        con = sqlite3.connect(path)
        try:
            status = con.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise DataError(f"the database in the backup is damaged: {exc}", Location(file=source)) from None
    if status != "ok":
        raise DataError(f"the database in the backup is damaged: {status}", Location(file=source))
    version, tables, _ = _sqlite_facts(path)
    if version != manifest["schema_version"]:
        raise DataError(f"the database holds schema version {version}, the manifest says "
                        f"{manifest['schema_version']}", Location(file=source, pointer="/schema_version"))
    for name, count in manifest["tables"].items():
        if tables.get(name) != count:
            raise DataError(f"table {name}: {tables.get(name)} rows, the manifest says {count}",
                            Location(file=source, pointer=f"/tables/{name}"))
    if version < SCHEMA_VERSION:  # an older backup is upgraded in the stage, before it goes live
        engine = open_engine(f"sqlite:///{path}")
        try:
            ensure_schema(engine)
        finally:
            engine.dispose()


def _swap(url: str, dialect: str, db_file: Path, staged_media: Path, media_dir: Path) -> None:
    """Media folder by rename (kept aside until the database is in), then the database in one transaction."""
    staged_media.mkdir(exist_ok=True)
    media_dir.parent.mkdir(parents=True, exist_ok=True)
    aside = media_dir.with_name(f".{media_dir.name}-before-restore-{os.getpid()}")
    had_media = media_dir.exists()
    if had_media:
        os.replace(media_dir, aside)
    os.replace(staged_media, media_dir)
    try:
        if dialect == "sqlite":
            _sqlite_replace(db_file, _sqlite_file(url))
        else:
            _pg_restore(url, db_file)
    except BaseException:
        shutil.rmtree(media_dir, ignore_errors=True)
        if had_media:
            os.replace(aside, media_dir)
        raise
    if had_media:
        shutil.rmtree(aside, ignore_errors=True)


def _sqlite_replace(source: Path, live: Path) -> None:
    src = sqlite3.connect(_read_only(source), uri=True)
    dest = sqlite3.connect(live, timeout=30)
    try:
        dest.execute("PRAGMA busy_timeout=30000")
        src.backup(dest)  # one write transaction on the live file: all pages or none
        dest.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot restore into {live}: {exc} (the database is unchanged)") from None
    finally:
        dest.close()
        src.close()


# ---------------------------------------------------------------------------------------------------- PostgreSQL


def _libpq_url(url: str) -> str:
    """The URL as libpq tools take it (without SQLAlchemy's driver name)."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _run(args: list[str], what: str, stdout: Any = None) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(args, stdout=stdout if stdout is not None else subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
    except FileNotFoundError:
        raise DatabaseError(f"{args[0]} not found: {what} needs the PostgreSQL client tools on PATH") from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise DatabaseError(f"{what} failed: {reason[-1] if reason else done.returncode}")
    return done


def _pg_snapshot(url: str, dest: Path) -> tuple[int, dict[str, int], list[tuple[str, str]]]:
    """pg_dump's custom format (one consistent snapshot: pg_dump reads in one repeatable-read transaction)."""
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}",
          f"--dbname={_libpq_url(url)}"], "pg_dump")
    version = _pg_dump_version(dest)
    tables = _pg_dump_counts(dest)
    assets = _pg_dump_assets(dest)
    return version, tables, assets


def _pg_table_copy(dump: Path, table: str) -> list[list[str]]:
    """The rows of one table as pg_restore prints them (COPY text format), without touching a database."""
    out = _run(["pg_restore", "--data-only", f"--table={table}", "--file=-", str(dump)], "pg_restore").stdout
    rows, inside = [], False
    for line in out.decode("utf-8", errors="replace").splitlines():
        if line.startswith("COPY "):
            inside = True
        elif inside and line == "\\.":
            inside = False
        elif inside:
            rows.append(line.split("\t"))
    return rows


def _pg_dump_version(dump: Path) -> int:
    for row in _pg_table_copy(dump, "build_state"):
        if row and row[0] == "schema_version":
            return int(row[1])
    return 0


def _pg_dump_counts(dump: Path) -> dict[str, int]:
    return {t: len(_pg_table_copy(dump, t)) for t in ("tenants", "users", "page_configs", "entity_records",
                                                     "media_assets")}


def _pg_dump_assets(dump: Path) -> list[tuple[str, str]]:
    return sorted({(r[0], r[1][:64]) for r in _pg_table_copy(dump, "media_assets") if len(r) > 1})


def _pg_restore(url: str, dump: Path) -> None:
    """The dump replayed over the database in one transaction (--clean drops what it recreates)."""
    _run(["pg_restore", "--clean", "--if-exists", "--single-transaction", "--no-owner", "--no-privileges",
          f"--dbname={_libpq_url(url)}", str(dump)], "pg_restore")
