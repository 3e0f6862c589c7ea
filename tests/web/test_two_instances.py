"""Two instances of the functions (separate uvicorn processes) on one PostgreSQL and one Redis behave as one:
sessions, CSRF, account locks, ETag/If-Match conflicts, webhooks (each delivered once) and the change feed."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Iterator

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("MBSITE_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("MBSITE_TEST_REDIS_URL")
pytestmark = [pytest.mark.postgres, pytest.mark.redis]
PASSWORD = "mbsite-demo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Hooks(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Hooks.received.append({"event": self.headers.get("X-Mbsite-Event"), "body": json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    if not PG_URL or not REDIS_URL:
        pytest.skip("set MBSITE_TEST_POSTGRES_URL and MBSITE_TEST_REDIS_URL to run two instances")
    import psycopg
    import redis

    name = "mbsite_t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    db_url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    redis_url = REDIS_URL.rsplit("/", 1)[0] + "/13"  # a database of its own: locks of other tests stay out
    redis.Redis.from_url(redis_url).flushdb()
    hooks = HTTPServer(("127.0.0.1", 0), Hooks)
    Hooks.received = []
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    site = tmp_path / "site"
    shutil.copytree(REPO / "content", site / "content")
    (site / "mbsite.toml").write_text(
        '[functions]\nrate_limits = { login = "1000/minute", read = "100000/minute", write = "100000/minute" }\n'
        f'[functions.webhooks]\nacme = [{{ url = "http://127.0.0.1:{hooks.server_port}/hook", secret = "s3", '
        'events = ["record.*"] }]\n')
    (tmp_path / "both.py").write_text("from mbsite.web.app import function_app\napp = function_app('crud', 'auth')\n")
    env = {**os.environ, "MBSITE_SITE": str(site), "MBSITE_DATABASE_URL": db_url, "MBSITE_REDIS_URL": redis_url,
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    subprocess.run([sys.executable, "-m", "mbsite.cli", "db", "init", "--site", str(site)], env=env, check=True,
                   capture_output=True)
    procs, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "both:app", "--host", "127.0.0.1", "--port", str(port),
                 "--log-level", "warning"], cwd=tmp_path, env=env, start_new_session=True))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(url + "/api/auth/me", timeout=2)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        yield urls[0], urls[1], db_url
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=15)
        assert all(proc.poll() is not None for proc in procs)
        hooks.shutdown()
        hooks.server_close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def sign_in(client: httpx.Client, url: str, username: str = "admin", password: str = PASSWORD) -> httpx.Response:
    return client.post(url + "/api/auth/login", json={"tenant": "acme", "username": username, "password": password})


def test_two_instances_behave_as_one(cluster: tuple[str, str, str]) -> None:
    import psycopg

    a, b, db_url = cluster
    products = "/api/v1/acme/shop/product"
    with psycopg.connect(db_url) as conn:
        start = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0]
    with httpx.Client(timeout=30) as client:
        # A session made by one instance is known to the other; so is its CSRF token.
        login = sign_in(client, a)
        assert login.status_code == 200, login.text
        csrf = login.json()["csrfToken"]
        me = client.get(b + "/api/auth/me")
        assert me.status_code == 200 and me.json()["username"] == "admin"
        body = {"name": "Twin", "price": 3, "status": "active", "category": "Outdoor"}
        refused = client.post(b + products, json=body)  # a cookie write without the CSRF token
        assert refused.status_code == 403
        made = client.post(b + products, json=body, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text
        twin = products + "/" + made.json()["id"]

        # ETag / If-Match across instances: the second writer with the old version is refused.
        got = client.get(a + twin)
        assert got.status_code == 200, got.text
        etag = got.headers["etag"]
        first = client.patch(b + twin, json={"price": 4},
                             headers={"If-Match": etag, "X-CSRF-Token": csrf})
        assert first.status_code == 200, first.text
        stale = client.patch(a + twin, json={"price": 5},
                             headers={"If-Match": etag, "X-CSRF-Token": csrf})
        assert stale.status_code == 412
        for i in range(6):  # writes spread over both instances: each webhook delivered once
            target = (a, b)[i % 2]
            r = client.post(target + products, json={**body, "name": f"Twin {i}"}, headers={"X-CSRF-Token": csrf})
            assert r.status_code == 201, r.text

    # An account lock counts the failures of both instances, and holds on both, also for the right password.
    with httpx.Client(timeout=30) as guest:
        codes = [sign_in(guest, (a, b)[i % 2], "moderator", "wrong").status_code for i in range(7)]
        assert codes.count(401) == 5 and codes[5:] == [429, 429], codes
        assert sign_in(guest, a, "moderator").status_code == 429
        assert sign_in(guest, b, "moderator").status_code == 429

    deadline = time.monotonic() + 20  # webhooks are delivered after the commit, with retries
    while time.monotonic() < deadline and len(Hooks.received) < 8:
        time.sleep(0.1)
    time.sleep(0.5)  # (a duplicate would arrive now)
    ids = [(h["event"], json.dumps(h["body"].get("data", h["body"]), sort_keys=True)) for h in Hooks.received]
    assert len(Hooks.received) == 8 and len(set(ids)) == 8, Hooks.received  # 7 creates + 1 update, once each

    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT seq, op FROM changes WHERE tbl = 'entity_records' AND seq > %s ORDER BY seq",
                            (start,)).fetchall()
    assert [op for _seq, op in rows].count("insert") == 7 and [op for _seq, op in rows].count("update") == 1
    assert [seq for seq, _op in rows] == sorted({seq for seq, _op in rows})  # one row each, in order
