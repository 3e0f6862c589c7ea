"""A long-lived builder (watch, serve) keeps the Markdown bodies it rendered: a template edit re-renders every
page without running the Markdown engine again, and the output equals a clean full build."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import output_tree as _tree

from mbsite import pages
from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.reporter import BufferReporter

REPO = Path(__file__).resolve().parent.parent


def _site(root: Path, workers: int) -> Path:
    shutil.copytree(REPO / "content", root / "content")
    shutil.copytree(REPO / "themes" / "default", root / "themes" / "default")
    (root / "content" / "pages" / "with-code.md").write_text(
        "---\ntitle: With code\n---\n```python\nx = {'a': 1}\n```\n\nSee `{{ literal }}`.\n")
    (root / "mbsite.toml").write_text(f"[build]\nworkers = {workers}\nhighlight = true\n")
    return root




@pytest.mark.parametrize("workers", [1, 2])
def test_template_edit_reuses_bodies_and_matches_a_full_build(tmp_path: Path, workers: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mbsite.builder.PARALLEL_THRESHOLD", 1)  # the demo site is small: fork anyway
    site = _site(tmp_path / "site", workers)
    log = tmp_path / "rendered.log"  # a file: the workers are other processes
    original = pages.render_markdown

    def counting(body: str, **kwargs: object) -> str:
        with open(log, "a") as fh:
            fh.write(body.replace("\n", " ") + "\n")
        return original(body, **kwargs)

    def calls() -> list[str]:
        done = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return done

    monkeypatch.setattr(pages, "render_markdown", counting)
    builder = Builder(load_config(site), BufferReporter(), keep_bodies=True)
    assert builder.run().ok
    kept = dict(builder.bodies)
    assert kept, "no body kept after the first build"
    shortcode_pages = [p for p in (site / "content").rglob("*.md") if "{{< component" in p.read_text()
                       and "seed" not in p.parts]
    assert shortcode_pages, "the demo site should have a page calling a shortcode"

    template = site / "themes" / "default" / "templates" / "base.html"
    template.write_text(template.read_text().replace("</body>", "<!-- edited --></body>"))
    calls()
    result = builder.run({str(template)})
    assert result.ok and result.summary["rendered"] >= len(kept)
    # Only bodies that call a shortcode (which may look at the viewer or the data) ran through the engine again.
    again = calls()
    assert again and all("{{< component" in body for body in again)

    # An edited Markdown file: its new body is rendered once, its old body is forgotten.
    post = site / "content" / "pages" / "with-code.md"
    line = f"One more line ({tmp_path.name})."  # (bodies are keyed by content: make this one new)
    post.write_text(post.read_text() + f"\n{line}\n")
    calls()
    edited = builder.run({str(post)})
    assert edited.ok, edited.problems
    got = calls()
    assert len([b for b in got if line in b]) == 1
    assert len(builder.bodies) == len(kept)
    assert not any(k[0] == "content/pages/with-code.md" and kept.get(k) for k in builder.bodies if k in kept)

    fresh = tmp_path / "fresh"
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("build", ".mbsite"))
    assert Builder(load_config(fresh), BufferReporter(), full=True).run().ok
    assert _tree(site / "build", row_versions=False) == _tree(fresh / "build", row_versions=False)  # (two databases)
    builder.close()


def test_a_one_shot_builder_keeps_nothing(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", 1)
    builder = Builder(load_config(site), BufferReporter())
    assert builder.run().ok
    assert builder.bodies == {}
    assert builder.model is not None and builder.model.bodies.take() == {}
