"""The output folder is the truth: whatever happened to it (emptied, built elsewhere, files deleted or edited, a
build killed), the next build leaves it equal to a clean full build; a build never publishes an empty or much
smaller site over a full one unless told to; and no process outlives a killed build."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import output_tree as tree

from mbsite.builder import Builder
from mbsite.cli import main
from mbsite.config import load_config
from mbsite.reporter import BufferReporter
from mbsite.writer import MARKER

SEED = """\
entity: Tenant
records:
  - {slug: t, name: T}
"""


def posts_site(root: Path, posts: int = 30) -> Path:
    """A small blog: a seed with one tenant, an about page and `posts` posts (one render worker)."""
    (root / "content" / "seed").mkdir(parents=True)
    (root / "content" / "seed" / "site.yaml").write_text(SEED)
    (root / "content" / "pages").mkdir()
    (root / "content" / "pages" / "about.md").write_text("---\ntitle: About\nnav: true\n---\nAbout us.\n")
    (root / "content" / "blog").mkdir()
    for i in range(posts):
        (root / "content" / "blog" / f"p{i:03}.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2024-01-{i % 28 + 1:02}\ntags: [t{i % 3}]\n---\nBody {i}.\n")
    (root / "mbsite.toml").write_text("[build]\nworkers = 1\nhighlight = false\n")
    return root




def build(site: Path, **opts: object):
    return Builder(load_config(site).with_options(**opts), BufferReporter()).run()


def clean_full_build(site: Path, dest: Path) -> dict[str, bytes]:
    """The reference: a full build of a copy of the site (same database rows), into a fresh folder."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(site, dest, ignore=shutil.ignore_patterns("build", "elsewhere"))
    result = Builder(load_config(dest), full=True).run()
    assert result.ok, [str(p) for p in result.problems]
    return tree(dest / "build")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = posts_site(tmp_path / "site")
    assert build(root).ok
    return root


def test_rm_rf_build_then_build_publishes_the_whole_site(site: Path, tmp_path: Path) -> None:
    expected = tree(site / "build")
    shutil.rmtree(site / "build")
    result = build(site)
    assert result.ok and result.summary["rendered"] == result.summary["pages"] > 30
    assert tree(site / "build") == expected == clean_full_build(site, tmp_path / "ref")


def test_a_build_into_another_folder_does_not_leave_the_first_one_stale(site: Path, tmp_path: Path) -> None:
    other = site / "elsewhere"
    first = build(site, out_dir=other)
    assert first.summary["rendered"] == first.summary["pages"]
    assert tree(other) == tree(site / "build")
    layout = site / "themes" / "default" / "templates"
    layout.mkdir(parents=True)
    base = (Path(__file__).resolve().parent.parent / "themes" / "default" / "templates" / "base.html").read_text()
    (layout / "base.html").write_text(base.replace("</body>", "<p>edited layout</p></body>"))
    assert build(site, out_dir=other).ok
    result = build(site)  # build/ never saw the layout edit: it must not say "nothing to do"
    assert result.summary["rendered"] == result.summary["pages"]
    assert b"edited layout" in (site / "build" / "t" / "public" / "about" / "index.html").read_bytes()
    assert tree(site / "build") == tree(other) == clean_full_build(site, tmp_path / "ref")


def test_a_deleted_or_edited_published_file_is_restored(site: Path) -> None:
    expected = tree(site / "build")
    out = site / "build" / "t"
    (out / "public" / "blog" / "p001" / "index.html").unlink()
    edited = out / "public" / "about" / "index.html"
    edited.write_text("defaced")
    later = time.time() + 5  # as if edited by hand a few seconds after the build
    os.utime(edited, (later, later))
    for name in ("sitemap.xml", "404.html"):
        (out / "public" / name).unlink()
    result = build(site)
    assert result.summary["reasons"] == {"missing": 1, "changed": 1}
    assert tree(site / "build") == expected


def test_a_build_cut_short_while_publishing_is_followed_by_a_full_build(site: Path) -> None:
    (site / "build" / MARKER).unlink()  # what a build killed between its first rename and its graph leaves
    result = build(site)
    assert result.summary["reasons"] == {"full": result.summary["pages"]}
    assert (site / "build" / MARKER).is_file()


def test_a_mistyped_site_folder_is_an_error_and_the_output_stays(site: Path, tmp_path: Path) -> None:
    before = tree(site / "build")
    runner = CliRunner()
    result = runner.invoke(main, ["build", "--site", str(tmp_path / "sitee"), "--out", str(site / "build")])
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not (tmp_path / "sitee").exists()
    assert tree(site / "build") == before


def test_an_empty_site_is_never_published_over_a_full_output(site: Path, tmp_path: Path) -> None:
    before = tree(site / "build")
    empty = tmp_path / "empty"
    empty.mkdir()
    runner = CliRunner()
    args = ["build", "--site", str(empty), "--out", str(site / "build"), "--json"]
    refused = runner.invoke(main, args)
    assert refused.exit_code == 1
    summary = json.loads(refused.stdout)
    assert summary["errors"] == 1 and summary["problems"][0]["code"] == "shrink"
    assert "--allow-shrink" in summary["problems"][0]["message"]
    assert tree(site / "build") == before
    allowed = runner.invoke(main, args + ["--allow-shrink"])
    assert allowed.exit_code == 0, allowed.output
    assert not (site / "build" / "t").exists()


def test_a_build_that_removes_more_than_max_shrink_refuses(site: Path) -> None:
    before = tree(site / "build")
    for post in sorted((site / "content" / "blog").glob("*.md"))[:25]:
        post.unlink()
    refused = build(site)
    assert not refused.ok and [p.code for p in refused.problems if p.severity == "error"] == ["shrink"]
    assert tree(site / "build") == before
    again = build(site)  # still refused: the refusal did not move the build state on
    assert not again.ok and tree(site / "build") == before
    (site / "mbsite.toml").write_text("[build]\nworkers = 1\nhighlight = false\nmax_shrink = 0.9\n")
    assert build(site).ok
    assert not (site / "build" / "t" / "public" / "blog" / "p000").exists()


def test_a_few_removed_pages_never_need_allow_shrink(site: Path) -> None:
    for post in sorted((site / "content" / "blog").glob("*.md"))[:3]:
        post.unlink()
    assert build(site).ok


def _children(pid: int) -> set[int]:
    """Every live descendant of pid (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the build's processes")
def test_kill_9_of_a_build_leaves_no_worker_behind(tmp_path: Path) -> None:
    site = posts_site(tmp_path / "site", posts=1500)
    (site / "mbsite.toml").write_text("[build]\nworkers = 2\nhighlight = false\n")
    proc = subprocess.Popen([sys.executable, "-m", "mbsite.cli", "build", "--site", str(site)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
            workers = _children(proc.pid)
            time.sleep(0.01)
        assert len(workers) >= 2, "the build never started its workers"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() and _alive(w) for w in workers):
            time.sleep(0.05)
        assert not [w for w in workers if _alive(w)], "workers outlived the killed build"
    finally:
        if proc.poll() is None:
            proc.kill()
    result = build(site)  # and the next build repairs whatever the killed one left
    assert result.ok and result.summary["rendered"] == result.summary["pages"]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- any sequence of careless acts ends in the same site ---------------------------------------------------

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, rule  # noqa: E402

TMP: pytest.TempPathFactory


@pytest.fixture(autouse=True)
def _tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    global TMP
    TMP = tmp_path_factory


class CarelessUser(RuleBasedStateMachine):
    """Builds, `rm -rf build`, deleted files, builds into another folder, edits, and kill -9 in the middle of a
    build (with its render workers): after any sequence, a build leaves build/ equal to a clean full build and
    no process of a killed build is left."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(TMP.mktemp("careless"))
        self.site = posts_site(self.root / "site", posts=70)  # above the threshold for render workers
        (self.site / "mbsite.toml").write_text("[build]\nworkers = 2\nhighlight = false\n")
        self.n = 0

    @rule()
    def build(self) -> None:
        assert build(self.site).ok

    @rule()
    def rm_rf_build(self) -> None:
        shutil.rmtree(self.site / "build", ignore_errors=True)

    @rule(pick=st.integers(0, 10_000))
    def delete_a_published_file(self, pick: int) -> None:
        files = sorted(p for p in (self.site / "build").rglob("*") if p.is_file()) if (self.site / "build").is_dir() else []
        if files:
            files[pick % len(files)].unlink()

    @rule()
    def build_elsewhere(self) -> None:
        assert build(self.site, out_dir=self.site / "elsewhere").ok

    @rule(pick=st.integers(0, 69))
    def edit_a_post(self, pick: int) -> None:
        self.n += 1
        post = self.site / "content" / "blog" / f"p{pick:03}.md"
        post.write_text(post.read_text() + f"\nEdit {self.n}.\n")

    @rule(delay=st.floats(0.0, 0.6))
    def kill_9_mid_build(self, delay: float) -> None:
        pid = os.fork()
        if pid == 0:  # the build, as `mbsite build` runs it
            code = 1
            try:
                code = 0 if build(self.site).ok else 1
            finally:
                os._exit(code)
        deadline = time.monotonic() + delay
        seen: set[int] = set()
        while time.monotonic() < deadline:
            seen |= _children(pid)
            time.sleep(0.005)
        seen |= _children(pid)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(w) for w in seen):
            time.sleep(0.02)
        assert not [w for w in seen if _alive(w)], "processes of the killed build are still running"

    def teardown(self) -> None:
        try:
            result = build(self.site)
            assert result.ok, [str(p) for p in result.problems]
            assert tree(self.site / "build") == clean_full_build(self.site, self.root / "ref")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


CarelessUser.TestCase.settings = settings(max_examples=6, stateful_step_count=6, deadline=None,
                                          suppress_health_check=list(HealthCheck),
                                          phases=[Phase.explicit, Phase.reuse, Phase.generate])
test_careless_sequences_end_in_a_clean_full_build = CarelessUser.TestCase


# -- broken input keeps the last good page ------------------------------------------------------------------

def demo_site(root: Path) -> Path:
    repo = Path(__file__).resolve().parent.parent
    shutil.copytree(repo / "content", root / "content")
    shutil.copytree(repo / "packages" / "mb_stats_grid", root / "packages" / "mb_stats_grid")
    (root / "mbsite.toml").write_text("[build]\nworkers = 1\n")
    assert build(root).ok
    return root


def test_invalid_front_matter_keeps_the_last_good_page(tmp_path: Path) -> None:
    site = demo_site(tmp_path / "site")
    about = site / "content" / "pages" / "about.md"
    good = about.read_text()
    published = {t: (site / "build" / t / "public" / "about" / "index.html").read_bytes() for t in ("acme", "globex")}
    about.write_text("---\ntitle: [oops\n---\nbroken\n")
    result = build(site)
    assert not result.ok and any(p.location.file == "content/pages/about.md" for p in result.problems)
    for tenant, data in published.items():
        assert (site / "build" / tenant / "public" / "about" / "index.html").read_bytes() == data
    about.write_text(good + "\nFixed.\n")
    assert build(site).ok
    assert tree(site / "build") == clean_full_build(site, tmp_path / "ref")


def test_a_broken_package_file_keeps_the_pages_that_use_it_and_the_repair_equals_a_full_build(tmp_path: Path) -> None:
    site = demo_site(tmp_path / "site")
    ui = site / "packages" / "mb_stats_grid" / "components" / "ui.json"
    good = ui.read_text()
    users = {rel: data for rel, data in tree(site / "build").items() if b"mb_stats_grid" in data or "/stats/" in rel
             or "/reports/" in rel}
    assert any("/reports/" in rel for rel in users)
    ui.write_text('{"broken')
    result = build(site)
    assert not result.ok
    after = tree(site / "build")
    assert not [rel for rel, data in after.items() if b"data-mb-missing" in data]
    for rel in users:
        if "/reports/" in rel or "/stats/" in rel:
            assert after.get(rel) == users[rel], rel
    ui.write_text(good.replace("Stats", "Statistics", 1))
    assert build(site).ok
    assert tree(site / "build") == clean_full_build(site, tmp_path / "ref")
