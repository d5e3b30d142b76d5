"""Pick report sections at random, as the starting point for writing held-out questions.

Held-out questions must not start from the system's output (what it retrieves or
answers), or they flatter it. This script draws sections uniformly at random across
all reports with a fixed seed and prints each with its full text; a question is then
written from each section by a person reading only that text. Re-running it with the
same seed gives the same draw, so the procedure can be checked.

    python eval/sample_sections.py --seed 2026 --n 70 > /tmp/sections.md
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

_HEADING = re.compile(r"^(#{1,4})\s+(.*\S)\s*$")


def sections(path: Path) -> list[tuple[str, str]]:
    """(heading path, body) for every headed section of a Markdown-style report."""
    out: list[tuple[str, str]] = []
    stack: list[str] = []
    body: list[str] = []
    head = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _HEADING.match(line)
        if m:
            if head and "".join(body).strip():
                out.append((head, "\n".join(body).strip()))
            level = len(m.group(1))
            stack = stack[: level - 1] + [m.group(2)]
            head, body = " > ".join(stack), []
        else:
            body.append(line)
    if head and "".join(body).strip():
        out.append((head, "\n".join(body).strip()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=Path, default=Path(__file__).resolve().parent.parent / "seeds")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--n", type=int, default=70)
    args = ap.parse_args()
    pool = [
        (p.name, head, body)
        for p in sorted(args.seeds.glob("*.txt"))
        for head, body in sections(p)
        if len(body.split()) >= 25  # too short to ask about
    ]
    rng = random.Random(args.seed)
    for i, (source, head, body) in enumerate(rng.sample(pool, min(args.n, len(pool))), 1):
        print(f"## draw {i}: {source} | {head}\n\n{body}\n")


if __name__ == "__main__":
    main()
