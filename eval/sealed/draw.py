"""Random draw of sections for the sealed eval sets.

Seeds: sections of the checkout's seeds/*.txt, shuffled with random.Random(2026).
Docs:  sections of the four generated documents (from make_docs.DOCS), shuffled
       with random.Random(2027).
A section = text under a markdown heading line (starting with '#') up to the
next heading line.  For the generated docs, the headings are the section
headings held in make_docs.py (they become real headings in each format).
Usage: python draw.py [seeds|docs]
"""
import glob
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "..", "seeds")  # the checkout's seed reports


def md_sections(text):
    secs, head, body = [], None, []
    for line in text.splitlines():
        if line.startswith("#"):
            if head is not None:
                secs.append((head, "\n".join(body)))
            head, body = line.lstrip("#").strip(), []
        else:
            body.append(line)
    if head is not None:
        secs.append((head, "\n".join(body)))
    return secs


def n_sentences(body):
    # rough: count sentence ends and bullet lines
    txt = body.strip()
    if not txt:
        return 0
    ends = len(re.findall(r"[.!?](\s|$)", txt))
    lines = len([ln for ln in txt.splitlines() if len(ln.split()) >= 2])
    return max(ends, lines)


def seed_sections():
    out = []
    for f in sorted(glob.glob(os.path.join(SEEDS, "*.txt"))):
        with open(f, encoding="utf-8") as fh:
            for head, body in md_sections(fh.read()):
                out.append((os.path.basename(f), head, body))
    return out


def doc_sections():
    sys.path.insert(0, HERE)
    import make_docs
    out = []
    for d in make_docs.DOCS:
        for head, paras in d["sections"]:
            parts = []
            for p in paras:
                if isinstance(p, str):
                    parts.append(p)
                else:  # {"table": rows}
                    parts.extend(" | ".join(map(str, r)) for r in p["table"])
            body = "\n".join(parts)
            out.append((d["file"], head, body))
    return out


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "seeds"
    if which == "seeds":
        secs, rng = seed_sections(), random.Random(2026)
    else:
        secs, rng = doc_sections(), random.Random(2027)
    rng.shuffle(secs)
    for i, (f, h, body) in enumerate(secs, 1):
        ns = n_sentences(body)
        flag = "" if ns >= 2 and len(body.split()) >= 10 else "  [SKIP: <2 sentences]"
        print(f"{i:3d}  {f}  ::  {h}  (words={len(body.split())}, sent~{ns}){flag}")


if __name__ == "__main__":
    main()
