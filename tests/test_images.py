"""Images of Markdown pages and components: variants by width and format, width/height and lazy loading,
content-hashed names per tenant, a cache by source digest, located warnings for bad images, path safety, and
incremental builds that process and render exactly what an image change affects."""
from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html
from PIL import Image
from support import output_tree
from test_composed import every_level_equals_a_full_render
from test_incremental import full_build_of

from mbsite import images as images_module
from mbsite.builder import Builder, BuildResult
from mbsite.config import load_config
from mbsite.errors import ConfigError
from mbsite.images import Images, Refused, Source, can_write, resolve, svg_size
from mbsite.reporter import BufferReporter

IMAGES = "build/t/public/assets/images"


def save(path: Path, size: tuple[int, int], color: tuple[int, int, int] = (200, 40, 40), fmt: str = "JPEG",
         **options: Any) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt, **options)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def make_site(root: Path, *, toml: str = "", tree: dict[str, Any] | None = None) -> Path:
    (root / "content" / "seed").mkdir(parents=True)
    docs: list[dict[str, Any]] = [{"entity": "Tenant", "records": [{"slug": "t", "name": "T", "domains": ["t.example"]}]}]
    if tree is not None:
        docs.append({"entity": "PageConfig", "records": [
            {"tenant": "t", "path": "/shop", "title": "Shop", "packageId": "mb_home", "componentTree": tree}]})
    (root / "content" / "seed" / "site.yaml").write_text("\n---\n".join(json.dumps(d) for d in docs))
    (root / "content" / "blog").mkdir()
    save(root / "content" / "blog" / "pic.jpg", (1200, 800))
    (root / "content" / "blog" / "a.md").write_text("---\ntitle: A\ndate: 2024-01-01\n---\nHello\n\n"
                                                    "![A *red* pic](pic.jpg \"Red\")\n")
    (root / "content" / "blog" / "b.md").write_text("---\ntitle: B\ndate: 2024-01-02\n---\nNo image here.\n")
    (root / "mbsite.toml").write_text("[build]\nworkers = 1\n" + toml)
    return root


def build(site: Path, **kwargs: Any) -> BuildResult:
    result = Builder(load_config(site), BufferReporter(), **kwargs).run()
    assert result.summary["errors"] == 0, [str(p) for p in result.problems]
    return result


def page(site: Path, rel: str) -> Any:
    return lxml_html.fromstring((site / "build" / "t" / "public" / rel / "index.html").read_bytes())


def published(site: Path) -> dict[str, bytes]:
    folder = site / IMAGES
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def warnings_of(result: BuildResult) -> list[str]:
    return [str(p) for p in result.problems if p.severity == "warning" and p.code in ("image", "render")]


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources this process processes (cache misses), by site-relative path."""
    calls: list[str] = []
    real = Images._make

    def counting(self: Images, rel: str, data: bytes, digest: str) -> Any:
        calls.append(rel)
        return real(self, rel, data, digest)
    monkeypatch.setattr(Images, "_make", counting)
    return calls


@pytest.mark.parametrize("engine", ["pyromark", "markdown-it"])
def test_a_markdown_image_gets_variants_sizes_and_lazy_loading(tmp_path: Path, engine: str) -> None:
    site = make_site(tmp_path / "site", toml=f'markdown_engine = "{engine}"\n')
    build(site)
    files = published(site)
    formats = ["jpg", "webp"] + (["avif"] if can_write("avif") else [])
    by_ext: dict[str, list[int]] = {}
    for name, data in files.items():
        m = re.fullmatch(r"pic-(\d+)\.([0-9a-f]{10})\.(\w+)", name)
        assert m is not None, name
        assert m.group(2) == hashlib.sha256(data).hexdigest()[:10]  # named by its content
        with Image.open(io.BytesIO(data)) as im:
            assert im.width == int(m.group(1)) and im.height == round(800 * im.width / 1200)
        by_ext.setdefault(m.group(3), []).append(int(m.group(1)))
    assert sorted(by_ext) == sorted(formats)
    assert all(sorted(w) == [480, 960, 1200] for w in by_ext.values())  # 1600 would upscale: not made
    doc = page(site, "blog/a")
    img = doc.xpath("//picture/img")[0]
    assert (img.get("width"), img.get("height"), img.get("loading"), img.get("decoding")) == ("1200", "800", "lazy",
                                                                                              "async")
    assert (img.get("alt"), img.get("title")) == ("A red pic", "Red")
    assert img.get("src").startswith("/assets/images/pic-1200.") and img.get("src").endswith(".jpg")
    assert [s.split()[1] for s in img.get("srcset").split(", ")] == ["480w", "960w", "1200w"]
    types = [s.get("type") for s in img.getparent().xpath("source")]
    assert types == (["image/avif"] if can_write("avif") else []) + ["image/webp"]
    for url in [img.get("src")] + [u.split()[0] for s in img.getparent().xpath("source") for u in s.get("srcset").split(", ")]:
        assert url.removeprefix("/assets/images/") in files
    assert "data-mb-line" not in (site / "build/t/public/blog/a/index.html").read_text()


def test_avif_is_offered_only_when_pillow_can_write_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images_module, "can_write", lambda fmt: fmt == "webp")
    site = make_site(tmp_path / "site")
    build(site)
    assert not [n for n in published(site) if n.endswith(".avif")]
    assert [s.get("type") for s in page(site, "blog/a").xpath("//picture/source")] == ["image/webp"]


def test_a_small_image_is_never_upscaled_and_exif_orientation_is_applied(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", toml="[images]\nwidths = [100, 480]\nformats = []\n")
    save(site / "content" / "blog" / "pic.jpg", (300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the camera held upright
    save(site / "content" / "blog" / "turned.jpg", (400, 200), exif=exif.tobytes())
    (site / "content" / "blog" / "b.md").write_text("---\ntitle: B\ndate: 2024-01-02\n---\n![t](turned.jpg)\n")
    build(site)
    small = page(site, "blog/a").xpath("//picture/img")[0]
    assert (small.get("width"), small.get("height")) == ("300", "200")
    assert [s.split()[1] for s in small.get("srcset").split(", ")] == ["100w", "300w"]
    turned = page(site, "blog/b").xpath("//picture/img")[0]
    assert (turned.get("width"), turned.get("height")) == ("200", "400")
    assert page(site, "blog/b").xpath("//picture/source") == []  # formats = []: the source format only
    names = sorted(published(site))
    assert [n.split(".")[0] for n in names] == ["pic-100", "pic-300", "turned-100", "turned-200"]


def test_animated_gifs_and_svgs_pass_through_with_their_size(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    frames = [Image.new("RGB", (40, 30), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    (site / "content" / "blog" / "anim.gif").write_bytes(buf.getvalue())
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64px" height="32"><rect/></svg>'
    (site / "content" / "blog" / "logo.svg").write_bytes(svg)
    (site / "content" / "blog" / "b.md").write_text("---\ntitle: B\ndate: 2024-01-02\n---\n![a](anim.gif) ![l](logo.svg)\n")
    build(site)
    imgs = page(site, "blog/b").xpath("//img")
    gif, logo = [i for i in imgs if "anim" in i.get("src")][0], [i for i in imgs if "logo" in i.get("src")][0]
    assert (gif.get("width"), gif.get("height"), gif.get("loading")) == ("40", "30", "lazy")
    assert (logo.get("width"), logo.get("height")) == ("64", "32")
    files = published(site)
    assert gif.getparent().tag != "picture"
    assert files[gif.get("src").removeprefix("/assets/images/")] == buf.getvalue()  # unchanged
    assert files[logo.get("src").removeprefix("/assets/images/")] == svg
    assert svg_size(b'<svg viewBox="0 0 120 45.6">') == (120, 46)
    assert svg_size(b'<svg width="50%" height="2em">') == (None, None)


def test_what_a_planted_image_cache_holds_is_never_published_as_an_svg(tmp_path: Path) -> None:
    """An SVG is published as it is, and the cache folder may come with the site (copied, or committed): a cached
    SVG whose bytes are not the source's (here a script planted under the name the build gives the source) is made
    again from the source, never published."""
    site = make_site(tmp_path / "site")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32"><rect/></svg>'
    (site / "content" / "blog" / "logo.svg").write_bytes(svg)
    (site / "content" / "blog" / "b.md").write_text("---\ntitle: B\ndate: 2024-01-02\n---\n![l](logo.svg)\n")
    build(site)
    (name,) = [n for n in published(site) if n.endswith(".svg")]
    planted = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
    for path in (site / ".mbsite" / "images").rglob(name):
        path.write_bytes(planted)
    shutil.rmtree(site / "build")
    build(site, full=True)
    assert published(site)[name] == svg
    assert not any(planted in p.read_bytes() for p in (site / ".mbsite" / "images").rglob("*.svg"))
    # An entry that names an SVG among a photo's variants (the cache makes none) is made again, not published.
    for path in (site / ".mbsite" / "images" / "entries").glob("*.json"):
        doc = json.loads(path.read_bytes())
        if doc["original"].startswith("pic."):
            doc["sources"][0][1][0][3] = "pic.planted.svg"
            path.write_text(json.dumps(doc))
            (site / ".mbsite" / "images" / "files" / "pic.planted.svg").write_bytes(planted)
    shutil.rmtree(site / "build")
    build(site, full=True)
    assert "pic.planted.svg" not in published(site) and planted not in b"".join(published(site).values())


def test_bad_images_are_located_warnings_and_the_build_goes_on(tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    save(outside, (10, 10), fmt="PNG")
    site = make_site(tmp_path / "site", toml="[images]\nmax_pixels = 250000\n")
    blog = site / "content" / "blog"
    (blog / "broken.png").write_bytes(b"this is not an image at all")
    whole = save(blog / "cut.png", (64, 64), fmt="PNG")
    (blog / "cut.png").write_bytes(whole[:len(whole) // 2])
    save(blog / "huge.png", (1000, 1000), fmt="PNG")
    os.symlink(outside, blog / "link.png")
    (blog / "b.md").write_text("---\ntitle: B\ndate: 2024-01-02\n---\nBad images:\n\n![b](broken.png)\n\n"
                               "![c](cut.png)\n\n![h](huge.png)\n\n![m](missing.png)\n\n![e](../../../etc/passwd)\n\n"
                               "![l](link.png)\n\n![e2](/../secret.png)\n")
    result = build(site)
    found = warnings_of(result)
    expect = [("content/blog/b.md:7: image 'broken.png': not a readable image", "broken"),
              ("content/blog/b.md:9: image 'cut.png': not a readable image", "cut"),
              ("content/blog/b.md:11: image 'huge.png': ", "huge"),
              ("content/blog/b.md:13: image 'missing.png' not found (content/blog/missing.png)", None),
              ("content/blog/b.md:15: image '../../../etc/passwd' leads outside the content folder", None),
              ("content/blog/b.md:17: image 'link.png' is a symbolic link leading outside the content folder", None),
              ("content/blog/b.md:19: image '/../secret.png' leads outside the content folder", None)]
    for prefix, _stem in expect:
        assert any(w.startswith(prefix) for w in found), (prefix, found)
    assert any("max_pixels" in w for w in found if w.startswith("content/blog/b.md:11:"))
    files = published(site)
    doc = page(site, "blog/b")
    for _prefix, stem in expect:
        if stem is None:
            continue
        img = [i for i in doc.xpath("//img") if stem in i.get("src")][0]  # a plain <img> of the copied original
        assert img.getparent().tag != "picture" and img.get("loading") == "lazy"
        assert img.get("src").removeprefix("/assets/images/") in files
    assert files[[n for n in files if n.startswith("broken.")][0]] == b"this is not an image at all"
    srcs = doc.xpath("//img/@src")
    assert "../../../etc/passwd" in srcs and "link.png" in srcs  # left as written, nothing read or copied
    assert not [n for n in files if n.startswith(("secret", "link", "passwd"))]
    assert (site / "build" / "t" / "public" / "blog" / "a" / "index.html").is_file()


def test_resolving_references(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    config = load_config(site)
    save(site / "content" / "images" / "x.png", (5, 5), fmt="PNG")
    assert resolve(config, "https://cdn.example/x.png", "content/blog/a.md") is None
    assert resolve(config, "//cdn.example/x.png", "content/blog/a.md") is None
    assert resolve(config, "data:image/png;base64,AAAA", "content/blog/a.md") is None
    assert resolve(config, "/api/media/t/abc", None) is None and resolve(config, "/assets/logo.png", None) is None
    assert resolve(config, "x.png", None) is None  # relative, but to no file: not ours
    assert resolve(config, "/images/x.png", None) == Source("content/images/x.png", config.content_dir / "images/x.png")
    assert resolve(config, "../images/x.png?v=1#top", "content/blog/a.md") == \
        Source("content/images/x.png", config.content_dir / "images/x.png")
    assert resolve(config, "%2e%2e/%2e%2e/mbsite.toml", "content/blog/a.md") == \
        Refused("image '%2e%2e/%2e%2e/mbsite.toml' leads outside the content folder; not used")
    assert isinstance(resolve(config, "../seed/../../../x.png", "content/blog/a.md"), Refused)
    missing = resolve(config, "nope.png", "content/blog/a.md")
    assert isinstance(missing, Refused) and missing.rel == "content/blog/nope.png"


def test_component_images_are_processed_and_located_by_json_pointer(tmp_path: Path) -> None:
    tree = {"type": "Box", "children": [
        {"type": "Image", "src": "/blog/pic.jpg", "alt": "Shop front", "className": "hero"},
        {"type": "Avatar", "src": "/blog/pic.jpg", "alt": "Me"},
        {"type": "Image", "src": "/blog/none.png", "alt": "Gone"},
        {"type": "Image", "src": "https://cdn.example/x.png", "alt": "Remote"}]}
    site = make_site(tmp_path / "site", tree=tree)
    result = build(site)
    doc = page(site, "shop")
    hero = doc.xpath("//img[@alt='Shop front']")[0]
    assert hero.getparent().tag == "picture" and "hero" in hero.get("class") and "mb-image" in hero.get("class")
    assert (hero.get("width"), hero.get("height"), hero.get("loading")) == ("1200", "800", "lazy")
    assert doc.xpath("//img[@alt='Me']")[0].getparent().tag == "picture"
    remote = doc.xpath("//img[@alt='Remote']")[0]
    assert (remote.get("src"), remote.get("loading")) == ("https://cdn.example/x.png", "lazy")
    missing = [p for p in result.problems if "'/blog/none.png' not found" in p.message]
    assert missing and missing[0].location.pointer and missing[0].location.pointer.endswith("/children/2")


def test_a_second_build_processes_and_renders_nothing(tmp_path: Path, made: list[str]) -> None:
    site = make_site(tmp_path / "site")
    build(site)
    assert made == ["content/blog/pic.jpg"]
    before = published(site)
    second = build(site)
    assert second.summary["rendered"] == 0 and made == ["content/blog/pic.jpg"]
    third = build(site, full=True)  # a full build renders every page, and still takes the images from the cache
    assert third.summary["rendered"] > 0 and made == ["content/blog/pic.jpg"]
    assert published(site) == before
    shutil.rmtree(site / ".mbsite" / "images")  # the cache gone: made again, the same files
    build(site, full=True)
    assert made == ["content/blog/pic.jpg"] * 2 and published(site) == before


def test_an_image_change_renders_only_the_page_showing_it_and_equals_a_full_build(tmp_path: Path,
                                                                                  made: list[str]) -> None:
    site = make_site(tmp_path / "site")
    build(site)
    old = published(site)
    save(site / "content" / "blog" / "pic.jpg", (700, 350), color=(10, 200, 10))
    result = build(site)
    assert result.summary["rendered"] == 1 and result.summary["reasons"] == {"file": 1}
    new = published(site)
    assert not set(old) & set(new)  # the old variants went with their last use
    assert sorted(n.split(".")[0] for n in new if n.endswith(".jpg")) == ["pic-480", "pic-700"]
    assert page(site, "blog/a").xpath("//picture/img/@width") == ["700"]
    assert output_tree(site / "build") == full_build_of(site, tmp_path / "full")
    assert every_level_equals_a_full_render(site) > 0


def test_removing_an_images_last_use_removes_its_files(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    build(site)
    assert published(site)
    (site / "content" / "blog" / "b.md").write_text("---\ntitle: B\ndate: 2024-01-02\n---\n![again](pic.jpg)\n")
    build(site)
    kept = published(site)
    (site / "content" / "blog" / "a.md").write_text("---\ntitle: A\ndate: 2024-01-01\n---\nNo picture now.\n")
    build(site)
    assert published(site) == kept  # still shown by b
    (site / "content" / "blog" / "b.md").write_text("---\ntitle: B\ndate: 2024-01-02\n---\nNone.\n")
    build(site)
    assert published(site) == {}
    assert output_tree(site / "build") == full_build_of(site, tmp_path / "full")


def test_a_missing_image_that_appears_renders_its_page(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (site / "content" / "blog" / "b.md").write_text("---\ntitle: B\ndate: 2024-01-02\n---\n![soon](later.png)\n")
    first = build(site)
    assert any("later.png" in w for w in warnings_of(first))
    assert build(site).summary["rendered"] == 0
    save(site / "content" / "blog" / "later.png", (50, 40), fmt="PNG")
    result = build(site)
    assert result.summary["rendered"] == 1 and page(site, "blog/b").xpath("//picture/img/@width") == ["50"]


def test_the_watch_loop_renders_the_page_of_a_changed_image(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    builder = Builder(load_config(site), BufferReporter())
    assert builder.run().ok
    pic = site / "content" / "blog" / "pic.jpg"
    save(pic, (640, 480), color=(0, 0, 200))
    result = builder.run({str(pic)})
    assert result.summary["rendered"] == 1 and result.summary["reasons"] == {"file": 1}
    assert page(site, "blog/a").xpath("//picture/img/@width") == ["640"]
    unrelated = site / "content" / "blog" / "notes.txt"
    unrelated.write_text("not shown anywhere")
    assert builder.run({str(unrelated)}).summary["rendered"] == 0
    assert output_tree(site / "build") == full_build_of(site, tmp_path / "full")


def _make_entry(site: str) -> list[str]:
    cache = Images.of(load_config(site))
    source = Source("content/blog/pic.jpg", Path(site) / "content" / "blog" / "pic.jpg")
    return cache.entry(source).files()


def test_two_processes_making_one_entry_both_leave_it_whole(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        first, second = pool.map(_make_entry, [str(site), str(site)])
    assert first == second
    cache = Images.of(load_config(site))
    entry = cache.cached("content/blog/pic.jpg", hashlib.sha256((site / "content/blog/pic.jpg").read_bytes()).hexdigest())
    assert entry is not None and entry.files() == first
    for name in first:
        with Image.open(cache.file(name)) as im:
            im.load()
    assert not [p for p in (cache.root).rglob(".tmp-*")]


@pytest.mark.parametrize("toml, message", [
    ("widths = []", "images.widths"), ("widths = [8]", "images.widths"), ("formats = ['gif']", "images.formats"),
    ("quality = 0", "images.quality"), ("max_pixels = 0", "images.max_pixels"), ("sizes = 3", "image_sizes"),
], ids=["no-widths", "tiny-width", "format", "quality", "max-pixels", "sizes"])
def test_bad_image_settings_are_config_errors(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "mbsite.toml").write_text(f"[images]\n{toml}\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert message in str(info.value) and "mbsite.toml" in str(info.value)


# -- members' images: only the gate serves an image that no public page shows ----------------------------------

PRIVATE_IMAGES = "build/t/private/assets/images"


def members_post(site: Path, level: int = 2) -> None:
    """A members' post showing club.png (besides the public post a.md showing pic.jpg)."""
    save(site / "content" / "blog" / "club.png", (64, 48), color=(20, 90, 200), fmt="PNG")
    (site / "content" / "blog" / "club.md").write_text(f"---\ntitle: Club\ndate: 2024-01-03\nlevel: {level}\n---\n"
                                                        "For members.\n\n![The club](club.png)\n")


def private_images(site: Path) -> dict[str, bytes]:
    folder = site / PRIVATE_IMAGES
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def listed_images(site: Path) -> dict[str, int]:
    return json.loads((site / "build" / "t" / "routes.json").read_text()).get("images", {})


def gate_answers(site: Path, name: str) -> list[str]:
    """What the gate answers for /assets/images/<name> at each level 0…5 ("missing", or where the file is)."""
    from mbsite.web.gate import Gate, image_choice

    gate = Gate(site / "build")
    out = []
    for level in range(6):
        choice = image_choice(gate, "t", f"/assets/images/{name}", level)
        out.append("missing" if choice.kind == "missing" else choice.file.relative_to(site / "build").parts[1])
    return out


def test_an_image_only_members_pages_show_is_private_and_served_from_their_level(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    members_post(site)
    build(site)
    secret = private_images(site)
    assert secret and all(n.startswith("club-") for n in secret)
    assert not [n for n in published(site) if n.startswith("club")]  # nothing of it under public/
    assert [n for n in published(site) if n.startswith("pic-")]      # the public post's image stays public
    assert listed_images(site) == {name: 2 for name in secret}
    members = lxml_html.fromstring((site / "build/t/private/2/blog/club/index.html").read_bytes())
    src = members.xpath("//picture/img/@src")[0]
    assert src.startswith("/assets/images/club-") and src.removeprefix("/assets/images/") in secret  # same URL
    for name in secret:
        assert gate_answers(site, name) == ["missing", "missing", "private", "private", "private", "private"]
    assert gate_answers(site, [n for n in published(site)][0]) == ["public"] * 6
    assert gate_answers(site, "club-64.0000000000.png") == ["missing"] * 6  # never written: missing for everyone
    public_text = b"".join(p.read_bytes() for p in (site / "build/t/public").rglob("*") if p.is_file())
    assert b"club-" not in public_text  # no public file names it either
    from mbsite.check import check_output

    assert [str(p) for p in check_output(site / "build") if p.code == "broken-link"] == []


def test_an_image_moves_to_public_when_a_public_page_shows_it_and_back_when_it_stops(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    members_post(site)
    build(site)
    secret = private_images(site)
    b = site / "content" / "blog" / "b.md"
    b.write_text("---\ntitle: B\ndate: 2024-01-02\n---\nNow public: ![The club](club.png)\n")
    build(site)
    assert private_images(site) == {} and "images" not in json.loads((site / "build/t/routes.json").read_text())
    assert {n: d for n, d in published(site).items() if n.startswith("club")} == secret
    assert output_tree(site / "build") == full_build_of(site, tmp_path / "full")
    b.write_text("---\ntitle: B\ndate: 2024-01-02\n---\nNo image here.\n")
    build(site)
    assert private_images(site) == secret and not [n for n in published(site) if n.startswith("club")]
    assert output_tree(site / "build") == full_build_of(site, tmp_path / "full")
    # The members' post becomes public itself: its image follows; then it needs level 1, and the gate follows.
    club = site / "content" / "blog" / "club.md"
    club.write_text(club.read_text().replace("level: 2\n", ""))
    build(site)
    assert private_images(site) == {} and [n for n in published(site) if n.startswith("club")]
    club.write_text(club.read_text().replace("date: 2024-01-03\n", "date: 2024-01-03\nlevel: 1\n"))
    build(site)
    assert set(listed_images(site).values()) == {1} and set(listed_images(site)) == set(private_images(site))
    assert output_tree(site / "build") == full_build_of(site, tmp_path / "full")
    assert every_level_equals_a_full_render(site) > 0
