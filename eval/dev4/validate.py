"""Check the dev4 evaluation corpus: documents and qa.jsonl (stdlib only).

python3 eval/dev4/validate.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE / "docs"
QA = HERE / "qa.jsonl"
sys.path.insert(0, str(HERE.parent))
from corpus_checks import (  # noqa: E402  (a stdlib-only sibling module)
    UNANSWERABLE,
    kind_problems,
    line_problems,
    norm,
    table_blocks,
    unanswerable_problems,
)

sys.path.insert(0, str(HERE))
from draw_sections import sections  # noqa: E402  (stdlib-only sibling script)

EXPECTED_DOCS = {
    "feature_store_migration_postmortem.txt",
    "gpu_cluster_capacity_plan.txt",
    "labelling_vendor_review.txt",
    "serving_slo_quarterly_report.txt",
}
KINDS = {
    "list": 14,
    "factoid": 8,
    "numeric": 6,
    "two-part": 5,
    "unanswerable": 10,
}
N_QUESTIONS = sum(KINDS.values())
FIELDS = ["id", "question", "answer", "must_include", "sources", "section", "kind"]
MIN_BYTES, MAX_BYTES = 8 * 1024, 11 * 1024
UNDERLINE = re.compile(r"^\s*(=+|-+)\s*$")
NUMBERED_HEAD = re.compile(r"^\d{1,2}(\.\d{1,2})*\.?\s+[A-Z]")


def heading_styles(heads: list[str], lines: list[str]) -> set[str]:
    """Which heading styles a document uses: numbered, underlined, caps."""
    styles: set[str] = set()
    for i, line in enumerate(lines[:-1]):
        if line.strip() in heads and UNDERLINE.match(lines[i + 1]):
            styles.add("underlined")
    for h in heads:
        if NUMBERED_HEAD.match(h):
            styles.add("numbered")
        letters = [c for c in h if c.isalpha()]
        if letters and all(c.isupper() for c in letters):
            styles.add("caps")
    return styles


def main() -> int:
    errors: list[str] = []

    def check(ok: bool, msg: str) -> None:
        if not ok:
            errors.append(msg)

    paths = sorted(DOCS.glob("*.txt"))
    docs = {p.name: p.read_text(encoding="utf-8") for p in paths}
    check(set(docs) == EXPECTED_DOCS, f"documents {sorted(docs)} (want {sorted(EXPECTED_DOCS)})")
    heads_of: dict[str, set[str]] = {}
    n_pipe = n_aligned = 0
    all_styles: set[str] = set()
    for p in paths:
        name, text = p.name, docs[p.name]
        size = p.stat().st_size
        check(MIN_BYTES <= size <= MAX_BYTES, f"{name}: {size} bytes (want 8-11 KB)")
        check(any(ord(c) > 127 for c in text), f"{name}: no non-ASCII characters")
        lines = text.splitlines()
        check("Norrvik Data" in lines[0], f"{name}: title does not name Norrvik Data")
        errors.extend(line_problems(name, lines))
        p_, a_ = table_blocks(lines)
        n_pipe += p_
        n_aligned += a_
        heads = [h for h, _ in sections(p)]
        heads_of[name] = set(heads)
        check(len(heads) >= 8, f"{name}: only {len(heads)} sections")
        all_styles |= heading_styles(heads, lines)
    check(n_pipe + n_aligned >= 6, f"only {n_pipe + n_aligned} table blocks (want >= 6)")
    check(
        n_pipe >= 2 and n_aligned >= 2, f"need both table styles: pipe={n_pipe} aligned={n_aligned}"
    )
    check(
        all_styles >= {"numbered", "underlined", "caps"},
        f"heading styles used: {sorted(all_styles)} (want numbered, underlined, caps)",
    )

    rows = [
        json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    check(len(rows) == N_QUESTIONS, f"{len(rows)} questions (want {N_QUESTIONS})")
    ids = [r.get("id") for r in rows]
    check(len(set(ids)) == len(ids), "duplicate ids")
    check(
        ids == [f"d4-{i:03d}" for i in range(1, len(rows) + 1)],
        "ids are not d4-001 ... in order",
    )
    questions = [norm(r.get("question", "")) for r in rows]
    check(len(set(questions)) == len(questions), "duplicate questions")
    kinds = {k: [r.get("kind") for r in rows].count(k) for k in sorted(KINDS)}
    errors.extend(kind_problems([r.get("kind") for r in rows], KINDS))
    for r in rows:
        rid = r.get("id")
        check(list(r) == FIELDS, f"{rid}: fields {list(r)}")
        if list(r) != FIELDS:
            continue
        kind, srcs, must, sec = r["kind"], r["sources"], r["must_include"], r["section"]
        check(r["question"].rstrip().endswith("?"), f"{rid}: question does not end with '?'")
        for s in srcs:
            check(s in docs, f"{rid}: unknown source {s}")
        if kind == "unanswerable":
            errors.extend(unanswerable_problems(r))
            continue
        check(r["answer"] != UNANSWERABLE, f"{rid}: answerable question with refusal answer")
        check(1 <= len(must) <= 5, f"{rid}: {len(must)} must_include terms (want 1-5)")
        if kind == "list":
            check(3 <= len(must) <= 5, f"{rid}: list needs 3-5 must_include items")
        if kind == "two-part":
            check(len(must) >= 2, f"{rid}: two-part needs >= 2 must_include terms")
        check(len(srcs) == 1, f"{rid}: single-document question needs one source")
        check(bool(sec), f"{rid}: empty section")
        for term in must:
            ok = any(term in docs[s] for s in srcs if s in docs)
            check(ok, f"{rid}: must_include {term!r} not verbatim in its source")
            check(
                norm(term) in norm(r["answer"]),
                f"{rid}: must_include {term!r} not in the answer",
            )
        if len(srcs) == 1 and srcs[0] in docs:
            lines = {line.strip() for line in docs[srcs[0]].splitlines()}
            check(sec in lines, f"{rid}: section {sec!r} is not a line of {srcs[0]}")
            check(
                sec in heads_of.get(srcs[0], set()),
                f"{rid}: section {sec!r} is not a heading of {srcs[0]}",
            )

    for e in errors:
        print("FAIL", e)
    print(
        "OK" if not errors else f"{len(errors)} problem(s)",
        f"(docs={len(docs)}, questions={len(rows)}, pipe tables={n_pipe},",
        f"aligned tables={n_aligned}, kinds={kinds})",
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
