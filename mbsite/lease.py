"""A PostgreSQL database → at most one active `mbsite watch` on it (a session advisory lock on its own connection).

The lock belongs to a database session: PostgreSQL releases it when the session ends, whatever ended it — a clean
exit, `kill -9` (the kernel closes the socket, the server sees it at once) or a lost machine (the server's TCP
keepalives, set short on this session, notice within about ten seconds). No lease table, no clock, no renewal
to get wrong: the server is the single judge of who is active.
"""
from __future__ import annotations

import hashlib
from typing import Any

# One watch per database: the key names the role, not the site (a database holds one site's graph and cursor).
LOCK_KEY = int.from_bytes(hashlib.sha256(b"mbsite watch").digest()[:8], "big", signed=True)
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}  # (client)
# The server side of the same: how soon PostgreSQL drops the session (and the lock) of a machine that vanished.
SERVER_KEEPALIVE = ("SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2", "SET tcp_keepalives_count = 3")


class WatchLock:
    """The advisory lock that makes a watch the active one, held on a connection of its own (autocommit, never
    used for anything else, so no transaction or pool can drop it by accident)."""

    def __init__(self, url: str, key: int = LOCK_KEY) -> None:
        self.dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.key = key
        self._conn: Any = None
        self.held = False

    def _connect(self) -> Any:
        import psycopg
        from psycopg.conninfo import make_conninfo

        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(make_conninfo(self.dsn, connect_timeout=5, **KEEPALIVE), autocommit=True)
            for statement in SERVER_KEEPALIVE:
                self._conn.execute(statement)
        return self._conn

    def try_acquire(self) -> bool:
        """Take the lock if no other session holds it; False otherwise (or when the server cannot be reached)."""
        import psycopg

        try:
            got = bool(self._connect().execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0])
        except psycopg.Error:
            self._drop()
            return False
        self.held = got
        return got

    def still_held(self) -> bool:
        """Whether this session still holds the lock (one round trip; a broken connection means it is gone)."""
        import psycopg

        if not self.held or self._conn is None:
            return False
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() "
                "AND objid = (%s::bigint & 4294967295)::oid AND classid = ((%s::bigint >> 32) & 4294967295)::oid",
                (self.key, self.key)).fetchone()
        except psycopg.Error:
            self._drop()
            return False
        self.held = bool(row and row[0])
        return self.held

    def holder(self) -> int | None:
        """The server process id of the session holding the lock (for messages), or None."""
        import psycopg

        try:
            row = self._connect().execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objid = (%s::bigint & 4294967295)::oid AND classid = ((%s::bigint >> 32) & 4294967295)::oid",
                (self.key, self.key)).fetchone()
        except psycopg.Error:
            self._drop()
            return None
        return int(row[0]) if row else None

    def _drop(self) -> None:
        self.held = False
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail in any way
                pass
            self._conn = None

    def release(self) -> None:
        """End the session (and so the lock)."""
        self._drop()


__all__ = ["LOCK_KEY", "WatchLock"]
