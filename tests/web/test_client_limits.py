"""The client address behind trusted proxies, and rate limits shared through Redis by two app instances."""
from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from pathlib import Path

import pytest
from web_support import make_api

from mbsite.config import Config, load_config
from mbsite.errors import ConfigError
from mbsite.web.middleware import forwarded_client, parse_proxies

pytestmark = pytest.mark.anyio
REDIS_URL = os.environ.get("MBSITE_TEST_REDIS_URL")


@pytest.fixture
def sqlite_site(template_site: Path, tmp_path: Path) -> Config:
    root = tmp_path / "site"
    shutil.copytree(template_site, root)
    return Config(site_dir=root, database_url=f"sqlite:///{root / '.mbsite' / 'mbsite.sqlite3'}")


PROXIES = parse_proxies(["127.0.0.1", "10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize("peer,header,client", [
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),              # untrusted peer: the header is ignored
    ("127.0.0.1", None, "127.0.0.1"),                             # trusted peer, no header
    ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
    ("127.0.0.1", "1.2.3.4, 198.51.100.1, 10.0.0.7", "198.51.100.1"),  # spoofed left part, trusted hop right
    ("10.1.2.3", "10.0.0.5, 10.0.0.6", "10.0.0.5"),              # every hop trusted: the first one
    ("fd00::1", "2001:db8::5", "2001:db8::5"),
    ("127.0.0.1", "not-an-ip", "not-an-ip"),                      # an untrusted hop is the client, as sent
], ids=["untrusted-peer", "no-header", "one-hop", "spoofed-prefix", "all-trusted", "ipv6", "garbage"])
def test_forwarded_client(peer: str, header: str | None, client: str) -> None:
    assert forwarded_client(peer, header, PROXIES) == client


@pytest.mark.parametrize("entries", [["nonsense"], [42]], ids=["not-an-address", "not-a-string"])
def test_parse_proxies_rejects(entries: list) -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        parse_proxies(entries)


def test_trusted_proxies_config_key(tmp_path: Path) -> None:
    (tmp_path / "mbsite.toml").write_text('[functions]\ntrusted_proxies = ["10.0.0.0/8", "127.0.0.1"]\n')
    assert load_config(tmp_path).trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
    (tmp_path / "mbsite.toml").write_text('[functions]\ntrusted_proxies = "10.0.0.1"\n')
    with pytest.raises(ConfigError, match="trusted_proxies"):
        load_config(tmp_path)


@pytest.mark.parametrize("trusted,separate", [(["127.0.0.1"], True), ([], False)], ids=["trusted", "untrusted"])
async def test_rate_limit_counts_the_forwarded_client(sqlite_site: Config, trusted: list[str], separate: bool) -> None:
    """httpx's ASGI transport connects from 127.0.0.1: trusted, each forwarded client has its own budget."""
    config = dataclasses.replace(sqlite_site, trusted_proxies=trusted, rate_limits={"read": "2/hour"})
    async for api in make_api(config):
        statuses = []
        for client in ("198.51.100.1", "198.51.100.1", "198.51.100.2"):
            r = await api.client.get("/api/v1/acme/notes/note", headers={"X-Forwarded-For": client})
            statuses.append(r.status_code)
        assert statuses == ([200, 200, 200] if separate else [200, 200, 429])


async def test_session_records_the_forwarded_client(sqlite_site: Config) -> None:
    async for api in make_api(dataclasses.replace(sqlite_site, trusted_proxies=["127.0.0.0/8"])):
        r = await api.client.post("/api/auth/login", json={"tenant": "acme", "username": "admin",
                                                           "password": "mbsite-demo"},
                                  headers={"X-Forwarded-For": "192.0.2.44"})
        assert r.status_code == 200
        async with api.app.state.mb.db.read() as conn:
            assert (await conn.execute("SELECT ip_address FROM sessions")).scalar_one() == "192.0.2.44"


@pytest.mark.redis
async def test_redis_limits_are_shared_by_two_instances(sqlite_site: Config) -> None:
    if not REDIS_URL:
        pytest.skip("set MBSITE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run the Redis rate-limit test")
    # A client address of its own keeps this run's counters apart from any other run on the same server.
    client = f"2001:db8::{uuid.uuid4().hex[:4]}"
    config = dataclasses.replace(sqlite_site, redis_url=REDIS_URL, trusted_proxies=["127.0.0.1"],
                                 rate_limits={"read": "3/hour"})  # hour: no window edge mid-test
    headers = {"X-Forwarded-For": client}
    async for first in make_api(config):
        async for second in make_api(config):
            assert first.app.state.mb.limiter is not second.app.state.mb.limiter
            r1 = await first.client.get("/api/v1/acme/notes/note", headers=headers)
            r2 = await second.client.get("/api/v1/acme/notes/note", headers=headers)
            r3 = await first.client.get("/api/v1/acme/notes/note", headers=headers)
            assert [r.status_code for r in (r1, r2, r3)] == [200, 200, 200]
            assert [r.headers["ratelimit-remaining"] for r in (r1, r2, r3)] == ["2", "1", "0"]
            over = await second.client.get("/api/v1/acme/notes/note", headers=headers)
            assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
            assert over.json()["code"] == "RATE_LIMIT_EXCEEDED"
            # Another client is unaffected on either instance.
            other = await second.client.get("/api/v1/acme/notes/note", headers={"X-Forwarded-For": client + "1"})
            assert other.status_code == 200
