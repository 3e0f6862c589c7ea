"""What both database backends of the functions share: schema preparation (and the session cache they hold)."""
from __future__ import annotations

import asyncio
from typing import Iterable

from ...db.engine import ensure_schema, open_engine
from ..cache import TTLCache


class Schema:
    """What both databases share: schema creation and the session cache."""

    url: str
    session_cache: TTLCache

    async def prepare(self, indexed_fields: Iterable[str] = ()) -> None:
        """Create tables, change-feed triggers and the entity field indexes if missing (off the event loop)."""
        from ..query import field_index_ddl

        fields = sorted(set(indexed_fields))

        def run() -> None:
            engine = open_engine(self.url)
            try:
                ensure_schema(engine)
                with engine.begin() as conn:
                    for name in fields:
                        conn.exec_driver_sql(field_index_ddl(engine.dialect.name, name))
            finally:
                engine.dispose()
        await asyncio.to_thread(run)


__all__ = ["Schema"]
