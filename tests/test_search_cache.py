"""search.SearchCache: a bundle whose pages were indexed before is taken from the state folder instead of running
Pagefind again (`rm -rf build`, `--full`, another `--out`), and is published byte for byte as Pagefind made it;
an entry this user's key did not sign, or whose files changed since, is never published (Pagefind runs); the folder
keeps what the last build used and as much again, and removes nothing but its own entries."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from support import copy_site, output_tree

from mbsite import search as search_module
from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.reporter import BufferReporter, ConsoleReporter
from mbsite.search import BUNDLE_CACHE, SearchCache
from mbsite.signing import sign

pytestmark = pytest.mark.usefixtures("search_on")

pytest.importorskip("pagefind.service", reason="pagefind is not installed (pip install 'pagefind[bin]')")

PLANTED = "window.planted = 'from a state folder that came with the site';\n"


@pytest.fixture(autouse=True)
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A signing key of this test's own (the user's cache folder is left alone)."""
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture()
def pagefind_runs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders Pagefind was run on, in order."""
    runs: list[Path] = []
    real = search_module._run

    def counting(binary: Path, site: Path, target: Path, cancel: Any = None) -> str:
        runs.append(site)
        return real(binary, site, target, cancel)
    monkeypatch.setattr(search_module, "_run", counting)
    return runs


def build(site: Path, out: Path | None = None, full: bool = False) -> dict[str, Any]:
    config = load_config(site)
    if out is not None:
        config = config.with_options(out_dir=out)
    result = Builder(config, BufferReporter(), full=full).run()
    assert result.ok, result.problems
    return result.summary


def search_files(out: Path) -> dict[str, bytes]:
    """Every file of every bundle in an output folder, by path."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and "pagefind" in p.relative_to(out).as_posix()}


def entries(site: Path) -> list[Path]:
    folder = site / ".mbsite" / BUNDLE_CACHE
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []


def test_a_build_into_a_new_folder_takes_the_bundles_from_the_cache(tmp_path: Path, pagefind_runs: list[Path]) -> None:
    site = copy_site("search", tmp_path / "site")
    first = build(site)
    made = len(pagefind_runs)
    assert made == first["search_indexes"] == 2 and first["search_indexes_reused"] == 0 and len(entries(site)) == 2
    # The output folder removed, and another one: nothing is indexed again; the same bundles, byte for byte.
    shutil.rmtree(site / "build")
    again = build(site)
    assert again["search_indexes"] == again["search_indexes_reused"] == 2
    elsewhere = build(site, out=tmp_path / "elsewhere", full=True)
    assert elsewhere["search_indexes"] == elsewhere["search_indexes_reused"] == 2
    assert len(pagefind_runs) == made
    assert search_files(site / "build") == search_files(tmp_path / "elsewhere")
    assert output_tree(site / "build") == output_tree(tmp_path / "elsewhere")
    # A page edited: only its bundle is indexed again (the members' one is still the cached one).
    post = site / "content" / "blog" / "open.md"
    post.write_text(post.read_text().replace("zebrafish", "zebrafish and a quagga"))
    edited = build(site, full=True)
    assert (edited["search_indexes"], edited["search_indexes_reused"]) == (2, 1)
    assert len(pagefind_runs) == made + 1
    assert _indexed_text(site, "quagga")


def _indexed_text(site: Path, word: str) -> bool:
    return any(word.encode() in gzip.decompress(f.read_bytes())
               for f in (site / "build" / "t" / "public" / "pagefind" / "fragment").glob("*.pf_fragment"))


def _plant(site: Path, key: bytes) -> list[Path]:
    """Replace each cache entry's `pagefind.js` with a planted script, its manifest signed with `key`."""
    planted = []
    for entry in entries(site):
        script = entry / "pagefind.js"
        script.unlink()  # (a link to the published file: write a new one)
        script.write_text(PLANTED)
        manifest = entry / "mbsite-manifest"
        payload = json.loads(manifest.read_bytes()[32:])
        payload["files"] = [[n, len(PLANTED) if n == "pagefind.js" else z,
                             hashlib.sha256(PLANTED.encode()).hexdigest() if n == "pagefind.js" else h]
                            for n, z, h in payload["files"]]
        data = json.dumps(payload, separators=(",", ":")).encode()
        manifest.write_bytes(sign(key, b"search-bundle", data) + data)
        planted.append(entry)
    return planted


def test_an_entry_another_key_signed_is_never_published(tmp_path: Path, pagefind_runs: list[Path]) -> None:
    """A state folder that came with the site (another machine's, or a planted one) holds bundles with scripts that
    the site would serve: an entry not signed with this user's key is not used, whatever its files say."""
    site = copy_site("search", tmp_path / "site")
    build(site)
    reference = search_files(site / "build")
    made = len(pagefind_runs)
    assert _plant(site, os.urandom(32))
    shutil.rmtree(site / "build")
    build(site)
    assert len(pagefind_runs) == 2 * made  # indexed again
    published = search_files(site / "build")
    assert published == reference
    assert not any(PLANTED.encode() in data for data in published.values())


def test_an_entry_whose_files_changed_is_indexed_again(tmp_path: Path, pagefind_runs: list[Path]) -> None:
    """A file of a signed entry changed afterwards (written in place through its link, or damaged): the entry does
    not match its signed list and Pagefind runs; the published bundle is Pagefind's own."""
    site = copy_site("search", tmp_path / "site")
    build(site)
    reference = search_files(site / "build")
    made = len(pagefind_runs)
    for entry in entries(site):
        with open(entry / "pagefind.js", "r+b") as fh:  # in place, same size: the published file changes with it
            first = fh.read(1)
            fh.seek(0)
            fh.write(b"X" if first != b"X" else b"Y")
    shutil.rmtree(site / "build")
    build(site)
    assert len(pagefind_runs) == 2 * made
    assert search_files(site / "build") == reference


def test_the_cache_keeps_the_last_build_and_as_much_again(tmp_path: Path) -> None:
    site = copy_site("search", tmp_path / "site")
    build(site)
    first = set(entries(site))
    post = site / "content" / "blog" / "open.md"
    text = post.read_text()
    for n in range(4):  # four versions of the public bundle
        post.write_text(text.replace("zebrafish", f"zebrafish number {n}"))
        build(site)
    now = set(entries(site))
    # The members' bundle never changed (kept, used); of the public bundles, the current one and the one before.
    assert len(now) == 3
    assert len(now & first) == 1
    # Something that is not an entry (a name not a digest, a link) is never removed.
    folder = site / ".mbsite" / BUNDLE_CACHE
    (folder / "notes.txt").write_text("mine")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    (folder / ("f" * 32)).symlink_to(outside)
    post.write_text(text)
    build(site)
    assert (folder / "notes.txt").read_text() == "mine" and (outside / "keep.txt").read_text() == "mine"


def test_without_a_key_nothing_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         pagefind_runs: list[Path]) -> None:
    site = copy_site("search", tmp_path / "site")
    (tmp_path / "no-home").touch()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-home"))  # (a file: no folder to keep a key in)
    build(site)
    shutil.rmtree(site / "build")
    build(site)
    assert entries(site) == []
    assert len(pagefind_runs) == 4


def test_fetch_refuses_what_it_did_not_write(tmp_path: Path) -> None:
    """Direct checks of SearchCache.fetch: names that are not digests, a link for an entry, a manifest naming a file
    outside the entry."""
    folder = tmp_path / "cache"
    key = os.urandom(32)
    cache = SearchCache(folder, key)
    made = tmp_path / "made"
    (made / "fragment").mkdir(parents=True)
    (made / "pagefind-entry.json").write_text("{}")
    (made / "fragment" / "a.pf_fragment").write_bytes(b"x")
    digest = "a" * 32
    cache.keep(digest, made)
    assert cache.fetch(digest, tmp_path / "t1") and (tmp_path / "t1" / "fragment" / "a.pf_fragment").read_bytes() == b"x"
    assert not cache.fetch("../" + digest, tmp_path / "t2") and not (tmp_path / "t2").exists()
    os.symlink(folder / digest, folder / ("b" * 32))
    assert not cache.fetch("b" * 32, tmp_path / "t3")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for publishing")
    data = json.dumps({"digest": "c" * 32, "files": [["../../secret.txt", 18, "0" * 64]]}).encode()
    (folder / ("c" * 32)).mkdir()
    (folder / ("c" * 32) / "mbsite-manifest").write_bytes(sign(key, b"search-bundle", data) + data)
    assert not cache.fetch("c" * 32, tmp_path / "t4") and not (tmp_path / "t4").exists()
    # An entry signed for its own digest is not taken for another.
    shutil.copytree(folder / digest, folder / ("d" * 32))
    assert not cache.fetch("d" * 32, tmp_path / "t5")


def test_the_summary_line_says_how_many_indexes_were_made_and_reused() -> None:
    base = {"pages": 3, "rendered": 3, "unchanged": 0, "removed": 0, "variants_written": 3, "variants_shared": 0,
            "warnings": 0, "errors": 0, "seconds": 0.5}
    lines = []
    for made, reused in ((0, 0), (1, 0), (2, 1)):
        out = io.StringIO()
        ConsoleReporter(out).finish({**base, "search_indexes": made, "search_indexes_reused": reused})
        lines.append(out.getvalue())
    assert "search" not in lines[0]
    assert "· 1 search index · " in lines[1] and "reused" not in lines[1]
    assert "· 2 search indexes (1 reused) · " in lines[2]
