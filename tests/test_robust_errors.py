"""Careless input through the real command line: a located `file:line: message` (or the database URL and the driver's
reason), exit status 1, no traceback, and the output folder left as it was."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from support import output_tree as files_of

from mbsite.cli import main
from mbsite.errors import DataError
from mbsite.jsonload import loads

SEED = "entity: Tenant\nrecords:\n  - {slug: t, name: T}\n"


def site_with(root: Path, files: dict[str, str]) -> Path:
    for rel, text in {"content/seed/site.yaml": SEED, "content/pages/about.md": "---\ntitle: About\n---\nHi\n",
                      **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root




def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_located_failure(result: Result, *expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, result.output


@pytest.fixture
def built(tmp_path: Path) -> Path:
    site = site_with(tmp_path / "site", {})
    first = run("build", "--site", str(site))
    assert first.exit_code == 0, first.output
    return site


def test_impossible_front_matter_date(built: Path) -> None:
    before = files_of(built / "build")
    (built / "content" / "pages" / "when.md").write_text("---\ntitle: When\ndate: 2024-13-45\n---\nx\n")
    result = run("build", "--site", str(built))
    assert_located_failure(result, "content/pages/when.md:3:", "invalid date '2024-13-45'")
    assert files_of(built / "build") == before


def deep_json(levels: int) -> str:
    node: dict = {"type": "Text", "children": "x"}
    for _ in range(levels // 2):
        node = {"type": "Box", "children": [node]}
    return json.dumps({"components": [{"id": "deep", "render": {"template": node}}]}, indent=0)


def test_deeply_nested_package_json(built: Path) -> None:
    before = files_of(built / "build")
    pkg = built / "packages" / "deep"
    (pkg / "components").mkdir(parents=True)
    (pkg / "package.json").write_text('{"packageId": "deep", "name": "Deep", "version": "1.0.0"}')
    (pkg / "components" / "ui.json").write_text(deep_json(900))
    result = run("build", "--site", str(built))
    assert_located_failure(result, "packages/deep/components/ui.json:", "nested deeper than")
    assert files_of(built / "build") == before
    checked = run("check", "--site", str(built))
    assert_located_failure(checked, "packages/deep/components/ui.json:")


@pytest.mark.parametrize("levels", [300, 900, 5000], ids=["past-orjson", "900", "past-recursion"])
def test_json_depth_is_a_located_error(levels: int) -> None:
    text = "[" * levels + "]" * levels
    with pytest.raises(DataError) as info:
        loads(text, source="x.json")
    assert info.value.location.file == "x.json" and info.value.location.line == 1
    assert info.value.location.column == 255  # the bracket that opens level 255


def test_json_at_the_depth_limit_loads() -> None:
    assert loads("[" * 254 + "]" * 254, source="x.json") is not None


def test_unreachable_postgres_url(built: Path) -> None:
    before = files_of(built / "build")
    result = run("build", "--site", str(built), "--db", "postgresql://mb:s3cret@127.0.0.1:1/site")
    assert_located_failure(result, "mb:***@127.0.0.1:1/site", "Connection refused")
    assert "s3cret" not in result.output
    assert files_of(built / "build") == before


def test_seed_row_naming_an_unknown_tenant(built: Path, tmp_path: Path) -> None:
    before = files_of(built / "build")
    (built / "content" / "seed" / "pages.yaml").write_text(
        "entity: PageConfig\nrecords:\n  - {tenant: t, path: /a, title: A}\n  - {tenant: nope, path: /b, title: B}\n")
    result = run("build", "--site", str(built), "--db", f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert_located_failure(result, "content/seed/pages.yaml:4 at /records/1: unknown tenant 'nope'")
    assert len(result.output.splitlines()) < 5
    assert files_of(built / "build") == before
