"""A site's database URL → the database the functions use (`read()` and `write()` connections): a family of two
interchangeable backends, SQLite (sqlite.py) and PostgreSQL (postgres.py), over what they share (base.py)."""
from __future__ import annotations

from ...config import Config
from ...db.engine import resolve_url
from .postgres import PgDatabase
from .sqlite import Rows, SqliteDatabase

AnyDatabase = SqliteDatabase | PgDatabase


class Database:
    """`Database.from_config(config)` → the SqliteDatabase or PgDatabase of the site's URL."""

    @staticmethod
    def open(url: str) -> AnyDatabase:
        return PgDatabase(url) if url.startswith("postgresql") else SqliteDatabase(url)

    @classmethod
    def from_config(cls, config: Config) -> AnyDatabase:
        return cls.open(resolve_url(config.site_dir, config.database_url))


__all__ = ["AnyDatabase", "Database", "PgDatabase", "Rows", "SqliteDatabase"]
