"""`mbsite init`: the generated admin password is printed once and stored only as an argon2 hash, in the seed too."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from support import output_tree

from mbsite.cli import main
from mbsite.db.engine import ensure_schema, open_engine
from mbsite.db.seed import load_seed
from mbsite.errors import DataError
from mbsite.passwords import verify_password


def test_init_keeps_only_the_hash_of_the_admin_password(tmp_path: Path) -> None:
    site = tmp_path / "new"
    made = CliRunner().invoke(main, ["init", str(site)])
    assert made.exit_code == 0, made.output
    password = made.output.split("admin / ", 1)[1].split()[0]
    assert made.output.count(password) == 1
    for rel, data in output_tree(site, bookkeeping=True).items():
        assert password.encode() not in data, rel
    seed = (site / "content" / "seed" / "site.yaml").read_text()
    assert "password_hash: $argon2id$" in seed
    ignored = (site / ".gitignore").read_text().split()
    assert not any(p.startswith(("content", "packages", "themes", "schemas", "mbsite.toml")) for p in ignored)

    engine = open_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        ensure_schema(engine)
        load_seed(engine, site / "content", site)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT password_hash FROM credentials")).scalar()
    finally:
        engine.dispose()
    assert verify_password(stored, password) and not verify_password(stored, "wrong")


@pytest.mark.parametrize("fields, message", [
    ("password_hash: not-a-hash", "password_hash must be an argon2 hash"),
    ("password: pw\n    password_hash: $argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "either 'password' or 'password_hash'"),
], ids=["not-argon2", "both"])
def test_a_bad_password_hash_names_its_line(tmp_path: Path, fields: str, message: str) -> None:
    content = tmp_path / "content"
    (content / "seed").mkdir(parents=True)
    (content / "seed" / "u.yaml").write_text("entity: Tenant\nrecords:\n  - {slug: t}\n---\nentity: User\nrecords:\n"
                                             f"  - tenant: t\n    username: u\n    {fields}\n")
    engine = open_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        ensure_schema(engine)
        with pytest.raises(DataError) as info:
            load_seed(engine, content, tmp_path)
    finally:
        engine.dispose()
    assert message in info.value.message and str(info.value).startswith("content/seed/u.yaml:7")
