"""Validate seeds.jsonl and docs.jsonl.

Checks: exact field set, unique ids with the right prefix, kind counts,
unanswerable rows have no sources/terms, 1-5 must_include terms of 1-4 words,
each term found (lower-cased, whitespace and hyphens removed) in the text of at
least one listed source, two-part rows have >=2 terms, multi-hop rows have two
sources with at least one term found in each, and every non-empty section is a
heading of its source.  Text is extracted from the generated files themselves
(python-docx paragraphs+tables, pypdf page text, html.parser, md/txt as is).
Exit status 0 = pass.
"""
import json
import os
import re
import sys
from collections import Counter
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "..", "seeds")  # the checkout's seed reports
DOCS = os.path.join(HERE, "docs")
FIELDS = ["id", "question", "answer", "must_include", "sources", "section", "kind"]
COUNTS = {
    "seeds": {"factoid": 10, "numeric": 8, "list": 8, "paraphrase": 10, "two-part": 10, "multi-hop": 8, "unanswerable": 10},
    "docs": {"factoid": 9, "numeric": 8, "list": 7, "paraphrase": 8, "two-part": 8, "multi-hop": 6, "unanswerable": 10},
}


def norm(s):
    return re.sub(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u00ad]+", "", s.lower())


class _HTML(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.heads, self._h = [], [], None

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self._h = []
        elif tag in ("p", "td", "th", "tr", "br", "li", "title"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._h is not None:
            self.heads.append("".join(self._h).strip())
            self._h = None
        self.parts.append("\n" if tag in ("p", "tr", "h1", "h2", "h3", "table") else " ")

    def handle_data(self, data):
        self.parts.append(data)
        if self._h is not None:
            self._h.append(data)


def md_heads(text):
    return [l.lstrip("#").strip() for l in text.splitlines() if l.startswith("#")]


def extract(path):
    """Return (text, headings) for a source file."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".txt", ".md"):
        with open(path, encoding="utf-8") as fh:
            t = fh.read()
        return t, md_heads(t)
    if ext == ".docx":
        import docx
        d = docx.Document(path)
        parts = [p.text for p in d.paragraphs]
        for t in d.tables:
            for r in t.rows:
                parts.append(" | ".join(c.text for c in r.cells))
        heads = [p.text.strip() for p in d.paragraphs
                 if p.style is not None and (p.style.name.startswith("Heading") or p.style.name == "Title")]
        return "\n".join(parts), heads
    if ext == ".pdf":
        from pypdf import PdfReader
        t = "\n".join(pg.extract_text() or "" for pg in PdfReader(path).pages)
        # headings are the bold heading paragraphs; each extracts as its own line
        heads = [l.strip() for l in t.splitlines() if l.strip()]
        return t, heads
    if ext in (".html", ".htm"):
        p = _HTML()
        with open(path, encoding="utf-8") as fh:
            p.feed(fh.read())
        return "".join(p.parts), p.heads
    raise ValueError(path)


def check(name, path, prefix, srcdir):
    errs = []
    cache = {}

    def src(f):
        if f not in cache:
            fp = os.path.join(srcdir, f)
            cache[f] = extract(fp) if os.path.exists(fp) else None
        return cache[f]

    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except Exception as e:
                    errs.append(f"line {n}: bad json {e}")
    ids = Counter(r.get("id") for r in rows)
    for i, c in ids.items():
        if c > 1:
            errs.append(f"duplicate id {i}")
    kinds = Counter(r.get("kind") for r in rows)
    if dict(kinds) != COUNTS[name]:
        errs.append(f"kind counts {dict(kinds)} != {COUNTS[name]}")
    for r in rows:
        rid = r.get("id")
        if list(r.keys()) != FIELDS:
            errs.append(f"{rid}: fields {list(r.keys())}")
            continue
        if not re.fullmatch(prefix + r"-\d{3}", rid):
            errs.append(f"{rid}: bad id")
        if not r["question"].strip() or not r["answer"].strip():
            errs.append(f"{rid}: empty question/answer")
        k, mi, srcs, sec = r["kind"], r["must_include"], r["sources"], r["section"]
        if k == "unanswerable":
            if srcs or mi or sec:
                errs.append(f"{rid}: unanswerable must have empty sources/must_include/section")
            continue
        if not (1 <= len(mi) <= 5):
            errs.append(f"{rid}: {len(mi)} must_include terms")
        for t in mi:
            if not (1 <= len(t.split()) <= 4):
                errs.append(f"{rid}: term '{t}' not 1-4 words")
        if not srcs:
            errs.append(f"{rid}: no sources")
        for f in srcs:
            if src(f) is None:
                errs.append(f"{rid}: source {f} missing")
        if any(src(f) is None for f in srcs):
            continue
        for t in mi:
            if not any(norm(t) in norm(src(f)[0]) for f in srcs):
                errs.append(f"{rid}: term '{t}' not found in {srcs}")
        if k == "two-part" and len(mi) < 2:
            errs.append(f"{rid}: two-part needs >=2 terms")
        if k == "multi-hop":
            if len(set(srcs)) != 2:
                errs.append(f"{rid}: multi-hop needs 2 distinct sources")
            for f in srcs:
                if not any(norm(t) in norm(src(f)[0]) for t in mi):
                    errs.append(f"{rid}: multi-hop has no term from {f}")
            if sec:
                errs.append(f"{rid}: multi-hop section must be empty")
        else:
            if len(srcs) != 1:
                errs.append(f"{rid}: expected one source")
            if not sec:
                errs.append(f"{rid}: empty section")
            elif not any(sec.strip() == h or norm(sec) == norm(h) for f in srcs for h in src(f)[1]):
                errs.append(f"{rid}: section '{sec}' is not a heading of {srcs}")
    print(f"{name}: {len(rows)} rows, kinds {dict(sorted(kinds.items()))}, {len(errs)} errors")
    for e in errs:
        print("  ERROR", e)
    return not errs


def main():
    ok = check("seeds", os.path.join(HERE, "seeds.jsonl"), "s", SEEDS)
    ok = check("docs", os.path.join(HERE, "docs.jsonl"), "sd", DOCS) and ok
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
