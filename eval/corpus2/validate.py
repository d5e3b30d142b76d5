"""Stdlib checks for corpus2: docs' formats and qa.jsonl consistency."""

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = {p.name: p.read_text(encoding="utf-8") for p in sorted((HERE / "docs").glob("*.txt"))}
SQUASH = re.compile(r"[\s\-\u2010-\u2015_]+")  # same as eval/metrics.normalize


def norm(s):
    return SQUASH.sub("", s.lower())


def is_table_line(line):
    return line.lstrip().startswith("|") or bool(
        re.match(r"^\s{2,}\S.*\S\s{2,}\S.*\S\s{2,}\S", line)
    )


errors = []
err = errors.append

# ---------- documents
for name, text in DOCS.items():
    words = [w for w in text.split() if re.search(r"\w", w)]
    if not 1200 <= len(words) <= 2500:
        err(f"{name}: {len(words)} words")
    for i, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            err(f"{name}:{i} starts with '#'")
    years = [ln for ln in text.splitlines() if re.search(r"\b20\d\d\b", ln)]
    if len(years) > 1 or (years and text.splitlines().index(years[0]) > 2):
        err(f"{name}: year outside title: {years}")
    text.encode("utf-8")

all_text = "\n".join(DOCS.values())
n_tables = sum(
    1
    for t in DOCS.values()
    for blk in re.split(r"\n\s*\n", t)
    if sum(is_table_line(ln) for ln in blk.splitlines()) >= 3
)
if n_tables < 3:
    err(f"only {n_tables} tables")
for needle in [
    "Zoë",
    "Ñúñez",
    "Łukasz",
    "Søren",
    "Ülkü",
    "王芳",
    "naïve",
    "Café",
    "×",
    "–",
    "—",
    "−",
    "≥",
    "e.g.",
    "i.e.",
    "Fig. ",
    "et al.",
    "Dr. ",
    "approx.",
    "v2.1",
    "0.9",
    "1,450",
]:
    if needle not in all_text:
        err(f"corpus lacks {needle!r}")

# ---------- questions
rows = [
    json.loads(ln)
    for ln in (HERE / "qa.jsonl").read_text(encoding="utf-8").splitlines()
    if ln.strip()
]
ids = [r["id"] for r in rows]
if len(ids) != len(set(ids)):
    err("duplicate ids")
KINDS = {"factoid", "numeric", "paraphrase", "two-part", "list", "multi-hop", "unanswerable"}
for r in rows:
    rid, kind, srcs, terms, sec = r["id"], r["kind"], r["sources"], r["must_include"], r["section"]
    if set(r) != {"id", "question", "answer", "must_include", "sources", "section", "kind"}:
        err(f"{rid}: keys {sorted(r)}")
    if kind not in KINDS:
        err(f"{rid}: kind {kind}")
    if kind == "unanswerable":
        if terms or srcs or sec is not None or r["answer"] != "The reports don't cover this.":
            err(f"{rid}: unanswerable fields wrong")
        continue
    if not 1 <= len(terms) <= 4:
        err(f"{rid}: {len(terms)} terms")
    for s in srcs:
        if s not in DOCS:
            err(f"{rid}: unknown source {s}")
    if kind == "multi-hop":
        if len(srcs) < 2 or sec is not None:
            err(f"{rid}: multi-hop needs >=2 sources and null section")
    else:
        if len(srcs) != 1 or not sec:
            err(f"{rid}: needs one source and a section")
        elif sec not in [ln.strip() for ln in DOCS[srcs[0]].splitlines()]:
            err(f"{rid}: section {sec!r} not a line of {srcs[0]}")
    for t in terms:
        if not any(norm(t) in norm(DOCS[s]) for s in srcs if s in DOCS):
            err(f"{rid}: term {t!r} not in sources")
        if norm(t) in norm(r["question"]):
            err(f"{rid}: term {t!r} is in the question")
        if norm(t) not in norm(r["answer"]):
            err(f"{rid}: term {t!r} not in gold answer")
    if kind == "multi-hop":  # every source must contribute at least one term or be needed
        for s in srcs:
            if not any(norm(t) in norm(DOCS[s]) for t in terms):
                print(f"note {rid}: no term found in {s} (bridge-only source)")
    if kind == "two-part" and len(terms) < 2:
        err(f"{rid}: two-part needs a term per part")

# figures that must live only in table cells (not in prose)
TABLE_ONLY = {
    "c2-006": "30 April",
    "c2-011": "690",
    "c2-012": "0.31",
    "c2-013": "9,800",
    "c2-014": "0.44",
    "c2-015": "3.35",
    "c2-023": "54%",
    "c2-024": "1.8 PB",
    "c2-025": "2.45",
    "c2-038": "3 July",
    "c2-041": "27,400",
    "c2-051": "50 ms",
    "c2-052": "25%",
    "c2-057": "38%",
    "c2-055": "1,240",
}
byid = {r["id"]: r for r in rows}
for rid, fig in TABLE_ONLY.items():
    r = byid[rid]
    assert fig in r["must_include"], (rid, fig)
    for s in r["sources"]:
        for line in DOCS[s].splitlines():
            if fig in line and not is_table_line(line):
                err(f"{rid}: table figure {fig!r} also in prose of {s}: {line.strip()[:80]}")
    if not any(
        fig in ln and is_table_line(ln) for s in r["sources"] for ln in DOCS[s].splitlines()
    ):
        err(f"{rid}: {fig!r} not in any table line")

# unanswerable: the asked-for fact must be absent (patterns that would state it)
ABSENT = {
    "c2-062": [r"Lefèvre[^\n]{0,120}\b(previously|formerly|before joining|prior to)\b"],
    "c2-063": [
        r"Brightfold[^\n]{0,200}(per month|monthly)",
        r"shadow[^\n]{0,200}€|€[^\n]{0,100}shadow",
    ],
    "c2-064": [r"PUE[^\n]{0,60}OSV-1|OSV-1[^\n]{0,60}PUE"],
    "c2-065": [r"Tessellate[^\n]{0,200}Corvid-3B[^\n]{0,80}\bms\b"],
    "c2-066": [
        r"1\.0[^.\n]{0,80}\b(January|February|March|April|May|June|July|August|September|October|November|December|Q[1-4])\b"
    ],
    "c2-067": [r"budget"],  # checked in the lab summary only
    "c2-068": [r"tenant (named|called)|hardest hit|worst affected"],
    "c2-069": [r"storage-network fault[^\n]{0,120}(caused|because|due to)"],
    "c2-070": [r"cited by (\d|[a-z]+ (papers|times))|\b\d+ citations"],
    "c2-071": [r"Aydın[^\n]{0,120}(doctorate|PhD|degree)|(doctorate|PhD)[^\n]{0,80}Aydın"],
    "c2-072": [r"recall@10[^\n]{0,40}\d\.\d"],
    "c2-073": [r"(was|has been) appointed"],
}
for rid, pats in ABSENT.items():
    assert byid[rid]["kind"] == "unanswerable", rid
    scope = DOCS["applied_retrieval_lab_annual_summary.txt"] if rid == "c2-067" else all_text
    for p in pats:
        m = re.search(p, scope, re.I)
        if m:
            err(f"{rid}: unanswerable fact may be present: {m.group(0)!r}")
missing = {r["id"] for r in rows if r["kind"] == "unanswerable"} - set(ABSENT)
if missing:
    err(f"no absence check for {sorted(missing)}")

counts = Counter(r["kind"] for r in rows)
MIN = {"two-part": 10, "list": 7, "multi-hop": 5, "unanswerable": 10}
for k, n in MIN.items():
    if counts[k] < n:
        err(f"kind {k}: {counts[k]} < {n}")
if len(rows) < 45:
    err(f"only {len(rows)} questions")
if len(TABLE_ONLY) < 6:
    err("fewer than 6 table-cell questions")

print(
    f"{len(DOCS)} docs, {n_tables} tables, {len(rows)} questions:",
    dict(sorted(counts.items())),
    f"table-cell answers: {len(TABLE_ONLY)}",
)
for e in errors:
    print("ERROR", e)
sys.exit(1 if errors else 0)
