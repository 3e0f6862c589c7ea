"""Markdown body → HTML with markdown-it-py (footnotes, anchors, Pygments, component shortcodes, image lines)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markupsafe import escape

from .syntax import SHORTCODE_RE, ShortcodeHandler, highlight, parse_shortcode_args, slugify


def _shortcode_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    pos = state.bMarks[start] + state.tShift[start]
    line = state.src[pos:state.eMarks[start]]
    if state.sCount[start] - state.blkIndent >= 4 or not line.startswith("{{<"):
        return False
    m = SHORTCODE_RE.fullmatch(line.strip())
    if not m:
        return False
    if silent:
        return True
    token = state.push("mb_shortcode", "", 0)
    token.meta = {"package": m.group(1), "component": m.group(2), "args": parse_shortcode_args(m.group(3)),
                  "line": start}
    token.map = [start, start + 1]
    state.line = start + 1
    return True


def _shortcode_inline(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("{{<", state.pos):
        return False
    m = SHORTCODE_RE.match(state.src, state.pos)
    if not m:
        return False
    if not silent:
        token = state.push("mb_shortcode", "", 0)
        token.meta = {"package": m.group(1), "component": m.group(2), "args": parse_shortcode_args(m.group(3)),
                      "line": None}
    state.pos = m.end()
    return True


def _render_shortcode(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    meta = tokens[idx].meta
    handler: ShortcodeHandler | None = env.get("shortcode")
    if handler is None:
        return f'<div data-mb-shortcode="{escape(meta["package"])}:{escape(meta["component"])}"></div>'
    line = meta["line"] + 1 + env.get("line_offset", 0) if meta["line"] is not None else None
    return handler(meta["package"], meta["component"], meta["args"], line)


def _image_lines(state: Any) -> None:
    """Note on each image token the line (0-based, in the body) it starts on: the line of its block plus the line
    breaks before it inside the block's inline content."""
    for block in state.tokens:
        if block.type != "inline" or not block.map or not block.children:
            continue
        line = block.map[0]
        todo = list(block.children)
        for child in todo:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "image":
                child.meta["line"] = line
                line += sum(1 for c in child.children or () if c.type in ("softbreak", "hardbreak"))


def _render_image(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    """The default image (src, alt, title) plus its source line (`data-mb-line`), which the page's image step
    (images.rewrite_markdown) reads and replaces."""
    token = tokens[idx]
    token.attrs["alt"] = self.renderInlineAsText(token.children, options, env)
    if "line" in token.meta:
        token.attrs["data-mb-line"] = str(token.meta["line"] + 1 + env.get("line_offset", 0))
    return self.renderToken(tokens, idx, options, env)


def make_markdown(*, highlight_code: bool = True) -> MarkdownIt:
    """The Markdown engine: CommonMark + tables + strikethrough + footnotes + heading anchors + shortcodes."""
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.footnote import footnote_plugin

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False,
                                   "highlight": highlight if highlight_code else None})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin).use(anchors_plugin, min_level=2, max_level=4, slug_func=slugify, permalink=True,
                                permalinkSymbol="#", permalinkBefore=False)
    md.block.ruler.before("paragraph", "mb_shortcode", _shortcode_block)
    md.inline.ruler.before("text", "mb_shortcode", _shortcode_inline)
    md.add_render_rule("mb_shortcode", _render_shortcode)
    md.core.ruler.push("mb_image_lines", _image_lines)
    md.add_render_rule("image", _render_image)
    # The default text rule stops only at "terminator" characters; "{" is not one, so make it one.
    _add_terminator(md)
    return md


def _add_terminator(md: MarkdownIt) -> None:
    from markdown_it.rules_inline import text as text_rule

    if "{" not in getattr(text_rule, "_TerminatorChars", set()) and hasattr(text_rule, "_TerminatorChars"):
        text_rule._TerminatorChars = set(text_rule._TerminatorChars) | {"{"}  # type: ignore[attr-defined]


@lru_cache(maxsize=4)
def markdown_engine(highlight_code: bool = True) -> MarkdownIt:
    return make_markdown(highlight_code=highlight_code)


def render_markdown_it(body: str, *, highlight_code: bool = True, shortcode: ShortcodeHandler | None = None,
                        line_offset: int = 0) -> str:
    env: dict[str, Any] = {"line_offset": line_offset}
    if shortcode is not None:
        env["shortcode"] = shortcode
    return markdown_engine(highlight_code).render(body, env)
