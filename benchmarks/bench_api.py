"""Benchmark of the CRUD API: uvicorn on 127.0.0.1 against a 10,000-row table, measured with wrk.

    python benchmarks/bench_api.py [--rows 10000] [--duration 10] [--connections 32] [--workers 1]
                                   [--only get,list,post] [--paced]

Builds a throwaway site (SQLite) in a temp folder, seeds the rows, starts uvicorn, signs in for a Bearer
token and runs wrk for: GET one record, a list of 20 with one filter, and POST. Each scenario is checked
once (status and body) before it is measured, so a broken URL cannot pass for a fast one. Prints req/s
and p50/p90/p95/p99 per scenario (wrk's own latency histogram, read by a Lua `done` hook). wrk is a
closed loop: by default every connection sends as fast as it is answered (the most req/s the server can do,
with the latency of a saturated server). `--paced` spaces each connection's requests (a Lua `delay`) so a
scenario runs near its target rate (GET 2,000, list 1,000, POST 500 req/s) and reports latency at that rate.
Needs `wrk` (Debian: apt-get install wrk).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mbsite.db.engine import ensure_schema, open_engine  # noqa: E402
from mbsite.passwords import hash_password  # noqa: E402

ENTITY = """\
entity: Item
package: bench
fields:
  id: { type: cuid, primary: true, generated: true }
  title: { type: string, required: true, max_length: 200 }
  category: { type: enum, values: [a, b, c, d, e] }
  price: { type: number, min: 0 }
  stock: { type: integer, min: 0, default: 0 }
acl:
  read: { public: true }
  create: { user: true }
  update: { admin: true }
  delete: { admin: true }
"""
POST_BODY = '{"title": "benchmark item", "category": "c", "price": 9.5, "stock": 3}'
POST_LUA = """wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""
# Runs once at the end of a wrk run: the percentiles wrk's --latency table leaves out (p95), in microseconds.
DONE_LUA = """
done = function(summary, latency, requests)
  for _, p in ipairs({50, 90, 95, 99}) do
    io.write(string.format("PCT %d %d\\n", p, latency:percentile(p)))
  end
end
"""


def make_site(folder: Path, rows: int) -> None:
    (folder / "schemas" / "entities").mkdir(parents=True)
    (folder / "schemas" / "entities" / "bench.yaml").write_text(ENTITY)
    limits = ", ".join(f'{k} = "100000000/minute"' for k in ("read", "write", "login"))
    (folder / "mbsite.toml").write_text(f"[functions]\nrate_limits = {{ {limits} }}\n")
    engine = open_engine(f"sqlite:///{folder / '.mbsite' / 'mbsite.sqlite3'}")
    ensure_schema(engine)
    rnd = random.Random(1)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (slug, name, domains, settings, created_at) VALUES "
                          "('acme', 'Acme', '[]', '{}', 0)"))
        conn.execute(text("INSERT INTO users (id, tenant, username, role, created_at) VALUES "
                          "('u1', 'acme', 'admin', 'admin', 0)"))
        conn.execute(text("INSERT INTO credentials (user_id, password_hash, changed_at) VALUES ('u1', :h, 0)"),
                     {"h": hash_password("bench")})
        conn.execute(text("INSERT INTO entity_records (tenant, package, entity, id, data, version, created_at, "
                          "updated_at) VALUES ('acme', 'bench', 'item', :id, :d, 1, 0, 0)"), [
            {"id": f"item{i:05d}", "d": json.dumps({"id": f"item{i:05d}", "title": f"Item {i}",
                                                     "category": rnd.choice("abcde"),
                                                     "price": round(rnd.uniform(1, 100), 2), "stock": i % 50})}
            for i in range(rows)])
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk(url: str, duration: int, connections: int, script: Path) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct, micros in re.findall(r"^PCT (\d+) (\d+)$", out, re.MULTILINE):
        result[f"p{pct}"] = int(micros) / 1000
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["errors"] = float(non2xx.group(1)) if non2xx else 0.0
    return result


def wait_up(url: str) -> None:
    for _ in range(100):
        try:
            httpx.get(url)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    sys.exit(f"server at {url} did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--only", default="get,list,post", help="comma list of scenarios: get, list, post")
    ap.add_argument("--paced", action="store_true", help="run each scenario near its target rate")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    folder = Path(tempfile.mkdtemp(prefix="mbsite-bench-"))
    make_site(folder, args.rows)
    port, auth_port = free_port(), free_port()
    env = {**os.environ, "MBSITE_SITE": str(folder), "PYTHONPATH": str(ROOT)}
    uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen([*uvicorn, "functions.crud:app", "--port", str(port), "--workers", str(args.workers)],
                              cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base + "/api/v1/openapi.json")
        # Sign in through the auth function (same database), then stop it: only the CRUD app is measured.
        auth = subprocess.Popen([*uvicorn, "functions.auth:app", "--port", str(auth_port)], cwd=ROOT, env=env)
        try:
            wait_up(f"http://127.0.0.1:{auth_port}/api/auth/me")
            r = httpx.post(f"http://127.0.0.1:{auth_port}/api/auth/login?token=1",
                           json={"tenant": "acme", "username": "admin", "password": "bench"})
            r.raise_for_status()
            token = r.json()["token"]
        finally:
            auth.terminate()
            auth.wait(timeout=10)
        scenarios = {
            "get": ("GET one record", f"{base}/api/v1/acme/bench/item/item04242", "", 200, 2000),
            "list": ("list 20, one filter", f"{base}/api/v1/acme/bench/item?category=c&limit=20", "", 200, 1000),
            "post": ("POST create", f"{base}/api/v1/acme/bench/item", POST_LUA % (POST_BODY, token), 201, 500),
        }
        print(f"rows={args.rows} duration={args.duration}s connections={args.connections} workers={args.workers}"
              f"{' paced at the targets' if args.paced else ''}")
        print(f"{'scenario':22} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        for key in args.only.split(","):
            name, url, lua, status, target = scenarios[key.strip()]
            check = httpx.request("POST" if lua else "GET", url, content=POST_BODY if lua else None,
                                  headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            if check.status_code != status or (key == "list" and len(check.json()["data"]) != 20):
                sys.exit(f"{name}: expected {status}, got {check.status_code}: {check.text[:200]}")
            script = folder / f"{key}.lua"
            pace = ""
            if args.paced:
                # Each connection waits this long between requests: 15% under the ideal spacing makes up
                # for the time a request itself takes, so the achieved rate lands at or a little above it.
                pace = f"delay = function() return {int(args.connections * 1000 / target * 0.85)} end\n"
            script.write_text(lua + pace + DONE_LUA)
            wrk(url, 2, args.connections, script)  # warm-up
            r = wrk(url, args.duration, args.connections, script)
            print(f"{name:22} {r['rps']:8.0f} {r.get('p50', 0):8.2f} {r.get('p90', 0):8.2f} "
                  f"{r.get('p95', 0):8.2f} {r.get('p99', 0):8.2f} {r['errors']:8.0f}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
