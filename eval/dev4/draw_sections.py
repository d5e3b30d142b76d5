"""Draw sections of the dev4 documents at random, as the starting point for its questions.

Questions must not start from the system's output (what it retrieves or answers).
This script lists every headed section of the plain-text documents in eval/dev4/docs
(numbered, underlined and ALL CAPS headings; the first line is the title), drops
sections too short to ask about, and draws them with random.Random(44). One question
was written from each drawn section, in draw order, by reading only that section
(for a two-part question, possibly a second section of the same document); the kind
was chosen to fit the section's content while the per-kind quotas lasted
(list 14, factoid 8, numeric 6, two-part 4, unanswerable 8: a near-miss naming
something from the section with a fact the documents do not give).

    python3 eval/dev4/draw_sections.py > /tmp/dev4_draw.md
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent / "docs"
_NUMBERED = re.compile(r"^(\d{1,2}\.)+\d{0,2}\s+[A-Z]")
_UNDERLINE = re.compile(r"^\s*(=+|-+)\s*$")


def _is_heading(line: str, nxt: str) -> bool:
    s = line.strip()
    if not s or line[:1].isspace() or s[0] in "-*(|" or s[-1] in ".,;:!?":
        return False
    if len(s.split()) > 12 or re.search(r"\S {2,}\S", s):
        return False
    if _UNDERLINE.match(nxt) and len(nxt.strip()) >= 3:
        return True
    if _NUMBERED.match(s):
        return True
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def sections(path: Path) -> list[tuple[str, str]]:
    """(heading, body) for every headed section below the title."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[tuple[str, str]] = []
    head, body = "", []
    prev_blank = False  # the first line is the title, never a section
    for i, line in enumerate(lines[1:], 1):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if prev_blank and _is_heading(line, nxt):
            if head:
                out.append((head, "\n".join(body).strip()))
            head, body = line.strip(), []
        elif not _UNDERLINE.match(line) or not head or body:
            body.append(line)
        prev_blank = not line.strip() or bool(_UNDERLINE.match(line))
    if head:
        out.append((head, "\n".join(body).strip()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=44)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--list", action="store_true", help="only list the sections")
    args = ap.parse_args()
    pool = [
        (p.name, head, body)
        for p in sorted(DOCS.glob("*.txt"))
        for head, body in sections(p)
        if len(body.split()) >= 25  # too short to ask about
    ]
    if args.list:
        for source, head, body in pool:
            print(f"{source} | {head} | {len(body.split())} words")
        return
    rng = random.Random(args.seed)
    for i, (source, head, body) in enumerate(rng.sample(pool, min(args.n, len(pool))), 1):
        print(f"## draw {i}: {source} | {head}\n\n{body}\n")


if __name__ == "__main__":
    main()
