"""Markdown files → front matter + HTML. The family: front matter (frontmatter.py over frontmatter_yaml.py), two
engines that write the same HTML (markdown_it_engine.py, pyromark_engine.py, sharing syntax.py), code
highlighting (highlight.py); this module chooses the engine (`build.markdown_engine`)."""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import Any, Callable

from ..errors import ConfigError, Location
from .frontmatter import FRONT_MATTER_KEYS, FrontMatter, instant, split_front_matter
from .syntax import ShortcodeHandler, drop_comments, parse_shortcode_args

__all__ = ["ENGINES", "FRONT_MATTER_KEYS", "FrontMatter", "check_engine", "instant", "make_markdown",
           "markdown_engine", "parse_shortcode_args", "render_markdown", "split_front_matter"]


ENGINES = ("markdown-it", "pyromark")
_ENGINE_PACKAGES = {"pyromark": "pyromark"}


def check_engine(engine: str) -> None:
    """Raise a ConfigError naming `build.markdown_engine` when the engine is unknown or not installed."""
    if engine not in ENGINES:
        raise ConfigError(f"build.markdown_engine: unknown Markdown engine {engine!r} "
                          f"(choose one of {', '.join(ENGINES)})", Location(file="mbsite.toml"))
    package = _ENGINE_PACKAGES.get(engine)
    if package is not None and importlib.util.find_spec(package) is None:
        raise ConfigError(f"build.markdown_engine: engine {engine!r} needs the {package!r} package "
                          f"(pip install 'mbsite[fast]')", Location(file="mbsite.toml"))


_LAZY = ("make_markdown", "markdown_engine", "render_markdown_it")


def __getattr__(name: str) -> Any:
    """The markdown-it engine's names, imported when first asked for: a build with the compiled engine never
    loads markdown-it (a twentieth of a second in every process of a build)."""
    if name in _LAZY:
        from . import markdown_it_engine

        return getattr(markdown_it_engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@lru_cache(maxsize=8)
def _renderer(engine: str) -> Callable[..., str]:
    check_engine(engine)
    if engine == "pyromark":
        from .pyromark_engine import render

        return render
    from .markdown_it_engine import render_markdown_it

    return render_markdown_it


def render_markdown(body: str, *, highlight_code: bool = True, shortcode: ShortcodeHandler | None = None,
                    line_offset: int = 0, engine: str = "markdown-it") -> str:
    """Markdown body → HTML with the configured engine (`build.markdown_engine`); every engine writes the same
    constructs: tables, strikethrough, footnotes, heading anchors, highlighted code, shortcodes outside code; HTML
    comment blocks print nothing (syntax.drop_comments)."""
    return _renderer(engine)(drop_comments(body), highlight_code=highlight_code, shortcode=shortcode,
                             line_offset=line_offset)
