"""The "pyromark" Markdown engine: pulldown-cmark (Rust) parses, this module writes the HTML.

It writes what the default markdown-it engine writes for the same input — tables, strikethrough, footnotes
(numbered by first reference, listed at the end), heading anchors on h2..h4, Pygments for fenced code, raw HTML
escaped as text, unsafe link protocols left as literal text — and recognises component shortcodes only where
Markdown text is (never in code spans or code blocks): a paragraph line that is a shortcode is a block, one
inside text is inline. The parser reports byte ranges of the source, so a shortcode is matched against the
source itself and the events it spans are skipped.
"""
from __future__ import annotations

import re
from typing import Any

import pyromark

from . import syntax as _md

_OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_FOOTNOTES | pyromark.Options.ENABLE_STRIKETHROUGH
_BSHORTCODE_RE = re.compile(_md.SHORTCODE_RE.pattern.encode())
_SAFE_URL_RE = re.compile(r"(?:[A-Za-z0-9;/?:@&=+$,\-_.!~*'()#]|%[0-9A-Fa-f]{2})*")
_BAD_PROTO_RE = re.compile(r"^(vbscript|javascript|file|data):")
_GOOD_DATA_RE = re.compile(r"^data:image\/(gif|png|jpeg|webp);")
_ALIGN = {"Left": ' style="text-align:left"', "Right": ' style="text-align:right"',
          "Center": ' style="text-align:center"'}
_BLOCK_STARTS = {"Paragraph", "List", "CodeBlock", "BlockQuote", "Heading", "HtmlBlock", "Table", "Rule",
                 "FootnoteDefinition"}
_END_PARAGRAPH = {"End": "Paragraph"}
_HEADING_LEVEL = {"H1": 1, "H2": 2, "H3": 3, "H4": 4, "H5": 5, "H6": 6}
_SIMPLE_OPEN = {"Emphasis": "<em>", "Strong": "<strong>", "Strikethrough": "<s>", "BlockQuote": "<blockquote>\n"}
_SIMPLE_CLOSE = {"Emphasis": "</em>", "Strong": "</strong>", "Strikethrough": "</s>",
                 "BlockQuote": "</blockquote>\n"}


def _esc(text: str) -> str:
    """markdown-it's escapeHtml: & < > and double quotes."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


def _url(url: str) -> str:
    if _SAFE_URL_RE.fullmatch(url):
        return url
    from markdown_it.common.normalize_url import normalizeLink

    return normalizeLink(url)


def _valid(url: str) -> bool:
    url = url.strip().lower()
    return bool(_GOOD_DATA_RE.search(url)) if _BAD_PROTO_RE.search(url) else True


def _kind(event: dict[str, Any] | str) -> tuple[str, Any]:
    if isinstance(event, str):
        return event, None
    for k, v in event.items():
        return k, v
    raise ValueError(event)  # pragma: no cover


class _Writer:
    def __init__(self, body: str, highlight_code: bool, shortcode: _md.ShortcodeHandler | None,
                 line_offset: int) -> None:
        self.src = body.encode()
        self.highlight_code = highlight_code
        self.shortcode = shortcode
        self.line_offset = line_offset
        self.has_shortcodes = b"{{<" in self.src
        self.out: list[str] = []
        self.sinks: list[list[str]] = []
        self.slugs: set[str] = set()
        self.footnote_ids: dict[str, int] = {}        # normalised label → number (order of first reference)
        self.footnote_refs: dict[str, int] = {}       # label → references so far
        self.footnote_defs: dict[str, list[str]] = {}
        self.skip_until = -1
        self.skip_from = -1
        self._no_lf: tuple[list[str] | None, int] = (None, 0)
        self.heading_parts: list[str] | None = None

    # -- shortcodes -------------------------------------------------------------------------------------------
    def _call(self, m: re.Match[bytes], line: int | None) -> str:
        pkg, comp = m.group(1).decode(), m.group(2).decode()
        args = _md.parse_shortcode_args(m.group(3).decode() if m.group(3) else "")
        if self.shortcode is None:
            return f'<div data-mb-shortcode="{_esc(pkg)}:{_esc(comp)}"></div>'
        return self.shortcode(pkg, comp, args, None if line is None else line + 1 + self.line_offset)

    def _block_shortcodes(self, start: int, end: int) -> int:
        """Leading lines of a paragraph that are whole shortcodes → blocks; returns where the rest starts."""
        src = self.src
        while start < end:
            eol = src.find(b"\n", start, end)
            eol = end if eol < 0 else eol
            m = _BSHORTCODE_RE.fullmatch(src[start:eol].strip())
            if m is None:
                break
            self.out.append(self._call(m, src.count(b"\n", 0, start)))
            self._no_lf = (self.out, len(self.out))  # markdown-it puts no line break after a block shortcode
            start = eol + 1
        return start

    def _item_shortcode(self, start: int) -> None:
        """A tight list item whose first line is a shortcode: a block, as markdown-it has it."""
        eol = self.src.find(b"\n", start)
        eol = len(self.src) if eol < 0 else eol
        m = _BSHORTCODE_RE.fullmatch(self.src[start:eol].strip())
        if m is not None:
            self.out.append("\n")
            self.out.append(self._call(m, self.src.count(b"\n", 0, start)))
            self._no_lf = (self.out, len(self.out))
            self.skip_from, self.skip_until = start, eol + 1

    def _text(self, text: str, start: int, end: int) -> None:
        """Text outside code, with inline shortcodes (matched against the source bytes) replaced."""
        src = self.src
        at = src.find(b"{{<", start, end + 2) if self.has_shortcodes else -1
        if 0 <= at < end and src[start:end] == text.encode():
            pieces: list[str] = []
            pos = start
            while 0 <= at < end:
                m = _BSHORTCODE_RE.match(src, at) if not _escaped(src, at) else None
                if m is None:
                    at = src.find(b"{{<", at + 1, end + 2)
                    continue
                self._plain(src[pos:at].decode(), pieces)
                pieces.append(self._call(m, None))
                pos = m.end()
                if pos >= end:
                    if pos > end:  # the shortcode spans the following events: skip them
                        self.skip_from, self.skip_until = end, pos
                    break
                at = src.find(b"{{<", pos, end + 2)
            if pos < end:
                self._plain(src[pos:end].decode(), pieces)
            self.out.append("".join(pieces))
            return
        self._plain(text, self.out)

    def _plain(self, text: str, out: list[str]) -> None:
        if self.heading_parts is not None:
            self.heading_parts.append(text)
        out.append(_esc(text))

    # -- rendering --------------------------------------------------------------------------------------------
    def _open_block(self, html: str) -> None:
        out = self.out
        if out and not out[-1].endswith("\n") and not (self._no_lf[0] is out and self._no_lf[1] == len(out)):
            out.append("\n")
        out.append(html)

    def _push(self) -> None:
        self.sinks.append(self.out)
        self.out = []

    def _pop(self) -> list[str]:
        inner = self.out
        self.out = self.sinks.pop()
        return inner

    def render(self) -> str:
        events = list(pyromark.events_with_range(self.src.decode(), options=_OPTIONS))
        n = len(events)
        i = 0
        out_stack_heading: list[tuple[int, list[str]]] = []
        table_align: tuple[str, ...] = ()
        cell = 0
        in_head = False
        tbody = False
        paragraph_open: list[bool] = []
        while i < n:
            ev, rng = events[i]
            i += 1
            start = rng["start"]
            if self.skip_from <= start < self.skip_until and ev != _END_PARAGRAPH:
                if isinstance(ev, dict) and "Text" in ev and rng["end"] > self.skip_until:
                    rest = self.src[self.skip_until:rng["end"]].decode()
                    self.skip_until = -1
                    if paragraph_open and not paragraph_open[-1]:
                        paragraph_open[-1] = True
                        self._open_block("<p>")
                    self._text(rest, rng["end"] - len(rest.encode()), rng["end"])
                continue
            if paragraph_open and not paragraph_open[-1] and ev != _END_PARAGRAPH:
                paragraph_open[-1] = True
                self._open_block("<p>")
            if ev.__class__ is str:  # (_kind, inlined: this loop runs for every event of every page)
                kind, val = ev, None
            else:
                kind, val = next(iter(ev.items()))
            if kind == "Text":
                self._text(val, start, rng["end"])
            elif kind == "Start":
                if isinstance(val, str):
                    tag = val
                    if tag == "Paragraph":
                        rest = self._block_shortcodes(start, rng["end"]) if self.has_shortcodes else start
                        if rest != start:
                            self.skip_from, self.skip_until = start, rest
                            paragraph_open.append(False)
                        else:
                            paragraph_open.append(True)
                            self._open_block("<p>")
                    elif tag in _SIMPLE_OPEN:
                        if tag == "BlockQuote":
                            self._open_block("<blockquote>\n")
                        else:
                            self.out.append(_SIMPLE_OPEN[tag])
                    elif tag == "Item":
                        self._open_block("<li>")
                        nxt = events[i][0] if i < n else None
                        if nxt is not None and _kind(nxt)[0] == "Start" and _block_name(nxt) in _BLOCK_STARTS:
                            self.out.append("\n")
                        elif self.has_shortcodes and isinstance(nxt, dict) and "Text" in nxt:
                            self._item_shortcode(events[i][1]["start"])
                    elif tag == "TableHead":
                        in_head, cell = True, 0
                        self.out.append("<thead>\n<tr>\n")
                    elif tag == "TableRow":
                        cell = 0
                        if not tbody:
                            tbody = True
                            self.out.append("<tbody>\n")
                        self.out.append("<tr>\n")
                    elif tag == "TableCell":
                        align = _ALIGN.get(table_align[cell], "") if cell < len(table_align) else ""
                        self.out.append(f"<{'th' if in_head else 'td'}{align}>")
                    elif tag == "HtmlBlock":
                        html = []
                        while i < n and isinstance(events[i][0], dict) and "Html" in events[i][0]:
                            html.append(events[i][0]["Html"])
                            i += 1
                        self._open_block(f"<p>{_esc(''.join(html).rstrip(chr(10)))}</p>\n")
                    else:
                        self._open_block("")
                else:
                    tag, data = _kind(val)
                    if tag == "Heading":
                        level = _HEADING_LEVEL[data["level"]]
                        self._open_block("")
                        out_stack_heading.append((level, []))
                        self.heading_parts = out_stack_heading[-1][1]
                        self._push()
                    elif tag == "BlockQuote":
                        self._open_block("<blockquote>\n")
                    elif tag == "List":
                        self._open_block("<ul>\n" if data is None else
                                         ("<ol>\n" if data == 1 else f'<ol start="{data}">\n'))
                    elif tag == "CodeBlock":
                        i = self._code(events, i, data)
                    elif tag == "Link" or tag == "Image":
                        i = self._link(events, i, tag, data, start, rng["end"])
                    elif tag == "Table":
                        table_align, tbody = tuple(data), False
                        self._open_block("<table>\n")
                    elif tag == "FootnoteDefinition":
                        self._push()
                        self._footnote_label = data
                    else:
                        self._open_block("")
            elif kind == "End":
                if isinstance(val, str):
                    tag = val
                    if tag == "Paragraph":
                        if paragraph_open.pop():
                            self.out.append("</p>\n")
                    elif tag in _SIMPLE_CLOSE:
                        self.out.append(_SIMPLE_CLOSE[tag])
                    elif tag == "Link":
                        self.out.append("</a>")
                    elif tag == "Item":
                        self.out.append("</li>\n")
                    elif tag == "TableHead":
                        in_head = False
                        self.out.append("</tr>\n</thead>\n")
                    elif tag == "TableRow":
                        self.out.append("</tr>\n")
                    elif tag == "TableCell":
                        self.out.append(f"</{'th' if in_head else 'td'}>\n")
                        cell += 1
                    elif tag == "Table":
                        self.out.append("</tbody>\n</table>\n" if tbody else "</table>\n")
                    elif tag == "FootnoteDefinition":
                        inner = self._pop()
                        key = _label(self._footnote_label)
                        self.footnote_defs.setdefault(key, inner)
                else:
                    tag, data = _kind(val)
                    if tag == "Heading":
                        level, parts = out_stack_heading.pop()
                        self.heading_parts = None
                        inner = "".join(self._pop())
                        if 2 <= level <= 4:
                            slug = _unique(_md.slugify("".join(parts)), self.slugs)
                            self.out.append(f'<h{level} id="{_esc(slug)}">{inner} <a class="header-anchor" '
                                            f'href="#{_esc(slug)}">#</a></h{level}>\n')
                        else:
                            self.out.append(f"<h{level}>{inner}</h{level}>\n")
                    elif tag == "List":
                        self.out.append("</ol>\n" if data else "</ul>\n")
                    elif tag == "BlockQuote":
                        self.out.append("</blockquote>\n")
            elif kind == "Code":
                if self.heading_parts is not None:
                    self.heading_parts.append(val)
                self.out.append(f"<code>{_esc(val)}</code>")
            elif kind == "SoftBreak":
                self.out.append("\n")
            elif kind == "HardBreak":
                self.out.append("<br />\n")
            elif kind == "Rule":
                self._open_block("<hr />\n")
            elif kind == "Html" or kind == "InlineHtml":
                self.out.append(_esc(val))
            elif kind == "FootnoteReference":
                self.out.append(self._footnote_ref(val))
            elif kind == "TaskListMarker":  # pragma: no cover - task lists are not enabled
                pass
            else:  # math, metadata and other extensions are not enabled; show their text literally
                self.out.append(_esc(self.src[start:rng["end"]].decode()))
        return "".join(self.out) + self._footnotes()

    def _code(self, events: list[Any], i: int, data: Any) -> int:
        parts = []
        while i < len(events) and isinstance(events[i][0], dict) and "Text" in events[i][0]:
            parts.append(events[i][0]["Text"])
            i += 1
        i += 1  # End CodeBlock
        code = "".join(parts)
        if data == "Indented":
            self._open_block(f"<pre><code>{_esc(code)}</code></pre>\n")
            return i
        info = data.get("Fenced", "") if isinstance(data, dict) else ""
        info = info.strip()
        lang, _, attrs = info.partition(" ") if info else ("", "", "")
        if info and " " not in info and "\t" in info:
            lang, _, attrs = info.partition("\t")
        if self.highlight_code:
            highlighted = _md.highlight(code, lang, attrs.strip()) or _esc(code)
        else:
            highlighted = _esc(code)
        if highlighted.startswith("<pre"):
            self._open_block(highlighted + "\n")
        elif info:
            self._open_block(f'<pre><code class="language-{_esc(lang)}">{highlighted}</code></pre>\n')
        else:
            self._open_block(f"<pre><code>{highlighted}</code></pre>\n")
        return i

    def _link(self, events: list[Any], i: int, tag: str, data: dict[str, Any], start: int, end: int) -> int:
        url = data["dest_url"]
        if data.get("link_type") == "Email":
            url = "mailto:" + url
        if not _valid(url):  # markdown-it leaves such a link as literal text
            depth = 1
            while i < len(events) and depth:
                k = _kind(events[i][0])[0]
                depth += 1 if k == "Start" else -1 if k == "End" else 0
                i += 1
            self.out.append(_esc(self.src[start:end].decode()))
            return i
        title = data.get("title") or ""
        title_attr = f' title="{_esc(title)}"' if title else ""
        if tag == "Link":
            self.out.append(f'<a href="{_esc(_url(url))}"{title_attr}>')
            return i  # the link's children and its End event are rendered by the main loop
        alt: list[str] = []
        depth = 1
        while i < len(events) and depth:
            ev = events[i][0]
            k, v = _kind(ev)
            if k == "Start":
                depth += 1
            elif k == "End":
                depth -= 1
            elif k in ("Text", "Code", "Html", "InlineHtml"):
                alt.append(v)
            elif k in ("SoftBreak", "HardBreak"):
                alt.append("\n")
            i += 1
        line = self.src.count(b"\n", 0, start) + 1 + self.line_offset  # read by images.rewrite_markdown
        self.out.append(f'<img src="{_esc(_url(url))}" alt="{_esc("".join(alt))}"{title_attr} data-mb-line="{line}" />')
        return i

    def _footnote_ref(self, label: str) -> str:
        key = _label(label)
        if key not in self.footnote_ids:
            self.footnote_ids[key] = len(self.footnote_ids) + 1
            self.footnote_refs[key] = 0
        n = self.footnote_ids[key]
        sub = self.footnote_refs[key]
        self.footnote_refs[key] = sub + 1
        refid = f"{n}:{sub}" if sub else f"{n}"
        return f'<sup class="footnote-ref"><a href="#fn{n}" id="fnref{refid}">[{refid}]</a></sup>'

    def _footnotes(self) -> str:
        items = [(n, key) for key, n in self.footnote_ids.items() if key in self.footnote_defs]
        if not items:
            return ""
        out = ['<hr class="footnotes-sep" />\n<section class="footnotes">\n<ol class="footnotes-list">\n']
        for n, key in sorted(items):
            body = "".join(self.footnote_defs[key])
            anchors = "".join(f' <a href="#fnref{n}{f":{j}" if j else ""}" class="footnote-backref">\u21a9\ufe0e</a>'
                              for j in range(self.footnote_refs[key]))
            if body.endswith("</p>\n"):
                body = body[:-5] + anchors + "</p>\n"
            else:
                body += anchors
            out.append(f'<li id="fn{n}" class="footnote-item">{body}</li>\n')
        out.append("</ol>\n</section>\n")
        return "".join(out)


def _escaped(src: bytes, at: int) -> bool:
    """Whether the byte at `at` is backslash-escaped (an odd number of backslashes before it)."""
    n = 0
    while at - n - 1 >= 0 and src[at - n - 1] == 0x5C:
        n += 1
    return n % 2 == 1


def _block_name(event: dict[str, Any] | str) -> str:
    val = event["Start"]  # type: ignore[index]
    return val if isinstance(val, str) else next(iter(val))


def _label(label: str) -> str:
    return " ".join(label.split()).casefold()


def _unique(slug: str, slugs: set[str]) -> str:
    uniq, i = slug, 1
    while uniq in slugs:
        uniq, i = f"{slug}-{i}", i + 1
    slugs.add(uniq)
    return uniq


def render(body: str, *, highlight_code: bool = True, shortcode: _md.ShortcodeHandler | None = None,
           line_offset: int = 0) -> str:
    return _Writer(body, highlight_code, shortcode, line_offset).render()

