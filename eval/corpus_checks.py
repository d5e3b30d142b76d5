"""What the eval corpora's validators share (stdlib only: they run as plain scripts,
``python3 eval/dev3/validate.py``): text normalised for term lookups, a year, and the
count of each table style in a document."""

from __future__ import annotations

import re

__all__ = ["ALIGNED", "YEAR", "norm", "table_blocks"]

YEAR = re.compile(r"(?<![\d,.])(1[6-9]\d\d|20\d\d)(?![\d,])")
ALIGNED = re.compile(r"\S {2,}\S")
_DROP = re.compile(r"[\s\-_\u2010-\u2015]+")


def norm(s: str) -> str:
    """Lower case without spaces, hyphens and dashes: "Dues-books" finds "dues books"."""
    return _DROP.sub("", s.lower())


def table_blocks(lines: list[str]) -> tuple[int, int]:
    """(pipe tables, column-aligned tables): runs of >= 2 lines starting with '|', and
    runs of >= 3 unindented lines with at least two 2+-space column gaps each."""
    pipe = aligned = 0
    run_p = run_a = 0
    for line in lines + [""]:
        if line.startswith("|"):
            run_p += 1
        else:
            pipe += run_p >= 2
            run_p = 0
        if line and not line[0].isspace() and "|" not in line and len(ALIGNED.findall(line)) >= 2:
            run_a += 1
        else:
            aligned += run_a >= 3
            run_a = 0
    return pipe, aligned


def line_problems(name: str, lines: list[str]) -> list[str]:
    """What breaks the corpora's shared rules in one document: no line may start with
    '#' (the seeds' format, not these corpora's), and a year only in the title line
    (a question's year must be read from the title, as in the seeds)."""
    out = [
        f"{name}:{i}: line starts with '#'" for i, line in enumerate(lines, 1) if line[:1] == "#"
    ]
    if not YEAR.search(lines[0] if lines else ""):
        out.append(f"{name}: no year in the title line")
    for i, line in enumerate(lines[1:], 2):
        m = YEAR.search(line)
        if m:
            out.append(f"{name}:{i}: year-like number {m.group(0)} outside the title")
    return out


def kind_problems(kinds: list[str], want: dict[str, int]) -> list[str]:
    """How the questions' kinds differ from the counts wanted."""
    counts = {k: kinds.count(k) for k in set(kinds)}
    out = [
        f"kind {k}: {counts.get(k, 0)} (want {n})" for k, n in want.items() if counts.get(k) != n
    ]
    unknown = set(counts) - set(want)
    return out + ([f"unknown kinds: {unknown}"] if unknown else [])


UNANSWERABLE = "The reports don't cover this."


def unanswerable_problems(row: dict) -> list[str]:
    """What is wrong with an unanswerable question's row: it names no source, key term
    or section, and its answer is the service's refusal."""
    rid = row.get("id")
    out = []
    if row["sources"] or row["must_include"] or row["section"]:
        out.append(f"{rid}: unanswerable must have empty sources/must_include/section")
    if row["answer"] != UNANSWERABLE:
        out.append(f"{rid}: unanswerable answer")
    return out
