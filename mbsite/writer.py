"""Rendered bytes → files under the output folder, staged first and published with atomic renames."""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import shutil
import time
from pathlib import Path

from .paths import checked_rel, page_file

__all__ = ["MARKER", "Stage", "clean_stale_stages", "clear_marker", "read_marker", "write_marker", "page_file", "remove_output", "staged_path", "write_new", "write_atomic",
           "swap_in", "exchange", "flat_name"]

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False when the system cannot."""
    fn = getattr(_LIBC, "renameat2", None) if _LIBC is not None else None
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def swap_in(new: Path, target: Path) -> None:
    """Make the folder `new` appear at `target` in one step; the previous folder is deleted afterwards."""
    if target.exists():
        if not exchange(new, target):
            # No renameat2 (another OS or filesystem): two renames, a window of microseconds without the folder.
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, old)
            os.rename(new, target)
            shutil.rmtree(old, ignore_errors=True)
            return
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the previous folder
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(new, target)


def flat_name(rel: str) -> str:
    """The name of an output file in a flat staging folder: its path with '%' and '/' escaped (reversible, so
    two files never share a name), or a digest of the path when that would be too long a file name."""
    name = rel.replace("%", "%25").replace("/", "%2F")
    return name if len(name.encode()) <= 200 else "%h" + hashlib.sha256(rel.encode()).hexdigest()


def staged_path(root: str, rel: str, flat: bool) -> str:
    return f"{root}/{flat_name(rel)}" if flat else f"{root}/{rel}"


class Stage:
    """A staging folder inside the output folder (same filesystem, so publishing is a rename per file).

    A full build stages whole tenant folders (`swap` exchanges each with the published one). Otherwise the stage
    is flat — one folder of files named by `flat_name` — and `publish` renames each file into place: no folder
    per page is created in the stage and removed again after publishing (two of the five file-system operations
    per page, and on some file systems the slowest ones)."""

    def __init__(self, out: Path, *, flat: bool = False) -> None:
        self.out = out
        self.root = out / ".staging" / f"{os.getpid()}-{time.time_ns()}"
        self.flat = flat
        self.files: set[str] = set()
        self.obsolete: set[str] = set()   # published files to delete when this stage is published
        if flat:
            self.root.mkdir(parents=True)

    def path(self, rel: str) -> str:
        """Where the staged copy of the output file `rel` is (or goes)."""
        return staged_path(str(self.root), rel, self.flat)

    def write(self, rel: str, data: bytes) -> None:
        write_new(self.path(checked_rel(rel)), data, make_folder=not self.flat)
        self.files.add(rel)

    def adopt(self, rels: set[str]) -> None:
        """Note files a worker process wrote into this stage."""
        for rel in rels:
            checked_rel(rel)
        self.files |= rels

    def forget(self, rels: set[str]) -> None:
        """Drop files a worker staged for a page whose output is not taken after all (it keeps its last good one)."""
        for rel in rels:
            self.files.discard(rel)
            try:
                os.unlink(self.path(rel))
            except FileNotFoundError:
                pass

    def publish(self, order_last: tuple[str, ...] = ()) -> None:
        """Move every staged file into place; files named in order_last (manifests) go last."""
        last = [r for r in self.files if r.rsplit("/", 1)[-1] in order_last]
        first = sorted(self.files - set(last))
        out = str(self.out)
        for rel in first + sorted(last):
            source, target = self.path(rel), f"{out}/{rel}"
            try:
                os.replace(source, target)
            except FileNotFoundError:  # a new page: its folder first
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(source, target)
        for rel in sorted(self.obsolete - self.files):
            remove_output(self.out, rel)
        self.discard()

    def swap(self, tenants: list[str]) -> None:
        """Full build: each staged tenant folder replaces the published one in a single atomic exchange."""
        for slug in tenants:
            staged = self.root / slug
            if staged.is_dir():
                swap_in(staged, self.out / slug)
        self.discard()

    def link_from(self, rel: str) -> None:
        """Carry an already published file into this stage unchanged (a page whose render failed)."""
        src, dst = self.out / checked_rel(rel), Path(self.path(rel))
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
            self.files.add(rel)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        try:
            self.root.parent.rmdir()
        except OSError:
            pass


MARKER = ".mbsite-build"


def read_marker(out: Path) -> str | None:
    """The build generation whose output this folder holds, or None (never built, or a publish was cut short)."""
    try:
        return (out / MARKER).read_text(encoding="utf-8").strip() or None
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return None


def clear_marker(out: Path) -> None:
    """Before publishing: until the new marker is written, the folder matches no stored build."""
    try:
        (out / MARKER).unlink()
    except FileNotFoundError:
        pass


def write_marker(out: Path, generation: str) -> None:
    """After publishing and storing the graph: the folder holds exactly what build `generation` describes."""
    write_atomic(out / MARKER, generation.encode() + b"\n")


def clean_stale_stages(out: Path) -> None:
    """Remove staging folders left by a builder that was killed (the published output is untouched)."""
    shutil.rmtree(out / ".staging", ignore_errors=True)


def remove_output(out: Path, rel: str) -> bool:
    """Delete one output file and the folders it leaves empty (never above the tenant folder)."""
    target = out / checked_rel(rel)
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    parent = target.parent
    stop = out / rel.split("/", 1)[0]
    while parent != stop and parent != out:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
    return True


def write_new(path: str, data: bytes, *, make_folder: bool = True) -> None:
    """Write a file into a staging folder with the fewest system calls: mkdir of its folder (parents only when
    missing; none when the caller knows it exists), then open, write, close (no stat, seek or tty probe as with
    open())."""
    if make_folder:
        folder = os.path.dirname(path)
        try:
            os.mkdir(folder)
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
