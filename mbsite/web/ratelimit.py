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
    "login_account": "5/15minute",  # failed logins per account
    "read": "600/minute",
    "write": "120/minute",
    "media": "60/minute",
    "revalidate": "60/minute",
}


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
    async def incr(self, key: str, period: int, amount: int = 1) -> int: ...
    async def peek(self, key: str, period: int) -> int: ...
    async def reset(self, key: str, period: int) -> None: ...
    async def close(self) -> None: ...


class MemoryBackend:
    """Counters in a dict; old windows are swept now and then so memory stays bounded."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._sweep_at = 0.0

    def _key(self, key: str, period: int) -> str:
        return f"{key}:{int(time.time() // period)}"

    async def incr(self, key: str, period: int, amount: int = 1) -> int:
        now = time.time()
        if now > self._sweep_at:
            self._sweep(now)
        k = self._key(key, period)
        self._counts[k] = self._counts.get(k, 0) + amount
        return self._counts[k]

    async def peek(self, key: str, period: int) -> int:
        return self._counts.get(self._key(key, period), 0)

    async def reset(self, key: str, period: int) -> None:
        self._counts.pop(self._key(key, period), None)

    def _sweep(self, now: float) -> None:
        self._sweep_at = now + 60
        if len(self._counts) > 10_000:
            self._counts.clear()  # crude but bounded: at worst one window of leniency

    async def close(self) -> None:
        return None


class RedisBackend:
    """Counters in Redis (INCR + EXPIRE in one round trip), shared by every instance."""

    def __init__(self, url: str, prefix: str = "mbsite:rl:") -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.from_url(url)
        self._prefix = prefix

    def _key(self, key: str, period: int) -> str:
        return f"{self._prefix}{key}:{int(time.time() // period)}"

    async def incr(self, key: str, period: int, amount: int = 1) -> int:
        k = self._key(key, period)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(k, amount)
            pipe.expire(k, period + 1)
            count, _ = await pipe.execute()
        return int(count)

    async def peek(self, key: str, period: int) -> int:
        value = await self._redis.get(self._key(key, period))
        return int(value or 0)

    async def reset(self, key: str, period: int) -> None:
        await self._redis.delete(self._key(key, period))

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    """Named limits over one backend."""

    def __init__(self, limits: dict[str, str] | None = None, redis_url: str | None = None) -> None:
        specs = {**DEFAULT_LIMITS, **(limits or {})}
        self.rates = {name: Rate.parse(spec) for name, spec in specs.items()}
        self.backend: Backend = RedisBackend(redis_url) if redis_url else MemoryBackend()

    def _verdict(self, rate: Rate, count: int) -> Verdict:
        reset = max(1, math.ceil(rate.period - time.time() % rate.period))
        return Verdict(count <= rate.limit, rate.limit, max(0, rate.limit - count), reset)

    async def hit(self, name: str, client: str) -> Verdict:
        """Count one request of class `name` from `client`."""
        rate = self.rates[name]
        return self._verdict(rate, await self.backend.incr(f"{name}:{client}", rate.period))

    async def blocked(self, name: str, key: str) -> Verdict:
        """Check a counter without counting (e.g. is this account locked?)."""
        rate = self.rates[name]
        count = await self.backend.peek(f"{name}:{key}", rate.period)
        return Verdict(count < rate.limit, rate.limit, max(0, rate.limit - count), self._verdict(rate, count).reset)

    async def clear(self, name: str, key: str) -> None:
        await self.backend.reset(f"{name}:{key}", self.rates[name].period)

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
