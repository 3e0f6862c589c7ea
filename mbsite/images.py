"""Image references (Markdown, components) → checked source files → cached variants (Pillow) → <picture> HTML.

- `resolve`: a reference as written (`pic.png` beside a Markdown file, `/images/pic.png` from the content root)
  → the source file inside the content folder, or why not (a path that climbs out, a symbolic link that leads
  out, a missing file). Remote URLs and paths the functions or the theme serve (`/api/…`, `/assets/…`) are not
  local: they are left as they are.
- `Images.entry`: source bytes → an `Entry` — the intrinsic size (EXIF orientation applied) and the variants:
  a few widths (`[images] widths`, never wider than the source) in AVIF (when this Pillow can write it) and
  WebP, plus the source's own format as the fallback. Animated images and SVG pass through unchanged (with their
  size); a file that is not an image, or has more pixels than `[images] max_pixels`, is an entry with a
  `problem` whose fallback is the copied original. Entries are stored under `<site>/.mbsite/images/` by a key of
  the source digest and the settings, so an image is processed once; every file is written to a temporary name
  and renamed, so two worker processes making the same entry both leave a whole one.
- `picture` / `plain`: an entry → the HTML (`<picture>` with `<source>`s, `<img>` with width, height, srcset,
  sizes, `loading="lazy"`, `decoding="async"`), every value escaped.

Output files are content-hashed (`<stem>-<width>.<sha256[:10]>.<ext>`) and published by the builder from the
entries that the tenant's pages recorded (`keys.image`), each with the lowest level of the outputs that show it
(`published`): under the tenant's `public/assets/images/` when a public page shows it, else under
`private/assets/images/`, which the gate serves at the same URL to viewers of that level (paths.image_file).
"""
from __future__ import annotations

import hashlib
import html
import io
import json
import os
import posixpath
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable
from urllib.parse import unquote

from markupsafe import escape

from .errors import Location, Problem
from .paths import IMAGES_DIR, segment_problem

if TYPE_CHECKING:
    from .config import Config
    from .context import Recorder

VERSION = 2                      # of the processing: a new one makes every entry again
AVIF_SPEED = 8                   # libavif's 0 (slowest, smallest) … 10: about 3× faster than its default 6
URL_PREFIX = f"/{IMAGES_DIR}/"  # under a tenant's public/ folder, or private/ for members' images (the gate)
MISSING = "missing"              # the digest recorded for a referenced image that does not exist
_MIME = {"webp": "image/webp", "avif": "image/avif", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
         "svg": "image/svg+xml"}
_EXT = {"webp": "webp", "avif": "avif", "jpeg": "jpg", "png": "png", "gif": "gif", "svg": "svg"}
_RASTER = frozenset(e for e in _EXT.values() if e != "svg")  # what a variant may be (the cache makes no SVG)
_FALLBACK = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}   # any other readable format falls back to PNG
_NOT_LOCAL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:|//|#)")
_SERVED = ("/api/", "/assets/")  # paths the functions or the theme serve, never files of the content folder
_STEM = re.compile(r"[^A-Za-z0-9_-]+")
_SVG_TAG = re.compile(rb"<svg\b[^>]*>", re.I | re.S)
_SVG_ATTR = re.compile(rb"""\b(width|height|viewBox)\s*=\s*["']([^"']*)["']""", re.I)
_SVG_LENGTH = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(px)?\s*$")


@dataclass(frozen=True)
class Settings:
    """The `[images]` table of mbsite.toml."""

    widths: tuple[int, ...] = (480, 960, 1600)
    formats: tuple[str, ...] = ("avif", "webp")
    quality: int = 80
    max_pixels: int = 40_000_000
    sizes: str = "(min-width: 960px) 960px, 100vw"

    @classmethod
    def of(cls, config: "Config") -> "Settings":
        return cls(tuple(sorted(set(config.image_widths))), tuple(config.image_formats), config.image_quality,
                   config.image_max_pixels, config.image_sizes)

    def writable(self) -> tuple[str, ...]:
        """The listed formats this Pillow can write (AVIF needs a build with libavif)."""
        return tuple(f for f in self.formats if can_write(f))


@lru_cache(maxsize=None)
def can_write(fmt: str) -> bool:
    """Whether this Pillow build encodes `fmt` ("webp", "avif")."""
    from PIL import features

    # An older Pillow does not know the name "avif" at all (and warns when asked): that is a no.
    known = set(features.modules) | set(features.codecs) | set(getattr(features, "features", {}))
    return fmt in known and bool(features.check(fmt))


@dataclass(frozen=True)
class Source:
    """A local image reference that resolved inside the content folder."""

    rel: str    # site-relative, e.g. content/blog/pic.png (the input key names it)
    path: Path


@dataclass(frozen=True)
class Refused:
    """A local image reference that must not be read (or cannot be): why, and the path as written."""

    reason: str
    rel: str | None = None  # the site-relative file for a missing image (its appearance rebuilds the page)


def resolve(config: "Config", ref: str, base: str | None) -> Source | Refused | None:
    """The source file of an image reference, a refusal, or None when it is not a local file (a remote URL, a
    `data:` URL, a path the functions or the theme serve, or a relative path where there is no file to be
    relative to). `base`: the site-relative Markdown file a relative reference is relative to."""
    ref = ref.strip()
    if not ref or _NOT_LOCAL.match(ref) or ref.startswith(_SERVED):
        return None
    path = unquote(ref.split("#", 1)[0].split("?", 1)[0])
    content = config.content_dir.name
    if path.startswith("/"):
        joined = posixpath.normpath(path.lstrip("/"))
    elif base is not None and base.startswith(content + "/"):
        folder = posixpath.dirname(base[len(content) + 1:])
        joined = posixpath.normpath(posixpath.join(folder, path))
    else:
        return None
    return _inside(config, joined, repr(ref))


def _inside(config: "Config", joined: str, shown: str) -> Source | Refused:
    """A normalised path relative to the content folder → its file, unless it climbs out of the folder (`..`, a
    symbolic link leading out), holds a segment no output path may hold, or names no file."""
    if joined in (".", "..") or joined.startswith(("../", "/")):
        return Refused(f"image {shown} leads outside the content folder; not used")
    for seg in joined.split("/"):
        reason = segment_problem(seg)
        if reason is not None:
            return Refused(f"image {shown}: {reason}")
    rel = f"{config.content_dir.name}/{joined}"
    target = config.content_dir / joined
    real = os.path.realpath(target)
    roots = [os.path.realpath(config.content_dir)]
    roots += [os.path.realpath(config.site_dir / Path(p).expanduser()) for p in config.follow_symlinks]
    if not any(real == r or real.startswith(r + os.sep) for r in roots):
        return Refused(f"image {shown} is a symbolic link leading outside the content folder; not used "
                       "(allow its folder with [build] follow_symlinks)")
    if not os.path.isfile(real):
        return Refused(f"image {shown} not found ({rel})", rel)
    return Source(rel, target)


@dataclass(frozen=True)
class Variant:
    format: str   # webp | avif | jpeg | png | gif | svg
    width: int
    height: int
    name: str     # the output file under URL_PREFIX (content-hashed)

    @property
    def url(self) -> str:
        return URL_PREFIX + self.name


@dataclass(frozen=True)
class Entry:
    """A processed image: its size, the variants by format (the fallback's format last), or a problem."""

    width: int | None
    height: int | None
    original: str                       # the copied source (what a passed-through or broken image shows)
    fallback: tuple[Variant, ...] = ()  # the source's format (or PNG), by width
    sources: tuple[tuple[str, tuple[Variant, ...]], ...] = ()  # (format, variants by width), best format first
    problem: str | None = None

    def files(self) -> list[str]:
        """Every output file of the entry (names under URL_PREFIX): the variants, or the copied original when there
        are none (an image passed through, or a broken one)."""
        names = {v.name for v in self.fallback} if self.fallback else {self.original}
        names |= {v.name for _fmt, group in self.sources for v in group}
        return sorted(names)

    def to_json(self) -> dict[str, Any]:
        def group(vs: tuple[Variant, ...]) -> list[list[Any]]:
            return [[v.format, v.width, v.height, v.name] for v in vs]
        return {"version": VERSION, "width": self.width, "height": self.height, "original": self.original,
                "fallback": group(self.fallback), "sources": [[f, group(g)] for f, g in self.sources],
                "problem": self.problem}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "Entry":
        def group(rows: list[list[Any]]) -> tuple[Variant, ...]:
            return tuple(Variant(str(f), int(w), int(h), str(n)) for f, w, h, n in rows)
        return cls(doc["width"], doc["height"], str(doc["original"]), group(doc["fallback"]),
                   tuple((str(f), group(g)) for f, g in doc["sources"]), doc.get("problem"))


@dataclass
class Images:
    """The image cache of one site: `<site>/.mbsite/images/entries/<key>.json` and `files/<output name>`.

    `made` counts the entries this process made (not found in the cache): what "an unchanged image is not
    processed again" is measured by."""

    config: "Config"
    settings: Settings = field(default_factory=Settings)
    made: int = 0
    _memo: dict[str, Entry] = field(default_factory=dict)

    @classmethod
    def of(cls, config: "Config") -> "Images":
        return cls(config, Settings.of(config))

    @property
    def root(self) -> Path:
        return self.config.state_dir / "images"

    def key(self, rel: str, digest: str) -> str:
        """The cache key of a source: its digest, its file name (the output names carry it) and the settings."""
        from PIL import __version__ as pillow

        s = self.settings
        parts = [VERSION, pillow, digest, _stem(rel), posixpath.splitext(rel)[1].lower(), list(s.widths),
                 list(s.writable()), s.quality, s.max_pixels]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def file(self, name: str) -> Path:
        """A cached output file by its name (None-safe: names come from entries this cache wrote)."""
        return self.root / "files" / name

    def entry(self, source: Source, data: bytes | None = None, digest: str | None = None) -> Entry:
        """The entry of a source file: from memory, from the cache, or made now (and stored)."""
        if data is None:
            data = source.path.read_bytes()
        digest = digest or hashlib.sha256(data).hexdigest()
        key = self.key(source.rel, digest)
        found = self._memo.get(key) or self._load(key, source.rel, digest)
        if found is None:
            found = self._make(source.rel, data, digest)
            self.made += 1
            self._store(key, found)
        self._memo[key] = found
        return found

    def cached(self, rel: str, digest: str) -> Entry | None:
        """The stored entry of a source with this digest, if the cache holds it whole."""
        key = self.key(rel, digest)
        found = self._memo.get(key) or self._load(key, rel, digest)
        if found is not None:
            self._memo[key] = found
        return found

    def _load(self, key: str, rel: str, digest: str) -> Entry | None:
        """The stored entry, when its files are all there and it is what this cache makes of the source (`rel`,
        `digest`), whoever wrote the cache folder: the original under its own name, variants in raster formats
        only, and an SVG (published as it is: a script in it would run on the site) still the source's bytes."""
        try:
            doc = json.loads((self.root / "entries" / f"{key}.json").read_bytes())
            if doc.get("version") != VERSION:
                return None
            entry = Entry.from_json(doc)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        ext = posixpath.splitext(rel)[1].lower().lstrip(".") or "img"
        if entry.original != f"{_stem(rel)}.{digest[:10]}.{ext}" or any(
                posixpath.splitext(v.name)[1].lstrip(".") not in _RASTER
                for v in (*entry.fallback, *(v for _fmt, group in entry.sources for v in group))):
            return None
        if not all(self.file(n).is_file() for n in entry.files()):
            return None  # a file of the entry went missing: make it again
        if ext == "svg":
            try:
                if hashlib.sha256(self.file(entry.original).read_bytes()).hexdigest() != digest:
                    return None
            except OSError:
                return None
        return entry

    def _store(self, key: str, entry: Entry) -> None:
        _write(self.root / "entries" / f"{key}.json", json.dumps(entry.to_json(), sort_keys=True).encode())

    def _put(self, name: str, data: bytes) -> None:
        target = self.file(name)
        try:
            same = target.stat().st_size == len(data) and target.read_bytes() == data
        except OSError:
            same = False
        if not same:  # (absent, or not these bytes: replaced)
            _write(target, data)

    # -- processing ---------------------------------------------------------------------------------------
    def _make(self, rel: str, data: bytes, digest: str) -> Entry:
        stem, ext = _stem(rel), posixpath.splitext(rel)[1].lower().lstrip(".") or "img"
        original = f"{stem}.{digest[:10]}.{ext}"
        if ext == "svg":
            width, height = svg_size(data)
            entry = Entry(width, height, original)
        else:
            entry = self._raster(data, stem, original)
        if not entry.fallback:
            self._put(original, data)
        return entry

    def _raster(self, data: bytes, stem: str, original: str) -> Entry:
        from PIL import Image, ImageOps, UnidentifiedImageError

        limit = self.settings.max_pixels
        Image.MAX_IMAGE_PIXELS = limit  # Pillow's own check (it raises at twice this) agrees with the setting
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as im:
                    width, height = im.size
                    if width * height > limit:
                        return Entry(None, None, original, problem=_too_big(width, height, limit))
                    if getattr(im, "n_frames", 1) > 1:  # animated: kept as it is, only measured
                        return Entry(width, height, original)
                    fmt = _FALLBACK.get(im.format or "", "png")
                    im.load()
                    upright = ImageOps.exif_transpose(im)
                    return self._variants(upright, fmt, stem, original)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return Entry(None, None, original, problem=f"more pixels than [images] max_pixels ({limit}); not "
                                                       "processed")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
            return Entry(None, None, original, problem=f"not a readable image ({type(exc).__name__}: {exc})")

    def _variants(self, im: Any, fmt: str, stem: str, original: str) -> Entry:
        s = self.settings
        width, height = im.size
        top = min(width, max(s.widths))
        widths = sorted({w for w in s.widths if w < top} | {top})  # never wider than the source
        alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
        base = im.convert("RGBA" if alpha else "RGB")
        sizes = [(w, max(1, round(height * w / width))) for w in widths]
        scaled = [base if (w, h) == base.size else base.resize((w, h), _lanczos()) for w, h in sizes]
        groups: list[tuple[str, tuple[Variant, ...]]] = []
        for out_fmt in [f for f in s.writable() if f != fmt] + [fmt]:
            if out_fmt == "jpeg" and alpha:
                out_fmt = "png"
            group = tuple(self._encode(img, out_fmt, stem) for img in scaled)
            groups.append((out_fmt, group))
        fallback = groups.pop()[1]
        return Entry(top, sizes[-1][1], original, fallback, tuple(groups))

    def _encode(self, im: Any, fmt: str, stem: str) -> Variant:
        buf = io.BytesIO()
        q = self.settings.quality
        if fmt == "jpeg":
            im.save(buf, "JPEG", quality=q, optimize=True, progressive=True)
        elif fmt == "png":
            im.save(buf, "PNG", optimize=True)
        elif fmt == "webp":
            im.save(buf, "WEBP", quality=q, method=4)
        else:
            im.save(buf, "AVIF", quality=q, speed=AVIF_SPEED)
        data = buf.getvalue()
        name = f"{stem}-{im.size[0]}.{hashlib.sha256(data).hexdigest()[:10]}.{_EXT[fmt]}"
        self._put(name, data)
        return Variant(fmt, im.size[0], im.size[1], name)


def _lanczos() -> Any:
    from PIL import Image

    return Image.Resampling.LANCZOS


def _too_big(width: int, height: int, limit: int) -> str:
    return f"{width}×{height} pixels is more than [images] max_pixels ({limit}); not processed"


def _stem(rel: str) -> str:
    stem = _STEM.sub("-", posixpath.splitext(posixpath.basename(rel))[0]).strip("-")[:60]
    return stem or "image"


def svg_size(data: bytes) -> tuple[int | None, int | None]:
    """Width and height of an SVG from its root element's attributes (plain or px lengths), else its viewBox."""
    root = _SVG_TAG.search(data[:8192])
    if root is None:
        return None, None
    attrs = {k.decode().lower(): v.decode("utf-8", "replace") for k, v in _SVG_ATTR.findall(root.group(0))}
    size: list[int | None] = []
    for name in ("width", "height"):
        m = _SVG_LENGTH.match(attrs.get(name, ""))
        size.append(round(float(m.group(1))) if m else None)
    if None in size and "viewbox" in attrs:
        box = attrs["viewbox"].replace(",", " ").split()
        try:
            if len(box) == 4 and float(box[2]) > 0 and float(box[3]) > 0:
                return round(float(box[2])), round(float(box[3]))
        except ValueError:
            pass
    return size[0], size[1]


def _write(target: Path, data: bytes) -> None:
    """Temp file + os.replace: a reader (or a second writer of the same entry) never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# -- HTML ----------------------------------------------------------------------------------------------------

def _attrs(values: dict[str, Any]) -> str:
    return "".join(f' {k}="{escape(str(v))}"' for k, v in values.items() if v is not None and v != "")


def _srcset(group: tuple[Variant, ...]) -> str:
    return ", ".join(f"{v.url} {v.width}w" for v in group)


def picture(entry: Entry, alt: str, *, title: str | None = None, sizes: str = "", attrs: str = "",
            size: tuple[Any, Any] | None = None) -> str:
    """An entry as HTML: `<picture>` with a `<source>` per modern format when it has variants, else one `<img>`
    (a passed-through or broken image shows its copied original). `alt`, `title`, `sizes` are plain text (escaped
    here); `attrs` is an attribute string already made safe (a component's class, id, aria-*); `size` replaces the
    intrinsic width and height (a component that gives its own)."""
    width, height = size if size is not None else (entry.width, entry.height)
    if not entry.fallback:
        img = {"src": URL_PREFIX + entry.original, "alt": alt, "title": title, "width": width, "height": height,
               "loading": "lazy", "decoding": "async"}
        return f"<img{attrs}{_attrs(img)}>"
    largest = entry.fallback[-1]
    # `<source … />`: a void element either way, and the slash keeps parsers that do not know <picture> (libxml2's
    # HTML parser, which nests an unclosed <source> around what follows) reading the page as browsers do.
    sources = "".join(f"<source{_attrs({'type': _MIME[fmt], 'srcset': _srcset(group), 'sizes': sizes})} />"
                      for fmt, group in entry.sources)
    img = {"src": largest.url, "srcset": _srcset(entry.fallback), "sizes": sizes, "width": width, "height": height,
           "alt": alt, "title": title, "loading": "lazy", "decoding": "async"}
    return f"<picture>{sources}<img{attrs}{_attrs(img)}></picture>"


def plain(src: str, alt: str, *, title: str | None = None, attrs: str = "", size: tuple[Any, Any] | None = None) -> str:
    """An image left as it is (remote, missing, refused): still lazy."""
    width, height = size if size is not None else (None, None)
    img = {"src": src, "alt": alt, "title": title, "width": width, "height": height, "loading": "lazy",
           "decoding": "async"}
    return f"<img{attrs}{_attrs(img)}>"


# -- the render side: a reference → HTML, with its input recorded ---------------------------------------------

def source_digest(config: "Config", rel: str) -> str:
    """The digest an `image:` input has now: the file's SHA-256, or MISSING (gone, not a file, or a symbolic link
    out of the content folder: `resolve` would refuse it)."""
    found = _source_of(config, rel)
    if found is None:
        return MISSING
    try:
        return hashlib.sha256(found.path.read_bytes()).hexdigest()
    except OSError:
        return MISSING


def _source_of(config: "Config", rel: str) -> Source | None:
    """The source file of a recorded `image:` input, if it is (still) one `resolve` would accept."""
    content = config.content_dir.name + "/"
    if not rel.startswith(content):
        return None
    found = _inside(config, posixpath.normpath(rel[len(content):]), repr(rel))
    return found if isinstance(found, Source) else None


def render_reference(images: Images, ref: str, alt: str, rec: "Recorder", warn: Callable[[str], None], *,
                     base: str | None = None, title: str | None = None, attrs: str = "",
                     size: tuple[Any, Any] | None = None) -> str:
    """One image reference → its HTML; a local file is recorded as an input (`keys.image`, by content digest; a
    missing one as MISSING, so that its appearance renders the page again) and problems go to `warn`."""
    found = resolve(images.config, ref, base)
    if found is None:
        return plain(ref, alt, title=title, attrs=attrs, size=size)
    if isinstance(found, Refused):
        warn(found.reason)
        if found.rel is not None:
            rec.image(found.rel, MISSING)
        return plain(ref, alt, title=title, attrs=attrs, size=size)
    try:
        data = found.path.read_bytes()
    except OSError as exc:
        warn(f"image {ref!r} cannot be read: {exc.strerror or exc}")
        rec.image(found.rel, MISSING)
        return plain(ref, alt, title=title, attrs=attrs, size=size)
    digest = hashlib.sha256(data).hexdigest()
    rec.image(found.rel, digest)
    entry = images.entry(found, data, digest)
    if entry.problem is not None:
        warn(f"image {ref!r}: {entry.problem}; linked as it is")
    return picture(entry, alt, title=title, sizes=images.settings.sizes, attrs=attrs, size=size)


# What both Markdown engines write for an image (attribute values escaped, raw HTML never passes through them).
_MARKDOWN_IMG = re.compile(r'<img src="([^"]*)" alt="([^"]*)"(?: title="([^"]*)")? data-mb-line="([0-9]+)" />')


def rewrite_markdown(images: Images, body: str, relpath: str, rec: "Recorder", problems: list[Problem]) -> str:
    """A Markdown body's images (as the engines write them, with their source line) → processed HTML."""
    if "data-mb-line=" not in body:
        return body

    def one(m: re.Match[str]) -> str:
        line = int(m.group(4))

        def warn(message: str) -> None:
            problems.append(Problem("warning", message, Location(file=relpath, line=line), "image"))
        title = html.unescape(m.group(3)) if m.group(3) is not None else None
        return render_reference(images, html.unescape(m.group(1)), html.unescape(m.group(2)), rec, warn,
                                base=relpath, title=title)
    return _MARKDOWN_IMG.sub(one, body)


@dataclass(frozen=True)
class Published:
    """An output file of an image: the cached file to copy, and the lowest level of the outputs that show it (0: a
    public page does, and the file is public; else only the gate serves it, to viewers of at least that level)."""

    file: Path
    level: int


def published(images: Images, inputs: Iterable[tuple[str, str, int]]) -> dict[str, Published]:
    """The output files (name → Published) of the images that these recorded inputs (key, digest, level of the output
    that recorded it) name; an entry missing from the cache is made again from its source when the source still has
    that digest. A file shown by several outputs (or made from several sources) takes the lowest of their levels."""
    lowest: dict[tuple[str, str], int] = {}
    for key, digest, level in inputs:
        if key.startswith("image:") and digest != MISSING:
            lowest[(key, digest)] = min(level, lowest.get((key, digest), level))
    files: dict[str, Published] = {}
    for (key, digest), level in sorted(lowest.items()):
        rel = key[len("image:"):]
        entry = images.cached(rel, digest)
        if entry is None:
            found = _source_of(images.config, rel)
            if found is not None and source_digest(images.config, rel) == digest:
                entry = images.entry(found)
        if entry is not None:
            for name in entry.files():
                known = files.get(name)
                if known is None or level < known.level:
                    files[name] = Published(images.file(name), level)
    return files


__all__ = ["Entry", "Images", "MISSING", "Published", "Refused", "Settings", "Source", "URL_PREFIX", "Variant",
           "can_write", "picture", "plain", "published", "render_reference", "resolve", "rewrite_markdown",
           "source_digest", "svg_size"]
