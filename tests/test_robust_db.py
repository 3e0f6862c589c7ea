"""The database a build opens: an explicit SQLite path never creates folders, and a seed is all or nothing, so a
failed first seed is tried again by the next build instead of leaving an empty site."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from mbsite.cli import main
from mbsite.db.engine import ensure_schema, open_engine
from mbsite.db.seed import load_seed
from mbsite.errors import ConfigError, DataError

TENANT = "entity: Tenant\nrecords:\n  - {slug: t, name: T}\n"
BAD_PAGES = "entity: PageConfig\nrecords:\n  - {tenant: t, path: /a, title: A}\n  - {tenant: nope, path: /b, title: B}\n"


def test_an_explicit_sqlite_url_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    with pytest.raises(ConfigError) as info:
        open_engine(f"sqlite:///{missing / 'x.db'}")
    assert str(missing) in str(info.value) and "does not exist" in str(info.value)
    assert not (tmp_path / "no").exists()


def test_the_cli_refuses_a_missing_sqlite_folder_and_creates_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content" / "seed").mkdir(parents=True)
    (site / "content" / "seed" / "site.yaml").write_text(TENANT)
    result = CliRunner().invoke(main, ["build", "--site", str(site), "--db", f"sqlite:///{tmp_path}/nonexistent/dir/x.db"])
    assert result.exit_code == 1, result.output
    assert "does not exist" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "nonexistent").exists()


def test_the_default_database_folder_is_still_created(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / '.mbsite' / 'mbsite.sqlite3'}")
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()
    assert (tmp_path / ".mbsite" / "mbsite.sqlite3").is_file()


def test_a_failed_seed_leaves_no_rows_and_is_tried_again(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "seed").mkdir(parents=True)
    (content / "seed" / "1.yaml").write_text(TENANT)
    (content / "seed" / "2.yaml").write_text(BAD_PAGES)
    engine = open_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        assert ensure_schema(engine) is True
        with pytest.raises(DataError) as info:
            load_seed(engine, content, tmp_path)
        assert str(info.value) == "content/seed/2.yaml:4 at /records/1: unknown tenant 'nope' (no Tenant record has this slug)"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM tenants")).scalar() == 0  # all or nothing
        assert ensure_schema(engine) is True   # still waiting for its seed
        (content / "seed" / "2.yaml").write_text(BAD_PAGES.replace("nope", "t"))
        assert load_seed(engine, content, tmp_path) == 3
        assert ensure_schema(engine) is False  # seeded now: a later seed file is `mbsite db init`'s business
    finally:
        engine.dispose()


def test_the_build_after_a_failed_first_seed_seeds_again(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content" / "seed").mkdir(parents=True)
    (site / "content" / "pages").mkdir(parents=True)
    (site / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nHi\n")
    (site / "content" / "seed" / "1.yaml").write_text(TENANT)
    (site / "content" / "seed" / "2.yaml").write_text(BAD_PAGES)
    runner = CliRunner()
    first = runner.invoke(main, ["build", "--site", str(site)])
    assert first.exit_code == 1 and "unknown tenant 'nope'" in first.output
    second = runner.invoke(main, ["build", "--site", str(site)])
    assert second.exit_code == 1 and "unknown tenant 'nope'" in second.output  # not an empty site, exit 0
    (site / "content" / "seed" / "2.yaml").write_text(BAD_PAGES.replace("nope", "t"))
    third = runner.invoke(main, ["build", "--site", str(site)])
    assert third.exit_code == 0, third.output
    assert (site / "build" / "t" / "public" / "about" / "index.html").is_file()
