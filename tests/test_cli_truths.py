"""Small truths of the command line: a command that cannot do what it was asked says so and exits non-zero."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mbsite.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("truths") / "site"
    shutil.copytree(REPO / "content", root / "content")
    (root / "mbsite.toml").write_text("[build]\nworkers = 1\n")
    assert CliRunner().invoke(main, ["build", "--site", str(root)]).exit_code == 0
    return root


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_revalidate_refuses_what_matches_nothing(site: Path) -> None:
    for args, message in ((["acme", "/nosuch"], "no page at /nosuch"), (["nosuch", "/"], "unknown tenant"),
                          (["--tag", "no-such-tag"], "no built page carries the tag")):
        result = run("revalidate", *args, "--site", str(site))
        assert result.exit_code == 1 and message in result.output, result.output
        assert "queued" not in result.output
    ok = run("revalidate", "acme", "/products", "--site", str(site))
    assert ok.exit_code == 0 and "queued" in ok.output
    tagged = run("revalidate", "--tag", "products", "--site", str(site))
    assert tagged.exit_code == 0


def test_why_exits_1_for_a_page_that_does_not_exist(site: Path) -> None:
    missing = run("why", "acme", "/nope", "--site", str(site))
    assert missing.exit_code == 1 and "no such route" in missing.output
    assert run("why", "acme", "/products", "--site", str(site)).exit_code == 0


def test_build_json_reports_the_located_errors(site: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    (copy / "content" / "pages" / "bad.md").write_text("---\ntitle: [oops\n---\nbody\n")
    result = run("build", "--site", str(copy), "--strict", "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["errors"] == 1
    [problem] = summary["problems"]
    assert problem["file"] == "content/pages/bad.md" and problem["line"] == 2 and problem["severity"] == "error"


def test_build_json_prints_a_summary_when_the_build_cannot_start(tmp_path: Path) -> None:
    result = run("build", "--site", str(tmp_path / "nosuch"), "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["errors"] == 1 and "does not exist" in summary["problems"][0]["message"]


def test_check_fails_on_an_output_folder_that_is_not_the_build(site: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    assert run("check", "--site", str(copy)).exit_code == 0
    (copy / "build" / "acme" / "public" / "about" / "index.html").unlink()
    deleted = run("check", "--site", str(copy))
    assert deleted.exit_code == 1 and "acme/public/about/index.html" in deleted.output
    shutil.rmtree(copy / "build")
    emptied = run("check", "--site", str(copy))
    assert emptied.exit_code == 1 and "has not been built" in emptied.output
    assert run("build", "--site", str(copy)).exit_code == 0
    assert run("check", "--site", str(copy)).exit_code == 0
