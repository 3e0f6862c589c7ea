"""mbsite db backup / db restore: consistent snapshots while others write, checked restores, same site after."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import textwrap
import uuid
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner, Result
from support import copy_site, output_tree

from mbsite.builder import Builder
from mbsite.cli import main
from mbsite.config import load_config
from mbsite.db import backup as backup_module
from mbsite.reporter import BufferReporter

DATA_TABLES = ("tenants", "users", "credentials", "page_configs", "installed_packages", "package_data",
               "entity_records", "media_assets")

def run(site: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--site", str(site)])


def db_of(site: Path) -> Path:
    return site / ".mbsite" / "mbsite.sqlite3"


def rows(db: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in DATA_TABLES}
    finally:
        con.close()


def output(site: Path) -> dict[str, bytes]:
    return output_tree(site / "build")


def build(site: Path) -> None:
    result = Builder(load_config(site).with_options(workers=1), BufferReporter()).run()
    assert result.summary["errors"] == 0, [str(p) for p in result.problems if p.severity == "error"]


def add_media(site: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    folder = site / ".mbsite" / "media" / "t1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / digest).write_bytes(data)
    con = sqlite3.connect(db_of(site))
    con.execute("INSERT INTO media_assets (tenant, id, filename, content_type, size, created_at) "
                "VALUES ('t1', ?, 'a.png', 'image/png', ?, 1)", (digest, len(data)))
    con.commit()
    con.close()
    return digest


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """tests/sites/backup built, with one media file: tenant t1, a user, a products page and two product records."""
    site = copy_site("backup", tmp_path / "site")
    build(site)
    add_media(site, b"\x89PNG\r\n\x1a\nfirst")
    return site


def test_restore_then_build_gives_the_same_site(site: Path, tmp_path: Path) -> None:
    build(site)
    site_before, rows_before = output(site), rows(db_of(site))
    archive = tmp_path / "b.tar.gz"
    made = run(site, "db", "backup", str(archive))
    assert made.exit_code == 0, made.output
    # Everything changes after the backup: a record, a page, a user, the media.
    con = sqlite3.connect(db_of(site))
    con.execute("UPDATE entity_records SET data = json_set(data, '$.name', 'Quill') WHERE id = 'p1'")
    con.execute("DELETE FROM page_configs")
    con.execute("DELETE FROM users")
    con.commit()
    con.close()
    add_media(site, b"\x89PNG\r\n\x1a\nsecond")
    build(site)
    assert output(site) != site_before
    restored = run(site, "db", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert rows(db_of(site)) == rows_before
    assert sorted(p.name for p in (site / ".mbsite" / "media" / "t1").iterdir()) == \
           [hashlib.sha256(b"\x89PNG\r\n\x1a\nfirst").hexdigest()]
    build(site)
    assert output(site) == site_before


def test_the_archive_holds_the_database_the_media_and_a_manifest(site: Path, tmp_path: Path) -> None:
    assert run(site, "db", "backup", str(tmp_path / "b.tar")).exit_code == 0
    with tarfile.open(tmp_path / "b.tar") as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names[:2] == ["manifest.json", "mbsite.sqlite3"] and len(names) == 3
    assert manifest["schema_version"] == 1 and manifest["dialect"] == "sqlite"
    assert manifest["tables"]["entity_records"] == 2 and len(manifest["media"]) == 1


WRITER = textwrap.dedent("""
    import sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
    con.execute("PRAGMA busy_timeout=30000")
    n = 0
    open(sys.argv[2], "w").close()
    while True:
        # Each transaction moves one unit between two records and adds a pair of records: in every committed
        # state the prices sum to 7 and the records come in pairs.
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE entity_records SET data = json_set(data, '$.price', json_extract(data, '$.price') - 1) "
                    "WHERE id = 'p1'")
        con.execute("UPDATE entity_records SET data = json_set(data, '$.price', json_extract(data, '$.price') + 1) "
                    "WHERE id = 'p2'")
        for side in ('a', 'b'):
            con.execute("INSERT INTO entity_records (tenant, package, entity, id, data, version, created_at, "
                        "updated_at) VALUES ('t1', 'shop', 'note', ?, '{\\"price\\": 0}', 1, 0, 0)", (f"{n}{side}",))
        con.execute("COMMIT")
        n += 1
""")


def test_a_backup_taken_while_another_process_writes_is_consistent(site: Path, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    ready = tmp_path / "ready"
    writer = subprocess.Popen([sys.executable, str(script), str(db_of(site)), str(ready)])
    try:
        while not ready.exists():
            assert writer.poll() is None
        seen = set()
        for i in range(4):
            archive = tmp_path / f"b{i}.tar"
            result = run(site, "db", "backup", str(archive))
            assert result.exit_code == 0, result.output
            unpacked = tmp_path / f"u{i}"
            with tarfile.open(archive) as tar:
                tar.extract("mbsite.sqlite3", unpacked, filter="data")
            con = sqlite3.connect(unpacked / "mbsite.sqlite3")
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            total = con.execute("SELECT SUM(json_extract(data, '$.price')) FROM entity_records "
                                "WHERE entity = 'product'").fetchone()[0]
            notes = con.execute("SELECT COUNT(*) FROM entity_records WHERE entity = 'note'").fetchone()[0]
            con.close()
            assert total == 7 and notes % 2 == 0
            seen.add(notes)
        assert writer.poll() is None  # the writer was never stopped by the backups
    finally:
        writer.terminate()
        writer.wait()
    assert len(seen) > 1  # the backups really ran between writes


# ------------------------------------------------------------------------------------------- refused restores


def damaged(tmp_path: Path, archive: Path, change: Callable[[Path], None]) -> Path:
    """A copy of the archive with one of its files changed."""
    folder = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    change(folder)
    out = tmp_path / "damaged.tar"
    with tarfile.open(out, "w") as tar:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                tar.add(p, p.relative_to(folder).as_posix())
    return out


def _newer_schema(folder: Path) -> None:
    con = sqlite3.connect(folder / "mbsite.sqlite3")
    con.execute("UPDATE build_state SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _truncated_db(folder: Path) -> None:
    db = folder / "mbsite.sqlite3"
    db.write_bytes(db.read_bytes()[: 4096 * 3])


def _lying_manifest(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["tables"]["entity_records"] = 3
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _changed_media(folder: Path) -> None:
    for p in (folder / "media").rglob("*"):
        if p.is_file():
            p.write_bytes(b"other bytes")


def _no_manifest(folder: Path) -> None:
    (folder / "manifest.json").unlink()


@pytest.mark.parametrize("change, message", [
    (_newer_schema, "schema version 99; this mbsite knows up to 1"),
    (_truncated_db, "damaged"),
    (_lying_manifest, "table entity_records: 2 rows, the manifest says 3"),
    (_changed_media, "is missing or damaged"),
    (_no_manifest, "no manifest.json"),
], ids=["newer-schema", "truncated-database", "row-counts", "media-hash", "no-manifest"])
def test_a_bad_backup_is_refused_and_changes_nothing(site: Path, tmp_path: Path, change: Callable[[Path], None],
                                                    message: str) -> None:
    good = tmp_path / "good.tar"
    assert run(site, "db", "backup", str(good)).exit_code == 0
    con = sqlite3.connect(db_of(site))
    con.execute("DELETE FROM entity_records WHERE id = 'p2'")
    con.commit()
    con.close()
    before, media = rows(db_of(site)), sorted((site / ".mbsite" / "media").rglob("*"))
    result = run(site, "db", "restore", str(damaged(tmp_path, good, change)))
    assert result.exit_code == 1
    assert message in result.output and "damaged.tar" in result.output, result.output
    assert "Traceback" not in result.output
    assert rows(db_of(site)) == before
    assert sorted((site / ".mbsite" / "media").rglob("*")) == media
    assert not [p for p in (site / ".mbsite").iterdir() if p.name.startswith(".mbsite-restore-")]


def test_a_restore_that_fails_at_the_swap_puts_the_media_back(site: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "b.tar"
    assert run(site, "db", "backup", str(archive)).exit_code == 0
    add_media(site, b"\x89PNG\r\n\x1a\nlater")
    before, media = rows(db_of(site)), sorted((site / ".mbsite" / "media").rglob("*"))

    def refuse(source: Path, live: Path) -> None:
        from mbsite.errors import DatabaseError

        raise DatabaseError("the database is locked")

    monkeypatch.setattr(backup_module, "_sqlite_replace", refuse)
    result = run(site, "db", "restore", str(archive))
    assert result.exit_code == 1 and "locked" in result.output
    assert rows(db_of(site)) == before
    assert sorted((site / ".mbsite" / "media").rglob("*")) == media


def test_an_open_connection_sees_the_restored_database(site: Path, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    assert run(site, "db", "backup", str(archive)).exit_code == 0
    reader = sqlite3.connect(db_of(site))
    reader.execute("DELETE FROM entity_records")
    reader.commit()
    assert run(site, "db", "restore", str(archive)).exit_code == 0
    assert reader.execute("SELECT COUNT(*) FROM entity_records").fetchone() == (2,)
    reader.close()


# ------------------------------------------------------------------------------------------- PostgreSQL

PG_URL = os.environ.get("MBSITE_TEST_POSTGRES_URL")


@pytest.fixture
def pg_database():
    """A database of its own (pg_dump and pg_restore work on whole databases)."""
    if not PG_URL:
        pytest.skip("MBSITE_TEST_POSTGRES_URL is not set; PostgreSQL tests need a server")
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from mbsite.db.engine import open_engine, resolve_url

    name = "mb_backup_" + uuid.uuid4().hex[:10]
    admin = open_engine(resolve_url(Path("."), PG_URL)).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(resolve_url(Path("."), PG_URL)).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.mark.postgres
def test_postgres_backup_and_restore(site: Path, tmp_path: Path, pg_database: str) -> None:
    from sqlalchemy import text

    from mbsite.db.engine import ensure_schema, open_engine
    from mbsite.db.seed import load_seed

    engine = open_engine(pg_database)
    ensure_schema(engine)
    load_seed(engine, site / "content")
    archive = tmp_path / "pg.tar"
    made = CliRunner().invoke(main, ["db", "backup", str(archive), "--site", str(site), "--db", pg_database])
    assert made.exit_code == 0, made.output
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM entity_records"))
        conn.execute(text("UPDATE build_state SET value = '99' WHERE key = 'schema_version'"))
    newer = tmp_path / "newer.tar"
    assert CliRunner().invoke(main, ["db", "backup", str(newer), "--site", str(site), "--db", pg_database]
                              ).exit_code == 0
    refused = CliRunner().invoke(main, ["db", "restore", str(newer), "--site", str(site), "--db", pg_database])
    assert refused.exit_code == 1 and "schema version 99" in refused.output
    with engine.begin() as conn:
        conn.execute(text("UPDATE build_state SET value = '1' WHERE key = 'schema_version'"))
    engine.dispose()
    restored = CliRunner().invoke(main, ["db", "restore", str(archive), "--site", str(site), "--db", pg_database])
    assert restored.exit_code == 0, restored.output
    engine = open_engine(pg_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM entity_records")).scalar() == 2
        assert conn.execute(text("SELECT value FROM build_state WHERE key = 'schema_version'")).scalar() == "1"
    with engine.begin() as conn:  # the triggers came back with the schema
        conn.execute(text("UPDATE entity_records SET data = '{}' WHERE id = 'p1'"))
        assert conn.execute(text("SELECT COUNT(*) FROM changes WHERE row_key = 'shop/product/p1'")).scalar() >= 2
    engine.dispose()
