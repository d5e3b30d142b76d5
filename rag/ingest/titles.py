"""Document titles people can read: a report's own title (its metadata or first heading)
instead of its file name, and display titles that tell apart reports whose own titles
are the same ("Annual Report" twice) or where one only starts another's."""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections import Counter
from collections.abc import Mapping
from itertools import chain, count
from pathlib import PurePath
from xml.etree import ElementTree

__all__ = ["distinct_titles", "extract_title"]

_MAX_TITLE, _MAX_SNIPPET = 120, 70
_FRONT_MATTER = re.compile(r"\A(?:[ \t]*\n)*---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_FENCE = re.compile(r"^ {0,3}(```|~~~).*?(?:^ {0,3}\1[^\n]*$|\Z)", re.S | re.M)
_HEADING = re.compile(r"^ {0,3}(#{1,4})[ \t]+(.+)$")
# A title the writing tool filled in (a placeholder, or the file's own name) says
# nothing about the document, so it loses to the text's first heading.
_JUNK = re.compile(
    r"(untitled( document)?|document\d*|title|powerpoint presentation|slide \d+)"
    r"|microsoft \w+ - .*|.*\.(docx?|pdf|txt|md|html?|tex|pptx?|xlsx?|odt|rtf|ps|dvi)",
    re.I,
)
_YEAR = re.compile(r"(?<![\d.,])\b(?:19|20)\d\d\b(?![.,]?\d)")
_DATE = re.compile(r"\b(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b")
_NOT_PROSE = re.compile(r"#|\||<|!\[|\[[^\]]*\]:|[-=_*~`+\s]+$")  # heading, table, tag, rule
# a sentence ends at . ! ? before a capital, not after an initial (J. e.g.) or title (Dr.)
_SENTENCE_END = re.compile(
    r"(?<!\b\w)(?<!\b(?:Dr|Mr|Ms|St|No|vs))(?<!\b(?:Mrs|etc|Fig))[.!?](?=\s+[\"“(\[A-Z0-9])"
)
_MARKUP = [  # inline Markdown/HTML -> its text, in this order
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # an image (a badge, a logo)
    (re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])"), r"\1"),  # a link
    (re.compile(r"<[^>]+>"), ""),  # a tag: <sup>2</sup> -> 2
    (re.compile(r"(\*\*|~~|\*|\b__?)(\S(?:.*?\S)?)\1"), r"\2"),  # emphasis, not snake_case
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>])"), r"\1"),
]


def extract_title(kind: str, data: bytes, text: str) -> str:
    """The document's own title, "" when it has none. Metadata wins when it is real (an
    author typed it), else the first top-level heading; reading metadata never raises,
    since a title is a nicety and the text is already extracted."""
    try:
        meta = _meta_title(kind, data)
    except Exception:  # noqa: BLE001 - any broken metadata falls back to the text
        meta = ""
    if meta := _title(meta):
        return meta
    heads = [(len(m[1]), m[2]) for m in map(_HEADING.match, _prose(text).splitlines()) if m]
    # PDF: outline entries (any level); Word: Title is "#", Heading 1 "##" (loaders._docx)
    levels = {"pdf": (1, 2, 3, 4), "docx": (1, 2)}.get(kind, (1,))
    for cand in (t for level in levels for n, t in heads if n == level):
        cand = re.sub(r"(?:^|[ \t]+)#+[ \t]*$", "", cand)  # a closing "##"
        if cand := _title(_plain(cand) if kind in ("markdown", "text") else cand):
            return cand
    if kind in ("markdown", "text") and (fm := _FRONT_MATTER.match(text.replace("\r\n", "\n"))):
        return _title(_yaml_title(fm.group(1)))
    return ""


def distinct_titles(docs: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """A display title for every document (name -> (own title, text)) such that no two
    read alike: untitled ones get their first sentence (or file name), and titles equal
    to or a word-prefix of another get what tells them apart: a year or date, the first
    sentence, the file name, tried in that order, each kept only when it is unique."""
    names = sorted(docs)
    stem = {n: re.sub(r"[\s_-]+", " ", PurePath(n).stem).strip() or n for n in names}
    title = {n: _title(docs[n][0]) or _snippet(docs[n][1]) or stem[n] for n in names}
    pending = _ambiguous(title, longer_too=False)  # the longer title of a prefix pair stays
    for level in range(5):
        proposals = {n: p for n in pending if (p := _propose(level, n, title[n], docs[n][1]))}
        clash = _ambiguous({n: t for n, t in title.items() if n not in pending} | proposals, True)
        accepted = {n: t for n, t in proposals.items() if level == 4 or n not in clash}  # 4: path
        title.update(accepted)
        pending -= accepted.keys()
    out, used = dict[str, str](), set[str]()
    for n in names:  # the last resort: unique whatever the texts and names hold
        more = (f"{title[n]} ({n})" + (f" [{i}]" if i > 1 else "") for i in count(1))
        out[n] = next(t for t in chain([title[n]], more) if _key(t) not in used)
        used.add(_key(out[n]))
    return out


def _ambiguous(titles: Mapping[str, str], longer_too: bool) -> set[str]:
    """Names whose title is equal to, a word-prefix of, or (``longer_too``) starts with
    another title; counted by prefix, not pairwise, so thousands of documents stay fast."""
    toks = {n: tuple(re.findall(r"\w+", t.casefold())) for n, t in titles.items()}
    full = Counter(toks.values())
    prefixes = Counter(t[:k] for t in toks.values() for k in range(len(t)))
    hit = {n for n, t in toks.items() if full[t] > 1 or prefixes[t]}
    if longer_too:
        hit |= {n for n, t in toks.items() if any(full[t[:k]] for k in range(len(t)))}
    return hit


def _propose(level: int, name: str, title: str, text: str) -> str:
    """``title`` with what ``level`` (0 year, 1 date, 2 first sentence, 3 file name,
    4 path) adds to tell it apart; "" when that level has nothing new to add."""
    if level < 2:
        found = (m.group() for m in (_YEAR, _DATE)[level].finditer(text[:2000]))
        return next((f"{title} ({f})" for f in found if f not in title), "")
    if level == 2:  # not when the title is this sentence already
        snip = _snippet(text)
        fresh = snip and not _key(title).startswith(_key(snip).rstrip("…"))
        return f"{title} — {snip}" if fresh else ""
    return f"{title} ({PurePath(name).name if level == 3 else name})"


def _meta_title(kind: str, data: bytes) -> str:
    if kind == "pdf":
        import pypdf

        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        return (reader.metadata.title if reader.metadata else None) or ""
    if kind == "docx":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo("docProps/core.xml")  # KeyError when absent: no title
            core = z.read(info) if info.file_size < 1 << 20 else b""
        if not core or b"<!DOCTYPE" in core or b"<!ENTITY" in core:  # no entity bombs
            return ""
        node = ElementTree.fromstring(core).find("{http://purl.org/dc/elements/1.1/}title")
        return (node.text or "") if node is not None else ""
    if kind == "html":
        from bs4 import BeautifulSoup, SoupStrainer

        # the head only: an SVG in the body has <title>s too
        head = re.split(r"(?i)<body[\s>]", data.decode("utf-8-sig", "replace"), maxsplit=1)[0]
        found = BeautifulSoup(head, "html.parser", parse_only=SoupStrainer("title")).title
        return found.get_text(" ", strip=True) if found else ""
    return ""


def _yaml_title(block: str) -> str:
    m = re.search(r"^title:[ \t]*(.*?)[ \t]*\n((?:[ \t]+.*\n?)*)", block + "\n", re.M)
    if not m:
        return ""
    if m[1] in ("", ">", "|", ">-", "|-"):  # a folded or literal block: the lines below
        return m[2]
    if len(m[1]) > 1 and m[1][0] in "\"'" and m[1][-1] == m[1][0]:
        return m[1][1:-1]
    return re.sub(r"\s+#.*$", "", m[1])  # a YAML comment after a plain value


def _prose(text: str) -> str:
    """The text without front matter, HTML comments and fenced code (a "# " line there
    is commented out, YAML or a shell comment, not a heading)."""
    text = _FRONT_MATTER.sub("", text.replace("\r\n", "\n"), count=1)
    return _FENCE.sub("", _COMMENT.sub("", text))


def _snippet(text: str) -> str:
    """The first sentence of the first prose line (not a heading, table row, tag, image
    or rule), cut to ``_MAX_SNIPPET`` characters; "" when the text has none."""
    for raw in _prose(text[:20_000]).splitlines():  # it opens the text, if it has one
        line = raw.strip()
        if not line or _NOT_PROSE.match(line):
            continue
        line = _plain(re.sub(r"^(?:[-*+>]|\d{1,3}[.)])\s+", "", line))
        words = re.findall(r"[^\W\d_]{2,}", line)  # a line of prose, not a label or number
        if len(words) < 3 and not (words and line.endswith((".", "!", "?"))):
            continue
        line = line[: m.end()] if (m := _SENTENCE_END.search(line)) else line
        return _cap(line.rstrip("."), _MAX_SNIPPET)
    return ""


def _plain(s: str) -> str:
    for pattern, repl in _MARKUP:
        s = pattern.sub(repl, s)
    return re.sub(r"\s+", " ", html.unescape(s)).strip()


def _title(s: str) -> str:
    """``s`` as a title: whitespace collapsed, capped; "" when it is junk."""
    s = " ".join(s.split())
    return "" if _JUNK.fullmatch(s) else _cap(s, _MAX_TITLE)


def _cap(s: str, limit: int) -> str:
    """``s`` cut at a word boundary to at most ``limit`` characters, "…" included."""
    if len(s) <= limit:
        return s
    cut = s[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut).rstrip(" ,;:-—") + "…"


def _key(s: str) -> str:
    return " ".join(s.split()).casefold()
