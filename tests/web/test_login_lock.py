"""The sign-in lock under concurrency: attempts are counted before the password is verified, per account and
per client, in process and through Redis; the in-process counters stay bounded without ever dropping a lock."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest
from web_support import PASSWORD

from mbsite.config import Config
from mbsite.web import build_state, create_app, ratelimit
from mbsite.web.ratelimit import RateLimiter

pytestmark = pytest.mark.anyio
REDIS_URL = os.environ.get("MBSITE_TEST_REDIS_URL")


@pytest.fixture
def sqlite_site(template_site: Path, tmp_path: Path) -> Config:
    root = tmp_path / "site"
    shutil.copytree(template_site, root)
    return Config(site_dir=root, database_url=f"sqlite:///{root / '.mbsite' / 'mbsite.sqlite3'}")


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the sign-in endpoint hands to argon2."""
    from mbsite.web import auth

    seen: list[str] = []
    lock = threading.Lock()
    real = auth.verify_password

    def counting(stored: str, password: str) -> bool:
        with lock:
            seen.append(password)
        return real(stored, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    return seen


def _rename(config: Config, user_id: str) -> str:
    """Give a seeded account a name of its own, so shared Redis counters of other runs never touch it."""
    name = f"u{uuid.uuid4().hex[:12]}"
    with sqlite3.connect(config.site_dir / ".mbsite" / "mbsite.sqlite3") as con:
        con.execute("UPDATE users SET username = ? WHERE id = ?", (name, user_id))
    return name


@contextlib.asynccontextmanager
async def _client(config: Config) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(config, state=build_state(config))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as c:
            yield c


def _login(username: str, password: str) -> dict[str, Any]:
    return {"json": {"tenant": "acme", "username": username, "password": password}}


async def _storm(clients: list[httpx.AsyncClient], username: str, wrong: int, headers: dict[str, str]) -> list[int]:
    """`wrong` bad passwords and then the right one, all in flight at once, spread over the clients."""
    passwords = [f"guess-{i}" for i in range(wrong)] + [PASSWORD]
    tasks = [clients[i % len(clients)].post("/api/auth/login", headers=headers, **_login(username, pw))
             for i, pw in enumerate(passwords)]
    return [r.status_code for r in await asyncio.gather(*tasks)]


# The storms send 31 sign-ins from one client: the client's own limit (30 by default) is raised so that only the
# account lock decides. Otherwise a wrong guess could pass the account count, then be refused by the client count
# and give its account slot back while the right password, counted in between, was already refused.
ACCOUNT_LOCK_ONLY = {"login": "1000/minute", "login_account": "5/15minute", "login_client": "1000/15minute"}


def _assert_locked(verified: list[str], statuses: list[int], after: httpx.Response) -> None:
    """At most 5 wrong passwords reached argon2, whatever the order the storm ran in. The right one may have
    been among the first five (then it got in and gave its attempt back, so the account had one more try);
    once five wrong ones were verified, even the right password is refused."""
    wrong = [p for p in verified if p != PASSWORD]
    assert len(wrong) <= 5, f"{len(wrong)} wrong passwords verified past a lock of 5"
    assert statuses.count(401) == len(wrong) and statuses.count(429) == len(statuses) - len(wrong) - statuses.count(200)
    if len(wrong) == 5:
        assert after.status_code == 429 and "retry-after" in after.headers
    else:  # the right password took one of the five slots during the storm and gave it back
        assert statuses[-1] == 200 and len(wrong) == 4 and after.status_code == 200


async def test_concurrent_guesses_are_counted_before_verifying(sqlite_site: Config, verified: list[str]) -> None:
    config = dataclasses.replace(sqlite_site, rate_limits=ACCOUNT_LOCK_ONLY)
    async with _client(config) as client:
        statuses = await _storm([client], "god", 30, {})
        r = await client.post("/api/auth/login", **_login("god", PASSWORD))
        _assert_locked(verified, statuses, r)


async def test_failed_sign_ins_are_limited_per_client(sqlite_site: Config, verified: list[str]) -> None:
    """Spreading guesses over many accounts does not multiply a client's budget."""
    config = dataclasses.replace(sqlite_site, rate_limits={"login": "1000/minute", "login_client": "4/15minute"})
    async with _client(config) as client:
        names = ("user", "moderator", "admin", "god", "supergod")
        results = await asyncio.gather(*[client.post("/api/auth/login", **_login(n, "nope")) for n in names * 2])
        assert len(verified) <= 4 and sum(r.status_code == 429 for r in results) >= 6
        blocked = await client.post("/api/auth/login", **_login("admin", PASSWORD))
        assert blocked.status_code == 429


async def test_a_success_gives_back_only_its_own_attempt(sqlite_site: Config) -> None:
    config = dataclasses.replace(sqlite_site, rate_limits={"login_account": "3/15minute"})
    async with _client(config) as client:
        assert (await client.post("/api/auth/login", **_login("god", "bad"))).status_code == 401
        for _ in range(4):  # successes do not count against the lock ...
            assert (await client.post("/api/auth/login", **_login("god", PASSWORD))).status_code == 200
        # ... and do not reset it either: an attacker's earlier guesses still count
        assert (await client.post("/api/auth/login", **_login("god", "bad"))).status_code == 401
        assert (await client.post("/api/auth/login", **_login("god", "bad"))).status_code == 401
        assert (await client.post("/api/auth/login", **_login("god", PASSWORD))).status_code == 429


@pytest.mark.redis
async def test_concurrent_guesses_through_redis_on_two_instances(sqlite_site: Config, verified: list[str]) -> None:
    if not REDIS_URL:
        pytest.skip("set MBSITE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run the Redis lock test")
    username = _rename(sqlite_site, "acme-god")
    config = dataclasses.replace(sqlite_site, redis_url=REDIS_URL, trusted_proxies=["127.0.0.1"],
                                 rate_limits=ACCOUNT_LOCK_ONLY)
    headers = {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}"}  # this run's own client counters
    async with _client(config) as first, _client(config) as second:
        statuses = await _storm([first, second], username, 30, headers)
        r = await second.post("/api/auth/login", headers=headers, **_login(username, PASSWORD))
        _assert_locked(verified, statuses, r)


# -- the in-process counters ------------------------------------------------------------------------------------

@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [900.0 * 2_000_000 + 1]  # just after the start of a 15-minute window
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    return now


async def test_a_flood_of_clients_never_unlocks_an_account(clock: list[float]) -> None:
    limiter = RateLimiter({"login_account": "5/15minute", "login": "10/minute"})
    for _ in range(5):
        await limiter.hit("login_account", "acme:god")
    assert not (await limiter.hit("login_account", "acme:god")).allowed
    for i in range(30_000):  # 30,000 source addresses over 75 s
        if i % 400 == 0:
            clock[0] += 1
        await limiter.hit("login", f"198.51.{i // 250}.{i % 250}")
    assert not (await limiter.hit("login_account", "acme:god")).allowed
    # ... and yet memory stays bounded: old windows of other keys were evicted, not kept forever
    assert len(limiter.backend) <= ratelimit.MAX_KEYS + 10  # type: ignore[arg-type]


async def test_expired_windows_are_dropped_first(clock: list[float]) -> None:
    limiter = RateLimiter({"read": "3/minute"})
    for i in range(ratelimit.MAX_KEYS):
        await limiter.hit("read", f"a{i}")
    clock[0] += 61  # every one of those windows is over
    await limiter.hit("read", "b")
    for i in range(100):
        await limiter.hit("read", f"c{i}")
    assert len(limiter.backend) == 101  # type: ignore[arg-type]
