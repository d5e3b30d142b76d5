"""What reaches the model: retrieval and compact evidence measured without generating.

    .venv/bin/python bench/evidence.py                    # dev (tune on this one)
    .venv/bin/python bench/evidence.py --set dev --set test --set corpus2
    .venv/bin/python bench/evidence.py --set dev --failures   # which dev questions lose terms
    .venv/bin/python bench/evidence.py --set dev2 --failures  # the plain-text dev corpus
    .venv/bin/python bench/evidence.py --set corpus2 --by-kind  # recall per question kind

For every question of a set, ``Pipeline.evidence`` returns the lines the model would be
shown (or the early refusal). Printed per set: **evidence recall** (answerable questions
whose key terms all reach the prompt; the ceiling of answer correctness), the mean share
of key terms shown, answerable and unanswerable questions refused before the model, mean
evidence tokens and the median selection time. It takes about a minute a set, against
about 13 minutes for answers, so evidence selection is tuned here first. ``--failures``
lists the missing terms per question, for the tuning sets only: the sealed sets
are read in aggregate (see the README's "Evaluation"); ``--by-kind`` adds evidence
recall per question kind, an aggregate every set may show, beside **passage recall**
(the key terms are in the passages retrieved, before lines are chosen): where the two
differ, the line selection lost what retrieval found.
"""

from __future__ import annotations

import argparse
import statistics
import time

from eval.metrics import normalize
from eval.runner import InProcess, turns_for
from eval.sets import SEALED, SETS, load_set
from rag import standalone_query


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", choices=sorted(SETS), dest="sets")
    ap.add_argument("--failures", action="store_true", help="list dev questions losing terms")
    ap.add_argument("--by-kind", action="store_true", help="evidence recall per question kind")
    args = ap.parse_args()
    sets = args.sets or ["dev"]
    backend = InProcess(retrieval_only=False)
    header = f"{'set':<8} {'n':>4} {'recall':>7} {'share':>6} {'ans ref':>8} {'unans ref':>9}"
    rows = []
    kinds: list[str] = []
    for name in sets:
        pipeline = backend.pipeline(SETS[name].corpus)
        count = pipeline.generator.count_tokens
        full, shares, early_ans, early_un, tokens, seconds = [], [], [], [], [], []
        by_kind: dict[str, list[bool]] = {}
        found: dict[str, list[bool]] = {}
        k = pipeline.settings.top_k * 2  # compact evidence reads twice top_k passages
        for q in load_set(SETS[name]):
            turns = turns_for(q)
            t0 = time.perf_counter()
            query = standalone_query(turns)
            hits, reason = pipeline.evidence(turns[-1].content, query)
            seconds.append(time.perf_counter() - t0)
            if q["kind"] == "unanswerable":
                early_un.append(bool(reason))
                continue
            early_ans.append(bool(reason))
            shown = "" if reason else " ".join(f"{h.chunk.section} {h.chunk.text}" for h in hits)
            tokens.append(sum(count(h.chunk.text) for h in hits) if not reason else 0)
            text = normalize(shown)
            missing = [t for t in q["must_include"] if normalize(t) not in text]
            full.append(not missing)
            by_kind.setdefault(q["kind"], []).append(not missing)
            retrieved = normalize(
                " ".join(f"{h.chunk.section} {h.chunk.text}" for h in pipeline.search(query, k))
            )
            found.setdefault(q["kind"], []).append(
                all(normalize(t) in retrieved for t in q["must_include"])
            )
            shares.append(1 - len(missing) / max(1, len(q["must_include"])))
            if missing and args.failures and name not in SEALED:
                why = f"refused early: {reason}" if reason else f"missing {missing}"
                print(f"{q['id']:<10} {q['kind']:<10} {why}\n           {q['question']}")
        rows.append(
            f"{name:<8} {len(full):>4} {statistics.mean(full):>7.3f} "
            f"{statistics.mean(shares):>6.3f} {statistics.mean(early_ans):>8.3f} "
            f"{statistics.mean(early_un) if early_un else float('nan'):>9.3f} "
            f"{statistics.mean(tokens):>7.0f} {statistics.median(seconds):>7.3f}"
        )
        if args.by_kind:
            kinds += [
                f"{name:<8} {kind:<11} {sum(ok):>3}/{len(ok):<3} {statistics.mean(ok):.3f}"
                f"   {sum(found[kind]):>3}/{len(ok):<3} {statistics.mean(found[kind]):.3f}"
                for kind, ok in sorted(by_kind.items())
            ]
    print(f"\n{header} {'tokens':>7} {'p50 s':>7}")
    print("\n".join(rows))
    if kinds:
        print(f"\n{'set':<8} {'kind':<11} evidence recall   passage recall")
        print("\n".join(kinds))


if __name__ == "__main__":
    main()
