"""writer.py: staging and publishing — a flat stage (incremental builds) puts every file in place, creates the folders
of new pages, leaves nothing behind, and a discarded stage leaves the published output as it was; files removed with
the folders they leave empty; the build marker; atomic writes; nothing written outside a tenant folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import output_tree

from mbsite.paths import PathError
from mbsite.writer import (
    MARKER,
    Stage,
    clean_stale_stages,
    clear_marker,
    flat_name,
    read_marker,
    remove_output,
    swap_in,
    write_atomic,
    write_marker,
)

segment = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1,
                  max_size=40).filter(lambda s: s not in (".", ".."))


@given(st.lists(segment, min_size=1, max_size=8), st.lists(segment, min_size=1, max_size=8))
def test_flat_names_are_file_names_and_never_collide(a: list[str], b: list[str]) -> None:
    rel_a, rel_b = "/".join(a), "/".join(b)
    name = flat_name(rel_a)
    assert "/" not in name and len(name.encode()) <= 255
    assert (flat_name(rel_a) == flat_name(rel_b)) == (rel_a == rel_b)


def _tree(root: Path) -> dict[str, bytes]:
    """Every file, staged ones and the marker included: a writer test sees what a stage leaves behind."""
    return output_tree(root, bookkeeping=True)


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


def test_a_long_path_has_a_flat_name_of_its_digest() -> None:
    name = flat_name("t/public/" + "x" * 300 + "/index.html")
    assert name.startswith("%h") and len(name) == 66
    assert flat_name("t/public/a%2Fb/index.html") == "t%2Fpublic%2Fa%252Fb%2Findex.html"


@pytest.mark.parametrize("rel", ["acme/../x", "../acme/x", "/acme/x", "acme", "acme/public/./x", ".staging/x",
                                 "acme/public/\x00"], ids=["climb", "above", "absolute", "no-file", "dot",
                                                            "no-tenant", "control"])
def test_a_stage_never_writes_outside_a_tenant_folder(tmp_path: Path, rel: str) -> None:
    out = tmp_path / "build"
    for flat in (False, True):
        stage = Stage(out, flat=flat)
        with pytest.raises(PathError):
            stage.write(rel, b"x")
        stage.discard()
    assert _tree(tmp_path) == {}


def test_publishing_removes_obsolete_files_unless_staged_again(tmp_path: Path) -> None:
    out = tmp_path / "build"
    for rel in ("acme/public/old/index.html", "acme/public/kept/index.html", "acme/public/index.html"):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(b"published")
    stage = Stage(out, flat=True)
    stage.write("acme/public/kept/index.html", b"again")
    stage.obsolete = {"acme/public/old/index.html", "acme/public/kept/index.html"}
    stage.publish()
    assert _tree(out) == {"acme/public/kept/index.html": b"again", "acme/public/index.html": b"published"}
    assert not (out / "acme" / "public" / "old").exists()  # its folder went with it


def test_a_forgotten_file_is_not_published_and_a_linked_one_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "build"
    (out / "acme" / "public").mkdir(parents=True)
    (out / "acme" / "public" / "index.html").write_bytes(b"last good")
    stage = Stage(out, flat=True)
    stage.write("acme/public/broken/index.html", b"half")
    stage.forget({"acme/public/broken/index.html", "acme/public/never-staged.html"})
    stage.link_from("acme/public/index.html")
    stage.link_from("acme/public/missing.html")  # nothing published there: nothing carried
    assert stage.files == {"acme/public/index.html"}
    stage.publish()
    assert _tree(out) == {"acme/public/index.html": b"last good"}


def test_removing_an_output_removes_the_folders_it_leaves_empty_up_to_the_tenant(tmp_path: Path) -> None:
    out = tmp_path / "build"
    (out / "acme" / "public" / "a" / "b").mkdir(parents=True)
    (out / "acme" / "public" / "a" / "b" / "index.html").write_bytes(b"x")
    (out / "acme" / "public" / "a" / "index.html").write_bytes(b"y")
    assert remove_output(out, "acme/public/a/b/index.html")
    assert not (out / "acme" / "public" / "a" / "b").exists() and (out / "acme" / "public" / "a").is_dir()
    assert remove_output(out, "acme/public/a/index.html")
    assert sorted(p.name for p in out.iterdir()) == ["acme"] and not (out / "acme" / "public").exists()
    assert remove_output(out, "acme/public/a/index.html") is False
    with pytest.raises(PathError):
        remove_output(out, "acme/../../outside")


def test_the_marker_names_the_build_the_folder_holds(tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert read_marker(out) is None
    write_marker(out, "gen-1")
    assert (out / MARKER).read_text() == "gen-1\n" and read_marker(out) == "gen-1"
    clear_marker(out)
    clear_marker(out)  # (twice is fine)
    assert read_marker(out) is None
    (out / MARKER).write_bytes(b"\xff\xfe")
    assert read_marker(out) is None  # unreadable: no build
    (tmp_path / "file").write_text("x")
    assert read_marker(tmp_path / "file") is None


def test_an_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a" / "state.json"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert _tree(tmp_path) == {"a/state.json": b"two"}


def test_swapping_a_folder_in_replaces_the_old_one_whole(tmp_path: Path) -> None:
    new, target = tmp_path / "new", tmp_path / "out" / "acme"
    (new / "public").mkdir(parents=True)
    (new / "public" / "index.html").write_bytes(b"v1")
    swap_in(new, target)  # no folder there yet
    assert _tree(target) == {"public/index.html": b"v1"} and not new.exists()
    (new / "public").mkdir(parents=True)
    (new / "public" / "other.html").write_bytes(b"v2")
    swap_in(new, target)
    assert _tree(target) == {"public/other.html": b"v2"} and not new.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["acme"]


def test_stages_left_by_a_killed_build_are_cleaned_and_the_output_is_untouched(tmp_path: Path) -> None:
    out = tmp_path / "build"
    (out / "acme" / "public").mkdir(parents=True)
    (out / "acme" / "public" / "index.html").write_bytes(b"published")
    Stage(out, flat=True).write("acme/public/index.html", b"half-built")
    clean_stale_stages(out)
    assert _tree(out) == {"acme/public/index.html": b"published"}
