"""mbsite.toml (+ environment, + CLI options) → a typed, frozen Config."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError, Location

CONFIG_FILE = "mbsite.toml"
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
_REPO_ROOT = Path(__file__).resolve().parent.parent


def default_markdown_engine() -> str:
    """The compiled engine (pyromark, a dependency) when it is installed; markdown-it-py otherwise. Both write the
    same HTML for what mbsite renders (docs/configuration.md names the one difference)."""
    import importlib.util

    return "pyromark" if importlib.util.find_spec("pyromark") is not None else "markdown-it"


def builtin_root() -> Path:
    """Folder holding the built-in packages/, schemas/ and themes/: inside the wheel, or the source checkout."""
    if (BUILTIN_DIR / "packages").is_dir():
        return BUILTIN_DIR
    return _REPO_ROOT


# Scripts only from the site itself; component stylesheets are inline <style> blocks of class rules generated from
# sanitised values, hence 'unsafe-inline' for styles only.
DEFAULT_CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")


@dataclass(frozen=True)
class Config:
    """Everything a build, a watch loop or the functions need to know about one site."""

    site_dir: Path
    title: str = "mbsite"
    base_url: str = ""
    out_dir: Path = Path("build")
    database_url: str | None = None
    strict: bool = False
    workers: int = 0                     # 0 = one per core
    highlight: bool = True               # Pygments for fenced code
    markdown_engine: str = field(default_factory=lambda: default_markdown_engine())
    theme: str = "default"
    page_size: int = 10                  # posts per listing page (blog index, tag pages); 0 = one page
    default_tenant: str | None = None    # tenant for Markdown pages without a `tenants:` front matter key (None = all)
    timezone: str = "UTC"                # IANA zone dates are shown in (tenants: `timezone` setting)
    languages: list[str] = field(default_factory=list)  # content languages; [] = default_language only
    default_language: str = "en"         # the language at the root of the URL space (tenants: `lang` setting)
    revalidate_secret: str | None = None
    session_ttl: int = 7 * 24 * 3600
    session_cookie: str = "mb_session"
    media_max_bytes: int = 10 * 1024 * 1024
    body_max_bytes: int = 1024 * 1024
    redis_url: str | None = None
    trusted_proxies: list[str] = field(default_factory=list)  # proxies whose X-Forwarded-For is believed
    rate_limits: dict[str, str] = field(default_factory=dict)
    webhooks: dict[str, Any] = field(default_factory=dict)
    content_security_policy: str = DEFAULT_CSP   # "" sends none
    max_shrink: float = 0.5              # share of published page files a build may remove without --allow-shrink
    allow_shrink: bool = False           # --allow-shrink: publish however much smaller the site gets
    follow_symlinks: list[str] = field(default_factory=list)  # folders outside the site that symlinks may reach
    cluster: str | None = None           # Dask scheduler address (tcp://HOST:8786) to render on (cluster.py)
    image_widths: list[int] = field(default_factory=lambda: [480, 960, 1600])  # variant widths (never upscaled)
    image_formats: list[str] = field(default_factory=lambda: ["avif", "webp"])  # modern formats offered (if writable)
    image_quality: int = 80              # encoder quality of the lossy variants (1-100)
    image_max_pixels: int = 40_000_000   # larger images are not processed (a warning; the original is linked)
    image_sizes: str = "(min-width: 960px) 960px, 100vw"  # the `sizes` attribute of processed images
    search: bool = True                  # a Pagefind search index per tenant and level, and a /search page
    search_shard_pages: int = 1000       # public pages per part of a large public index (0: one index, however large)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def out(self) -> Path:
        return self.out_dir if self.out_dir.is_absolute() else self.site_dir / self.out_dir

    @property
    def state_dir(self) -> Path:
        return self.site_dir / ".mbsite"

    @property
    def media_dir(self) -> Path:
        return self.state_dir / "media"

    def package_dirs(self) -> list[Path]:
        dirs = [self.site_dir / "packages", builtin_root() / "packages"]
        return _dedupe(d for d in dirs if d.is_dir())

    def theme_dirs(self) -> list[Path]:
        dirs = [self.site_dir / "themes" / self.theme, builtin_root() / "themes" / "default"]
        return _dedupe(d for d in dirs if d.is_dir())

    def schema_dirs(self) -> list[Path]:
        dirs = [self.site_dir / "schemas", builtin_root() / "schemas"]
        return _dedupe(d for d in dirs if d.is_dir())

    @property
    def content_dir(self) -> Path:
        return self.site_dir / "content"

    def with_options(self, **changes: Any) -> "Config":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _dedupe(paths: Any) -> list[Path]:
    seen: set[Path] = set()
    out: list[Path] = []
    for p in paths:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            out.append(p)
    return out


# mbsite.toml table.key → Config field
_KEYS: dict[str, str] = {
    "site.title": "title",
    "site.base_url": "base_url",
    "site.theme": "theme",
    "site.page_size": "page_size",
    "site.default_tenant": "default_tenant",
    "site.timezone": "timezone",
    "site.languages": "languages",
    "site.default_language": "default_language",
    "site.content_security_policy": "content_security_policy",
    "build.out": "out_dir",
    "build.strict": "strict",
    "build.workers": "workers",
    "build.highlight": "highlight",
    "build.markdown_engine": "markdown_engine",
    "build.max_shrink": "max_shrink",
    "build.follow_symlinks": "follow_symlinks",
    "build.cluster": "cluster",
    "images.widths": "image_widths",
    "images.formats": "image_formats",
    "images.quality": "image_quality",
    "images.max_pixels": "image_max_pixels",
    "images.sizes": "image_sizes",
    "search.enabled": "search",
    "search.shard_pages": "search_shard_pages",
    "database.url": "database_url",
    "functions.revalidate_secret": "revalidate_secret",
    "functions.session_ttl": "session_ttl",
    "functions.session_cookie": "session_cookie",
    "functions.media_max_bytes": "media_max_bytes",
    "functions.body_max_bytes": "body_max_bytes",
    "functions.redis_url": "redis_url",
    "functions.trusted_proxies": "trusted_proxies",
    "functions.rate_limits": "rate_limits",
    "functions.webhooks": "webhooks",
}
CONFIG_KEYS = tuple(_KEYS)

# Environment variables that override the file.
ENV_KEYS: dict[str, str] = {
    "MBSITE_DATABASE_URL": "database_url",
    "MBSITE_REVALIDATE_SECRET": "revalidate_secret",
    "MBSITE_REDIS_URL": "redis_url",
    "MBSITE_CLUSTER": "cluster",
}


def load_config(site_dir: Path | str = ".") -> Config:
    """Read SITE/mbsite.toml (optional) and the environment; unknown keys are an error naming the key."""
    site = Path(site_dir).resolve()
    if not site.is_dir():
        raise ConfigError(f"site folder {site_dir} does not exist" if not site.exists()
                          else f"site folder {site_dir} is not a folder")
    values: dict[str, Any] = {}
    path = site / CONFIG_FILE
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", Location(file=CONFIG_FILE)) from exc
        types = {f.name: f.type for f in fields(Config)}
        for table, entries in data.items():
            if not isinstance(entries, dict):
                raise ConfigError(f"[{table}] must be a table", Location(file=CONFIG_FILE))
            for key, value in entries.items():
                dotted = f"{table}.{key}"
                if dotted not in _KEYS:
                    raise ConfigError(f"unknown config key {dotted!r}", Location(file=CONFIG_FILE))
                name = _KEYS[dotted]
                values[name] = _coerce(name, value, str(types[name]))
    for env, name in ENV_KEYS.items():
        if os.environ.get(env):
            values[name] = os.environ[env]
    if os.environ.get("MBSITE_SEARCH"):  # search.enabled for one run (0/false/no/off, or 1/true/yes/on)
        values["search"] = os.environ["MBSITE_SEARCH"].strip().lower() not in ("0", "false", "no", "off")
    _check_site_keys(values)
    return Config(site_dir=site, **values)


IMAGE_FORMATS = ("avif", "webp")


def _check_images(name: str, value: Any) -> None:
    """The `[images]` keys beyond their type: widths 16..10000 px, known formats, quality 1..100, a positive limit."""
    where = Location(file=CONFIG_FILE)
    key = "images." + name.removeprefix("image_")
    if name == "image_widths" and (not value or any(isinstance(w, bool) or not isinstance(w, int) or not 16 <= w <= 10000
                                                    for w in value)):
        raise ConfigError(f"{key}: expected a non-empty list of widths between 16 and 10000 pixels, got {value!r}", where)
    if name == "image_formats" and any(f not in IMAGE_FORMATS for f in value):
        raise ConfigError(f"{key}: expected formats among {', '.join(IMAGE_FORMATS)}, got {value!r}", where)
    if name == "image_quality" and not 1 <= value <= 100:
        raise ConfigError(f"{key}: expected 1 to 100, got {value}", where)
    if name == "image_max_pixels" and value < 1:
        raise ConfigError(f"{key}: expected a positive number of pixels, got {value}", where)


def _check_site_keys(values: dict[str, Any]) -> None:
    """The time zone and the languages, checked here so that a typo is one error naming its key."""
    from .dates import zone_problem
    from .languages import lang_problem

    if "timezone" in values and (problem := zone_problem(values["timezone"])):
        raise ConfigError(f"site.timezone: {problem}", Location(file=CONFIG_FILE))
    for i, code in enumerate(values.get("languages", [])):
        if problem := lang_problem(code):
            raise ConfigError(f"site.languages[{i}]: {problem}", Location(file=CONFIG_FILE))
    if "default_language" in values and (problem := lang_problem(values["default_language"])):
        raise ConfigError(f"site.default_language: {problem}", Location(file=CONFIG_FILE))
    langs = values.get("languages")
    if langs and values.get("default_language", "en") not in langs:
        raise ConfigError(f"site.default_language: {values.get('default_language', 'en')!r} is not one of "
                          f"site.languages {langs!r}", Location(file=CONFIG_FILE))


def _coerce(name: str, value: Any, type_name: str) -> Any:
    expected: type | tuple[type, ...]
    if name == "out_dir":
        return Path(value)
    if type_name.startswith("bool"):
        expected = bool
    elif type_name.startswith("int"):
        expected = int
    elif type_name.startswith("float"):
        expected = (int, float)
    elif type_name.startswith("dict"):
        expected = dict
    elif type_name.startswith("list"):
        expected = list
    else:
        expected = str
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"{name}: expected {type_name}, got {type(value).__name__}", Location(file=CONFIG_FILE))
    if name == "search_shard_pages" and value < 0:
        raise ConfigError(f"search.shard_pages: expected 0 or more, got {value}", Location(file=CONFIG_FILE))
    if name == "page_size" and value < 0:
        raise ConfigError(f"site.page_size: expected 0 or more, got {value}", Location(file=CONFIG_FILE))
    if name.startswith("image_"):
        _check_images(name, value)
    if name == "max_shrink" and not 0 <= value <= 1:
        raise ConfigError(f"build.max_shrink: expected a share between 0 and 1, got {value}", Location(file=CONFIG_FILE))
    return float(value) if type_name.startswith("float") else value
