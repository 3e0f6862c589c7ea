"""Two `mbsite watch` processes on one PostgreSQL database: one active (the watch lock), one standing by; the active
one is killed (-9) during a stream of writes, the standby takes over from the stored cursor, and the output ends
equal to a clean full build. No process is left behind."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
from support import output_tree as tree

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.reporter import BufferReporter

PG_URL = os.environ.get("MBSITE_TEST_POSTGRES_URL")
REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.postgres

PRODUCT = ("UPDATE entity_records SET data = jsonb_set(data::jsonb, '{name}', to_jsonb(%s::text)) "
           "WHERE tenant = 'acme' AND package = 'shop' AND id = (SELECT id FROM entity_records "
           "WHERE tenant = 'acme' AND package = 'shop' AND data->>'status' = 'active' ORDER BY id LIMIT 1)")


@pytest.fixture
def pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("MBSITE_TEST_POSTGRES_URL is not set; PostgreSQL tests need a server")
    import psycopg

    name = "mbsite_t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")




def group_alive(pgid: int) -> bool:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> float:
    """Wait until predicate() holds; the monotonic time at which it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"not in {timeout:.0f} s: {what}")


class WatchProcess:
    """`mbsite watch` in its own process group, its messages in a log file."""

    def __init__(self, name: str, site: Path, db: str, logs: Path) -> None:
        self.log = logs / f"{name}.log"
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from mbsite.cli import run; run()", "watch", "--site", str(site), "--db", db],
                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)

    def says(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def test_a_standby_takes_over_when_the_active_watch_is_killed(pg_database: str, tmp_path: Path) -> None:
    import psycopg

    site = tmp_path / "site"
    shutil.copytree(REPO / "content", site / "content")
    config = load_config(site).with_options(database_url=pg_database)
    builder = Builder(config)
    assert builder.run().ok  # seeds the database and publishes the first build
    builder.close()

    first = WatchProcess("first", site, pg_database, tmp_path)
    second: WatchProcess | None = None
    written: list[str] = []
    stop_writing = threading.Event()

    def write_stream() -> None:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            i = 0
            while not stop_writing.is_set():
                name = f"Streamed Name {i}"
                conn.execute(PRODUCT, (name,))
                written.append(name)
                i += 1
                time.sleep(0.05)

    writer = threading.Thread(target=write_stream, daemon=True)
    try:
        wait_for(lambda: first.says("watch: active: holding the watch lock"), "the first watch is active")
        wait_for(lambda: any(line.startswith("[start]") for line in first.lines()), "its first run")
        second = WatchProcess("second", site, pg_database, tmp_path)
        wait_for(lambda: second.says("watch: standing by"), "the second watch stands by")

        writer.start()
        products = site / "build" / "acme" / "public" / "products" / "index.html"
        wait_for(lambda: len(written) > 5 and written[3].encode() in products.read_bytes(),
                 "the first watch publishes the stream")
        time.sleep(0.3)  # (most likely mid-batch: a batch takes about as long as the writes are apart)
        killed_at = time.monotonic()
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        assert not group_alive(first.proc.pid)

        active_at = wait_for(lambda: second.says("watch: active: took over"), "the standby takes over", 15)
        started = wait_for(lambda: any(line.startswith("[start]") for line in second.lines()),
                           "the new active watch publishes", 30)
        time.sleep(1.0)  # writes go on under the new active watch
        stop_writing.set()
        writer.join(timeout=10)
        last = written[-1]
        wait_for(lambda: last.encode() in products.read_bytes(), "the last write is published")
        with psycopg.connect(pg_database, autocommit=True) as conn:
            high = conn.execute("SELECT max(seq) FROM changes").fetchone()[0]
            wait_for(lambda: conn.execute("SELECT value FROM build_state WHERE key = 'cursor'").fetchone()[0]
                     == str(high), "the stored cursor reaches the last change")
        print(f"\ntakeover: lock taken {active_at - killed_at:.2f} s after kill -9, first batch published "
              f"{started - killed_at:.2f} s after it; {len(written)} writes")
        assert active_at - killed_at < 5

        second.stop()
        assert second.proc.returncode == 0, second.log.read_text()
    finally:
        stop_writing.set()
        if writer.is_alive():
            writer.join(timeout=10)
        first.stop()
        if second is not None:
            second.stop()
    for proc in (first.proc, *( [second.proc] if second is not None else [])):
        assert not group_alive(proc.pid), f"process group {proc.pid} left behind"

    clean = Builder(config.with_options(out_dir=tmp_path / "clean"), BufferReporter(), full=True)
    assert clean.run().ok
    clean.close()
    assert tree(site / "build") == tree(tmp_path / "clean")
