"""Small in-process caches of the functions: entries that live a few seconds (session lookups)."""
from __future__ import annotations

import time
from typing import Any


class TTLCache:
    """A small dict whose entries live `ttl` seconds (session lookups: one query per token per TTL)."""

    def __init__(self, ttl: float, max_size: int = 10_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any:
        hit = self._items.get(key)
        if hit is None:
            return None
        if time.monotonic() >= hit[0]:
            del self._items[key]
            return None
        return hit[1]

    def put(self, key: Any, value: Any) -> None:
        """Keep `value` for `ttl` seconds. When full, expired entries go first, then the oldest: a flood of new
        keys never empties the cache at once (every hot key would then be queried again at the same moment)."""
        now = time.monotonic()
        self._items.pop(key, None)
        if len(self._items) >= self.max_size:
            for old in [k for k, (until, _) in self._items.items() if until <= now]:
                del self._items[old]
            while len(self._items) >= self.max_size:
                del self._items[next(iter(self._items))]  # (dicts keep insertion order: the oldest first)
        self._items[key] = (now + self.ttl, value)

    def drop_where(self, predicate: Any) -> None:
        for key in [k for k, (_, v) in self._items.items() if predicate(v)]:
            del self._items[key]

    def clear(self) -> None:
        self._items.clear()


SESSION_CACHE_S = 2.0


__all__ = ["SESSION_CACHE_S", "TTLCache"]
