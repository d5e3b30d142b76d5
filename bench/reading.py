"""How far a saved run's reader is from a correctness target, from its records alone.

    .venv/bin/python bench/reading.py eval/results/2026-11-28-9fe646f.json
    .venv/bin/python bench/reading.py eval/results/A.json --target 0.85

An answerable question is right only when its evidence holds every key term and the
model reads it right (``eval.metrics.failure_stage``: retrieval, reading, grounding).
Printed per set: how many evidence sets held every key term, the share of those answered
right (the reader's conversion), and the conversion the target would need with the same
evidence. When the needed conversion is above what the reader reaches on any set, better
rules will not reach the target: a better reader is needed. Aggregates only, so every
set, held-out ones included, may be printed.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from eval.metrics import failure_stage, is_right


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a results JSON written by rag eval")
    ap.add_argument("--target", type=float, default=0.85, help="correctness to reach")
    args = ap.parse_args()
    counts: dict[str, Counter[str]] = {}
    for record in json.loads(args.run.read_text())["records"]:
        if record["kind"] == "unanswerable":
            continue
        c = counts.setdefault(record.get("set", "dev"), Counter())
        c["n"] += 1
        c["right" if is_right(record) else failure_stage(record)] += 1
    print(f"{'set':<8} {'evidence holds all':>19} {'right when it does':>19} {'needed':>7}")
    for name, c in sorted(counts.items()):
        held = c["n"] - c["retrieval"]
        right = c["right"] / held if held else float("nan")
        needed = args.target * c["n"] / held if held else float("nan")
        print(f"{name:<8} {held:>9} of {c['n']:<6} {right:>19.3f} {needed:>7.3f}")


if __name__ == "__main__":
    main()
