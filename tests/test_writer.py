"""Staging and publishing: a flat stage (incremental builds) puts every file in place, creates the folders of
new pages, leaves nothing behind, and a discarded stage leaves the published output as it was."""
from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mbsite.writer import Stage, flat_name

segment = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1,
                  max_size=40).filter(lambda s: s not in (".", ".."))


@given(st.lists(segment, min_size=1, max_size=8), st.lists(segment, min_size=1, max_size=8))
def test_flat_names_are_file_names_and_never_collide(a: list[str], b: list[str]) -> None:
    rel_a, rel_b = "/".join(a), "/".join(b)
    name = flat_name(rel_a)
    assert "/" not in name and len(name.encode()) <= 255
    assert (flat_name(rel_a) == flat_name(rel_b)) == (rel_a == rel_b)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_flat_stage_publishes_updates_and_new_pages(tmp_path: Path) -> None:
    out = tmp_path / "build"
    (out / "acme" / "public" / "about").mkdir(parents=True)
    (out / "acme" / "public" / "about" / "index.html").write_bytes(b"old")
    (out / "acme" / "routes.json").write_bytes(b"{}")
    stage = Stage(out, flat=True)
    long_path = "acme/public/" + "/".join(["deep%20name"] * 30) + "/index.html"
    stage.write("acme/public/about/index.html", b"new")
    stage.write("acme/private/3/about/index.html", b"level 3")
    stage.write(long_path, b"long")
    stage.write("acme/routes.json", b'{"v": 2}')
    assert [p.name for p in stage.root.iterdir() if p.is_dir()] == []  # no folder per page in a flat stage
    stage.publish(order_last=("routes.json",))
    assert _tree(out) == {"acme/public/about/index.html": b"new", "acme/private/3/about/index.html": b"level 3",
                          long_path: b"long", "acme/routes.json": b'{"v": 2}'}
    assert not (out / ".staging").exists() or not any((out / ".staging").iterdir())


def test_a_discarded_flat_stage_leaves_the_output_alone(tmp_path: Path) -> None:
    out = tmp_path / "build"
    (out / "acme" / "public").mkdir(parents=True)
    (out / "acme" / "public" / "index.html").write_bytes(b"published")
    before = _tree(out)
    stage = Stage(out, flat=True)
    stage.write("acme/public/index.html", b"half-built")
    stage.discard()
    assert _tree(out) == before
    assert not stage.root.exists()


def test_tree_stage_keeps_folders_for_the_swap(tmp_path: Path) -> None:
    out = tmp_path / "build"
    stage = Stage(out)
    stage.write("acme/public/a/index.html", b"a")
    assert (stage.root / "acme" / "public" / "a" / "index.html").read_bytes() == b"a"
    stage.swap(["acme"])
    assert _tree(out) == {"acme/public/a/index.html": b"a"}
    assert "acme" in os.listdir(out) and set(os.listdir(out)) <= {"acme", ".staging"}
