"""Replay verification: check a saved run's sentences again with the current rules.

    .venv/bin/python bench/replay.py eval/results/2026-11-27-964c85a-tuning.json
    .venv/bin/python bench/replay.py eval/results/A.json --set dev3
    .venv/bin/python bench/replay.py eval/results/A.json --without restates_heading

``--without CHECK`` (repeatable) replays each sentence twice, with the current rules and
with CHECK switched off, and prints what deleting CHECK flips (not what changed since the
saved run). ``--deletions`` does that for every check of ``SENTENCE_CHECKS`` (each a
sentence-level rule of ``rag/grounding/verification.py``) in one pass: a sentence is
checked again without a check only when that check fired on it, so the cost is one replay.

A grounding rule changes which sentences are shown; the model's drafts do not change with
it. So a rule can be judged in seconds on drafts already written, before an eval run of
forty minutes: every sentence the saved run checked (the first answer's and its looks')
is checked again against the passages that answer was shown, with the current
``Verifier`` and the record's question. Printed: the sentences whose verdict flips, for
the tuning sets (saved runs hold no sealed item), and per set the counts of flips on answerable
and unanswerable questions. A flip to "supported" on an unanswerable question is a
near-miss the new rule lets through.

A look's sentence was first checked against its part of the question, a passage is the
evidence piece the model saw, not its whole section, and the documents' titles are not
consulted: the replay is an approximation that errs toward flips (replaying the
1580c8a tuning run with its own code flips 3 of its 576 sentences). Confirm a rule
with ``rag eval``.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from eval.sets import SEALED
from rag import (
    SENTENCE_CHECKS,
    Chunk,
    Hit,
    SentenceTransformerEmbedder,
    Settings,
    Verifier,
    checks_fired,
    checks_off,
)


def passages(record: dict) -> list[Hit]:
    """The passages the answer was shown, as hits (their text is the evidence piece)."""
    out = []
    for i, p in enumerate(record.get("answer_passages", []), start=1):
        text = p.get("text") or ""
        path = tuple(p["section"].split(" > "))
        out.append(Hit(Chunk(p["source"], path, text, 0, len(text)), p.get("score", 0.0), i))
    return out


def _deletions(
    verifier: Verifier, text: str, hits: list[Hit], question: str
) -> list[tuple[str, str]]:
    """(check, flip) for each check whose deletion flips ``text``'s verdict."""
    log: set[str] = set()
    with checks_fired(log):
        checks = verifier.check(text, hits, {}, question)
    now = bool(checks) and all(c.supported for c in checks)
    out = []
    for check in sorted(log):
        with checks_off([check]):
            checks = verifier.check(text, hits, {}, question)
        then = bool(checks) and all(c.supported for c in checks)
        if then != now:
            out.append((check, "now supported" if then else "now unsupported"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a results JSON written by rag eval")
    ap.add_argument("--set", action="append", dest="sets", help="only these sets")
    ap.add_argument("--without", action="append", choices=SENTENCE_CHECKS, default=[])
    ap.add_argument("--deletions", action="store_true", help="what deleting each check flips")
    args = ap.parse_args()
    settings = Settings()
    verifier = Verifier(
        SentenceTransformerEmbedder(settings.embedding_model), settings.support_threshold
    )
    counts: Counter[tuple[str, str, str]] = Counter()
    for record in json.loads(args.run.read_text())["records"]:
        name = record.get("set", "dev")
        hits = passages(record)
        if (args.sets and name not in args.sets) or not hits:
            continue
        kind = "unanswerable" if record["kind"] == "unanswerable" else "answerable"
        for saved in record.get("sentences", []):
            if args.deletions:
                for check, flip in _deletions(verifier, saved["text"], hits, record["question"]):
                    counts[(f"{name}: -{check}", kind, flip)] += 1
                    if name not in SEALED:
                        print(
                            f"-{check:<20} {record['id']:<10} {kind:<12} {flip:<16} "
                            f"{saved['text'][:80]}"
                        )
                continue
            checks = verifier.check(saved["text"], hits, {}, record["question"])
            now = bool(checks) and all(c.supported for c in checks)
            was = saved["supported"]
            if args.without:  # what the deletion flips: now, with the checks off
                was = now
                with checks_off(args.without):
                    checks = verifier.check(saved["text"], hits, {}, record["question"])
                now = bool(checks) and all(c.supported for c in checks)
            if now == was:
                continue
            flip = "now supported" if now else "now unsupported"
            counts[(name, kind, flip)] += 1
            if name not in SEALED:
                print(f"{record['id']:<10} {kind:<12} {flip:<16} {saved['text'][:100]}")
    print()
    for (name, kind, flip), n in sorted(counts.items()):
        print(f"{name:<30} {kind:<12} {flip:<16} {n}")
    if not counts:
        print("no verdict changed")


if __name__ == "__main__":
    main()
