"""Requests → per-client, per-route-class fixed-window counters (in process, or shared through Redis).

A fixed window is enough here: the limits guard against floods and password guessing, not billing.
Headers follow the IETF RateLimit draft (RateLimit-Limit/-Remaining/-Reset) plus Retry-After on 429.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ConfigError

_PERIODS = {"second": 1, "sec": 1, "s": 1, "minute": 60, "min": 60, "m": 60, "hour": 3600, "h": 3600,
            "day": 86400, "d": 86400}
# Defaults per route class; mbsite.toml [functions] rate_limits = {login = "5/minute", ...} overrides.
DEFAULT_LIMITS = {
    "login": "10/minute",      # per client IP
    "login_account": "5/15minute",  # failed sign-ins per account
    "login_client": "30/15minute",  # failed sign-ins per client IP, whatever the accounts
    "read": "600/minute",
    "write": "120/minute",
    "media": "60/minute",
    "revalidate": "60/minute",
}
MAX_KEYS = 10_000  # in-process counters kept before the oldest windows are evicted (locks never are)


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds

    @classmethod
    def parse(cls, spec: str) -> "Rate":
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*", spec.lower())
        if not m or m.group(3) not in _PERIODS:
            raise ConfigError(f"invalid rate limit {spec!r}: use N/second, N/minute, N/hour or N/15minute")
        return cls(int(m.group(1)), int(m.group(2) or 1) * _PERIODS[m.group(3)])


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window resets

    def headers(self) -> dict[str, str]:
        h = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
             "RateLimit-Reset": str(self.reset)}
        if not self.allowed:
            h["Retry-After"] = str(self.reset)
        return h


class Backend(Protocol):
    """Counters keyed by name, client and window; each lives until its window ends (`ttl` seconds)."""

    async def incr(self, key: str, ttl: int, amount: int = 1, *, lock_at: int | None = None) -> int: ...
    async def close(self) -> None: ...


class MemoryBackend:
    """Counters in one insertion-ordered dict, so its first keys are the oldest windows.

    Bounded: once it holds `max_keys` counters, ended windows go first, then the oldest open ones. A counter
    that reached its limit (`lock_at`: a locked account, a client over its budget) is never evicted before
    its window ends, so a flood of new keys cannot unlock anything; only locks can grow the dict past
    `max_keys`, and each of them cost its limit in requests.
    """

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._counters: dict[str, list[Any]] = {}  # key -> [count, ends_at, locked]
        self._evict_at = max_keys

    def __len__(self) -> int:
        return len(self._counters)

    async def incr(self, key: str, ttl: int, amount: int = 1, *, lock_at: int | None = None) -> int:
        counter = self._counters.get(key)
        if counter is None:
            if len(self._counters) >= self._evict_at:
                self._evict(time.time())
            counter = self._counters[key] = [0, time.time() + ttl, False]
        counter[0] += amount
        counter[2] = lock_at is not None and counter[0] >= lock_at
        if counter[0] <= 0:
            del self._counters[key]
        return int(counter[0])

    def _evict(self, now: float) -> None:
        for key in [k for k, c in self._counters.items() if c[1] <= now]:
            del self._counters[key]
        # Down to 90 %, so that the scan runs once per max_keys // 10 new keys, not on every one.
        excess = len(self._counters) - self.max_keys * 9 // 10
        if excess > 0:
            oldest = []
            for key, counter in self._counters.items():
                if not counter[2]:
                    oldest.append(key)
                    if len(oldest) == excess:
                        break
            for key in oldest:
                del self._counters[key]
        self._evict_at = max(self.max_keys, len(self._counters) + self.max_keys // 10)

    async def close(self) -> None:
        return None


class RedisBackend:
    """Counters in Redis (INCRBY + EXPIRE in one transaction), shared by every instance. INCRBY is atomic,
    so concurrent attempts on several instances each get their own count."""

    def __init__(self, url: str, prefix: str = "mbsite:rl:") -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.from_url(url)
        self._prefix = prefix

    async def incr(self, key: str, ttl: int, amount: int = 1, *, lock_at: int | None = None) -> int:
        k = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(k, amount)
            pipe.expire(k, ttl + 1)
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        await self._redis.aclose()


@dataclass(frozen=True)
class Reservation:
    """One counted attempt, which `RateLimiter.release` can give back (a sign-in that turned out right)."""

    verdict: Verdict
    name: str
    key: str
    ends_at: float  # the end of the window the attempt was counted in


class RateLimiter:
    """Named limits over one backend."""

    def __init__(self, limits: dict[str, str] | None = None, redis_url: str | None = None,
                 *, prefix: str = "mbsite:rl:") -> None:
        specs = {**DEFAULT_LIMITS, **(limits or {})}
        self.rates = {name: Rate.parse(spec) for name, spec in specs.items()}
        self.backend: Backend = RedisBackend(redis_url, prefix) if redis_url else MemoryBackend()

    async def reserve(self, name: str, client: str) -> Reservation:
        """Count one attempt of class `name` by `client` now, before doing the work it guards; the verdict
        says whether the attempt is within the limit. Counting first is what makes the limit hold under
        concurrency: every attempt in flight has already been counted."""
        rate = self.rates[name]
        now = time.time()
        window = int(now // rate.period)
        ends_at = (window + 1) * rate.period
        ttl = max(1, math.ceil(ends_at - now))
        key = f"{name}:{client}:{window}"
        count = await self.backend.incr(key, ttl, lock_at=rate.limit)
        verdict = Verdict(count <= rate.limit, rate.limit, max(0, rate.limit - count), ttl)
        return Reservation(verdict, name, key, ends_at)

    async def hit(self, name: str, client: str) -> Verdict:
        """Count one request of class `name` from `client`."""
        return (await self.reserve(name, client)).verdict

    async def release(self, reservation: Reservation) -> None:
        """Give back a reserved attempt (in its own window; a window that has ended has nothing to give back)."""
        ttl = math.ceil(reservation.ends_at - time.time())
        if ttl > 0:
            await self.backend.incr(reservation.key, ttl, -1, lock_at=self.rates[reservation.name].limit)

    async def close(self) -> None:
        await self.backend.close()


def route_class(method: str, path: str) -> str | None:
    """Which limit a request counts against (None: not limited, e.g. static pages)."""
    if path.startswith("/api/auth/login"):
        return "login" if method == "POST" else "read"
    if path.startswith("/api/media"):
        return "media" if method not in ("GET", "HEAD") else "read"
    if path.startswith("/api/revalidate"):
        return "revalidate"
    if path.startswith("/api/"):
        return "read" if method in ("GET", "HEAD", "OPTIONS") else "write"
    return None
