"""Scoring one run of the eval set: pure functions over per-question records.

A record is what the runner stores for a question: the gold fields of ``qa.jsonl``
plus ``answer``, ``refused``, ``citations`` and ``passages`` (ranked, each with
``source`` and ``section``) and ``timings``. Keeping scoring pure lets the tests pin
every metric on hand-made records.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

__all__ = [
    "answer_terms",
    "citation_scores",
    "failure_stage",
    "is_right",
    "normalize",
    "percentile",
    "retrieval_ranks",
    "stage_counts",
    "summarize",
]

from eval.sets import SEALED  # noqa: E402
from rag import normalize_figures  # noqa: E402

Record = dict[str, Any]
_SQUASH = re.compile(r"[\s\-\u2010-\u2015_]+")


def normalize(text: str) -> str:
    """Case-, hyphen- and whitespace-insensitive form used to match key terms, with
    figures in one spelling ("seven" = "7", "1,450" = "1450", "3×" = "3x"): the same
    answer written either way is the same answer."""
    return _SQUASH.sub("", normalize_figures(text).lower())


def answer_terms(answer: str, terms: list[str]) -> float:
    """Share of ``terms`` found in ``answer`` (1.0 when there are none)."""
    if not terms:
        return 1.0
    a = normalize(answer)
    return sum(normalize(t) in a for t in terms) / len(terms)


def _section_match(gold: str, section: str) -> bool:
    return normalize(gold) in normalize(section)


def retrieval_ranks(record: Record) -> tuple[int | None, int | None]:
    """1-based rank of the first passage from a gold source, and of the first from the
    gold section (None when absent or when the question names no section)."""
    src_rank = sec_rank = None
    gold = set(record["sources"])
    for p in record["passages"]:
        if p["source"] in gold:
            src_rank = src_rank or p["rank"]
            if record.get("section") and _section_match(record["section"], p["section"]):
                sec_rank = sec_rank or p["rank"]
    return src_rank, sec_rank


def citation_scores(record: Record) -> tuple[int, int, float | None]:
    """(citations pointing at a gold source, citations shown, share of gold sources cited).

    Recall is None for questions with no gold source.
    """
    gold = set(record["sources"])
    cited = [c["source"] for c in record.get("citations", [])]
    good = sum(s in gold for s in cited)
    recall = len(gold & set(cited)) / len(gold) if gold else None
    return good, len(cited), recall


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def _mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


def _retrieval(records: list[Record]) -> dict[str, float | None]:
    src = [retrieval_ranks(r)[0] for r in records]
    sec = [retrieval_ranks(r)[1] for r in records if r.get("section")]
    out: dict[str, float | None] = {
        "hit@1": _mean(float(r == 1) for r in src),
        "hit@5": _mean(float(r is not None and r <= 5) for r in src),
        "mrr": _mean(1.0 / r if r else 0.0 for r in src),
        "section_hit@1": _mean(float(r == 1) for r in sec),
        "section_hit@3": _mean(float(r is not None and r <= 3) for r in sec),
        "section_hit@5": _mean(float(r is not None and r <= 5) for r in sec),
        "section_mrr": _mean(1.0 / r if r else 0.0 for r in sec),
    }
    return out


def is_right(record: Record) -> bool:
    """The verdict ``correct`` and the refusal rates count: an unanswerable question
    refused, an answerable one answered with all its key terms."""
    if record["kind"] == "unanswerable":
        return bool(record["refused"])
    return not record["refused"] and answer_terms(record["answer"], record["must_include"]) == 1.0


def failure_stage(record: Record) -> str:
    """Where an answerable question's answer lost a key term: "" when it is correct;
    "retrieval" when a missing term is in none of the passages the model was shown;
    "reading" when the passages hold it but the model's draft does not; "grounding"
    when the draft held it and verification (or an early refusal rule) dropped it."""
    if record["kind"] == "unanswerable":
        return ""
    answer = "" if record["refused"] else record["answer"]
    a = normalize(answer)
    missing = [t for t in record["must_include"] if normalize(t) not in a]
    if not missing:
        return ""
    evidence = normalize(
        " ".join(
            f"{p.get('section', '')} {p.get('text') or ''}"
            for p in record.get("answer_passages", [])
        )
    )
    if any(normalize(t) not in evidence for t in missing):
        return "retrieval"
    draft = normalize(record.get("draft", ""))
    if any(normalize(t) not in draft for t in missing):
        return "reading"
    return "grounding"


def _answers(records: list[Record]) -> dict[str, float | None]:
    answerable = [r for r in records if r["kind"] != "unanswerable"]
    unanswerable = [r for r in records if r["kind"] == "unanswerable"]
    shares = [
        0.0 if r["refused"] else answer_terms(r["answer"], r["must_include"]) for r in answerable
    ]
    good = shown = 0
    recalls: list[float] = []
    for r in answerable:
        g, n, rec = citation_scores(r)
        good, shown = good + g, shown + n
        if rec is not None:
            recalls.append(rec)
    stages = [failure_stage(r) for r in answerable]
    n_shown = sum(r.get("shown_sentences", 0) for r in records)
    n_verified = sum(r.get("verified_sentences", 0) for r in records)
    return {
        "correct": _mean(float(s == 1.0) for s in shares),
        "lost_in_retrieval": _mean(float(s == "retrieval") for s in stages),
        "lost_in_reading": _mean(float(s == "reading") for s in stages),
        "lost_in_grounding": _mean(float(s == "grounding") for s in stages),
        "faithfulness": n_verified / n_shown if n_shown else None,
        "term_share": _mean(shares),
        "citation_precision": good / shown if shown else None,
        "citation_recall": _mean(recalls),
        "refused_unanswerable": _mean(float(r["refused"]) for r in unanswerable),
        "refused_answerable": _mean(float(r["refused"]) for r in answerable),
    }


def _latency(records: list[Record]) -> dict[str, float | None]:
    timed = [r["timings"] for r in records if r.get("timings")]
    if not timed:
        return {}
    total = [t["total_s"] for t in timed]
    generations = [t.get("generations", 0) for t in timed]
    ttft = [t["ttft_s"] for t in timed if t.get("ttft_s")]
    return {
        "p50_total_s": statistics.median(total),
        "p95_total_s": percentile(total, 0.95),
        "p50_ttft_s": statistics.median(ttft) if ttft else None,
        "p95_ttft_s": percentile(ttft, 0.95) if ttft else None,
        "mean_prompt_tokens": _mean(t["prompt_tokens"] for t in timed),
        "mean_answer_tokens": _mean(t["answer_tokens"] for t in timed),
        "mean_generations": _mean(generations),
        "max_generations": max(generations),
    }


def summarize(records: list[Record], retrieval_only: bool = False) -> dict[str, Any]:
    """Metrics over all records and per kind. Retrieval metrics cover answerable
    questions only (unanswerable ones have no gold passage)."""

    def block(rs: list[Record]) -> dict[str, Any]:
        answerable = [r for r in rs if r["kind"] != "unanswerable"]
        out: dict[str, Any] = {"n": len(rs)}
        if answerable:
            out.update(_retrieval(answerable))
        if not retrieval_only:
            out.update(_answers(rs))
            out.update(_latency(rs))
        return out

    kinds = sorted({r["kind"] for r in records})
    sets = list(dict.fromkeys(r["set"] for r in records if r.get("set")))
    out: dict[str, Any] = {
        "overall": block(records),
        "by_kind": {k: block([r for r in records if r["kind"] == k]) for k in kinds},
        "by_set": {s: block([r for r in records if r.get("set") == s]) for s in sets},
    }
    sealed = [r for r in records if r.get("set") in SEALED]
    if sealed:
        tuning = [r for r in records if r.get("set") not in SEALED]
        # a retrieval-only run has no answers: no stage lost a term
        stages = {} if retrieval_only else {"stages": stage_counts(sealed)}
        out["sealed"] = dict(block(sealed), **stages)
        out["sealed_by_kind"] = {k: block([r for r in sealed if r["kind"] == k]) for k in kinds}
        if tuning and not retrieval_only:
            out["tuning"] = block(tuning)
            out["tuning_sealed_gap"] = out["tuning"]["correct"] - out["sealed"]["correct"]
    return out


def stage_counts(records: list[Record]) -> dict[str, int]:
    """How many answerable questions lost a key term at each stage (``failure_stage``),
    and how many were right: what a sealed set may show of its failures."""
    counts = Counter(failure_stage(r) or "right" for r in records if r["kind"] != "unanswerable")
    return {k: counts.get(k, 0) for k in ("right", "retrieval", "reading", "grounding")}
