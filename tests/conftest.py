"""Shared fixtures: the repository root, the upstream fixtures folder, and a tmp_path site factory."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
# Search indexing (Pagefind, a program run per tenant and level) is switched off for the suite's many builds; the
# search tests switch it on for themselves (`search_on`), and the CI's demo build runs it.
os.environ["MBSITE_SEARCH"] = "0"


def upstream_dir() -> Path:
    return Path(os.environ.get("MBSITE_UPSTREAM") or REPO.parent / "shared" / "upstream")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def upstream() -> Path:
    path = upstream_dir()
    if not (path / "packages").is_dir():
        pytest.skip(f"upstream fixtures not found (set MBSITE_UPSTREAM); looked in {path}")
    return path


@pytest.fixture
def make_site(tmp_path: Path) -> Callable[..., Path]:
    """Create a site folder from a dict of relative path → text; `demo=True` copies the bundled demo content."""

    def factory(files: dict[str, str] | None = None, *, demo: bool = False, name: str = "site") -> Path:
        site = tmp_path / name
        site.mkdir(parents=True, exist_ok=True)
        if demo:
            shutil.copytree(REPO / "content", site / "content", dirs_exist_ok=True)
        for rel, text in (files or {}).items():
            path = site / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return site

    return factory


DEMO_PASSWORD = "mbsite-demo"  # every seeded demo account's password (content/seed/users.yaml)


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled demo site built once for the whole session (site, database, output). Read it, or copy it
    (`shutil.copytree(built_demo, tmp_path / "site")`) before changing anything: other tests share it."""
    from mbsite.builder import Builder
    from mbsite.config import load_config
    from mbsite.passwords import hash_password
    from mbsite.reporter import BufferReporter

    site = tmp_path_factory.mktemp("demo") / "site"
    shutil.copytree(REPO / "content", site / "content")
    one = hash_password(DEMO_PASSWORD)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("mbsite.db.seed.hash_password", lambda _pw: one)  # argon2 per seeded user is the slow part
        result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok, [str(p) for p in result.problems if p.severity == "error"]
    return site


@pytest.fixture(scope="module")
def search_on() -> Iterator[None]:
    """Search indexing on for a module's builds (conftest switches it off for the rest of the suite)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MBSITE_SEARCH", "1")
        yield


@pytest.fixture(scope="session")
def seeded_site(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """A factory of fixture-site copies whose database is already created and seeded (and whose package checks are
    cached): `seeded_site(name, root, overrides)` prepares tests/sites/<name>/ once per session and copies it to
    `root`. An override of a seed file does not reach that database: use support.copy_site for that."""
    from support import copy_folder, copy_site, site_model

    prepared: dict[str, Path] = {}

    def factory(name: str, root: Path, overrides: dict[str, str | bytes | None] | None = None) -> Path:
        if name not in prepared:
            site = copy_site(name, tmp_path_factory.mktemp(f"seeded-{name}") / "site")
            with site_model(site):
                pass
            prepared[name] = site
        return copy_folder(prepared[name], root, overrides)

    return factory
