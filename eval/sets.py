"""The named eval sets: which questions, over which corpus.

- ``dev``: half of ``qa.jsonl`` and of the held-out questions (``heldout/seeds.jsonl``),
  plus 22 near-miss unanswerable questions for dev only (``heldout/nearmiss.jsonl``,
  written from ``sample_sections.py --seed 1126 --n 24``: test's near-misses cannot be
  read, so dev needed more of its own); rules and constants are tuned on it.
- ``test``: the other halves. Reported, never tuned on: nobody reads its individual
  failures while changing the pipeline.
- ``dev2``: a small corpus of three documents in plain-text formats (numbered and
  underlined headings, minutes with "Item 1 — ..." headings, pipe and column-aligned
  tables, non-ASCII names) with 58 questions (``dev2/``), written so that evidence
  and chunking for such formats can be tuned without touching ``corpus2``; d2-m01–m12
  are two-document questions naming both things (comparisons, sums and differences,
  one attribute of two things, a topic both documents treat).
- ``dev3``: five longer documents of another invented region (a water utility's annual
  report, a bus network review with board minutes, a heat-wave after-action review, a
  library digitisation close-out, a research cruise report) with 84 questions
  (``dev3/``; d3-073–084 are two-document questions like d2-m01–m12), written by a
  helper that did not read ``corpus2`` or run the service,
  from sections drawn at random (``random.Random(33)``, then 34). dev2 had become too
  small and too easy to tune on (its evidence recall 0.97, answers 0.92 right) while
  corpus2's evidence recall was 0.84: a tuning corpus at corpus2's size and formats.
- ``dev4``: four technical documents of an invented data company (a feature-store
  migration post-mortem, a GPU capacity plan, a labelling vendor review, a serving SLO
  report) with 43 questions (``dev4/``), 14 of them lists: a tuning corpus in the
  domain of ``corpus2``, whose list questions missed their section more often than any
  other kind's, written by a helper that did not read ``corpus2`` or run the service,
  one question per section drawn with ``random.Random(44)`` (``dev4/draw_sections.py``).
- ``corpus2``: a second corpus in formats the seeds don't use (``corpus2/docs``, no
  ``#`` headings, tables, numbered lists, non-ASCII names) with its own questions.
- ``sealed`` (over the seeds) and ``sealed-docs`` (over four documents in Word, HTML,
  PDF and Markdown, ``sealed/docs``): written by a helper session that never saw the
  code or the service's answers, from sections drawn at random (``sealed/README.md``);
  ``sealed/cross.jsonl`` adds 12 questions over two seed reports each, from pairs of
  sections drawn with ``random.Random(2028)`` by another such helper.
  Nobody reads their items: ``rag eval`` reports them in aggregate only, and their
  saved results hold no item (``SEALED``).

``test`` and ``corpus2`` were held out once; their items have been read (rules and
tests copied their names), so they are tuning sets now, listed like the others.

Each split is stratified by kind and decided by a hash of the question id (see
``assign_splits``), so adding questions never moves existing ones between splits.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EVAL_DIR", "SEALED", "SETS", "EvalSet", "assign_splits", "load_set"]

EVAL_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class EvalSet:
    """Questions from ``files`` (only rows of ``split`` when set) over ``corpus``
    (None: the service's configured corpus)."""

    name: str
    files: tuple[Path, ...]
    split: str | None = None
    corpus: Path | None = None


SETS: dict[str, EvalSet] = {
    "dev": EvalSet(
        "dev",
        (
            EVAL_DIR / "qa.jsonl",
            EVAL_DIR / "heldout" / "seeds.jsonl",
            EVAL_DIR / "heldout" / "nearmiss.jsonl",  # dev only: see the README
        ),
        "dev",
    ),
    "test": EvalSet("test", (EVAL_DIR / "qa.jsonl", EVAL_DIR / "heldout" / "seeds.jsonl"), "test"),
    "dev2": EvalSet("dev2", (EVAL_DIR / "dev2" / "qa.jsonl",), None, EVAL_DIR / "dev2" / "docs"),
    "dev3": EvalSet("dev3", (EVAL_DIR / "dev3" / "qa.jsonl",), None, EVAL_DIR / "dev3" / "docs"),
    "dev4": EvalSet("dev4", (EVAL_DIR / "dev4" / "qa.jsonl",), None, EVAL_DIR / "dev4" / "docs"),
    "corpus2": EvalSet(
        "corpus2", (EVAL_DIR / "corpus2" / "qa.jsonl",), None, EVAL_DIR / "corpus2" / "docs"
    ),
    "sealed": EvalSet(
        "sealed", (EVAL_DIR / "sealed" / "seeds.jsonl", EVAL_DIR / "sealed" / "cross.jsonl")
    ),
    "sealed-docs": EvalSet(
        "sealed-docs", (EVAL_DIR / "sealed" / "docs.jsonl",), None, EVAL_DIR / "sealed" / "docs"
    ),
}


# the sets nobody reads: reported in aggregate only, never an item, never saved per item
SEALED = frozenset({"sealed", "sealed-docs"})


def _rows(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def load_set(
    eval_set: EvalSet, kinds: list[str] | None = None, limit: int | None = None
) -> list[dict]:
    """The set's questions, each tagged with ``set``; optionally filtered and truncated."""
    rows = [r for f in eval_set.files if f.exists() for r in _rows(f)]
    if eval_set.split:
        rows = [r for r in rows if r.get("split") == eval_set.split]
    unscored = [str(r.get("id")) for r in rows if _unscored(r)]
    if unscored:
        named = "" if eval_set.name in SEALED else f": {', '.join(unscored[:10])}"
        raise ValueError(
            f"eval set {eval_set.name}: {len(unscored)} item(s) have no expected terms "
            f"(must_include is empty), so any answer would pass them{named}. Fill them in "
            "(drafts from `rag feedback export` start empty) or remove them"
        )
    if kinds:
        rows = [r for r in rows if r["kind"] in kinds]
    rows = [dict(r, set=eval_set.name) for r in rows]
    return rows[:limit] if limit else rows


def _unscored(item: dict) -> bool:
    """An answerable item whose expected terms are empty: nothing to score it by."""
    terms = [t for t in item.get("must_include") or [] if str(t).strip()]
    return item.get("kind") != "unanswerable" and not terms


def assign_splits(rows: list[dict]) -> list[dict]:
    """Rows with ``split`` set to dev/test: within each kind, ordered by the sha256 of
    the id, alternately dev and test. Rows that already have a split keep it."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if "split" not in r:
            by_kind[r["kind"]].append(r)
    for group in by_kind.values():
        group.sort(key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())
        for i, r in enumerate(group):
            r["split"] = "dev" if i % 2 == 0 else "test"
    return rows
