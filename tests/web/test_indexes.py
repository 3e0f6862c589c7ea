"""Fields an entity marks `index`/`indexed`/`unique` get an expression index that list filters use."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text
from web_support import make_api

from mbsite.entities import parse_entity
from mbsite.web.query import field_index_ddl

pytestmark = pytest.mark.anyio


def test_index_flags_of_every_dialect_are_collected() -> None:
    ent = parse_entity({"entity": "Thread", "fields": {
        "id": {"type": "cuid", "primary": True}, "slug": {"type": "string", "unique": True},
        "title": {"type": "string", "index": True}, "views": {"type": "int", "indexed": True},
        "body": {"type": "text"}, "score": {"type": "int"}},
        "indexes": [{"fields": ["score", "views"]}]}, "forum", "x.yaml")
    assert ent.indexed == ("slug", "title", "views", "score")


@pytest.mark.parametrize("bad", ["a b", "x'); DROP TABLE t; --", "1abc", ""], ids=["space", "injection", "digit", "empty"])
def test_index_ddl_refuses_names_that_are_not_identifiers(bad: str) -> None:
    with pytest.raises(ValueError):
        field_index_ddl("sqlite", bad)


async def test_list_filters_get_the_field_index(site) -> None:  # noqa: ANN001 - fixture from conftest
    async for api in make_api(site):
        fields = sorted({f for ent in api.app.state.mb.registry for f in ent.indexed})
        assert fields, "the fixture site declares at least one indexed field"
        db = api.app.state.mb.db
        if db.dialect == "postgresql":
            async with db.read() as conn:
                rows = await conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'entity_records'"))
                names = {r[0] for r in rows}
            assert {f"ix_er_f_{f.lower()}" for f in fields} <= names
            continue
        db_path = db.path
        con = sqlite3.connect(db_path)
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            assert {f"ix_er_f_{f.lower()}" for f in fields} <= names
            plan = " ".join(str(r) for r in con.execute(
                "EXPLAIN QUERY PLAN SELECT data FROM entity_records WHERE tenant = ? AND package = ? AND entity = ? "
                f"AND json_extract(data, '$.{fields[0]}') = ?", ("acme", "p", "e", "x")))
        finally:
            con.close()
        assert f"ix_er_f_{fields[0].lower()}" in plan
