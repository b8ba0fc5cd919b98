"""Readable text and head facts of an HTML document, safe on hostile markup.

Evidence pages come from anywhere, so the reader must finish in time linear in the input on any
string: 100,000 nested ``<div>``\\ s, a million unclosed ``<a``, an unterminated comment.

It does not use ``html.parser.HTMLParser``: on the CPython this project runs (3.11.7) that parser
is quadratic on unterminated constructs (``"<a" * 200_000`` takes ~400 s, ``"<!--" * 100_000``
~150 s; CVE-2025-6069 and relatives, fixed only in later patch releases), and even on well-formed
input it spends ~6 µs per tag, over a second for 100,000 nested ``<div>``\\ s. Instead a small
tokenizer follows the HTML5 rules that matter for text (tags, quoted attribute values, comments,
raw-text elements such as ``<script>``), built from possessive regular expressions (which never
backtrack) and ``str.find``. Every scan consumes what it read, with two bounded exceptions: the
search for a quote that never closes reads to the end once per kind of quote (no such quote can
follow), and the next ">" is remembered so that a run of "<" without one is read once. Entities
are decoded with the standard library's ``html.unescape``. No tree is built: open elements are
tracked on a bounded stack, so nesting depth costs nothing.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache

# The reader looks at no more than this much input, and produces no more than this much text.
MAX_INPUT = 20_000_000
MAX_TEXT = 2_000_000
# Bounds on what is collected besides text, so a hostile page cannot make those lists huge.
_MAX_TITLE = 1_000
_MAX_METAS = 5_000
_MAX_LINKS = 50_000
_MAX_TIMES = 1_000
_MAX_HEADINGS = 20
_MAX_HEADING = 300
_MAX_LOGOS = 10
_HEADINGS = frozenset({"h1", "h2"})
_MAX_JSON_LD = 2_000_000  # characters over all JSON-LD blocks
# Open elements tracked for the byline context; deeper nesting is only counted.
_MAX_DEPTH = 512
# How far up the stack an end tag looks for its start tag (unclosed <p>, <li> in between).
_END_TAG_REACH = 64
# Unclosed quoted attribute values tolerated before quotes are ignored for the rest of the page.
_MAX_QUOTE_FAILURES = 2

# "<" opens markup only before a letter, "/", "!" or "?"; any other "<" is text.
# A tag without attributes is matched whole ("simple"), the common case in any page.
_TOKEN = re.compile(
    r"<(?:(?P<end>/)?(?P<name>[A-Za-z][^\s/>]*+)(?P<simple>\s*+/?>)?|(?P<comment>!--)|[!?])"
)
# The rest of a start tag up to its ">": quotes only count right after "=", as in HTML5.
# Possessive everywhere: the engine never backtracks, so a failed scan costs what it read once.
_TAG_REST = re.compile(r"""(?:[^>=]++|=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>"']*+)?)*+>""")
_ATTR = re.compile(r"""([^\s"'>/=]++)(?:\s*+=\s*+(?:"([^"]*+)"|'([^']*+)'|([^\s>]++)))?""")
# Attribute parsing costs; only tags that may carry something kept here are parsed.
_WANTS_ATTRS = re.compile(r"itemprop|class|id=|data-|href|src|rel=|content|action|datetime|alt=")
_FACT_TAGS = frozenset({"html", "meta", "time", "script"})
_COUNTED = frozenset({"pre", "template", "svg"})

# Elements whose content is not markup: script and style never reach the text; noscript is raw
# text as a browser with scripting sees it.
_RAW_TEXT = frozenset(
    {"script", "style", "noscript", "textarea", "title", "xmp", "iframe", "noembed", "noframes"}
)
_RAW_TEXT_SHOWN = frozenset({"textarea", "xmp"})  # raw text that a reader does see
_RAW_TEXT_END = {name: re.compile(rf"</{name}(?=[\s/>])", re.IGNORECASE) for name in _RAW_TEXT}
_VOID = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
        "param", "source", "track", "wbr",
    }
)  # fmt: skip
# Elements that start a new line of text (and end it).
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "option",
        "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
        "body", "html", "head", "legend", "menu", "center",
    }
)  # fmt: skip
_CELL = frozenset({"td", "th"})  # a cell ends with a space, not a line
# Attributes whose values are addresses (domains and numbers may hide in them).
_LINK_ATTRS = frozenset({"href", "src", "action", "content", "cite", "data", "poster"})
# Class, id or itemprop values that mark an element as a byline or a date line.
_BYLINE_HINT = re.compile(
    r"(?<![a-z])(?:byline|dateline|post-?meta|entry-?meta|article-?meta|post-?info|entry-?info"
    r"|article-?info|posted(?:-?on)?|published|publish-?date|pub-?date|post-?date|entry-?date"
    r"|article-?date|date|dates|timestamp|updated|modified|date-?published|date-?modified"
    r"|(?:post|entry|article)-?header)"
    r"(?![a-z])",
    re.IGNORECASE,
)
_UPDATED_HINT = re.compile(r"updated|modified|datemodified", re.IGNORECASE)

# Markers that only HTML has, looked for near the start of a document.
_HTML_MARKER = re.compile(
    r"<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|meta\s|title>)", re.IGNORECASE
)
_KNOWN_TAG = re.compile(
    r"</?(?:a|p|div|span|br|img|table|tr|td|th|ul|ol|li|h[1-6]|section|article|header|footer"
    r"|nav|main|script|style|link|form|input|button|strong|em|b|i|small|label|select|option)"
    r"(?=[\s/>])",
    re.IGNORECASE,
)
_MARKDOWN_LINE = re.compile(r"^(?:#{1,6}\s|```|\s*[-*+]\s|\s*\d+\.\s|>\s|\|.*\|\s*$)", re.MULTILINE)


@dataclass(frozen=True)
class TimeMark:
    """A ``<time datetime>`` (or an ``itemprop`` date) and where it stands."""

    value: str
    # Inside a <header> or an element whose class/id says byline or date, or hinted itself.
    in_byline: bool
    # The element's own class/itemprop says "updated" or "modified".
    updated: bool


@dataclass(frozen=True)
class Page:
    """What the reader found: the text, and the head facts that other analyses read."""

    text: str
    title: str | None = None
    lang: str | None = None
    # (key, content) of <meta> and itemprop tags, the key being the name, property, itemprop or
    # http-equiv attribute lower-cased; the content is the content or datetime attribute.
    metas: tuple[tuple[str, str], ...] = ()
    json_ld: tuple[str, ...] = ()
    times: tuple[TimeMark, ...] = ()
    # href, src, action, content and data-* attribute values, entity-decoded.
    links: tuple[str, ...] = ()
    # ("h1" or "h2", text) of the first headings, in document order.
    headings: tuple[tuple[str, str], ...] = ()
    # The alt text of logo images: an <img> marked "logo" or standing in a <header>.
    logo_alts: tuple[str, ...] = ()
    is_html: bool = False


def looks_like_html(text: str) -> bool:
    """Whether ``text`` is an HTML document or fragment rather than plain text or Markdown.

    A doctype, <html>, <head>, <body>, <meta> or <title> near the start decides it. Otherwise
    a document with Markdown structure (headings, lists, fences, tables) is Markdown even when it
    opens with a tag, as READMEs with a centred logo do; without it, a document that starts with
    a tag, or holds many tags, is HTML.
    """
    head = text[:8192]
    if _HTML_MARKER.search(head):
        return True
    sample = text[:65_536]
    markdown = sum(1 for _ in zip(range(3), _MARKDOWN_LINE.finditer(sample), strict=False))
    if markdown >= 3:
        return False
    stripped = head.lstrip()
    if stripped.startswith("<") and _KNOWN_TAG.match(stripped):
        return True
    tags = sum(1 for _ in zip(range(10), _KNOWN_TAG.finditer(sample), strict=False))
    return tags >= 10


def to_text(document: str) -> str:
    """Readable text of an HTML document; any other document is returned unchanged.

    Script, style, noscript and template contents are dropped, link text is kept, block elements
    and <br> start new lines, entities are decoded, whitespace is collapsed within each line and
    empty lines are dropped. At most ``MAX_TEXT`` characters come back.
    """
    return parse_page(document).text


@lru_cache(maxsize=4)  # contacts, dates and brand of the same document read it once
def parse_page(document: str) -> Page:
    """Text and head facts of ``document``; a non-HTML document is its own text, with no facts."""
    if not looks_like_html(document):
        return Page(text=document)
    reader = _Reader(document[:MAX_INPUT])
    reader.run()
    return reader.page()


@dataclass(slots=True)
class _Reader:
    """One pass over the markup, in document order; every step consumes input."""

    doc: str
    parts: list[str] = field(default_factory=list)
    size: int = 0
    title: str | None = None
    lang: str | None = None
    metas: list[tuple[str, str]] = field(default_factory=list)
    json_ld: list[str] = field(default_factory=list)
    json_ld_size: int = 0
    times: list[TimeMark] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    headings: list[tuple[str, str]] = field(default_factory=list)
    logo_alts: list[str] = field(default_factory=list)
    heading: tuple[str, int] | None = None  # the heading being read: tag, first part index
    # Open elements as (name, is a byline); deeper than _MAX_DEPTH they are only counted.
    stack: list[tuple[str, bool]] = field(default_factory=list)
    overflow: int = 0
    bylines_open: int = 0
    headers_open: int = 0  # open <header> elements: an image there is the site's logo
    pre: int = 0  # open <pre> elements: whitespace there is kept
    hidden: int = 0  # open <template> elements: their content is not shown
    svg: int = 0  # open <svg> elements: their <title> is not the page's
    quote_failures: int = 0
    # The next ">" at or after gt_from (-1: none), so repeated look-ups never rescan.
    gt_from: int = -1
    gt: int = -1

    def run(self) -> None:
        doc = self.doc
        pos = 0
        length = len(doc)
        search = _TOKEN.search
        while pos < length and self.size < MAX_TEXT:
            found = search(doc, pos)
            if found is None:
                self.data(doc[pos:])
                return
            start = found.start()
            if start > pos:
                self.data(doc[pos:start])
            end_slash, name, simple, _comment = found.groups()
            if name is not None and simple is not None:
                # The common case, a tag without attributes, handled without further scans.
                pos = found.end()
                tag = name.lower()
                if end_slash:
                    self.end_tag(tag)
                else:
                    self.start_tag(tag, "/" if simple.endswith("/>") else "", {})
                    if tag in _RAW_TEXT:
                        pos = self.raw_text(tag, {}, pos)
                continue
            pos = self.markup(found)

    def markup(self, found: re.Match[str]) -> int:
        """Handle the markup at ``found``; the position after it."""
        doc = self.doc
        start, after = found.start(), found.end()
        if found.group("comment"):
            close = doc.find("-->", after)
            return len(doc) if close < 0 else close + 3  # unterminated: runs to the end
        name = found.group("name")
        if name is None or found.group("end"):
            gt = self.next_gt(after)
            if gt < 0:  # no ">" anywhere later: the "<" is text
                self.data(doc[start:after])
                return after
            if name is not None:
                self.end_tag(name.lower())
            return gt + 1
        end = self.tag_end(after)
        if end < 0:
            self.data(doc[start:after])
            return after
        body = doc[after : end - 1]
        tag = name.lower()
        attrs = _attrs(body) if _WANTS_ATTRS.search(body) or tag in _FACT_TAGS else {}
        self.start_tag(tag, body, attrs)
        if tag in _RAW_TEXT:  # a "/>" does not end these, in HTML5 as here
            return self.raw_text(tag, attrs, end)
        return end

    def next_gt(self, pos: int) -> int:
        if self.gt_from < 0 or pos < self.gt_from or (0 <= self.gt < pos):
            self.gt_from = pos
            self.gt = self.doc.find(">", pos)
        return self.gt

    def tag_end(self, pos: int) -> int:
        """The position after the ">" that ends the start tag whose name ends at ``pos``."""
        gt = self.next_gt(pos)
        if gt < 0:
            return -1
        if self.quote_failures < _MAX_QUOTE_FAILURES:
            found = _TAG_REST.match(self.doc, pos)
            if found is not None:
                return found.end()
            # A quoted value ran past the last ">": a browser would swallow the rest of the
            # page; this reader ends the tag at the next ">" and soon stops honouring quotes.
            self.quote_failures += 1
        return gt + 1

    def raw_text(self, tag: str, attrs: dict[str, str], pos: int) -> int:
        close = _RAW_TEXT_END[tag].search(self.doc, pos)
        content_end = len(self.doc) if close is None else close.start()
        content = self.doc[pos:content_end]
        if tag == "title" and self.title is None and not self.svg:
            self.title = " ".join(html.unescape(content[:_MAX_TITLE]).split())
        elif tag == "script" and "ld+json" in attrs.get("type", "").lower():
            if self.json_ld_size + len(content) <= _MAX_JSON_LD:
                self.json_ld.append(content)
                self.json_ld_size += len(content)
        elif tag in _RAW_TEXT_SHOWN:
            self.newline()
            self.data(content)
            self.newline()
        if close is None:
            return len(self.doc)
        gt = self.next_gt(close.end())
        return len(self.doc) if gt < 0 else gt + 1

    def separate(self, tag: str) -> None:
        """A block element's edge ends the line; a table cell's is a space."""
        if tag in _BLOCK:
            if self.parts and self.parts[-1] != "\n":
                self.parts.append("\n")
                self.size += 1
        elif tag in _CELL:
            self.space()

    def start_tag(self, tag: str, body: str, attrs: dict[str, str]) -> None:
        if attrs:
            self.collect(tag, attrs)
        self.separate(tag)
        if tag in _VOID or tag in _RAW_TEXT or body.endswith("/"):
            return  # nothing to close later: raw text is read to its end tag at once
        if tag in _HEADINGS and self.heading is None and len(self.headings) < _MAX_HEADINGS:
            self.heading = (tag, len(self.parts))
        if tag in _COUNTED:
            self.opened(tag, 1)
        byline = tag == "header"
        if attrs and not byline:
            hint = " ".join(attrs.get(key, "") for key in ("class", "id", "itemprop", "rel"))
            byline = bool(hint.strip() and _BYLINE_HINT.search(hint))
        if len(self.stack) >= _MAX_DEPTH:
            self.overflow += 1
            return
        self.stack.append((tag, byline))
        if byline:
            self.bylines_open += 1
        if tag == "header":
            self.headers_open += 1

    def end_tag(self, tag: str) -> None:
        if self.heading is not None and self.heading[0] == tag:
            text = " ".join("".join(self.parts[self.heading[1] :]).split())
            self.headings.append((tag, text[:_MAX_HEADING]))
            self.heading = None
        self.separate(tag)
        stack = self.stack
        if self.overflow:
            # Past the tracked depth an end tag is taken to close the deepest open element.
            self.overflow -= 1
            if tag in _COUNTED:
                self.opened(tag, -1)
            return
        if stack and stack[-1][0] == tag:
            self.pop(len(stack) - 1)
            return
        for index in range(len(stack) - 2, max(-1, len(stack) - 1 - _END_TAG_REACH), -1):
            if stack[index][0] == tag:
                self.pop(index)
                return
        # A stray end tag (nothing of that name open nearby) is ignored, as browsers do.

    def pop(self, index: int) -> None:
        """Close the open element at ``index`` and every element opened inside it."""
        for name, byline in self.stack[index:]:
            if byline:
                self.bylines_open -= 1
            if name == "header":
                self.headers_open -= 1
            if name in _COUNTED:
                self.opened(name, -1)
        del self.stack[index:]

    def opened(self, tag: str, step: int) -> None:
        if tag == "pre":
            self.pre = max(0, self.pre + step)
        elif tag == "template":
            self.hidden = max(0, self.hidden + step)
        elif tag == "svg":
            self.svg = max(0, self.svg + step)

    def collect(self, tag: str, attrs: dict[str, str]) -> None:
        """Head facts and addresses in the attributes of one tag."""
        if tag == "html" and "lang" in attrs and self.lang is None:
            self.lang = attrs["lang"].strip()
        key = next(
            (attrs[k] for k in ("property", "name", "itemprop", "http-equiv") if k in attrs),
            None,
        )
        value = attrs.get("content") or attrs.get("datetime")
        if key and value is not None and len(self.metas) < _MAX_METAS:
            self.metas.append((key.strip().lower(), value.strip()))
        if tag == "time" and "datetime" in attrs and len(self.times) < _MAX_TIMES:
            own = " ".join(attrs.get(k, "") for k in ("class", "id", "itemprop"))
            hinted = "pubdate" in attrs or bool(own.strip() and _BYLINE_HINT.search(own))
            self.times.append(
                TimeMark(
                    value=attrs["datetime"].strip(),
                    in_byline=hinted or self.bylines_open > 0,
                    updated=bool(_UPDATED_HINT.search(own)),
                )
            )
        if tag == "img" and attrs.get("alt", "").strip() and len(self.logo_alts) < _MAX_LOGOS:
            marks = " ".join(attrs.get(k, "") for k in ("src", "class", "id")).lower()
            if "logo" in marks or self.headers_open:
                self.logo_alts.append(" ".join(attrs["alt"].split())[:_MAX_HEADING])
        for name, value in attrs.items():
            linked = name in _LINK_ATTRS or name.startswith("data-")
            if linked and "." in value and len(self.links) < _MAX_LINKS:
                self.links.append(value)

    def data(self, text: str) -> None:
        if self.hidden or self.size >= MAX_TEXT:
            return
        if "&" in text:
            text = html.unescape(text)
        if not self.pre and "\n" in text:
            # Outside <pre> a line break in the source is just a space, as a browser shows it.
            text = text.replace("\n", " ")
        self.parts.append(text)
        self.size += len(text)

    def newline(self) -> None:
        if self.parts and self.parts[-1] != "\n":
            self.parts.append("\n")
            self.size += 1

    def space(self) -> None:
        if self.parts and self.parts[-1] not in {" ", "\n"}:
            self.parts.append(" ")
            self.size += 1

    def page(self) -> Page:
        # Tabs, carriage returns and other whitespace collapse here, line by line.
        lines = ("".join(self.parts)).split("\n")
        text = "\n".join(filter(None, (" ".join(line.split()) for line in lines)))
        return Page(
            text=text[:MAX_TEXT],
            title=self.title or None,
            lang=self.lang or None,
            metas=tuple(self.metas),
            json_ld=tuple(self.json_ld),
            times=tuple(self.times),
            links=tuple(self.links),
            headings=tuple(self.headings),
            logo_alts=tuple(self.logo_alts),
            is_html=True,
        )


def _attrs(body: str) -> dict[str, str]:
    """Attribute names (lower-cased) and entity-decoded values; the first of a name wins."""
    attrs: dict[str, str] = {}
    for found in _ATTR.finditer(body):
        name = found.group(1).lower()
        if name in attrs:
            continue
        value = found.group(2)
        if value is None:
            value = found.group(3)
        if value is None:
            value = found.group(4) or ""
        attrs[name] = html.unescape(value) if "&" in value else value
    return attrs
