"""Check the dev3 evaluation corpus: documents and qa.jsonl (stdlib only).

python eval/dev3/validate.py
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
    kind_problems,
    line_problems,
    norm,
    table_blocks,
    unanswerable_problems,
)

KINDS = {
    "numeric": 10,
    "factoid": 8,
    "two-part": 10,
    "list": 8,
    "paraphrase": 4,
    "multi-hop": 30,
    "unanswerable": 14,
}
FIELDS = ["id", "question", "answer", "must_include", "sources", "section", "kind"]


def main() -> int:
    errors: list[str] = []

    def check(ok: bool, msg: str) -> None:
        if not ok:
            errors.append(msg)

    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.txt"))}
    check(len(docs) == 5, f"expected 5 documents, found {len(docs)}")
    n_pipe = n_aligned = 0
    for name, text in docs.items():
        check(
            re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*\.txt", name) is not None,
            f"{name}: not snake_case",
        )
        words = len(text.split())
        check(1300 <= words <= 1900, f"{name}: {words} words (want 1,300-1,900)")
        lines = text.splitlines()
        errors.extend(line_problems(name, lines))
        p, a = table_blocks(lines)
        n_pipe += p
        n_aligned += a
    check(n_pipe + n_aligned >= 4, f"only {n_pipe + n_aligned} table blocks (want >= 4)")
    check(
        n_pipe >= 1 and n_aligned >= 1, f"need both table styles: pipe={n_pipe} aligned={n_aligned}"
    )

    rows = [
        json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    check(len(rows) == 84, f"{len(rows)} questions (want 84)")
    ids = [r.get("id") for r in rows]
    check(len(set(ids)) == len(ids), "duplicate ids")
    errors.extend(kind_problems([r.get("kind") for r in rows], KINDS))
    for r in rows:
        rid = r.get("id")
        check(list(r) == FIELDS, f"{rid}: fields {list(r)}")
        check(re.fullmatch(r"d3-\d{3}", str(rid)) is not None, f"{rid}: bad id")
        kind, srcs, must, sec = r["kind"], r["sources"], r["must_include"], r["section"]
        for s in srcs:
            check(s in docs, f"{rid}: unknown source {s}")
        if kind == "unanswerable":
            errors.extend(unanswerable_problems(r))
            continue
        check(bool(must), f"{rid}: empty must_include")
        for term in must:
            ok = any(norm(term) in norm(docs[s]) for s in srcs if s in docs)
            check(ok, f"{rid}: must_include {term!r} not in its sources")
        if kind == "multi-hop":
            check(
                len(set(srcs)) == 2 and sec == "",
                f"{rid}: multi-hop needs two sources and empty section",
            )
        else:
            check(len(srcs) == 1, f"{rid}: single-document question needs one source")
            check(bool(sec), f"{rid}: empty section")
            if len(srcs) == 1 and srcs[0] in docs:
                heads = {line.strip() for line in docs[srcs[0]].splitlines()}
                check(sec in heads, f"{rid}: section {sec!r} is not a line of {srcs[0]}")

    for e in errors:
        print("FAIL", e)
    print(
        "OK" if not errors else f"{len(errors)} problem(s)",
        f"(pipe tables={n_pipe}, aligned tables={n_aligned})",
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
