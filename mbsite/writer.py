"""Rendered bytes → files under the output folder, staged first and published with atomic renames."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path


def page_file(tenant: str, path: str, level: int) -> str:
    """Output-relative file of a page variant: public/ for level 0, private/<L>/ otherwise."""
    rel = path.strip("/")
    leaf = f"{rel}/index.html" if rel else "index.html"
    return f"{tenant}/public/{leaf}" if level == 0 else f"{tenant}/private/{level}/{leaf}"


class Stage:
    """A staging folder inside the output folder (same filesystem, so publishing is a rename per file)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.root = out / ".staging" / f"{os.getpid()}-{time.time_ns()}"
        self.files: set[str] = set()

    def write(self, rel: str, data: bytes) -> None:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(data)
        self.files.add(rel)

    def adopt(self, rels: set[str]) -> None:
        """Note files a worker process wrote into this stage."""
        self.files |= rels

    def publish(self, order_last: tuple[str, ...] = ()) -> None:
        """Move every staged file into place; files named in order_last (manifests) go last."""
        last = [r for r in self.files if r.rsplit("/", 1)[-1] in order_last]
        first = sorted(self.files - set(last))
        for rel in first + sorted(last):
            target = self.out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.root / rel, target)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        try:
            self.root.parent.rmdir()
        except OSError:
            pass


def clean_stale_stages(out: Path) -> None:
    """Remove staging folders left by a builder that was killed (the published output is untouched)."""
    shutil.rmtree(out / ".staging", ignore_errors=True)


def remove_output(out: Path, rel: str) -> bool:
    """Delete one output file and the folders it leaves empty (never above the tenant folder)."""
    target = out / rel
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


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
