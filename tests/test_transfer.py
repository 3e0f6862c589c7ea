"""mbsite export / import: one tenant as one document, imported all or nothing, building the same site."""
from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner, Result
from support import copy_site, output_tree

from mbsite.builder import Builder
from mbsite.cli import main
from mbsite.config import load_config
from mbsite.reporter import BufferReporter

REPO = Path(__file__).resolve().parent.parent
TABLES = ("tenants", "users", "credentials", "sessions", "page_configs", "installed_packages", "package_data",
          "entity_records", "media_assets", "audit_log", "changes")

def run(site: Path, *args: str, input: bytes | str | None = None) -> Result:
    return CliRunner().invoke(main, [*args, "--site", str(site)], input=input)


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table that an import may touch."""
    con = sqlite3.connect(db)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}
    finally:
        con.close()


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """tests/sites/transfer (two tenants in its seed; shop1 with users, a package, a page, package data and records)
    with its database created."""
    site = copy_site("transfer", tmp_path / "site")
    assert run(site, "db", "init").exit_code == 0
    return site


def db_of(site: Path) -> Path:
    return site / ".mbsite" / "mbsite.sqlite3"


# ------------------------------------------------------------------------------------------- round trip


def build(site: Path, full: bool = False):
    cfg = load_config(site).with_options(workers=2)
    result = Builder(cfg, BufferReporter(), full=full).run()
    assert result.summary["errors"] == 0, [str(p) for p in result.problems if p.severity == "error"]
    return result


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "content", site / "content")
    # A Markdown page restricted to a tenant by its front matter is a file of the site, not a row of the tenant:
    # the copy is named beside the original so both tenants have the same pages.
    post = site / "content" / "blog" / "spring-catalogue.md"
    post.write_text(post.read_text().replace("tenants: [acme]", "tenants: [acme, acme2]"))
    build(site, full=True)
    return site


def tenant_files(site: Path, tenant: str, original: str) -> dict[str, bytes]:
    """A tenant's output with its slug written as the original's."""
    return {rel: data.replace(tenant.encode(), original.encode())
            for rel, data in output_tree(site / "build" / tenant).items()}


def test_export_import_as_builds_the_same_site_modulo_the_slug(built_demo: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(built_demo, site)
    exported = run(site, "export", "acme")
    assert exported.exit_code == 0, exported.output
    imported = run(site, "import", "-", "--as", "acme2", input=exported.stdout)
    assert imported.exit_code == 0, imported.output
    assert "imported tenant acme2" in imported.stderr
    result = build(site)  # incremental: the change feed tells the build about the new tenant
    assert result.summary["rendered"] > 0
    original, copy = tenant_files(site, "acme", "acme"), tenant_files(site, "acme2", "acme")
    # The admin panel lists what an export does not carry (the audit log, every tenant): it differs by design.
    # So does the search index: its files are named by hashes of the indexed text, which names the tenant.
    original, copy = ({k: v for k, v in files.items() if "/admin/" not in k and "pagefind/" not in k}
                      for files in (original, copy))
    assert sorted(copy) == sorted(original)
    assert [k for k in original if original[k] != copy[k]] == []
    routes = json.loads((site / "build" / "acme2" / "routes.json").read_text())
    assert routes["domains"] == ["acme2.localhost"]  # the copy has a host name of its own


def test_an_import_lands_in_the_change_feed(small: Path) -> None:
    doc = run(small, "export", "shop1", "--format", "json").stdout
    before = snapshot(db_of(small))["changes"]
    assert run(small, "import", "-", "--as", "shop2", input=doc).exit_code == 0
    con = sqlite3.connect(db_of(small))
    events = con.execute("SELECT tbl, op FROM changes WHERE seq > ? AND tenant = 'shop2'",
                         (max(r[0] for r in before),)).fetchall()
    con.close()
    tables = {t for t, _ in events}
    assert {"tenants", "users", "page_configs", "installed_packages", "package_data", "entity_records"} <= tables
    assert sum(t == "entity_records" for t, _ in events) == 2


def test_key_order_and_values_survive_the_round_trip(small: Path, tmp_path: Path) -> None:
    for fmt, name in (("yaml", "t.yaml"), ("json", "t.json"), ("seed", "t-folder")):
        target = tmp_path / name
        assert run(small, "export", "shop1", "-o", str(target)).exit_code == 0
        slug = f"copy-{fmt}"
        result = run(small, "import", str(target), "--as", slug)
        assert result.exit_code == 0, result.output
        again = json.loads(run(small, "export", slug, "--format", "json").stdout)
        original = json.loads(run(small, "export", "shop1", "--format", "json").stdout)
        assert list(again["tenant"]["settings"]["layout"]) == ["b", "a"]
        assert list(again["page_configs"][0]["component_tree"]["props"]) == ["z", "a"]
        for key in ("installed_packages", "package_data", "entity_records"):
            assert again[key] == original[key], (fmt, key)
        assert [(u["username"], u["role"], u.get("password_hash")) for u in again["users"]] == \
               [(u["username"], u["role"], u.get("password_hash")) for u in original["users"]]


def test_replace_overwrites_and_without_it_an_existing_tenant_is_an_error(small: Path, tmp_path: Path) -> None:
    doc = json.loads(run(small, "export", "shop1", "--format", "json").stdout)
    doc["page_configs"][0]["title"] = "Better deals"
    doc["entity_records"] = doc["entity_records"][:1]
    path = tmp_path / "shop1.json"
    path.write_text(json.dumps(doc))
    before = snapshot(db_of(small))
    refused = run(small, "import", str(path))
    assert refused.exit_code == 1
    assert "tenant 'shop1' exists; give --replace" in refused.output
    assert snapshot(db_of(small)) == before
    replaced = run(small, "import", str(path), "--replace")
    assert replaced.exit_code == 0, replaced.output
    con = sqlite3.connect(db_of(small))
    assert con.execute("SELECT title FROM page_configs WHERE tenant = 'shop1'").fetchall() == [("Better deals",)]
    assert con.execute("SELECT id FROM entity_records WHERE tenant = 'shop1'").fetchall() == [("p1",)]
    assert con.execute("SELECT COUNT(*) FROM users WHERE tenant = 'other'").fetchone() == (0,)
    assert con.execute("SELECT COUNT(*) FROM tenants").fetchone() == (2,)
    con.close()


# ------------------------------------------------------------------------------------------- all or nothing


def test_a_row_the_database_refuses_leaves_everything_as_it_was(small: Path, tmp_path: Path) -> None:
    """The document is valid; the database refuses its last record (a trigger standing in for any constraint).
    Rows written before it, the tenant among them, must not stay."""
    doc = json.loads(run(small, "export", "shop1", "--format", "json").stdout)
    doc["entity_records"][-1]["id"] = "boom"
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    con = sqlite3.connect(db_of(small))
    con.execute("CREATE TRIGGER refuse_boom BEFORE INSERT ON entity_records WHEN NEW.id = 'boom' "
                "BEGIN SELECT RAISE(ABORT, 'no boom here'); END")
    con.commit()
    con.close()
    for args in (["--as", "shop2"], ["--replace"]):
        before = snapshot(db_of(small))
        result = run(small, "import", str(path), *args)
        assert result.exit_code == 1
        assert "no boom here" in result.output and "at /entity_records" in result.output
        assert snapshot(db_of(small)) == before, args


def test_a_document_with_one_bad_row_changes_nothing(small: Path, tmp_path: Path) -> None:
    doc = json.loads(run(small, "export", "shop1", "--format", "json").stdout)
    doc["entity_records"][1]["data"] = "not a mapping"
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    before = snapshot(db_of(small))
    result = run(small, "import", str(path), "--as", "shop2")
    assert result.exit_code == 1
    assert "doc.json at /entity_records/1/data: 'data' must be a mapping" in result.output
    assert "Traceback" not in result.output
    assert snapshot(db_of(small)) == before


# ------------------------------------------------------------------------------------------- passwords


def test_passwords_never_appear_in_plain_text(small: Path, tmp_path: Path) -> None:
    outputs = [run(small, "export", "shop1").stdout, run(small, "export", "shop1", "--format", "json").stdout]
    assert run(small, "export", "shop1", "-o", str(tmp_path / "dir")).exit_code == 0
    files = {p.name: p.read_text() for p in (tmp_path / "dir").rglob("*.yaml")}
    assert "$argon2id$" in files["02-users.yaml"]
    for text in outputs:
        assert "$argon2id$" in text
    for text in outputs + list(files.values()):
        assert "secret-pw-123" not in text
    doc = json.loads(outputs[1])
    alice = next(u for u in doc["users"] if u["username"] == "alice")
    bob = next(u for u in doc["users"] if u["username"] == "bob")
    assert alice["password_hash"].startswith("$argon2id$") and "password" not in alice
    assert "password_hash" not in bob  # no credential, no hash
    # A document never carries a password: one that does is refused, not hashed on the way in.
    alice["password"] = "plain"
    (tmp_path / "pw.json").write_text(json.dumps(doc))
    refused = run(small, "import", str(tmp_path / "pw.json"), "--as", "shop3")
    assert refused.exit_code == 1
    assert "/users/0/password" in refused.output and "never passwords" in refused.output


def test_an_imported_user_signs_in_with_the_original_password(small: Path) -> None:
    from mbsite.passwords import verify_password

    assert run(small, "import", "-", "--as", "shop2", input=run(small, "export", "shop1").stdout).exit_code == 0
    con = sqlite3.connect(db_of(small))
    stored = con.execute("SELECT c.password_hash FROM credentials c JOIN users u ON u.id = c.user_id "
                         "WHERE u.tenant = 'shop2' AND u.username = 'alice'").fetchone()[0]
    con.close()
    assert verify_password(stored, "secret-pw-123")


# ------------------------------------------------------------------------------------------- seed folder, media


def test_the_seed_folder_export_is_a_seed_another_site_loads(small: Path, make_site: Callable[..., Path],
                                                             tmp_path: Path) -> None:
    target = tmp_path / "export"
    assert run(small, "export", "shop1", "-o", str(target)).exit_code == 0
    assert sorted(p.name for p in target.iterdir())[:2] == ["01-tenants.yaml", "02-users.yaml"]
    other = make_site(name="other")
    shutil.copytree(target, other / "content" / "seed")
    assert run(other, "db", "init").exit_code == 0  # the ordinary seed loader reads it
    exported = json.loads(run(other, "export", "shop1", "--format", "json").stdout)
    original = json.loads(run(small, "export", "shop1", "--format", "json").stdout)
    for key in ("page_configs", "installed_packages", "entity_records"):
        assert [{k: v for k, v in r.items() if not k.endswith("_at")} for r in exported[key]] == \
               [{k: v for k, v in r.items() if not k.endswith("_at")} for r in original[key]], key
    assert {u["username"]: u["password_hash"] for u in exported["users"] if "password_hash" in u} == \
           {u["username"]: u["password_hash"] for u in original["users"] if "password_hash" in u}


def add_media(site: Path, tenant: str, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    folder = site / ".mbsite" / "media" / tenant
    folder.mkdir(parents=True, exist_ok=True)
    (folder / digest).write_bytes(data)
    con = sqlite3.connect(db_of(site))
    con.execute("INSERT INTO media_assets (tenant, id, filename, content_type, size, created_at) "
                "VALUES (?, ?, 'a.png', 'image/png', ?, 1)", (tenant, digest + "-0123456789ab", len(data)))
    con.commit()
    con.close()
    return digest


def test_with_media_carries_the_bytes_to_another_site(small: Path, make_site: Callable[..., Path],
                                                      tmp_path: Path) -> None:
    digest = add_media(small, "shop1", b"\x89PNG\r\n\x1a\n-some-bytes")
    plain = json.loads(run(small, "export", "shop1", "--format", "json").stdout)
    assert "content_base64" not in plain["media"][0]
    for fmt, name in (("json", "m.json"), ("seed", "m-dir")):
        assert run(small, "export", "shop1", "--with-media", "-o", str(tmp_path / name)).exit_code == 0
        other = make_site({"content/pages/x.md": "# X\n"}, name=f"other-{fmt}")
        result = run(other, "import", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        assert (other / ".mbsite" / "media" / "shop1" / digest).read_bytes() == b"\x89PNG\r\n\x1a\n-some-bytes"
    # Bytes that do not match their id are refused before anything is written.
    doc = json.loads((tmp_path / "m.json").read_text())
    doc["media"][0]["content_base64"] = base64.b64encode(b"other bytes!").decode()
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    other = make_site({"content/pages/x.md": "# X\n"}, name="other-bad")
    result = run(other, "import", str(tmp_path / "bad.json"))
    assert result.exit_code == 1 and "/media/0/content_base64" in result.output
    assert not (other / ".mbsite" / "media" / "shop1").exists()


# ------------------------------------------------------------------------------------------- located errors


BAD_DOCS = [
    ("doc.yaml", "format: mbsite-tenant\nversion: 1\ntenant: [\n", "doc.yaml:4:1", "invalid YAML"),
    ("doc.json", '{"format": "mbsite-tenant",\n "version": 1,,}', "doc.json:2:15", "invalid JSON"),
    ("doc.json", '{"format": "other", "version": 1, "tenant": {"slug": "x"}}', "doc.json at /format",
     "is this an mbsite export"),
    ("doc.json", '{"format": "mbsite-tenant", "version": 1, "tenant": {"slug": "x"}, "pages": []}',
     "doc.json at /pages", "unknown key 'pages'"),
    ("doc.json", '{"format": "mbsite-tenant", "version": 1, "tenant": {"slug": "x"}, '
                 '"users": [{"id": "u", "username": "a", "role": "wizard"}]}',
     "doc.json at /users/0/role", "unknown role 'wizard'"),
    ("doc.json", '{"format": "mbsite-tenant", "version": 1, "tenant": {"slug": "x"}, '
                 '"page_configs": [{"id": "a", "path": "/a", "level": "high"}]}',
     "doc.json at /page_configs/0/level", "level: must be an integer"),
    ("doc.json", '{"format": "mbsite-tenant", "version": 1, "tenant": {"slug": "x"}, '
                 '"page_configs": [{"id": "a", "path": "/a"}, {"id": "b", "path": "/a"}]}',
     "doc.json at /page_configs/1/path", "path repeats the row at /page_configs/0"),
    ("doc.json", '{"format": "mbsite-tenant", "version": 1, "tenant": {"slug": "../x"}}',
     "doc.json at /tenant/slug", "tenant slug '../x' must be"),
    ("doc.yaml", "- a list\n", "doc.yaml", "must be a mapping"),
]


@pytest.mark.parametrize("name, text, where, message", BAD_DOCS,
                         ids=["yaml-syntax", "json-syntax", "format", "unknown-key", "role", "type", "duplicate",
                              "slug", "not-a-mapping"])
def test_bad_input_is_a_located_error_and_exit_1(small: Path, name: str, text: str, where: str,
                                                 message: str) -> None:
    (small / name).write_text(text)
    before = snapshot(db_of(small))
    result = run(small, "import", str(small / name))
    assert result.exit_code == 1
    assert f"{where}: " in result.output and message in result.output, result.output
    assert "Traceback" not in result.output
    assert snapshot(db_of(small)) == before


def test_every_problem_of_a_document_is_listed(small: Path) -> None:
    doc = {"format": "mbsite-tenant", "version": 1, "tenant": {"slug": "x"},
           "entity_records": [{"package": "shop", "entity": "product", "id": str(i), "data": i} for i in range(3)]}
    (small / "doc.json").write_text(json.dumps(doc))
    result = run(small, "import", str(small / "doc.json"))
    assert result.exit_code == 1
    assert [f"/entity_records/{i}/data" in result.output for i in range(3)] == [True] * 3


def test_export_of_an_unknown_tenant_and_a_seed_folder_without_a_target(small: Path) -> None:
    unknown = run(small, "export", "nope")
    assert unknown.exit_code == 1 and "unknown tenant 'nope' (known: other, shop1)" in unknown.output
    assert run(small, "export", "shop1", "--format", "seed").exit_code == 2


# ------------------------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_postgres_export_import_round_trip_and_all_or_nothing(small: Path, tmp_path: Path) -> None:
    import os
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from mbsite.db.engine import open_engine, resolve_url

    base = os.environ.get("MBSITE_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("MBSITE_TEST_POSTGRES_URL is not set; PostgreSQL tests need a server")
    name = "mb_transfer_" + uuid.uuid4().hex[:10]
    admin = open_engine(resolve_url(Path("."), base)).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(resolve_url(Path("."), base)).set(database=name).render_as_string(hide_password=False)
    try:
        from mbsite.db.engine import ensure_schema
        from mbsite.db.seed import load_seed

        engine = open_engine(url)
        ensure_schema(engine)
        load_seed(engine, small / "content")
        engine.dispose()
        doc = run(small, "export", "shop1", "--format", "json", "--db", url).stdout
        result = run(small, "import", "-", "--as", "shop2", "--db", url, input=doc)
        assert result.exit_code == 0, result.output
        again = json.loads(run(small, "export", "shop2", "--format", "json", "--db", url).stdout)
        original = json.loads(doc)
        assert list(again["page_configs"][0]["component_tree"]["props"]) == ["z", "a"]
        for key in ("installed_packages", "package_data", "entity_records"):
            assert again[key] == original[key], key
        bad = dict(original, entity_records=[*original["entity_records"][:-1],
                                             {**original["entity_records"][-1], "id": "boom"}])
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        engine = open_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                              "IF NEW.id = 'boom' THEN RAISE EXCEPTION 'no boom here'; END IF; RETURN NEW; END $$"))
            conn.execute(text("CREATE TRIGGER refuse_boom BEFORE INSERT ON entity_records FOR EACH ROW "
                              "EXECUTE FUNCTION refuse_boom()"))
            before = conn.execute(text("SELECT COUNT(*) FROM changes")).scalar()
        refused = run(small, "import", str(tmp_path / "bad.json"), "--as", "shop3", "--db", url)
        assert refused.exit_code == 1 and "no boom here" in refused.output
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM tenants WHERE slug = 'shop3'")).scalar() == 0
            assert conn.execute(text("SELECT COUNT(*) FROM changes")).scalar() == before
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_a_disabled_account_stays_disabled_through_export_and_import(small: Path, tmp_path: Path) -> None:
    con = sqlite3.connect(db_of(small))
    alice = con.execute("SELECT id FROM users WHERE tenant = 'shop1' AND username = 'alice'").fetchone()[0]
    con.execute("INSERT INTO disabled_users (user_id, tenant, disabled_at) VALUES (?, 'shop1', 0)", (alice,))
    con.commit()
    doc = json.loads(run(small, "export", "shop1", "--format", "json").stdout)
    assert next(u for u in doc["users"] if u["username"] == "alice")["disabled"] is True
    assert "disabled" not in next(u for u in doc["users"] if u["username"] == "bob")
    (tmp_path / "doc.json").write_text(json.dumps(doc))
    assert run(small, "import", str(tmp_path / "doc.json"), "--as", "shop9").exit_code == 0
    assert run(small, "import", str(tmp_path / "doc.json"), "--replace").exit_code == 0
    rows = con.execute("SELECT u.tenant, u.username FROM disabled_users d JOIN users u ON u.id = d.user_id "
                       "ORDER BY u.tenant").fetchall()
    con.close()
    assert rows == [("shop1", "alice"), ("shop9", "alice")]
