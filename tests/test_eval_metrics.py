"""Every metric pinned on hand-made records, so a scoring bug cannot hide."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.metrics import answer_terms, citation_scores, normalize, retrieval_ranks, summarize


def _p(rank: int, source: str, section: str = "X") -> dict:
    return {"rank": rank, "source": source, "section": section, "score": 1.0 / rank}


def _rec(kind="factoid", answer="", refused=False, citations=(), passages=(), **kw) -> dict:
    rec = {
        "id": "q",
        "kind": kind,
        "question": "?",
        "must_include": kw.get("terms", []),
        "sources": kw.get("sources", ["a.txt"]),
        "section": kw.get("section"),
        "answer": answer,
        "refused": refused,
        "citations": [{"source": s} for s in citations],
        "passages": list(passages),
        "timings": kw.get(
            "timings", {"total_s": 1.0, "ttft_s": 0.5, "prompt_tokens": 100, "answer_tokens": 10}
        ),
    }
    return rec


def test_normalize_ignores_case_hyphens_and_spaces():
    assert normalize("Right-Shift  op") == normalize("rightshift OP")
    assert answer_terms("It uses right shift and ADD.", ["right-shift", "add"]) == 1.0
    assert answer_terms("It uses add.", ["right-shift", "add"]) == 0.5


def test_retrieval_ranks_source_and_section():
    r = _rec(
        passages=[_p(1, "b.txt"), _p(2, "a.txt", "T > Other"), _p(3, "a.txt", "T > Gold one")],
        section="gold one",
    )
    assert retrieval_ranks(r) == (2, 3)
    m = summarize([r])["overall"]
    assert m["hit@1"] == 0.0 and m["hit@5"] == 1.0 and m["mrr"] == pytest.approx(0.5)
    assert m["section_mrr"] == pytest.approx(1 / 3)


def test_a_refusal_scores_zero_and_counts_as_wrong_refusal():
    answered = _rec(answer="Uses XNOR [1].", terms=["XNOR"], citations=["a.txt"])
    refused = _rec(answer="The reports don't cover this.", refused=True, terms=["XNOR"])
    m = summarize([answered, refused])["overall"]
    assert m["correct"] == 0.5
    assert m["refused_answerable"] == 0.5


def test_wrong_citation_lowers_precision_and_recall():
    r = _rec(answer="x y", terms=["x"], sources=["a.txt", "c.txt"], citations=["a.txt", "b.txt"])
    assert citation_scores(r) == (1, 2, 0.5)
    m = summarize([r])["overall"]
    assert m["citation_precision"] == 0.5 and m["citation_recall"] == 0.5


def test_partial_answer_is_not_correct_but_gets_term_share():
    r = _rec(answer="MemFS only", terms=["MemFS", "DiskFS"])
    m = summarize([r])["overall"]
    assert m["correct"] == 0.0 and m["term_share"] == 0.5


def test_unanswerable_refusal_rate_and_per_kind_blocks():
    u1 = _rec(kind="unanswerable", sources=[], refused=True)
    u2 = _rec(kind="unanswerable", sources=[], answer="It was 42%.", refused=False)
    a = _rec(answer="XNOR", terms=["XNOR"], passages=[_p(1, "a.txt")])
    s = summarize([u1, u2, a])
    assert s["overall"]["refused_unanswerable"] == 0.5
    assert s["by_kind"]["unanswerable"]["refused_unanswerable"] == 0.5
    assert "hit@5" not in s["by_kind"]["unanswerable"]
    assert s["by_kind"]["factoid"]["hit@1"] == 1.0


def test_latency_percentiles():
    recs = [
        _rec(
            timings={"total_s": float(t), "ttft_s": t / 2, "prompt_tokens": 10, "answer_tokens": 5}
        )
        for t in range(1, 11)
    ]
    m = summarize(recs)["overall"]
    assert m["p50_total_s"] == 5.5 and m["p95_total_s"] == 10.0
    assert m["mean_prompt_tokens"] == 10


def test_verdict_flips_are_listed_for_tuning_sets_and_counted_for_sealed_ones():
    from eval.report import flips

    def run(dev_right: bool, sealed_right: bool) -> list[dict]:
        return [
            _rec(answer="it is 7 [1]" if dev_right else "", terms=["7"], refused=not dev_right)
            | {"id": "d-1", "set": "dev", "question": "How many tugs?"},
            _rec(kind="unanswerable", refused=sealed_right)
            | {"id": "s-1", "set": "sealed", "question": "Who chairs the forum?"},
        ]

    lines = flips(run(False, True), run(True, False))
    assert lines[0].split() == ["gain", "dev", "d-1", "How", "many", "tugs?"]
    assert "Who chairs" not in "\n".join(lines)  # a sealed question is never shown
    assert "sealed: 1 loss" in lines and "dev: 1 gain" in lines
    assert flips(run(True, True), run(True, True)) == ["no verdict changed"]


def test_a_sealed_set_is_saved_and_printed_in_aggregate_only(tmp_path):
    """Its metrics, stage counts and the tuning - sealed gap are kept; no item of it
    (question, answer, id) reaches the saved run, its report or the printed summary."""
    from eval.report import sealed_summary, write_report
    from eval.runner import save_run

    secret = "Which quay did the harbourmaster close first?"
    records = [
        _rec(answer="it is 7 [1]", terms=["7"]) | {"id": "d-1", "set": "dev"},
        _rec(answer="it is 8 [1]", terms=["7"]) | {"id": "s-1", "set": "sealed"},
        _rec(answer="it is 7 [1]", terms=["7"]) | {"id": "s-2", "set": "sealed"},
    ]
    for r in records[1:]:
        r.update(question=secret, draft="it is 8", answer_passages=[{"text": "7 tugs"}])
    path, run = save_run(records, {}, tmp_path, retrieval_only=False)
    m = run["metrics"]
    assert m["sealed"]["correct"] == 0.5 and m["tuning"]["correct"] == 1.0
    assert m["sealed"]["stages"] == {"right": 1, "retrieval": 0, "reading": 1, "grounding": 0}
    assert m["tuning_sealed_gap"] == 0.5
    md = write_report(run, path).read_text()
    printed = "\n".join(sealed_summary(m))
    for text in (path.read_text(), md, printed):
        assert secret not in text and "s-1" not in text and "it is 8" not in text
    assert "reading 1" in printed and "+0.500" in printed


def test_a_retrieval_only_run_over_a_sealed_set_has_no_stages():
    """``rag eval --retrieval-only`` (CI's gate) runs every set, the sealed ones too: its
    records hold no answer, so there is no stage to count and nothing to print."""
    from eval.metrics import summarize
    from eval.report import sealed_summary

    records = []
    for i, kind in enumerate(("factoid", "unanswerable")):
        r = _rec(kind=kind, passages=[{"source": "a.txt", "section": "", "rank": 1}])
        r["set"] = "sealed"
        del r["answer"], r["refused"], r["timings"]
        records.append(r | {"id": f"s-{i}"})
    m = summarize(records, retrieval_only=True)
    assert m["sealed"]["n"] == 2 and "stages" not in m["sealed"]
    assert sealed_summary(m) == []


def test_a_run_of_a_few_questions_is_compared_on_those_questions_only(tmp_path):
    """A full run set against a run of the ids a change touched must not compare
    different questions: re-run only its failures, and any change looks like a gain."""
    import json

    from eval.report import compare

    def rec(qid: str, right: bool) -> dict:
        answer = "it is 7 [1]" if right else "it is 8 [1]"
        return _rec(answer=answer, terms=["7"]) | {"id": qid, "set": "dev", "question": "?"}

    def save(name: str, records: list[dict]) -> Path:
        path = tmp_path / name
        run = {"meta": {}, "metrics": summarize(records), "records": records}
        path.write_text(json.dumps(run))
        return path

    full = save("full.json", [rec("a", True), rec("b", True), rec("c", False)])
    few = save("few.json", [rec("c", False)])  # the failure, re-run and still wrong
    out = compare(full, few)
    assert out.splitlines()[0] == "A ran 3 questions, B 1: metrics below are over the 1 both ran"
    row = next(
        line.split()
        for line in out.splitlines()
        if line.startswith("overall  ") and " correct " in line
    )
    assert row[2:] == ["0.000", "0.000", "+0.000"]  # not 0.667 -> 0.000
    assert "no verdict changed" in out
    # the same questions in both: the saved metrics are compared as they are
    assert not compare(full, full).startswith("A ran")
