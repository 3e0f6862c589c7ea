"""records.py: a page's declared queries (parsed with located errors) answered from entity records read once from a
real SQLite database — matching, sorting, limits, tenant isolation and forgetting what changed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, text

from mbsite.db.engine import ensure_schema, open_engine
from mbsite.errors import DataError, Location
from mbsite.records import Query, RecordStore, matches

WHERE = Location(file="page_configs:p", pointer="/params/data/items")


@pytest.mark.parametrize("spec,expected", [
    ("shop.product", ("shop", "product", "{}", "", None)),
    ({"entity": "Product", "package": "shop"}, ("shop", "product", "{}", "", None)),
    ({"entity": "shop.OrderLine", "filter": {"b": 1, "a": [1, 2]}, "sort": "-price", "limit": 0},
     ("shop", "order_line", '{"a": [1, 2], "b": 1}', "-price", 0)),
], ids=["dotted-string", "entity-name", "everything"])
def test_a_query_is_parsed_into_a_hashable_value(spec: Any, expected: tuple[Any, ...]) -> None:
    q = Query.parse("t", spec, WHERE)
    assert (q.package, q.entity, q.filter, q.sort, q.limit) == expected and q.tenant == "t"
    assert hash(q) == hash(Query.parse("t", spec, WHERE))


def test_the_filter_of_a_query_does_not_depend_on_key_order() -> None:
    a = Query.parse("t", {"entity": "shop.product", "filter": {"x": 1, "y": 2}}, WHERE)
    b = Query.parse("t", {"entity": "shop.product", "filter": {"y": 2, "x": 1}}, WHERE)
    assert a == b


@pytest.mark.parametrize("spec,message", [
    (["shop.product"], "a data query must be a mapping"),
    ({"entity": "product"}, "needs 'package' and 'entity'"),
    ({"package": "shop"}, "needs 'package' and 'entity'"),
    ({"entity": "shop.product", "filter": "status = active"}, "'filter' must be a mapping"),
    ({"entity": "shop.product", "limit": -1}, "'limit' must be a non-negative integer"),
    ({"entity": "shop.product", "limit": True}, "'limit' must be a non-negative integer"),
    ({"entity": "shop.product", "limit": "10"}, "'limit' must be a non-negative integer"),
], ids=["list", "no-package", "no-entity", "filter-text", "negative-limit", "bool-limit", "text-limit"])
def test_a_bad_query_is_a_data_error_at_its_place(spec: Any, message: str) -> None:
    with pytest.raises(DataError) as info:
        Query.parse("t", spec, WHERE)
    assert message in info.value.message and info.value.location == WHERE


@pytest.mark.parametrize("value,wanted,result", [
    ("a", "a", True), ("a", "b", False), (1, 1.0, True), ("a", ["a", "b"], True), ("c", ["a", "b"], False),
    (None, None, True), (None, "x", False), (["a"], ["a"], False)])
def test_matches(value: Any, wanted: Any, result: bool) -> None:
    assert matches(value, wanted) is result


# -- a store over a real SQLite file --------------------------------------------------------------------------

RECORDS = [  # (tenant, id, data, created_at)
    ("t", "p1", {"name": "Pen", "price": 2, "status": "active", "category": "desk"}, 1),
    ("t", "p2", {"name": "Ink", "price": 5, "status": "active", "category": "desk"}, 2),
    ("t", "p3", {"name": "Cup", "price": 3, "status": "archived", "category": "kitchen"}, 3),
    ("t", "p4", {"name": "Mug", "status": "active", "category": "kitchen", "tags": ["a"]}, 4),
    ("u", "p1", {"name": "Other tenant's pen", "price": 1, "status": "active"}, 0),
]


def insert(engine: Engine, tenant: str, rid: str, data: dict[str, Any], created: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO entity_records (tenant, package, entity, id, data, version, created_at, "
                          "updated_at) VALUES (:t, 'shop', 'product', :id, :data, 1, :c, :c)"),
                     {"t": tenant, "id": rid, "data": json.dumps(data), "c": created})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    engine = open_engine(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    ensure_schema(engine)
    with engine.begin() as conn:
        for slug in ("t", "u"):
            conn.execute(text("INSERT INTO tenants (slug, name, domains, settings, created_at) "
                              "VALUES (:s, :s, '[]', '{}', 0)"), {"s": slug})
    for record in RECORDS:
        insert(engine, *record)
    yield RecordStore(engine)
    engine.dispose()


def names(docs: list[dict[str, Any]]) -> list[str]:
    return [d["name"] for d in docs]


def run(store: RecordStore, **spec: Any) -> list[str]:
    return names(store.run(Query.parse("t", {"entity": "shop.product", **spec}, WHERE)))


def test_all_records_of_a_tenant_in_creation_order_with_their_id_and_times(store: RecordStore) -> None:
    docs = store.all("t", "shop", "product")
    assert names(docs) == ["Pen", "Ink", "Cup", "Mug"]
    assert (docs[0]["id"], docs[0]["createdAt"], docs[0]["updatedAt"]) == ("p1", 1, 1)
    assert names(store.all("u", "shop", "product")) == ["Other tenant's pen"]
    assert store.all("t", "shop", "order") == []


@pytest.mark.parametrize("spec,expected", [
    ({}, ["Pen", "Ink", "Cup", "Mug"]),
    ({"filter": {"status": "active"}}, ["Pen", "Ink", "Mug"]),
    ({"filter": {"status": "active", "category": "kitchen"}}, ["Mug"]),
    ({"filter": {"category": ["kitchen", "garden"]}}, ["Cup", "Mug"]),
    ({"filter": {"price": None}}, ["Mug"]),
    ({"filter": {"tags": "a"}}, []),
    ({"sort": "price"}, ["Pen", "Cup", "Ink", "Mug"]),   # a record without the field comes last
    ({"sort": "-price"}, ["Mug", "Ink", "Cup", "Pen"]),  # … and first when descending (as PostgreSQL's NULLs)
    ({"sort": "category, -price"}, ["Ink", "Pen", "Mug", "Cup"]),
    ({"sort": "name", "limit": 2}, ["Cup", "Ink"]),
    ({"filter": {"status": "active"}, "sort": "-price", "limit": 0}, []),
], ids=["all", "eq", "two-eq", "in", "missing-is-null", "list-field", "sort", "sort-desc", "two-keys", "limit",
        "limit-zero"])
def test_a_query_filters_sorts_and_limits(store: RecordStore, spec: dict[str, Any], expected: list[str]) -> None:
    assert run(store, **spec) == expected


def test_numbers_sort_before_text_and_booleans_as_numbers(store: RecordStore) -> None:
    insert(store.engine, "t", "p5", {"name": "Odd", "price": "ask", "status": "active"}, 5)
    insert(store.engine, "t", "p6", {"name": "Free", "price": False, "status": "active"}, 6)
    assert run(store, sort="price") == ["Free", "Pen", "Cup", "Ink", "Odd", "Mug"]


def test_records_are_read_once_until_forgotten(store: RecordStore) -> None:
    assert run(store, filter={"status": "active"}) == ["Pen", "Ink", "Mug"]
    insert(store.engine, "t", "p7", {"name": "Pad", "price": 1, "status": "active"}, 7)
    assert run(store, filter={"status": "active"}) == ["Pen", "Ink", "Mug"]  # answered from memory
    before = store.forget("t", "shop", "product")
    assert names(before) == ["Pen", "Ink", "Cup", "Mug"]
    assert run(store, filter={"status": "active"}) == ["Pen", "Ink", "Mug", "Pad"]
    assert store.forget("t", "shop", "nothing") == []


def test_a_query_never_reads_another_tenants_records(store: RecordStore) -> None:
    q = Query.parse("u", "shop.product", WHERE)
    assert names(store.run(q)) == ["Other tenant's pen"]
    assert names(store.run(Query.parse("v", "shop.product", WHERE))) == []
